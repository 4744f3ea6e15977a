/**
 * The command under hostile use (issue 15): outputs that are devices, FIFOs or directories, runs
 * that diverge, models whose metadata contradicts their tensors, a failing standard output,
 * models too large to build or save, saves interrupted by a signal, huge or deeply nested files,
 * and the smaller cases (labels with spaces, a CSV naming its text column twice, a validation
 * file with no label in common). Each case runs the command as a user would and checks the
 * message, the exit code, and that nothing was lost or half-written.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { buildCli } from "./helpers/built-cli";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as torch from "torchlet";
import { run } from "../src/cli/main";
import { DIVERGENCE_FACTOR, DivergenceWatch, untrainedLoss } from "../src/cli/train";
import { type RawTensor, loadSafetensors, saveSafetensors, saveSafetensorsAsync, encodeSafetensors } from "../src/io/safetensors";
import { readFully, writeFully } from "../src/io/files";
import { ModelTooLargeError, checkHeaderSize, checkTableSize, defaultLearningRate } from "../src/text/classifier";
import { loadClassifier } from "../src/text/model-file";
import { Vocab } from "../src/text/vocab";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams. */
async function cli(args: string[], stdin?: string): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  });
  return { code, stdout, stderr };
}

/** A small deterministic generator (the tests' own). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * fastText lines of random words with random labels: nothing to learn, the hardest case for a
 * learning rate (with a small vocabulary every line shares most of its words).
 */
function randomLines(o: {
  lines: number;
  words: number;
  vocabulary: number;
  classes: number;
  seed: number;
  extraLabels?: boolean;
}): string {
  const rand = lcg(o.seed);
  const pick = (n: number) => Math.floor(rand() * n);
  let text = "";
  for (let i = 0; i < o.lines; i++) {
    const words = Array.from({ length: o.words }, () => `w${pick(o.vocabulary)}`);
    const labels = new Set([`c${pick(o.classes)}`]);
    if (o.extraLabels && (i === 0 || rand() < 0.5)) labels.add(`c${(pick(o.classes) + 1) % o.classes}`);
    text += `${[...labels].map((l) => `__label__${l}`).join(" ")} ${words.join(" ")}\n`;
  }
  return text;
}

const TOPICS = {
  sports: ["team", "won", "match", "goal", "coach"],
  politics: ["vote", "senate", "law", "party", "bill"],
  tech: ["code", "chip", "cloud", "server", "app"],
};

function topicLines(labels: Array<keyof typeof TOPICS>, n: number, seed: number): string {
  const rand = lcg(seed);
  let text = "";
  for (let i = 0; i < n; i++) {
    const label = labels[i % labels.length];
    const words = Array.from({ length: 6 }, () => TOPICS[label][Math.floor(rand() * 5)]);
    text += `__label__${label} ${words.join(" ")} the news\n`;
  }
  return text;
}

let dir: string;
const files: Record<string, string> = {};
const models: Record<string, string> = {};

const write = (name: string, contents: string | Uint8Array): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents);
  return file;
};

/** The directory's entries (hidden temporary files included), to check that nothing appeared. */
const listing = () => fs.readdirSync(dir).sort();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-hostile-"));
  files.binary = write("binary.txt", topicLines(["sports", "politics"], 120, 1));
  files.multiclass = write("multiclass.txt", topicLines(["sports", "politics", "tech"], 120, 2));
  for (const task of ["binary", "multiclass"]) {
    models[task] = path.join(dir, `${task}.safetensors`);
    const r = await cli(["train", "--input", files[task], "--output", models[task], "--epochs", "5", "--quiet"]);
    if (r.code !== 0) throw new Error(`training the ${task} model failed: ${r.stderr}`);
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A failing command: its exit code, exactly one line on stderr (no stack), nothing on stdout or on disk. */
async function fails(args: string[], code: number, message: string | RegExp, stdin?: string): Promise<void> {
  const before = listing();
  const r = await cli(args, stdin);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code, stdout: "" });
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  if (typeof message === "string") expect(r.stderr).toBe(`error: ${message}\n`);
  else expect(r.stderr).toMatch(message);
  expect(listing()).toEqual(before);
}

// ---- 1. outputs that are not regular files --------------------------------------------------

