/** The text classifier: task and loss choice, learning a small real task, the model file. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "torchlet";

const { text } = torch;

/** A toy but non-trivial task: the topic word decides the label, surrounded by shared filler. */
function topics(n: number, seed: number): torch.text.Example[] {
  const gen = new torch.Generator(seed);
  const vocab: Record<string, string[]> = {
    sport: ["goal", "match", "team", "score", "league"],
    money: ["bank", "loan", "price", "market", "stock"],
    food: ["bread", "cheese", "soup", "recipe", "oven"],
  };
  const filler = ["the", "a", "today", "news", "about", "we", "read", "new"];
  const names = Object.keys(vocab);
  return Array.from({ length: n }, () => {
    const label = names[gen.randint(0, names.length)];
    const words = Array.from({ length: 6 }, (_, i) =>
      i % 3 === 0 ? vocab[label][gen.randint(0, 5)] : filler[gen.randint(0, filler.length)],
    );
    return { text: words.join(" "), labels: [label] };
  });
}

describe("inferTask follows the notes", () => {
  test("several labels on one example: multilabel with BCEWithLogits", () => {
    const { task, reason } = text.inferTask([{ text: "a", labels: ["x", "y"] }, { text: "b", labels: ["z"] }]);
    expect(task).toBe("multilabel");
    expect(reason).toMatch(/BCEWithLogitsLoss/);
  });
  test("two classes: binary on a single logit; more: multiclass with CrossEntropy", () => {
    expect(text.inferTask([{ text: "a", labels: ["x"] }, { text: "b", labels: ["y"] }]).task).toBe("binary");
    const three = text.inferTask(["x", "y", "z"].map((l) => ({ text: l, labels: [l] })));
    expect(three.task).toBe("multiclass");
    expect(three.reason).toMatch(/CrossEntropyLoss/);
    expect(text.defaultLoss("multiclass")).toBe("cross-entropy");
    expect(text.defaultLoss("binary")).toBe("bce-with-logits");
  });
});

describe("trainTextClassifier", () => {
  const train = topics(600, 1);
  const heldOut = topics(200, 2);

  test("learns a three-topic task and reports per-epoch statistics", () => {
    const epochs: torch.text.EpochStats[] = [];
    const model = text.trainTextClassifier(train, { epochs: 5, seed: 3, buckets: 4096, wordNgrams: 2, onEpoch: (s) => epochs.push(s) });
    expect(model.config.task).toBe("multiclass");
    expect(model.config.loss).toBe("cross-entropy");
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(epochs[4].loss).toBeLessThan(epochs[0].loss);
    const result = model.evaluate(heldOut);
    expect(result.accuracy).toBeGreaterThan(0.95);
    const [top] = model.predict(["the team scored a goal in the match"]);
    expect(top[0].label).toBe("sport");
    expect(model.topWords("money", 5).map((w) => w.word)).toEqual(expect.arrayContaining(["bank"]));
  });

  test("the same seed gives the same model; another seed a different one", () => {
    const a = text.trainTextClassifier(train.slice(0, 100), { epochs: 2, seed: 5, buckets: 1024, wordNgrams: 2 });
    const b = text.trainTextClassifier(train.slice(0, 100), { epochs: 2, seed: 5, buckets: 1024, wordNgrams: 2 });
    const c = text.trainTextClassifier(train.slice(0, 100), { epochs: 2, seed: 6, buckets: 1024, wordNgrams: 2 });
    const weights = (m: torch.text.TextClassifier) => Array.from(m.net.output.weight.toArray());
    expect(weights(a)).toEqual(weights(b));
    expect(weights(a)).not.toEqual(weights(c));
  });

  test("binary data trains one logit with BCEWithLogits; probabilities are [1 - p, p]", () => {
    const binary = train.map((e) => ({ text: e.text, labels: [e.labels[0] === "sport" ? "sport" : "other"] }));
    const model = text.trainTextClassifier(binary, { epochs: 4, seed: 1 });
    expect(model.config.task).toBe("binary");
    expect(model.net.output.outFeatures).toBe(1);
    const [p] = model.probabilities(["goal match team"]);
    expect(p[0] + p[1]).toBeCloseTo(1, 12);
    expect(model.evaluate(heldOut.map((e) => ({ text: e.text, labels: [e.labels[0] === "sport" ? "sport" : "other"] }))).accuracy).toBeGreaterThan(0.9);
  });

  test("multi-label data uses multi-hot targets and thresholds per label", () => {
    const multi = train.map((e, i) => ({ text: e.text, labels: i % 4 === 0 ? [...e.labels, "flagged"] : e.labels }));
    const model = text.trainTextClassifier(multi, { epochs: 3, seed: 1 });
    expect(model.config.task).toBe("multilabel");
    expect(model.net.output.outFeatures).toBe(4);
    const evaluation = model.evaluate(heldOut);
    expect(evaluation.microF1).toBeGreaterThan(0.5);
  });

  test("empty input is refused", () => {
    expect(() => text.trainTextClassifier([])).toThrow("no training examples");
  });
});

describe("the model file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-model-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("save then load predicts exactly the same", () => {
    const model = text.trainTextClassifier(topics(300, 4), { epochs: 3, seed: 2, buckets: 2048, wordNgrams: 2 });
    const file = path.join(dir, "topics.safetensors");
    text.saveClassifier(model, file);
    const loaded = text.loadClassifier(file);
    const inputs = topics(50, 9).map((e) => e.text);
    expect(loaded.probabilities(inputs)).toEqual(model.probabilities(inputs));
    expect(loaded.config).toEqual(model.config);
  });

  test("a truncated or foreign file is refused with a message naming it", () => {
    const model = text.trainTextClassifier(topics(50, 4), { epochs: 1, seed: 2, buckets: 256, wordNgrams: 2 });
    const file = path.join(dir, "whole.safetensors");
    text.saveClassifier(model, file);
    const bytes = fs.readFileSync(file);
    const cut = path.join(dir, "cut.safetensors");
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => text.loadClassifier(cut)).toThrow(new RegExp(`${cut.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}.*truncated`));
    const other = path.join(dir, "other.safetensors");
    torch.io.saveSafetensors(other, { w: { dtype: "F32", shape: [1], data: new Float32Array([1]) } });
    expect(() => text.loadClassifier(other)).toThrow(/not a usable torchlet model/);
  });
});
