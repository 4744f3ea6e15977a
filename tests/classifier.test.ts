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
    const { task, reason } = text.inferTask([
      { text: "a", labels: ["x", "y"] },
      { text: "b", labels: ["z"] },
    ]);
    expect(task).toBe("multilabel");
    expect(reason).toMatch(/BCEWithLogitsLoss/);
  });
  test("two classes: binary on a single logit; more: multiclass with CrossEntropy", () => {
    expect(
      text.inferTask([
        { text: "a", labels: ["x"] },
        { text: "b", labels: ["y"] },
      ]).task,
    ).toBe("binary");
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
    expect(
      model.evaluate(heldOut.map((e) => ({ text: e.text, labels: [e.labels[0] === "sport" ? "sport" : "other"] }))).accuracy,
    ).toBeGreaterThan(0.9);
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

describe("evaluate() computes the training loss with the library's loss functions", () => {
  const F = torch.nn.functional;
  type Config = torch.text.ClassifierConfig;
  type LossFn = (logits: torch.Tensor, examples: torch.text.Example[], config: Config) => torch.Tensor;

  const train = topics(300, 21);
  // 700 examples: evaluate()'s default batches of 512 make two batches of different sizes.
  const heldOut = topics(700, 22);
  const binary = (es: torch.text.Example[]) => es.map((e) => ({ text: e.text, labels: [e.labels[0] === "sport" ? "sport" : "other"] }));
  const flagged = (es: torch.text.Example[]) =>
    es.map((e, i) => ({ text: e.text, labels: i % 4 === 0 ? [...e.labels, "flagged"] : e.labels }));

  /** |actual - expected| within `rel` of |expected|, and the expectation a real, non-zero loss. */
  function expectRelClose(actual: number, expected: number, rel = 1e-6): void {
    expect(Number.isFinite(expected) && expected > 0).toBe(true);
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * expected);
  }

  /** The model's logits for every example at once: one forward pass, no batching. */
  function logitsOf(model: torch.text.TextClassifier, examples: torch.text.Example[]): torch.Tensor {
    const docs = examples.map((e) => model.encode(e.text));
    const { indices, offsets } = text.toBagBatch(
      docs,
      docs.map((_, i) => i),
    );
    const int64 = (v: Int32Array) => torch.Tensor.fromArray(v, [v.length], "int64");
    return torch.noGrad(() => model.net.forward(int64(indices), int64(offsets)));
  }

  /** The same weights and text pipeline under another config (one loss option more or less). */
  function withConfig(model: torch.text.TextClassifier, config: Config): torch.text.TextClassifier {
    return new text.TextClassifier(model.net, model.vocab, config);
  }

  // Targets written out here from the labels, independently of the classifier's own code.
  const classIndices = (examples: torch.text.Example[], config: Config) =>
    torch.Tensor.fromArray(
      Int32Array.from(examples, (e) => config.labels.indexOf(e.labels[0])),
      [examples.length],
      "int64",
    );
  const hot = (examples: torch.text.Example[], config: Config, width: number) => {
    const out = new Float32Array(examples.length * width);
    examples.forEach((e, i) => {
      for (const l of e.labels) {
        // One logit: 1 for the second (positive) label. Several: a 1 in each known label's column.
        const c = config.labels.indexOf(l);
        if (width === 1) out[i] = c;
        else if (c >= 0) out[i * width + c] = 1;
      }
    });
    return torch.Tensor.fromArray(out, [examples.length, width], "float32");
  };
  const posWeightOf = (config: Config, width: number) => (config.posWeight !== undefined ? torch.full([width], config.posWeight) : null);

  const crossEntropy: LossFn = (logits, examples, config) =>
    F.crossEntropy(logits, classIndices(examples, config), { labelSmoothing: config.labelSmoothing ?? 0 });
  const bceWithLogits: LossFn = (logits, examples, config) => {
    const width = logits.shape[1];
    return F.binaryCrossEntropyWithLogits(logits, hot(examples, config, width), { posWeight: posWeightOf(config, width) });
  };

  interface Case {
    name: string;
    data: (es: torch.text.Example[]) => torch.text.Example[];
    options: torch.text.TrainOptions;
    reference: LossFn;
    /** The option whose removal must change the loss. */
    option?: "posWeight" | "labelSmoothing";
  }
  const cases: Case[] = [
    { name: "binary, BCEWithLogits on one logit", data: binary, options: {}, reference: bceWithLogits },
    {
      name: "binary, BCEWithLogits with posWeight",
      data: binary,
      options: { posWeight: 4 },
      reference: bceWithLogits,
      option: "posWeight",
    },
    { name: "binary, CrossEntropy on two logits", data: binary, options: { loss: "cross-entropy" }, reference: crossEntropy },
    { name: "multi-class, CrossEntropy", data: (es) => es, options: {}, reference: crossEntropy },
    {
      name: "multi-class, CrossEntropy with labelSmoothing",
      data: (es) => es,
      options: { labelSmoothing: 0.2 },
      reference: crossEntropy,
      option: "labelSmoothing",
    },
    {
      name: "multi-class, BCEWithLogits on one-hot targets",
      data: (es) => es,
      options: { loss: "bce-with-logits" },
      reference: bceWithLogits,
    },
    { name: "multi-label, BCEWithLogits", data: flagged, options: {}, reference: bceWithLogits },
    {
      name: "multi-label, BCEWithLogits with posWeight",
      data: flagged,
      options: { posWeight: 3 },
      reference: bceWithLogits,
      option: "posWeight",
    },
  ];

  describe.each(cases)("$name", ({ data, options, reference, option }) => {
    const trainSet = data(train);
    const heldOutSet = data(heldOut);
    // Trained in mini-batches until its predictions are confident enough for the loss options to
    // weigh; lr 4, as the default 16 blows up on these 6-word documents.
    const model = text.trainTextClassifier(trainSet, { ...options, epochs: 5, lr: 4, seed: 7 });

    test("on the training data it is the loss training computed for the same weights", () => {
      // One batch per epoch, and the training set as validation: epoch k's validation loss is
      // evaluated on the weights with which epoch k + 1 computes its (single-batch) training loss.
      const epochs: torch.text.EpochStats[] = [];
      text.trainTextClassifier(trainSet, {
        ...options,
        epochs: 6,
        lr: 8,
        seed: 7,
        batchSize: trainSet.length,
        validation: trainSet,
        onEpoch: (s) => epochs.push(s),
      });
      expect(epochs).toHaveLength(6);
      for (let k = 0; k + 1 < epochs.length; k++) expectRelClose(epochs[k].validation!.loss, epochs[k + 1].loss);
      // The weights did move, so matching the next epoch is not matching a constant.
      const losses = epochs.map((e) => e.loss);
      expect(Math.max(...losses) - Math.min(...losses)).toBeGreaterThan(0.01 * Math.min(...losses));
    });

    test("it equals torch.nn.functional's loss, with the same options, over the whole set", () => {
      expectRelClose(model.evaluate(heldOutSet).loss, reference(logitsOf(model, heldOutSet), heldOutSet, model.config).item());
      // Small batches of unequal sizes (300 = 42 * 7 + 6) still give the whole set's mean.
      expectRelClose(model.evaluate(trainSet, 0.5, 7).loss, reference(logitsOf(model, trainSet), trainSet, model.config).item());
    });

    if (option) {
      test(`${option} is really used: without it, the same weights give another loss`, () => {
        expect(model.config[option]).toBe(options[option]);
        const { [option]: _dropped, ...rest } = model.config;
        const plain = withConfig(model, rest);
        const withOption = model.evaluate(heldOutSet).loss;
        const without = plain.evaluate(heldOutSet).loss;
        expectRelClose(without, reference(logitsOf(model, heldOutSet), heldOutSet, rest).item());
        expect(Math.abs(withOption - without)).toBeGreaterThan(0.05 * without);
        // Accuracy and predictions do not depend on the loss option.
        expect(plain.evaluate(heldOutSet).accuracy).toBe(model.evaluate(heldOutSet).accuracy);
      });
    }
  });

  test("a single-label example with a label the model never saw has no loss and counts as wrong", () => {
    const model = text.trainTextClassifier(train, { epochs: 2, lr: 4, seed: 7, labelSmoothing: 0.1 });
    const withUnseen = heldOut.map((e, i) => (i % 5 === 0 ? { text: e.text, labels: ["weather"] } : e));
    const knownOnly = withUnseen.filter((e) => e.labels[0] !== "weather");
    const all = model.evaluate(withUnseen);
    // The mean over the examples that have a loss, not a sum over those divided by all of them.
    expectRelClose(all.loss, crossEntropy(logitsOf(model, knownOnly), knownOnly, model.config).item());
    expect(all.yTrue!.filter((y) => y === -1)).toHaveLength(withUnseen.length - knownOnly.length);
    const correctKnown = model.evaluate(knownOnly).accuracy * knownOnly.length;
    expect(all.accuracy).toBeCloseTo(correctKnown / withUnseen.length, 12);
  });

  test("a multi-label example keeps its known labels as targets; an unseen one has no column", () => {
    const model = text.trainTextClassifier(flagged(train), { epochs: 2, lr: 4, seed: 7 });
    const withUnseen = flagged(heldOut).map((e, i) => (i % 3 === 0 ? { text: e.text, labels: [...e.labels, "weather"] } : e));
    // hot() skips labels the model does not know, so this is the loss on the known labels.
    expectRelClose(model.evaluate(withUnseen).loss, bceWithLogits(logitsOf(model, withUnseen), withUnseen, model.config).item());
  });

  test("nothing to score gives loss 0, as an empty set always did", () => {
    const model = text.trainTextClassifier(train.slice(0, 50), { epochs: 1, seed: 7 });
    expect(model.evaluate([]).loss).toBe(0);
    expect(model.evaluate([{ text: "goal match", labels: ["weather"] }])).toMatchObject({ loss: 0, accuracy: 0 });
  });
});
