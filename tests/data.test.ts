import {
  DataLoader,
  accuracy,
  classificationReport,
  confusionMatrix,
  loadSpamAssassin,
  macroF1,
  mailText,
  microF1,
  precisionAtK,
  precisionRecallF1,
  recallAtK,
  trainTestSplit,
} from "../src/data";
import { Generator, manualSeed } from "../src/random";
import { tokenizeAll } from "../src/text";

const arr = (a: ArrayLike<number>) => Array.from(a);

describe("trainTestSplit", () => {
  test("sizes, disjoint, covers every row, sorted", () => {
    const { train, test: held } = trainTestSplit(100, 0.2, 1);
    expect(held.length).toBe(20);
    expect(train.length).toBe(80);
    const all = [...arr(train), ...arr(held)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(arr(train)).toEqual(arr(train).sort((a, b) => a - b));
    expect(arr(held)).toEqual(arr(held).sort((a, b) => a - b));
  });

  test("deterministic per seed, different across seeds", () => {
    expect(arr(trainTestSplit(100, 0.2, 7).test)).toEqual(arr(trainTestSplit(100, 0.2, 7).test));
    expect(arr(trainTestSplit(100, 0.2, 7).test)).not.toEqual(arr(trainTestSplit(100, 0.2, 8).test));
    // A Generator is advanced, so two calls on one generator give two different splits.
    const g = new Generator(7);
    const first = arr(trainTestSplit(100, 0.2, g).test);
    expect(first).toEqual(arr(trainTestSplit(100, 0.2, 7).test));
    expect(arr(trainTestSplit(100, 0.2, g).test)).not.toEqual(first);
  });

  test("test size is ceil(fraction * n), without floating-point surprises", () => {
    expect(trainTestSplit(10, 0.25, 0).test.length).toBe(3);
    expect(trainTestSplit(10, 0.3, 0).test.length).toBe(3); // 0.3 * 10 = 3.0000000000000004
    expect(trainTestSplit(10, 0, 0).test.length).toBe(0);
    expect(trainTestSplit(10, 1, 0).train.length).toBe(0);
    expect(trainTestSplit(0, 0.5, 0).test.length).toBe(0);
    expect(() => trainTestSplit(10, 1.5, 0)).toThrow(/testFraction/);
  });

  test("stratified: each class split in proportion, remainders to the first classes", () => {
    const labels = [...new Array(90).fill(0), ...new Array(10).fill(1)];
    const { test: held } = trainTestSplit(100, 0.2, 3, { stratify: labels });
    expect(held.length).toBe(20);
    expect(arr(held).filter((i) => labels[i] === 1).length).toBe(2);

    // Three classes of 5 at 0.5: 8 test rows = floor 2 + 2 + 2, plus one each for the first two.
    const three = Array.from({ length: 15 }, (_, i) => ["a", "b", "c"][Math.floor(i / 5)]);
    const split = trainTestSplit(15, 0.5, 1, { stratify: three });
    const perClass = ["a", "b", "c"].map((c) => arr(split.test).filter((i) => three[i] === c).length);
    expect(perClass).toEqual([3, 3, 2]);
    expect(() => trainTestSplit(3, 0.5, 1, { stratify: [0, 1] })).toThrow(/stratify/);
  });
});

describe("DataLoader", () => {
  const epoch = (loader: DataLoader) => Array.from(loader, (b) => arr(b));

  test("in order without shuffle; batch sizes; dropLast", () => {
    const loader = new DataLoader(10, { batchSize: 3 });
    expect(loader.length).toBe(4);
    expect(epoch(loader)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    const dropped = new DataLoader(10, { batchSize: 3, dropLast: true });
    expect(dropped.length).toBe(3);
    expect(epoch(dropped).map((b) => b.length)).toEqual([3, 3, 3]);
    expect(epoch(new DataLoader(6, { batchSize: 3, dropLast: true })).length).toBe(2);
    expect(epoch(new DataLoader(0, { batchSize: 3 }))).toEqual([]);
    expect(epoch(new DataLoader(3))).toEqual([[0], [1], [2]]); // PyTorch's default batch size 1
  });

  test("shuffled epochs cover every row once and differ from each other", () => {
    const loader = new DataLoader(50, { batchSize: 8, shuffle: true, seed: 5 });
    const e1 = epoch(loader);
    const e2 = epoch(loader);
    for (const e of [e1, e2]) {
      expect(e.map((b) => b.length)).toEqual([8, 8, 8, 8, 8, 8, 2]);
      expect(e.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    expect(e1.flat()).not.toEqual(e2.flat());
    expect(e1.flat()).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test("the same seed replays the same epochs; another seed does not", () => {
    const a = new DataLoader(30, { batchSize: 4, shuffle: true, seed: 11 });
    const b = new DataLoader(30, { batchSize: 4, shuffle: true, seed: 11 });
    const c = new DataLoader(30, { batchSize: 4, shuffle: true, seed: 12 });
    const ea = [epoch(a), epoch(a)];
    expect([epoch(b), epoch(b)]).toEqual(ea);
    expect(epoch(c)).not.toEqual(ea[0]);
  });

  test("over given rows (a split), with a shared generator or the default one", () => {
    const rows = Int32Array.of(10, 20, 30, 40, 50);
    const loader = new DataLoader(rows, { batchSize: 2, shuffle: true, generator: new Generator(1) });
    expect(
      epoch(loader)
        .flat()
        .sort((x, y) => x - y),
    ).toEqual([10, 20, 30, 40, 50]);
    manualSeed(3);
    const d1 = epoch(new DataLoader(20, { batchSize: 5, shuffle: true }));
    manualSeed(3);
    expect(epoch(new DataLoader(20, { batchSize: 5, shuffle: true }))).toEqual(d1);
    expect(() => new DataLoader(5, { seed: 1, generator: new Generator(1) })).toThrow(/either/);
    expect(() => new DataLoader(5, { batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe("metrics", () => {
  // Class 2 is never predicted; worked by hand:
  //   confusion rows (truth) x columns (prediction): [1 1 0; 0 2 0; 2 0 0]
  //   class 0: P = 1/3, R = 1/2, F1 = 0.4;  class 1: P = 2/3, R = 1, F1 = 0.8;  class 2: P = 0 (0/0), R = 0, F1 = 0
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 0, 0];

  test("accuracy and confusion matrix", () => {
    expect(accuracy(yTrue, yPred)).toBe(0.5);
    expect(accuracy([], [])).toBe(0);
    expect(arr(confusionMatrix(yTrue, yPred, 3))).toEqual([1, 1, 0, 0, 2, 0, 2, 0, 0]);
    expect(() => confusionMatrix([3], [0], 3)).toThrow(RangeError);
    expect(() => accuracy([1], [])).toThrow(/lengths/);
  });

  test("per-class precision, recall, F1, support; zero division gives 0", () => {
    const s = precisionRecallF1(yTrue, yPred, 3);
    expect(arr(s.precision)).toEqual([1 / 3, 2 / 3, 0].map((v) => expect.closeTo(v, 12)));
    expect(arr(s.recall)).toEqual([0.5, 1, 0]);
    expect(arr(s.f1)).toEqual([0.4, 0.8, 0].map((v) => expect.closeTo(v, 12)));
    expect(arr(s.support)).toEqual([2, 2, 2]);
    expect(macroF1(yTrue, yPred, 3)).toBeCloseTo(0.4, 12);
    // A fourth class in neither yTrue nor yPred: support 0, all scores 0, and it counts in the macro average.
    const four = precisionRecallF1(yTrue, yPred, 4);
    expect([four.precision[3], four.recall[3], four.f1[3], four.support[3]]).toEqual([0, 0, 0, 0]);
    expect(macroF1(yTrue, yPred, 4)).toBeCloseTo(0.3, 12);
  });

  test("classificationReport formats a table", () => {
    const report = classificationReport(yTrue, yPred, ["ham", "spam", "eggs"], { digits: 2 });
    expect(report).toBe(
      [
        "             precision    recall  f1-score   support",
        "",
        "         ham      0.33      0.50      0.40         2",
        "        spam      0.67      1.00      0.80         2",
        "        eggs      0.00      0.00      0.00         2",
        "",
        "    accuracy                          0.50         6",
        "   macro avg      0.33      0.50      0.40         6",
        "weighted avg      0.33      0.50      0.40         6",
      ].join("\n"),
    );
  });

  test("multi-label micro F1", () => {
    // TP = 2, FP = 1, FN = 1 -> 2*2 / (2*2 + 1 + 1)
    expect(microF1([1, 0, 1, 0, 1, 0], [1, 1, 0, 0, 1, 0])).toBeCloseTo(2 / 3, 12);
    expect(microF1([0, 0, 0], [0, 0, 0])).toBe(0);
    expect(microF1([1, 1], [0.9, 0.2])).toBeCloseTo(2 / 3, 12); // entries >= 0.5 are on
  });

  test("precision@k and recall@k, fastText style", () => {
    const scores = [0.9, 0.5, 0.1, 0.2, 0.3, 0.8];
    const truth = [1, 0, 1, 0, 1, 0]; // 3 true labels in all
    expect(precisionAtK(scores, truth, 1, 3)).toBe(0.5); // row 0 hits (class 0), row 1 misses (class 2)
    expect(recallAtK(scores, truth, 1, 3)).toBeCloseTo(1 / 3, 12);
    expect(precisionAtK(scores, truth, 2, 3)).toBe(0.5); // {0,1}: 1 hit, {2,1}: 1 hit, of 4
    expect(recallAtK(scores, truth, 2, 3)).toBeCloseTo(2 / 3, 12);
    expect(precisionAtK(scores, truth, 5, 3)).toBe(0.5); // k capped at 3 classes: 3 hits of 6
    expect(recallAtK(scores, truth, 5, 3)).toBe(1);
    expect(precisionAtK([0.5, 0.5, 0.5], [0, 1, 0], 1, 3)).toBe(0); // ties go to the lower index
    expect(recallAtK([0.5, 0.1], [0, 0], 1, 2)).toBe(0); // no true labels: 0, not NaN
    expect(() => precisionAtK([1, 2, 3], [0, 0, 1], 1, 2)).toThrow(/rows/);
  });
});

describe("SpamAssassin", () => {
  test("mailText keeps the (unfolded) Subject and the body", () => {
    const raw = "From: a@b.c\nSubject: Hello\n\tthere  \nX-Spam: no\n\nBody line 1\n\nBody line 2\n";
    expect(mailText(raw)).toBe("Hello there\nBody line 1\n\nBody line 2\n");
    expect(mailText("SUBJECT: Hi\r\nTo: x\r\n\r\nbody")).toBe("Hi\nbody");
    expect(mailText("To: x\n\nno subject")).toBe("\nno subject");
    expect(mailText("Subject: only headers")).toBe("only headers\n");
  });

  test("three-class sample: balanced per class, spread over the groups, texts non-empty", () => {
    const data = loadSpamAssassin({ task: "three-class", limit: 30 });
    expect(data.labelNames).toEqual(["easy-ham", "hard-ham", "spam"]);
    expect(data.texts.length).toBe(90);
    expect([0, 1, 2].map((c) => data.labels.filter((l) => l === c).length)).toEqual([30, 30, 30]);
    expect(new Set(data.groups)).toEqual(new Set(["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"]));
    for (const t of data.texts) expect(t.trim().length).toBeGreaterThan(0);
    // Headers other than Subject are gone.
    expect(data.texts.some((t) => /^Received: /m.test(t.split("\n\n")[0]))).toBe(false);
    const tokens = tokenizeAll(data.texts, { maxTokens: 500 });
    expect(tokens.every((doc) => doc.length > 0 && doc.length <= 500)).toBe(true);
  });

  test("binary sample: ham = 0, spam = 1, and ham mixes easy and hard ham", () => {
    const data = loadSpamAssassin({ task: "binary", limit: 40 });
    expect(data.labelNames).toEqual(["ham", "spam"]);
    expect([0, 1].map((c) => data.labels.filter((l) => l === c).length)).toEqual([40, 40]);
    data.groups.forEach((g, i) => expect(data.labels[i]).toBe(g.startsWith("spam") ? 1 : 0));
    expect(data.groups.filter((g) => g === "hard-ham-1").length).toBeGreaterThan(0);
    expect(() => loadSpamAssassin({ limit: -1 })).toThrow(/limit/);
  });
});