describe("--output that is a device or a FIFO is refused before training, and left as it was", () => {
  test("a FIFO", async () => {
    const fifo = path.join(dir, "model.fifo");
    execFileSync("mkfifo", [fifo]);
    try {
      await fails(
        ["train", "--input", files.binary, "--output", fifo],
        2,
        `--output ${fifo} is a named pipe (FIFO), not a regular file; the model replaces its output, so give a regular file's name`,
      );
      expect(fs.statSync(fifo).isFIFO()).toBe(true);
    } finally {
      fs.unlinkSync(fifo);
    }
  });

  test("/dev/null, which a rename would replace for the whole system", async () => {
    await fails(
      ["train", "--input", files.binary, "--output", "/dev/null"],
      2,
      "--output /dev/null is a character device, not a regular file; the model replaces its output, so give a regular file's name",
    );
    expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? test : test.skip)(`a device node made with mknod${asRoot ? "" : " (skipped: mknod needs root)"}`, async () => {
    const device = path.join(dir, "mynull");
    execFileSync("mknod", [device, "c", "1", "3"]);
    try {
      await fails(
        ["train", "--input", files.binary, "--output", device],
        2,
        /^error: --output .*mynull is a character device, not a regular file/,
      );
      const stat = fs.statSync(device);
      expect(stat.isCharacterDevice()).toBe(true);
      expect(stat.rdev).toBe(fs.statSync("/dev/null").rdev);
    } finally {
      fs.unlinkSync(device);
    }
  });

  test("a symbolic link to a regular file is followed: the file is replaced, the link kept", async () => {
    const real = path.join(dir, "real.safetensors");
    const link = path.join(dir, "link.safetensors");
    fs.copyFileSync(models.binary, real);
    fs.symlinkSync("real.safetensors", link);
    try {
      const r = await cli(["train", "--input", files.multiclass, "--output", link, "--epochs", "2", "--quiet"]);
      expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
      expect(loadClassifier(real).config.labels).toEqual(["sports", "politics", "tech"]);
    } finally {
      fs.unlinkSync(link);
      fs.unlinkSync(real);
    }
  });

  test("the library refuses them too (a FIFO that appears after the command's check)", () => {
    const fifo = path.join(dir, "late.fifo");
    execFileSync("mkfifo", [fifo]);
    try {
      const tensors = { w: { dtype: "F32", shape: [1], data: new Float32Array([1]) } as RawTensor };
      expect(() => saveSafetensors(fifo, tensors)).toThrow(`${fifo}: cannot save: it is a named pipe (FIFO), not a regular file`);
      expect(fs.statSync(fifo).isFIFO()).toBe(true);
      expect(() => loadSafetensors(fifo)).toThrow(`${fifo}: is a named pipe (FIFO), not a model file`);
    } finally {
      fs.unlinkSync(fifo);
    }
  });
});

// ---- 2. paths that name a directory -----------------------------------------------------------

describe("--output is validated up front: one line, exit 2, nothing touched", () => {
  test("a trailing slash after an existing model does not replace it", async () => {
    const keep = path.join(dir, "keep.model");
    fs.copyFileSync(models.binary, keep);
    const before = fs.readFileSync(keep);
    await fails(
      ["train", "--input", files.multiclass, "--output", `${keep}/`],
      2,
      `--output ${keep}/ ends with a slash, but ${keep} is a file; to replace it, give ${keep} without the slash`,
    );
    expect(fs.readFileSync(keep).equals(before)).toBe(true);
    fs.unlinkSync(keep);
  });

  test("a trailing slash after a new name, an existing directory, a path through a file", async () => {
    const fresh = path.join(dir, "fresh");
    await fails(
      ["train", "--input", files.binary, "--output", `${fresh}/`],
      2,
      `--output ${fresh}/ names a directory; give the model's file name, such as ${path.join(fresh, "model.safetensors")}`,
    );
    await fails(
      ["train", "--input", files.binary, "--output", dir],
      2,
      `--output ${dir} is a directory; give a file name such as ${path.join(dir, "model.safetensors")}`,
    );
    const through = path.join(files.binary, "model.safetensors");
    await fails(
      ["train", "--input", files.multiclass, "--output", through],
      2,
      `--output ${through}: ${files.binary} is a file, not a directory`,
    );
    await fails(["train", "--input", files.multiclass, "--output", path.join(through, "deeper")], 2, /is a file, not a directory$/m);
    await fails(["train", "--input", files.binary, "--output", ""], 2, "--output is empty; give the model's file name");
  });

  test("the data file under another name (a symbolic link) is still the data file", async () => {
    const alias = path.join(dir, "alias.txt");
    fs.symlinkSync(files.binary, alias);
    try {
      await fails(
        ["train", "--input", files.binary, "--output", alias],
        2,
        `--output ${alias} is the data file ${files.binary}; choose another file for the model`,
      );
    } finally {
      fs.unlinkSync(alias);
    }
  });
});

// ---- 3. divergence -----------------------------------------------------------------------------

describe("a diverging run", () => {
  const cases = [
    { name: "three classes, 10 words from 20", lines: 300, words: 10, vocabulary: 20, classes: 3 },
    { name: "three classes, 2 words from 3", lines: 300, words: 2, vocabulary: 3, classes: 3 },
    { name: "three classes, 30 words from 10", lines: 300, words: 30, vocabulary: 10, classes: 3 },
    { name: "two classes (one logit), 8 words from 5", lines: 300, words: 8, vocabulary: 5, classes: 2 },
    { name: "twenty classes, 1 word from 10", lines: 300, words: 1, vocabulary: 10, classes: 20 },
    { name: "twenty classes, 300 words from 2000", lines: 300, words: 300, vocabulary: 2000, classes: 20 },
    { name: "multi-label over five, 5 words from 3", lines: 300, words: 5, vocabulary: 3, classes: 5, extraLabels: true },
  ];

  test.each(cases)("the default learning rate does not diverge on random labels: $name", async (c) => {
    const file = write("random.txt", randomLines({ ...c, seed: 11 }));
    const r = await cli(["train", "--input", file, "--output", path.join(dir, "random.safetensors"), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    const losses: number[] = summary.epochs.map((e: { loss: number }) => e.loss);
    // Nothing to learn: the loss stays near the untrained model's instead of exploding.
    for (const loss of losses) expect(loss).toBeLessThan(1.5 * losses[0]);
    const outputs = summary.task === "binary" ? 1 : summary.labels.length;
    expect(summary.epochs[0].lr).toBe(summary.loss === "cross-entropy" ? 2 : 3.2 * outputs);
    fs.unlinkSync(path.join(dir, "random.safetensors"));
  });

  test("the defaults: fastText's 0.1 per example, capped at half the stable rate, scaled by outputs and posWeight", () => {
    expect(defaultLearningRate({ loss: "cross-entropy", outputs: 3 })).toBe(2);
    expect(defaultLearningRate({ loss: "cross-entropy", outputs: 3, batchSize: 1 })).toBe(0.1);
    expect(defaultLearningRate({ loss: "cross-entropy", outputs: 3, batchSize: 256 })).toBe(2);
    expect(defaultLearningRate({ loss: "bce-with-logits", outputs: 1 })).toBe(3.2);
    expect(defaultLearningRate({ loss: "bce-with-logits", outputs: 1, batchSize: 256 })).toBe(4);
    expect(defaultLearningRate({ loss: "bce-with-logits", outputs: 5 })).toBe(16);
    expect(defaultLearningRate({ loss: "bce-with-logits", outputs: 1, posWeight: 4 })).toBe(0.8);
    expect(defaultLearningRate({ loss: "bce-with-logits", outputs: 1, posWeight: 0.5 })).toBe(3.2);
  });

  test("the defaults learn the bundled SpamAssassin tasks (80/20 split, words only, 10 epochs)", () => {
    for (const [task, least] of [
      ["binary", 0.97],
      ["three-class", 0.94],
    ] as const) {
      const corpus = torch.data.loadSpamAssassin({ task });
      const examples = corpus.texts.map((text, i) => ({ text, labels: [corpus.labelNames[corpus.labels[i]]] }));
      const split = torch.data.trainTestSplit(examples.length, 0.2, 0);
      const losses: number[] = [];
      const model = torch.text.trainTextClassifier(
        Array.from(split.train, (i) => examples[i]),
        { seed: 0, onEpoch: (s) => losses.push(s.loss) },
      );
      for (let k = 1; k < losses.length; k++) expect(losses[k]).toBeLessThan(losses[k - 1]);
      expect(model.evaluate(Array.from(split.test, (i) => examples[i])).accuracy).toBeGreaterThan(least);
    }
  });

  test("the old default (16) on random labels: stopped in the epoch it blows up, exit 1, an existing model kept", async () => {
    const file = write("random.txt", randomLines({ lines: 300, words: 10, vocabulary: 20, classes: 3, seed: 1 }));
    const target = path.join(dir, "kept.safetensors");
    fs.copyFileSync(models.multiclass, target);
    const before = fs.readFileSync(target);
    await fails(
      ["train", "--input", file, "--output", target, "--lr", "16", "--quiet"],
      1,
      /^error: training diverged: the loss rose to \d\.\d\de\+\d+ in epoch 2, over 10 times where it started \(\d\.\d{4}\); try a lower --lr than 16 \(nothing was written\)\n$/,
    );
    await fails(
      ["train", "--input", file, "--output", target, "--lr", "1000", "--quiet"],
      1,
      /^error: training diverged: the loss rose to .* in epoch 1, over 10 times where it started \(1\.0986\); try a lower --lr than 1000 \(nothing was written\)\n$/,
    );
    await fails(
      ["train", "--input", file, "--output", target, "--lr", "40", "--batch-size", "1", "--quiet"],
      1,
      /^error: training diverged: the loss is NaN in epoch 1 \(batch \d+ of 300\); try a lower --lr than 40 \(nothing was written\)\n$/,
    );
    expect(fs.readFileSync(target).equals(before)).toBe(true);
    fs.unlinkSync(target);
  });

  test("the watch: a non-finite loss, a loss far above its start, weights that are not finite", () => {
    const model = loadClassifier(models.multiclass);
    const stats = (epoch: number, loss: number) => ({ epoch, epochs: 5, loss, accuracy: 0, tokensPerSecond: 0, seconds: 0, lr: 2 });
    const batch = (loss: number) => ({ epoch: 1, epochs: 5, batch: 1, batches: 4, loss, tokensPerSecond: 0 });
    const watch = new DivergenceWatch(2, 1.1);
    watch.batch(batch(1.1));
    watch.epoch(stats(1, 1.5), model);
    // Epoch 1's 1.5 is above the untrained 1.1: later epochs are held to 1.5.
    watch.epoch(stats(2, DIVERGENCE_FACTOR * 1.5), model);
    expect(() => watch.epoch(stats(3, DIVERGENCE_FACTOR * 1.5 + 0.01), model)).toThrow(
      "training diverged: the loss rose to 15.0100 in epoch 3, over 10 times where it started (1.5000); try a lower --lr than 2 (nothing was written)",
    );
    expect(() => watch.batch({ ...batch(Infinity), epoch: 4, batch: 3 })).toThrow(
      "training diverged: the loss is Infinity in epoch 4 (batch 3 of 4)",
    );
    const weights = model.net.output.weight.toArray();
    weights[4] = NaN;
    expect(() => new DivergenceWatch(0.5, 1.1).epoch(stats(2, 1), model)).toThrow(
      "training diverged: output.weight holds NaN after epoch 2; try a lower --lr than 0.5 (nothing was written)",
    );
    expect(model.firstNonFiniteWeight()).toEqual({ name: "output.weight", index: 4, value: NaN });
  });

  test("the untrained loss it starts from holds for any batch: log(classes), or log 2 times posWeight", () => {
    expect(untrainedLoss("cross-entropy", 3)).toBeCloseTo(Math.log(3), 12);
    expect(untrainedLoss("bce-with-logits", 4)).toBeCloseTo(Math.LN2, 12);
    expect(untrainedLoss("bce-with-logits", 1, 100)).toBeCloseTo(100 * Math.LN2, 12);
  });

  test("a heavy --pos-weight is not mistaken for divergence", async () => {
    // Positives weigh 50 times more: the loss starts far above log 2, and that is not a blow-up.
    const model = path.join(dir, "weighted.safetensors");
    const r = await cli(["train", "--input", files.binary, "--output", model, "--pos-weight", "50", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const losses = JSON.parse(r.stdout).epochs.map((e: { loss: number }) => e.loss);
    expect(losses[0]).toBeGreaterThan(5 * Math.LN2);
    fs.unlinkSync(model);
  });
});

// ---- 4. models whose metadata contradicts their tensors --------------------------------------

describe("a model is validated whole on load: one line naming the file and the field", () => {
  interface Parts {
    config: Record<string, unknown>;
    vocab: { tokens: unknown[]; counts: unknown[] };
    tensors: Record<string, RawTensor>;
  }

  /** A copy of `source` with its config, vocabulary or weights edited, as a user's editor or another program might. */
  function tamper(source: string, name: string, edit: (m: Parts) => void): string {
    const { tensors, metadata } = loadSafetensors(source);
    const parts: Parts = { config: JSON.parse(metadata.config), vocab: JSON.parse(metadata.vocab), tensors };
    edit(parts);
    const file = path.join(dir, name);
    saveSafetensors(file, parts.tensors, { ...metadata, config: JSON.stringify(parts.config), vocab: JSON.stringify(parts.vocab) });
    return file;
  }

  const cases: Array<[string, keyof typeof models, (m: Parts) => void, string]> = [
    [
      "three labels on a binary model",
      "binary",
      (m) => (m.config.labels = ["a", "b", "c"]),
      "config.labels has 3 labels, and a binary model has exactly 2",
    ],
    ["no labels", "multiclass", (m) => (m.config.labels = []), "config.labels has 0 labels, and a classifier has at least 2"],
    [
      "a label that is not a string",
      "multiclass",
      (m) => ((m.config.labels as unknown[])[1] = { a: 1 }),
      'config.labels[1] is {"a":1}, expected a non-empty string',
    ],
    [
      "a label with a space",
      "multiclass",
      (m) => ((m.config.labels as unknown[])[0] = "a b"),
      'config.labels[0] "a b" contains whitespace, which a __label__ cannot hold',
    ],
    ["the same label twice", "multiclass", (m) => ((m.config.labels as unknown[])[2] = "sports"), 'config.labels names "sports" twice'],
    [
      "more labels than output rows",
      "multiclass",
      (m) => (m.config.labels = ["a", "b", "c", "d"]),
      "tensor output.weight has shape [3,10], expected [4,10] (one row per label in config.labels, config.dim 10)",
    ],
    [
      "an unknown task",
      "multiclass",
      (m) => (m.config.task = "regression"),
      'config.task is "regression", expected one of "binary", "multiclass", "multilabel"',
    ],
    [
      "an unknown loss",
      "multiclass",
      (m) => (m.config.loss = "hinge"),
      'config.loss is "hinge", expected one of "cross-entropy", "bce-with-logits"',
    ],
    ["maxTokens below 1", "binary", (m) => (m.config.maxTokens = -1), "config.maxTokens is -1, expected an integer from 1"],
    ["maxTokens not a number", "binary", (m) => (m.config.maxTokens = "many"), 'config.maxTokens is "many", expected an integer from 1'],
    ["maxTokenLength of 0", "binary", (m) => (m.config.maxTokenLength = 0), "config.maxTokenLength is 0, expected an integer from 1"],
    ["a fractional dim", "binary", (m) => (m.config.dim = 2.5), "config.dim is 2.5, expected an integer from 1"],
    ["n-grams without buckets", "binary", (m) => (m.config.wordNgrams = 2), "config.buckets is 0, expected an integer from 1"],
    [
      "a posWeight with cross-entropy",
      "multiclass",
      (m) => (m.config.posWeight = 2),
      "config.posWeight is set, and only bce-with-logits uses it",
    ],
    [
      "a vocabulary one word short of the table",
      "binary",
      (m) => (m.vocab.tokens.pop(), m.vocab.counts.pop()),
      "tensor embedding.weight has shape [12,10], expected [11,10] (11 words, config.dim 10)",
    ],
    ["a word twice", "binary", (m) => (m.vocab.tokens[1] = m.vocab.tokens[0]), 'vocab.tokens has "the" twice'],
    [
      "a count that is not a count",
      "binary",
      (m) => (m.vocab.counts[0] = -3),
      "vocab.counts[0] is -3, expected a count from 0 to 4294967295",
    ],
    [
      "a NaN weight",
      "binary",
      (m) => ((m.tensors["output.weight"].data as Float32Array)[3] = NaN),
      "tensor output.weight holds NaN at flat index 3; every weight must be finite",
    ],
    [
      "an infinite embedding",
      "multiclass",
      (m) => ((m.tensors["embedding.weight"].data as Float32Array)[17] = -Infinity),
      "tensor embedding.weight holds -Infinity at flat index 17; every weight must be finite",
    ],
  ];

  test.each(cases)("%s", async (_name, source, edit, field) => {
    const file = tamper(models[source], "edited.safetensors", edit);
    const message = `${file}: not a usable torchlet model: ${field}`;
    await fails(["predict", file], 1, message, "the team won\n");
    await fails(["test", file, files[source]], 1, message);
    fs.unlinkSync(file);
  });

  test("a config nested a million deep is refused, not a stack overflow", async () => {
    const file = path.join(dir, "deep-config.safetensors");
    const { tensors, metadata } = loadSafetensors(models.binary);
    saveSafetensors(file, tensors, { ...metadata, config: "[".repeat(1e6) + "]".repeat(1e6) });
    await fails(
      ["predict", file],
      1,
      `${file}: not a usable torchlet model: its config is a value nested too deeply to show, not a JSON object`,
      "x\n",
    );
    fs.unlinkSync(file);
  });
});

// ---- 5. a failing standard output, 7. interrupted saves: through the built command ------------

describe("the built command", () => {
  let out: string;
  let bin: string;

  beforeAll(() => {
    // Built into a folder of its own, as tests/cli.test.ts does, with the package beside it.
    ({ out, bin } = buildCli("torchlet-hostile-bin-"));
  }, 120_000);

  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  /** Runs the command with its standard output on /dev/full, where every write fails with ENOSPC. */
  function toFullDisk(args: string[], input = ""): { status: number | null; stderr: string } {
    const full = fs.openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [bin, ...args], { input, stdio: ["pipe", full, "pipe"], encoding: "utf8" });
      return { status: r.status, stderr: r.stderr };
    } finally {
      fs.closeSync(full);
    }
  }

  const NO_SPACE = "error: cannot write to standard output: ENOSPC: no space left on device, write\n";

  test("a failing standard output: one line on stderr, exit 1 (predict, --help, train)", () => {
    expect(toFullDisk(["predict", models.binary, "-"], "the team won\n")).toEqual({ status: 1, stderr: NO_SPACE });
    expect(toFullDisk(["--help"])).toEqual({ status: 1, stderr: NO_SPACE });
    const model = path.join(dir, "full.safetensors");
    expect(toFullDisk(["train", "--input", files.binary, "--output", model, "--epochs", "1"])).toEqual({ status: 1, stderr: NO_SPACE });
    // The model itself was written whole: only the report was lost.
    expect(loadClassifier(model).config.labels).toEqual(["politics", "sports"]);
    fs.unlinkSync(model);
  });

  test("a reader that stops early (EPIPE) is still no error", () => {
    const many = write("many.txt", "the team won\n".repeat(20000));
    const r = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${bin}" predict "${models.binary}" "${many}" | head -1; echo "status \${PIPESTATUS[0]}" >&2`],
      { encoding: "utf8" },
    );
    expect(r.stdout).toBe("__label__sports\n");
    expect(r.stderr).toBe("status 0\n");
  });

  /**
   * Trains a model of about 170 MB (2^22 bigram buckets) over `target` and sends `signal` as soon
   * as its temporary file appears, that is while the model is being written.
   */
  async function interruptSave(target: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [
      bin,
      "train",
      "--input",
      files.binary,
      "--output",
      target,
      "--ngrams",
      "2",
      "--buckets",
      String(2 ** 22),
      "--epochs",
      "1",
      "--quiet",
    ]);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const tmp = new RegExp(`^\\.${path.basename(target).replace(/\./g, "\\.")}\\.${child.pid}\\..*\\.tmp$`);
    for (;;) {
      if (fs.readdirSync(dir).some((f) => tmp.test(f))) break;
      if (child.exitCode !== null) throw new Error(`training ended before the save could be interrupted: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill(signal);
    return { code: await exited, stderr };
  }

  test.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s during the save: the temporary file is removed, the old model kept, exit %i", async (signal, code) => {
    const target = path.join(dir, "interrupted.safetensors");
    fs.copyFileSync(models.binary, target);
    const before = fs.readFileSync(target);
    let r = await interruptSave(target, signal);
    // On a busy machine the whole save may finish before the signal lands: then the new model
    // is complete and no temporary file is left either; try again to catch the save midway.
    for (let attempt = 1; attempt < 5 && r.code !== code; attempt++) {
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(loadClassifier(target).config.wordNgrams).toBe(2);
      fs.copyFileSync(models.binary, target);
      r = await interruptSave(target, signal);
    }
    expect(r).toEqual({ code, stderr: `error: interrupted by ${signal} while writing ${target}; the model was not saved\n` });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(fs.readFileSync(target).equals(before)).toBe(true);
    fs.unlinkSync(target);
  });
});

describe("an aborted save, in the library", () => {
  test("stops between chunks, removes its temporary file, leaves the target as it was", async () => {
    const target = path.join(dir, "aborted.safetensors");
    fs.writeFileSync(target, "the old model");
    const big: Record<string, RawTensor> = { w: { dtype: "F32", shape: [1 << 22], data: new Float32Array(1 << 22) } };
    const controller = new AbortController();
    const saving = saveSafetensorsAsync(target, big, {}, { signal: controller.signal, chunkBytes: 1 << 16 });
    // Abort once the temporary file holds some, not all, of the data.
    const tmp = () => fs.readdirSync(dir).find((f) => f.startsWith(".aborted.safetensors."));
    for (;;) {
      const name = tmp();
      if (name && fs.statSync(path.join(dir, name)).size > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    controller.abort(new Error("stop"));
    await expect(saving).rejects.toThrow("stop");
    expect(tmp()).toBeUndefined();
    expect(fs.readFileSync(target, "utf8")).toBe("the old model");
    fs.unlinkSync(target);
  });
});

// ---- 6. large models ---------------------------------------------------------------------------

describe("a model too large to build or save is refused before anything is allocated", () => {
  test("from the options alone: the size, and which option to lower (exit 2, before reading the data)", async () => {
    await fails(
      ["train", "--input", files.binary, "--output", path.join(dir, "big.safetensors"), "--ngrams", "2", "--dim", "100000"],
      2,
      "the embedding table (1048576 n-gram buckets = 1048576 rows x 100000 dims) would take 391 GiB, more than the 8.00 GiB (2^31 - 1 weights) one table can hold; lower --dim or --buckets",
    );
    await fails(
      ["train", "--input", files.binary, "--output", path.join(dir, "big.safetensors"), "--ngrams", "2", "--buckets", "2000000000"],
      2,
      "the embedding table (2000000000 n-gram buckets = 2000000000 rows x 10 dims) would take 74.5 GiB, more than the 8.00 GiB (2^31 - 1 weights) one table can hold; lower --dim or --buckets",
    );
  });

  test("with the vocabulary: a large vocabulary is told to raise --min-count", () => {
    expect(() => checkTableSize(5_000_000, { dim: 1000, wordNgrams: 1, buckets: 0 })).toThrow(
      "the embedding table (5000000 words = 5000000 rows x 1000 dims) would take 18.6 GiB, more than the 8.00 GiB (2^31 - 1 weights) one table can hold; lower dim, or raise minCount",
    );
    const err = (() => {
      try {
        checkTableSize(100, { dim: 2 ** 31, wordNgrams: 1, buckets: 0 });
      } catch (e) {
        return e as ModelTooLargeError;
      }
    })();
    // A hundred words: fewer would not help, so only --dim is named.
    expect(err?.fixes).toEqual(["dim"]);
  });

  test("a vocabulary whose header would pass the 100 MB readers accept", () => {
    const words = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i).repeat(4_000_000));
    expect(() =>
      checkHeaderSize(
        new Vocab(
          words,
          words.map(() => 1),
        ),
      ),
    ).toThrow(
      /^the vocabulary \(26 words\) in the model file's header would take 99\.2 MiB, more than the 95\.4 MiB header safetensors readers accept; raise minCount$/,
    );
  });

  test("one huge token per line trains and saves: tokens are cut to 1024 characters", async () => {
    const huge = write(
      "huge-token.txt",
      ["a", "b", "a", "b"].map((l, i) => `__label__${l} ${String.fromCharCode(120 + i).repeat(3_000_000)} word${l}\n`).join(""),
    );
    const model = path.join(dir, "huge-token.safetensors");
    const r = await cli(["train", "--input", huge, "--output", model, "--epochs", "2", "--quiet"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const loaded = loadClassifier(model);
    expect(loaded.config.maxTokenLength).toBe(1024);
    expect(Math.max(...loaded.vocab.tokens.map((t) => t.length))).toBe(1024);
    expect(fs.statSync(model).size).toBeLessThan(100_000);
    const predicted = await cli(["predict", model, huge]);
    expect(predicted.stdout.split("\n")).toHaveLength(5);
    fs.unlinkSync(model);
  });

  test("an absurd --ngrams costs nothing per document (a line has only so many n-grams)", async () => {
    const model = path.join(dir, "ngrams.safetensors");
    const started = performance.now();
    const r = await cli([
      "train",
      "--input",
      files.binary,
      "--output",
      model,
      "--ngrams",
      "1000000000",
      "--buckets",
      "100",
      "--epochs",
      "1",
      "--quiet",
    ]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(loadClassifier(model).config.wordNgrams).toBe(1e9);
    fs.unlinkSync(model);
  });

  test("files over 2 GiB: reads and writes go in chunks, at positions past 2^31", () => {
    // A sparse file: 3 GiB long on paper, a few bytes on disk.
    const sparse = path.join(dir, "sparse.bin");
    const far = 3 * 2 ** 30 + 5;
    const fd = fs.openSync(sparse, "w+");
    try {
      fs.ftruncateSync(fd, far + 16);
      fs.writeSync(fd, Buffer.from("0123456789abcdef"), 0, 16, far);
      const back = new Uint8Array(16);
      expect(readFully(fd, back, far, 3)).toBe(true);
      expect(Buffer.from(back).toString()).toBe("0123456789abcdef");
      expect(readFully(fd, new Uint8Array(32), far, 7)).toBe(false); // past the end: not silently short
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(sparse);
    }
  });

  test("a save and a load in tiny chunks give the same file and tensors as the whole buffer", () => {
    const tensors: Record<string, RawTensor> = {
      w: { dtype: "F32", shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7 - 1) },
      steps: { dtype: "I64", shape: [3], data: new Float64Array([5, -6, 2147483648]) },
      mask: { dtype: "BOOL", shape: [4], data: new Uint8Array([1, 0, 0, 1]) },
      x: { dtype: "F64", shape: [2], data: new Float64Array([Math.PI, -0]) },
    };
    const file = path.join(dir, "chunks.safetensors");
    saveSafetensors(file, tensors, { note: "chunked" }, { chunkBytes: 3 });
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(encodeSafetensors(tensors, { note: "chunked" }));
    const back = loadSafetensors(file, { chunkBytes: 5 });
    expect(back.metadata).toEqual({ note: "chunked" });
    for (const name of Object.keys(tensors)) expect(back.tensors[name]).toEqual(tensors[name]);
    // The writer's loop, alone: every byte once, in order, whatever the chunk.
    const fd = fs.openSync(file, "w");
    writeFully(fd, new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 2);
    fs.closeSync(fd);
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    fs.unlinkSync(file);
  });
});

// ---- 8. huge or malformed files are refused from their header ----------------------------------

describe("a file is refused from its first bytes and header, without reading the rest", () => {
  /** A file of `size` bytes that takes no disk space, starting with `start`. */
  function sparseFile(name: string, start: Uint8Array, size: number): string {
    const file = path.join(dir, name);
    const fd = fs.openSync(file, "w");
    fs.writeSync(fd, start);
    fs.ftruncateSync(fd, size);
    fs.closeSync(fd);
    return file;
  }

  function header(json: string): Uint8Array {
    const body = Buffer.from(json);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(body.length));
    return Buffer.concat([length, body]);
  }

  test("1.5 GB of zeros costs next to no memory to refuse", async () => {
    const file = sparseFile("zeros.safetensors", new Uint8Array(8), 1_500_000_000);
    const before = process.memoryUsage().rss;
    await fails(["predict", file], 1, `${file}: is not a safetensors file: its header length is 0`, "x\n");
    expect(process.memoryUsage().rss - before).toBeLessThan(200_000_000);
    fs.unlinkSync(file);
  });

  test("a valid header followed by 1.5 GB the header does not describe: refused before the data is read", async () => {
    const file = sparseFile("trailing.safetensors", header('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   '), 1_500_000_000);
    const before = process.memoryUsage().rss;
    await fails(
      ["predict", file],
      1,
      /trailing bytes after the last tensor: header says 4 bytes of tensor data, file has 14999999\d\d$/m,
      "x\n",
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(200_000_000);
    fs.unlinkSync(file);
  });

  test("a header listing more than 100,000 tensors", async () => {
    const entries = Array.from({ length: 100_001 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    let json = `{${entries.join(",")}}`;
    while (json.length % 8) json += " ";
    const file = write("many.safetensors", header(json));
    await fails(["predict", file], 1, `${file}: header lists more than 100000 tensors`, "x\n");
    fs.unlinkSync(file);
  });

  test("a header nested 200,000 deep: a clear refusal, not a stack overflow", async () => {
    let json = `{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    while (json.length % 8) json += " ";
    const file = write("deep.safetensors", header(json));
    await fails(["predict", file], 1, `${file}: header is nested more than 64 levels deep (a safetensors header needs 3)`, "x\n");
    fs.unlinkSync(file);
  });
});

// ---- 10. the smaller cases -------------------------------------------------------------------

describe("smaller cases", () => {
  test("a label with a space is refused (predict's __label__a b could not be read back)", async () => {
    const json = write("spaced.jsonl", '{"text": "the team won", "label": "sports"}\n{"text": "vote now", "label": "a b"}\n');
    await fails(
      ["train", "--input", json, "--output", path.join(dir, "x.safetensors")],
      1,
      `${json}:2: the label "a b" contains whitespace, which a __label__ label cannot hold; write it with _ or - instead`,
    );
    const csv = write("spaced.csv", "text,label\nthe team won,sports|big\tgame\n");
    await fails(
      ["train", "--input", csv, "--output", path.join(dir, "x.safetensors")],
      1,
      `${csv}:2: the label "big\\tgame" contains whitespace, which a __label__ label cannot hold; write it with _ or - instead`,
    );
  });

  test("the library will not save a model with such a label: it could not load it back", () => {
    const model = torch.text.trainTextClassifier(
      [
        { text: "the team won", labels: ["a b"] },
        { text: "vote now", labels: ["c"] },
      ],
      { epochs: 1 },
    );
    const file = path.join(dir, "spaced.safetensors");
    expect(() => torch.text.saveClassifier(model, file)).toThrow(
      `${file}: cannot save: config.labels[0] "a b" contains whitespace, which a __label__ cannot hold`,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  test("a CSV naming its text column twice is refused", async () => {
    const csv = write("twice.csv", "text,label,Text\nthe team won,sports,vote now\nvote now,politics,the team\n");
    await fails(
      ["train", "--input", csv, "--output", path.join(dir, "x.safetensors")],
      1,
      `${csv}:1: the header has 2 columns named "text" (columns 1 and 3); rename all but one`,
    );
    const labels = write("twice-label.csv", "label,text,label\nsports,the team won,politics\n");
    await fails(
      ["test", models.binary, labels],
      1,
      `${labels}:1: the header has 2 columns named "label" (columns 1 and 3); rename all but one`,
    );
  });

  test("--validation with only labels the training data lacks: no loss to report, not 0.0000", async () => {
    const unseen = write("unseen.txt", "__label__weather rain and snow\n__label__cooking bread and soup\n");
    const model = path.join(dir, "v.safetensors");
    const r = await cli(["train", "--input", files.binary, "--output", model, "--validation", unseen, "--epochs", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`note: no label of ${unseen} is in the training data, so it has no validation loss to report`);
    expect(r.stdout).toMatch(/^epoch 1\/2 .*\| validation loss none \(no label in common with the training data\) accuracy 0\.0000$/m);
    expect(r.stdout).not.toMatch(/validation loss 0\.0000/);
    const json = await cli(["train", "--input", files.binary, "--output", model, "--validation", unseen, "--epochs", "2", "--json"]);
    expect(JSON.parse(json.stdout).epochs[0].validation).toEqual({ loss: null, accuracy: 0 });
    const tested = await cli(["test", models.binary, unseen, "--json"]);
    expect(JSON.parse(tested.stdout).meanLoss).toBeNull();
    fs.unlinkSync(model);
  });
});
