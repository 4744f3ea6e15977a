/** The multi-label and character language model examples, run with small settings. */
import * as torch from "torchlet";
import { captured } from "./helpers/console";

describe("examples/multi-label.ts", () => {
  test("character n-grams with boundary marks", async () => {
    const { charNgrams } = await import("../examples/multi-label");
    expect(charNgrams("cat")).toEqual(["c", "a", "t", "^c", "ca", "at", "t$", "^ca", "cat", "at$"]);
    expect(charNgrams("a", 2)).toEqual(["a", "^a", "a$"]);
  });

  test("CMUdict words carry several phonemes each, without stress digits", async () => {
    const { loadWords } = await import("../examples/multi-label");
    const words = loadWords();
    expect(words.length).toBeGreaterThan(100_000);
    const photo = words.find((w) => w.word === "photo")!;
    expect([...photo.phonemes].sort()).toEqual(["F", "OW", "T"]);
    const phonemes = new Set(words.flatMap((w) => w.phonemes));
    expect(phonemes.size).toBe(39);
    for (const p of phonemes) expect(p).toMatch(/^[A-Z]+$/);
  });

  test("learns phonemes from spelling far better than always guessing the most frequent ones", async () => {
    const { main } = await import("../examples/multi-label");
    const { result, output } = captured(() => main(["--limit", "3000", "--epochs", "5"]));
    const L = result.labels.length;
    expect(L).toBeGreaterThan(30);
    const nTest = result.testTruth.length / L;
    const nTrain = result.trainTruth.length / L;
    expect(nTest).toBe(600);
    // Genuinely multi-label: several phonemes per word.
    expect(result.testTruth.reduce((s, v) => s + v, 0) / nTest).toBeGreaterThan(4);

    // Baseline: the k phonemes most frequent in training, predicted for every word; best k.
    const freq = Array.from({ length: L }, (_, c) => {
      let n = 0;
      for (let r = 0; r < nTrain; r++) n += result.trainTruth[r * L + c];
      return n;
    });
    const byFrequency = freq.map((_, c) => c).sort((a, b) => freq[b] - freq[a]);
    let baseline = 0;
    for (let k = 1; k <= 12; k++) {
      const pred = new Float32Array(result.testTruth.length);
      for (let r = 0; r < nTest; r++) for (const c of byFrequency.slice(0, k)) pred[r * L + c] = 1;
      baseline = Math.max(baseline, torch.data.microF1(result.testTruth, pred));
    }
    expect(baseline).toBeGreaterThan(0.3);
    expect(baseline).toBeLessThan(0.6);
    expect(result.microF1).toBeGreaterThan(baseline + 0.15);
    // The same baseline's P@1 (always the most frequent phoneme) against the model's.
    const top = byFrequency[0];
    let topHits = 0;
    for (let r = 0; r < nTest; r++) topHits += result.testTruth[r * L + top];
    expect(result.precisionAt[1]).toBeGreaterThan(topHits / nTest + 0.1);
    expect(result.recallAt[5]).toBeGreaterThan(result.recallAt[1]);

    expect(result.losses[result.losses.length - 1]).toBeLessThan(result.losses[0]);
    expect(output).toMatch(/epoch {2}5\/5 {2}loss \d+\.\d{4}/);
    expect(output).toMatch(/test micro-F1 0\.\d{4}/);
    expect(output).toMatch(/P@1 \d\.\d{4} {2}R@1 \d\.\d{4}/);
    // Example words: the word, then predicted and true phonemes.
    expect(output).toMatch(/\n[a-z]+ +[A-Z]+( [A-Z]+)* +[A-Z]+( [A-Z]+)*\n/);
  });
});

describe("examples/char-language-model.ts", () => {
  test("encodes names as contexts and next-character targets padded with PAD", async () => {
    const { encodeNames, PAD, END, VOCAB } = await import("../examples/char-language-model");
    const { inputs, targets } = encodeNames(["ann"], 6, 3);
    const show = (ids: ArrayLike<number>) => Array.from(ids, (id) => VOCAB[id]).join("");
    expect(show(targets)).toBe("ann.__");
    expect(targets[3]).toBe(END);
    expect(targets[4]).toBe(PAD);
    const contexts = Array.from({ length: 6 }, (_, t) => show(inputs.subarray(t * 3, t * 3 + 3)));
    expect(contexts).toEqual(["...", "..a", ".an", "ann", "nn.", "n._"]);
    expect(() => encodeNames(["annabelle"], 6, 3)).toThrow(/needs 10 positions/);
  });

  test("trains below the uniform loss, ignores padding, and samples names", async () => {
    const { main, encodeNames, batchOf, PAD, VOCAB } = await import("../examples/char-language-model");
    const { result, output } = captured(() => main(["--limit", "1500", "--epochs", "4", "--seed", "1", "--samples", "6"]));
    const V = VOCAB.length;
    expect(result.uniformLoss).toBeCloseTo(Math.log(V), 10);
    const last = result.losses[result.losses.length - 1];
    expect(last).toBeLessThan(result.uniformLoss - 0.6);
    expect(result.validationLosses[result.validationLosses.length - 1]).toBeLessThan(result.uniformLoss - 0.5);
    expect(last).toBeLessThan(result.losses[0]);
    expect(output).toMatch(/uniform model: loss log\(28\) = 3\.3322/);
    expect(output).toMatch(/epoch {2}4\/4 {2}loss \d\.\d{4} {2}held-out loss \d\.\d{4}/);

    expect(result.samples).toHaveLength(6);
    for (const name of result.samples) expect(name).toMatch(/^[a-z]+$/);
    expect(output).toContain(`sampled names: ${result.samples.join(", ")}`);

    // The loss the example trains on is the mean over the positions whose target is not PAD.
    const names = ["al", "bo", "christopher", "eve"];
    const data = encodeNames(names, result.length, result.model.context);
    const { inputs, targets } = batchOf(data, [0, 1, 2, 3]);
    const logits = result.model.forward(inputs);
    expect(logits.shape).toEqual([4, result.length, V]);
    const flat = logits.view([-1, V]);
    flat.retainGrad();
    const y = targets.view([-1]);
    const loss = new torch.nn.CrossEntropyLoss({ ignoreIndex: PAD }).forward(flat, y);
    const rows = flat.toArray();
    const ids = y.toArray();
    let sum = 0;
    let counted = 0;
    for (let r = 0; r < ids.length; r++) {
      if (ids[r] === PAD) continue;
      let max = -Infinity;
      for (let c = 0; c < V; c++) max = Math.max(max, rows[r * V + c]);
      let z = 0;
      for (let c = 0; c < V; c++) z += Math.exp(rows[r * V + c] - max);
      sum += max + Math.log(z) - rows[r * V + ids[r]];
      counted++;
    }
    expect(counted).toBe(names.reduce((n, s) => n + s.length + 1, 0));
    expect(counted).toBeLessThan(ids.length);
    expect(loss.item()).toBeCloseTo(sum / counted, 4);
    // Counting padding as a target gives another number.
    const withPadding = new torch.nn.CrossEntropyLoss().forward(flat, y).item();
    expect(Math.abs(withPadding - loss.item())).toBeGreaterThan(0.1);

    // Padded positions get no gradient at all; the others do.
    loss.backward();
    const g = flat.grad!.toArray();
    for (let r = 0; r < ids.length; r++) {
      const norm = Array.from(g.subarray(r * V, (r + 1) * V)).reduce((s, v) => s + Math.abs(v), 0);
      if (ids[r] === PAD) expect(norm).toBe(0);
      else expect(norm).toBeGreaterThan(0);
    }
  });
});
