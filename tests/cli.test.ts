/**
 * The `torchlet` command end to end: train, test and predict on small generated files in the
 * three formats and for the three tasks, the round trip through the model file, the bad-input
 * cases (message, exit code, nothing written), the model file's bytes against the safetensors
 * layout, and the built bin run as a child process.
 */
import { spawnSync } from "node:child_process";
import { buildCli } from "./helpers/built-cli";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { run } from "../src/cli/main";
import { readDataset } from "../src/cli/formats";
import { formatPrediction } from "../src/cli/predict";
import { trainTextClassifier } from "../src/text/classifier";
import { loadClassifier } from "../src/text/model-file";

const root = path.join(__dirname, "..");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams. */
async function cli(args: string[], options: { stdin?: string; tty?: boolean } = {}): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true), ...(options.tty ? { isTTY: true, columns: 120 } : {}) },
    ...(options.stdin !== undefined ? { stdin: Readable.from([Buffer.from(options.stdin)]) } : {}),
  });
  return { code, stdout, stderr };
}

// ---- data ---------------------------------------------------------------------------------

/** A small deterministic generator (the tests' own, independent of the library's). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TOPICS: Record<string, string[]> = {
  sports: ["team", "won", "match", "goal", "player", "coach", "season", "league", "score", "stadium"],
  politics: ["vote", "election", "senate", "law", "minister", "party", "policy", "campaign", "bill", "governor"],
  tech: ["software", "computer", "chip", "code", "app", "startup", "cloud", "server", "robot", "laptop"],
  health: ["doctor", "patient", "vaccine", "hospital", "diet", "virus", "nurse", "clinic", "therapy", "sleep"],
};
const FILLER = ["the", "a", "of", "today", "and", "new", "big", "report"];

interface Row {
  text: string;
  labels: string[];
}

function makeRows(task: "binary" | "multiclass" | "multilabel", n: number, seed: number): Row[] {
  const rand = lcg(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const topics = task === "binary" ? ["sports", "politics"] : task === "multiclass" ? ["sports", "politics", "tech"] : Object.keys(TOPICS);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const labels = [topics[i % topics.length]];
    if (task === "multilabel" && i % 3 === 0) labels.push(topics[(i + 1 + (i % 2)) % topics.length]);
    const words: string[] = [];
    for (let w = 0; w < 9; w++) words.push(rand() < 0.7 ? pick(TOPICS[pick(labels)]) : pick(FILLER));
    // Punctuation and quotes to exercise the CSV writer and reader (the tokenizer drops them).
    if (i % 5 === 0) words[2] += ",";
    if (i % 7 === 0) words[4] = `"${words[4]}"`;
    rows.push({ text: words.join(" "), labels });
  }
  return rows;
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function writeFormats(dir: string, name: string, rows: Row[]): Record<"txt" | "csv" | "jsonl", string> {
  const files = { txt: path.join(dir, `${name}.txt`), csv: path.join(dir, `${name}.csv`), jsonl: path.join(dir, `${name}.jsonl`) };
  fs.writeFileSync(files.txt, rows.map((r) => `${r.labels.map((l) => `__label__${l}`).join(" ")} ${r.text}\n`).join(""));
  // CSV: some texts spread over two lines (embedded newline), labels joined with |.
  fs.writeFileSync(
    files.csv,
    "text,label\n" +
      rows.map((r, i) => `${csvField(i % 4 === 1 ? r.text.replace(" ", "\n") : r.text)},${csvField(r.labels.join("|"))}\n`).join(""),
  );
  fs.writeFileSync(
    files.jsonl,
    rows
      .map(
        (r, i) =>
          JSON.stringify(r.labels.length === 1 && i % 2 === 0 ? { text: r.text, label: r.labels[0] } : { text: r.text, labels: r.labels }) +
          "\n",
      )
      .join(""),
  );
  return files;
}

/**
 * The hyper-parameters of the tests' training runs: small data, so small batches; BCE averages
 * over the labels too, so multi-label wants a larger step.
 */
const LR = { binary: 1, multiclass: 1, multilabel: 5 };
const FAST = (task: keyof typeof LR) => ["--epochs", "8", "--lr", String(LR[task]), "--batch-size", "8", "--seed", "3", "--quiet"];

let dir: string;
const data: Record<string, Record<"txt" | "csv" | "jsonl", string>> = {};
const heldOut: Record<string, Record<"txt" | "csv" | "jsonl", string>> = {};
const models: Record<string, string> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-cli-"));
  for (const [task, seed] of [
    ["binary", 1],
    ["multiclass", 2],
    ["multilabel", 3],
  ] as const) {
    data[task] = writeFormats(dir, `${task}-train`, makeRows(task, 240, seed));
    heldOut[task] = writeFormats(dir, `${task}-test`, makeRows(task, 60, seed + 100));
    models[task] = path.join(dir, `${task}.safetensors`);
    const r = await cli(["train", "--input", data[task].txt, "--output", models[task], ...FAST(task)]);
    if (r.code !== 0) throw new Error(`training the ${task} model failed: ${r.stderr}`);
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The files in the temp dir now, to check that a failing command wrote nothing. */
const listing = () => fs.readdirSync(dir).sort();

// ---- train, test, predict on every format and task ----------------------------------------------------------

describe("train, test and predict", () => {
  const expected = {
    binary:
      /task binary, loss bce-with-logits \(BCEWithLogitsLoss\): auto: 2 classes and one label per example, so BCEWithLogitsLoss on a single logit/,
    multiclass: /task multiclass, loss cross-entropy \(CrossEntropyLoss\): auto: 3 classes and one label per example, so CrossEntropyLoss/,
    multilabel: /task multilabel, loss bce-with-logits \(BCEWithLogitsLoss\): auto: some examples have several labels .* multi-hot targets/,
  };

  for (const task of ["binary", "multiclass", "multilabel"] as const) {
    for (const format of ["txt", "csv", "jsonl"] as const) {
      test(`${task} from ${format}`, async () => {
        const model = path.join(dir, `${task}-${format}.safetensors`);
        const trained = await cli([
          "train",
          "--input",
          data[task][format],
          "--output",
          model,
          ...FAST(task).filter((a) => a !== "--quiet"),
        ]);
        expect(trained.stderr).toBe("");
        expect(trained.code).toBe(0);
        const lines = trained.stdout.split("\n");
        expect(lines).toContainEqual(expect.stringMatching(expected[task]));
        expect(trained.stdout).toContain(`read 240 examples with ${task === "binary" ? 2 : task === "multiclass" ? 3 : 4} labels`);
        expect(trained.stdout).toContain(`(${{ txt: "fasttext", csv: "csv", jsonl: "jsonl" }[format]})`);
        expect(trained.stdout).toMatch(/^epoch 8\/8 {2}loss \d\.\d{4}/m);
        expect(trained.stdout).toContain("training loss per epoch");
        expect(trained.stdout).toMatch(/[┼┤]/); // the chart
        expect(trained.stdout).toMatch(/saved .*\.safetensors/);
        expect(fs.existsSync(model)).toBe(true);

        // Same rows, same seed: the model trained from any format predicts as the fastText one.
        const input = fs.readFileSync(heldOut[task].txt, "utf8");
        const mine = await cli(["predict", model, "-", "--probabilities"], { stdin: input });
        const reference = await cli(["predict", models[task], "-", "--probabilities"], { stdin: input });
        expect(mine.code).toBe(0);
        expect(mine.stdout).toBe(reference.stdout);
        expect(mine.stdout.split("\n").length - 1).toBe(input.split("\n").length - 1);

        const tested = await cli(["test", model, heldOut[task][format]]);
        expect(tested.stderr).toBe("");
        expect(tested.code).toBe(0);
        expect(tested.stdout).toContain("examples:");
        expect(tested.stdout).toMatch(/^N {11}60$/m);
        expect(tested.stdout).toMatch(/__label__sports +\d\.\d{4} +\d\.\d{4} +\d\.\d{4} +\d+/); // the per-class table
        if (task === "multilabel") {
          expect(tested.stdout).toMatch(/^P@1 +\d\.\d{4}$/m);
          expect(tested.stdout).toMatch(/^R@1 +\d\.\d{4}$/m);
          const f1 = Number(/^micro-F1 +(\d\.\d{4})/m.exec(tested.stdout)![1]);
          expect(f1).toBeGreaterThan(0.8);
        } else {
          const accuracy = Number(/^accuracy +(\d\.\d{4})$/m.exec(tested.stdout)![1]);
          expect(accuracy).toBeGreaterThan(0.9);
        }
      });
    }
  }

  test("test --json: accuracy, P@k, R@k and the per-class rows", async () => {
    const r = await cli(["test", models.multiclass, heldOut.multiclass.jsonl, "--json", "--k", "2"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ command: "test", task: "multiclass", loss: "cross-entropy", examples: 60, k: 2, format: "jsonl" });
    expect(summary.accuracy).toBeGreaterThan(0.9);
    expect(summary.recallAtK).toBeGreaterThanOrEqual(summary.accuracy);
    expect(summary.precisionAtK).toBeCloseTo(summary.recallAtK / 2, 10); // one true label, two guesses
    expect(summary.perClass.map((c: { label: string }) => c.label)).toEqual(["sports", "politics", "tech"]);
  });

  test("test --quiet prints the summary lines only", async () => {
    const r = await cli(["test", models.binary, heldOut.binary.txt, "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^N {11}60\naccuracy {4}\d\.\d{4}\n$/);
  });

  test("predict: one line per input line, __label__ style, --k and --probabilities, a file or stdin", async () => {
    const file = path.join(dir, "lines.txt");
    fs.writeFileSync(file, "the team won the match\nvote for the senate bill\n\nthe cloud server code\n");
    const top = await cli(["predict", models.multiclass, file]);
    expect(top).toEqual({ code: 0, stderr: "", stdout: expect.any(String) });
    const lines = top.stdout.split("\n");
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 2)).toEqual(["__label__sports", "__label__politics"]);
    expect(lines[3]).toBe("__label__tech");
    expect(lines[4]).toBe("");

    const two = await cli(["predict", models.multiclass, "-", "--k", "2", "--probabilities"], { stdin: "the team won the match" });
    expect(two.stdout).toMatch(/^__label__sports 0\.\d{6} __label__\w+ 0\.\d{6}\n$/);
    const all = await cli(["predict", models.multiclass, "--k", "-1"], { stdin: "the team won\r\nvote\r\n" });
    expect(
      all.stdout
        .split("\n")
        .slice(0, 2)
        .map((l) => l.split(" ").length),
    ).toEqual([3, 3]);

    // Multi-label: every label above the threshold, none when none is.
    const multi = await cli(["predict", models.multilabel, "-", "--probabilities"], {
      stdin: "team goal match won vote election senate law\n",
    });
    expect(multi.stdout).toMatch(/^__label__(sports|politics) 0\.\d{6} __label__(sports|politics) 0\.\d{6}\n$/);
    expect(
      multi.stdout
        .split(" ")
        .filter((t) => t.startsWith("__label__"))
        .sort(),
    ).toEqual(["__label__politics", "__label__sports"]);
    const none = await cli(["predict", models.multilabel, "--threshold", "1"], { stdin: "the team won\n" });
    expect(none.stdout).toBe("\n");
  });

  test("binary: the positive label is named, --pos-weight and --loss cross-entropy are accepted", async () => {
    const out = path.join(dir, "binary-ce.safetensors");
    const r = await cli([
      "train",
      "--input",
      data.binary.csv,
      "--output",
      out,
      "--loss",
      "cross-entropy",
      "--label-smoothing",
      "0.1",
      "--epochs",
      "3",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "task binary, loss cross-entropy (CrossEntropyLoss): auto: 2 classes and one label per example, so BCEWithLogitsLoss on a single logit; --loss cross-entropy overrides that: CrossEntropyLoss (softmax over the 2 classes)",
    );
    expect(r.stdout).toContain("positive label (logit > 0): __label__sports");
    expect(loadClassifier(out).net.output.outFeatures).toBe(2);
    const weighted = await cli(["train", "--input", data.binary.txt, "--output", out, "--pos-weight", "3", "--epochs", "2", "--quiet"]);
    expect(weighted).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(loadClassifier(out).config.posWeight).toBe(3);
  });

  test("--json: a machine-readable summary, the library's defaults (as the help says), --validation per epoch", async () => {
    const out = path.join(dir, "json.safetensors");
    const r = await cli(["train", "--input", data.multiclass.txt, "--output", out, "--validation", heldOut.multiclass.csv, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      command: "train",
      task: "multiclass",
      loss: "cross-entropy",
      examples: 240,
      labels: ["sports", "politics", "tech"],
    });
    expect(summary.validation).toEqual({ file: heldOut.multiclass.csv, examples: 60 });
    // The defaults the help text states are the library's.
    const help = (await cli(["train", "--help"])).stdout.replace(/\s+/g, " ");
    const stated = (option: string) => Number(new RegExp(`${option} <\\w+> [^(]*\\(default (\\d+)`).exec(help)![1]);
    expect(summary.epochs).toHaveLength(stated("--epochs"));
    expect(summary.epochs[0].lr).toBe(stated("--lr"));
    expect(summary.config).toMatchObject({ dim: stated("--dim"), wordNgrams: stated("--ngrams"), minCount: stated("--min-count") });
    for (const e of summary.epochs) expect(e.validation).toEqual({ loss: expect.any(Number), accuracy: expect.any(Number) });
    expect(summary.model).toEqual({ file: out, bytes: fs.statSync(out).size });
  });

  test("human output shows validation metrics per epoch; --ngrams and --dim reach the model", async () => {
    const out = path.join(dir, "ngrams.safetensors");
    const r = await cli([
      "train",
      "--input",
      data.multiclass.txt,
      "--output",
      out,
      "--validation",
      heldOut.multiclass.txt,
      "--epochs",
      "2",
      "--ngrams",
      "2",
      "--buckets",
      "5000",
      "--dim",
      "7",
      "--min-count",
      "2",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epoch 1\/2 .*\| validation loss \d\.\d{4} accuracy \d\.\d{4}$/m);
    expect(r.stdout).toMatch(/\+ 2-grams in 5000 buckets, dim 7/);
    expect(loadClassifier(out).config).toMatchObject({ wordNgrams: 2, buckets: 5000, dim: 7, minCount: 2 });
  });

  test("the progress bar goes to a terminal's stderr only", async () => {
    const out = path.join(dir, "tty.safetensors");
    const r = await cli(["train", "--input", data.binary.txt, "--output", out, "--epochs", "2", "--batch-size", "1"], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/2 \[.*\] \d+% \| loss \d\.\d{4} \| [\d.]+k? tokens\/s \| ETA /);
    expect(r.stdout).not.toContain("ETA");
    const quiet = await cli(["train", "--input", data.binary.txt, "--output", out, "--epochs", "1", "--quiet"], { tty: true });
    expect(quiet).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("--format auto: from the extension, else from the first line; --format and column names by hand", async () => {
    const rows = makeRows("binary", 40, 9);
    const files = writeFormats(dir, "auto", rows);
    const csvAsDat = path.join(dir, "auto-csv.dat");
    const jsonAsData = path.join(dir, "auto-json.data");
    const ftAsNoExt = path.join(dir, "auto-ft");
    fs.copyFileSync(files.csv, csvAsDat);
    fs.copyFileSync(files.jsonl, jsonAsData);
    fs.copyFileSync(files.txt, ftAsNoExt);
    const out = path.join(dir, "auto.safetensors");
    const formatOf = async (file: string, ...extra: string[]) => {
      const r = await cli(["train", "--input", file, "--output", out, "--epochs", "1", "--json", ...extra]);
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout).format;
    };
    expect(await formatOf(files.csv)).toBe("csv");
    expect(await formatOf(files.jsonl)).toBe("jsonl");
    expect(await formatOf(files.txt)).toBe("fasttext");
    expect(await formatOf(csvAsDat)).toBe("csv");
    expect(await formatOf(jsonAsData)).toBe("jsonl");
    expect(await formatOf(ftAsNoExt)).toBe("fasttext");
    expect(await formatOf(csvAsDat, "--format", "csv")).toBe("csv");

    // Other column names, in any order, with other columns around them.
    const custom = path.join(dir, "custom.csv");
    fs.writeFileSync(custom, "id,Category,Body\n" + rows.map((r, i) => `${i},${r.labels[0]},${csvField(r.text)}\n`).join(""));
    const r = await cli([
      "train",
      "--input",
      custom,
      "--output",
      out,
      "--text-column",
      "body",
      "--label-column",
      "category",
      "--epochs",
      "1",
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: "csv", examples: 40, labels: ["politics", "sports"] });
    const customJson = path.join(dir, "custom.jsonl");
    fs.writeFileSync(customJson, rows.map((r) => JSON.stringify({ body: r.text, tags: r.labels })).join("\n"));
    const j = await cli([
      "train",
      "--input",
      customJson,
      "--output",
      out,
      "--text-column",
      "body",
      "--label-column",
      "tags",
      "--epochs",
      "1",
      "--json",
    ]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ format: "jsonl", examples: 40 });
  });

  test("a validation label the training data lacks is noted; training goes on", async () => {
    const file = path.join(dir, "valid-unseen.txt");
    fs.writeFileSync(file, "__label__sports the team won\n__label__weather rain and snow\n");
    const r = await cli([
      "train",
      "--input",
      data.binary.txt,
      "--output",
      path.join(dir, "v.safetensors"),
      "--validation",
      file,
      "--epochs",
      "1",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`note: ${file} has labels the training data lacks, counted as wrong: __label__weather`);
  });

  test("a test label the model never saw is reported, not fatal", async () => {
    const file = path.join(dir, "unseen.txt");
    fs.writeFileSync(file, "__label__sports the team won\n__label__weather rain and snow today\n__label__weather sunny\n");
    const r = await cli(["test", models.multiclass, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`note: ${file}: 1 label the model never saw, counted as wrong: __label__weather (2)`);
    expect(r.stdout).toMatch(/__label__weather \(unseen\) +0\.0000 +0\.0000 +0\.0000 +2/);
    expect(r.stdout).toMatch(/^accuracy +0\.3333$/m);
    const json = await cli(["test", models.multilabel, file, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).unseenLabels).toEqual({ weather: 2 });
    expect(json.stderr).toContain("the model never saw");
  });
});

// ---- the round trip through the model file ------------------------------------------------------------------

describe("train -> save -> load -> predict", () => {
  for (const task of ["binary", "multiclass", "multilabel"] as const) {
    test(`${task}: the CLI's model predicts exactly as the same model trained in memory`, async () => {
      const examples = readDataset(data[task].txt).examples;
      const inMemory = trainTextClassifier(examples, { epochs: 8, lr: LR[task], batchSize: 8, seed: 3 });
      const texts = fs
        .readFileSync(heldOut[task].txt, "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => l.replace(/__label__\S+ /g, ""));

      const loaded = loadClassifier(models[task]);
      expect(loaded.config).toEqual(inMemory.config);
      expect(loaded.probabilities(texts)).toEqual(inMemory.probabilities(texts));

      const k = task === "multilabel" ? -1 : 1;
      const expected = inMemory.predict(texts, { k });
      const asJson = await cli(["predict", models[task], "--json"], { stdin: texts.join("\n") + "\n" });
      expect(asJson.code).toBe(0);
      expect(
        asJson.stdout
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual(expected.map((p) => ({ labels: p.map((x) => x.label), probabilities: p.map((x) => x.probability) })));
      const asText = await cli(["predict", models[task], "-", "--probabilities"], { stdin: texts.join("\n") });
      expect(asText.stdout).toBe(expected.map((p) => formatPrediction(p, true)).join("\n") + "\n");
    });
  }
});

// ---- the model file's bytes ---------------------------------------------------------------------------------

test("the model file follows the safetensors layout", () => {
  const bytes = fs.readFileSync(models.multiclass);
  const n = bytes.readBigUInt64LE(0);
  expect(n).toBeGreaterThan(0n);
  expect(8n + n).toBeLessThanOrEqual(BigInt(bytes.length));
  const headerBytes = bytes.subarray(8, 8 + Number(n));
  expect(headerBytes[0]).toBe("{".charCodeAt(0));
  const header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  const { __metadata__: metadata, ...tensors } = header;
  for (const value of Object.values(metadata)) expect(typeof value).toBe("string");
  expect(metadata.format).toBe("torchlet.text-classifier");
  expect(JSON.parse(metadata.config)).toMatchObject({ task: "multiclass", loss: "cross-entropy", labels: ["sports", "politics", "tech"] });
  expect(JSON.parse(metadata.vocab).tokens).toContain("stadium");
  expect(JSON.parse(metadata.hyperParameters)).toMatchObject({ epochs: 8, lr: 1, batchSize: 8, seed: 3 });
  expect(Object.keys(tensors).sort()).toEqual(["embedding.weight", "output.bias", "output.weight"]);
  // Each tensor: F32, its shape, and offsets that tile the data exactly.
  const spans: Array<[number, number]> = [];
  for (const t of Object.values(tensors) as Array<{ dtype: string; shape: number[]; data_offsets: [number, number] }>) {
    expect(Object.keys(t).sort()).toEqual(["data_offsets", "dtype", "shape"]);
    expect(t.dtype).toBe("F32");
    expect(t.data_offsets[1] - t.data_offsets[0]).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
    spans.push(t.data_offsets);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [begin, end] of spans) {
    expect(begin).toBe(cursor);
    cursor = end;
  }
  expect(8 + Number(n) + cursor).toBe(bytes.length);
  expect((8 + Number(n)) % 8).toBe(0);
  expect(tensors["output.weight"].shape).toEqual([3, 10]);
});

// ---- bad input ----------------------------------------------------------------------------------------------

describe("bad input: one line naming the file (and line), the exit code, nothing written", () => {
  /** Runs a failing command and checks the common promises: code, one line, no stack, no file. */
  async function fails(args: string[], code: 1 | 2, message: string | RegExp): Promise<void> {
    const before = listing();
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    if (typeof message === "string") expect(r.stderr).toBe(`error: ${message}\n`);
    else expect(r.stderr).toMatch(message);
    expect(listing()).toEqual(before);
  }

  const out = () => path.join(dir, "never.safetensors");
  const write = (name: string, text: string | Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test("a missing input file", async () => {
    const missing = path.join(dir, "missing.txt");
    await fails(["train", "--input", missing, "--output", out()], 1, `${missing}: no such file`);
    await fails(["test", models.binary, missing], 1, `${missing}: no such file`);
    await fails(["predict", models.binary, missing], 1, `${missing}: no such file`);
  });

  test("an empty input file", async () => {
    const empty = write("empty.txt", "");
    await fails(["train", "--input", empty, "--output", out()], 1, `${empty}: the file is empty`);
    const blank = write("blank.csv", "text,label\n\n");
    await fails(["train", "--input", blank, "--output", out()], 1, `${blank}: no examples (only a header or blank lines)`);
  });

  test("a line without a label: FILE:LINE", async () => {
    const file = write("data.txt", "__label__a good\nno label on this line\n__label__b bad\n");
    await fails(["train", "--input", file, "--output", out()], 1, `${file}:2: no __label__ found`);
    // As a user types it, relative to the working directory: the message says data.txt:2.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await fails(["train", "--input", "data.txt", "--output", "never.safetensors"], 1, "data.txt:2: no __label__ found");
    } finally {
      process.chdir(cwd);
    }
    await fails(["test", models.binary, file], 1, `${file}:2: no __label__ found`);
  });

  test("a malformed CSV row, numbered by the line the record starts on", async () => {
    const file = write("bad.csv", 'text,label\n"two\nlines",a\n"x",b,extra\nok,c\n');
    await fails(
      ["train", "--input", file, "--output", out()],
      1,
      `${file}:4: malformed CSV row: expected 2 fields (as in the header), got 3`,
    );
    const unclosed = write("unclosed.csv", 'text,label\nfine,a\n"never closed,b\nmore,c\n');
    await fails(["train", "--input", unclosed, "--output", out()], 1, `${unclosed}:3: malformed CSV row: a quoted field is never closed`);
    const noColumn = write("nocolumn.csv", "body,label\nhello,a\n");
    await fails(
      ["train", "--input", noColumn, "--output", out()],
      1,
      `${noColumn}:1: no column "text" in the header (columns: body, label); name it with --text-column`,
    );
    const r = await cli(["train", "--input", noColumn, "--output", out(), "--text-column", "body", "--quiet"]);
    expect(r.code).toBe(1); // one label only: not a classification task
    expect(r.stderr).toBe(`error: ${noColumn}: every example has the label __label__a; a classifier needs at least two labels\n`);
  });

  test("a bad JSON line", async () => {
    const file = write("bad.jsonl", '{"text": "good", "label": "a"}\n{"text": "oops", "label": \n{"text": "fine", "label": "b"}\n');
    await fails(["train", "--input", file, "--output", out()], 1, new RegExp(`^error: ${escape(file)}:2: not valid JSON: `));
    const noText = write("notext.jsonl", '{"text": "good", "label": "a"}\n{"body": "x", "labels": ["b"]}\n');
    await fails(["train", "--input", noText, "--output", out()], 1, `${noText}:2: "text" must be a string and is missing`);
    const badLabel = write("badlabel.jsonl", '{"text": "good", "label": 3}\n');
    await fails(["train", "--input", badLabel, "--output", out()], 1, `${badLabel}:1: "label" must be a string or an array of strings`);
  });

  test("a truncated model file (a real one cut in half)", async () => {
    const bytes = fs.readFileSync(models.multiclass);
    const cut = write("cut.safetensors", bytes.subarray(0, Math.floor(bytes.length / 2)));
    await fails(["test", cut, heldOut.multiclass.txt], 1, new RegExp(`^error: ${escape(cut)}: truncated: `));
    await fails(["predict", cut, heldOut.multiclass.txt], 1, new RegExp(`^error: ${escape(cut)}: truncated: `));
    // Cut inside the header too.
    const tiny = write("tiny.safetensors", bytes.subarray(0, 100));
    await fails(["predict", tiny, heldOut.multiclass.txt], 1, new RegExp(`^error: ${escape(tiny)}: truncated: `));
  });

  test("a file that is not safetensors, and a safetensors file that is not a model", async () => {
    await fails(
      ["test", data.multiclass.txt, heldOut.multiclass.txt],
      1,
      new RegExp(`^error: ${escape(data.multiclass.txt)}: is not a safetensors file`),
    );
    await fails(["predict", data.multiclass.csv], 1, new RegExp(`^error: ${escape(data.multiclass.csv)}: is not a safetensors file`));
    const other = path.join(dir, "other.safetensors");
    const { saveSafetensors } = await import("../src/io/safetensors");
    saveSafetensors(other, { w: { dtype: "F32", shape: [2], data: new Float32Array(2) } });
    await fails(
      ["predict", other, heldOut.multiclass.txt],
      1,
      `${other}: not a usable torchlet model: its metadata says format null, expected "torchlet.text-classifier"`,
    );
    await fails(["predict", dir], 1, `${dir}: is a directory, not a model file`);
  });

  test("usage errors exit with 2", async () => {
    const input = data.multiclass.txt;
    await fails(["train", "--input", input, "--output", out(), "--frobnicate"], 2, "unknown option '--frobnicate'");
    await fails(
      ["train", "--input", input, "--output", out(), "--epochs", "0"],
      2,
      "option '--epochs <n>' argument '0' is invalid. It must be at least 1.",
    );
    await fails(
      ["train", "--input", input, "--output", out(), "--lr", "-1"],
      2,
      "option '--lr <x>' argument '-1' is invalid. It must be greater than 0.",
    );
    await fails(
      ["train", "--input", input, "--output", out(), "--lr", "fast"],
      2,
      "option '--lr <x>' argument 'fast' is invalid. Expected a number.",
    );
    await fails(
      ["train", "--input", input, "--output", out(), "--epochs", "2.5"],
      2,
      "option '--epochs <n>' argument '2.5' is invalid. Expected an integer.",
    );
    await fails(["train", "--input", input, "--output", out(), "--label-smoothing", "1"], 2, /argument '1' is invalid/);
    await fails(
      ["train", "--input", input, "--output", out(), "--task", "regression"],
      2,
      /argument 'regression' is invalid. Allowed choices are auto, multiclass, multilabel, binary/,
    );
    await fails(["train", "--input", input], 2, "required option '--output <model>' not specified");
    await fails(["test", models.binary], 2, "missing required argument 'file'");
    await fails(["test", models.binary, input, "--k", "0"], 2, /argument '0' is invalid/);
    await fails(["predict", models.binary, "--threshold", "2"], 2, /argument '2' is invalid/);
    await fails(["frobnicate"], 2, "unknown command 'frobnicate'");
    // Options that do not fit the data.
    await fails(
      ["train", "--input", input, "--output", out(), "--task", "binary"],
      2,
      `--task binary needs exactly two labels, ${input} has 3`,
    );
    await fails(
      ["train", "--input", input, "--output", out(), "--pos-weight", "2"],
      2,
      "--pos-weight applies to bce-with-logits, and this run uses cross-entropy",
    );
    await fails(
      ["train", "--input", data.multilabel.txt, "--output", out(), "--task", "multiclass"],
      2,
      `--task multiclass takes one label per example, ${data.multilabel.txt}:1 has 2 (use --task multilabel)`,
    );
    await fails(
      ["train", "--input", data.multilabel.txt, "--output", out(), "--loss", "cross-entropy"],
      2,
      "--loss cross-entropy needs one label per example; multi-label data trains with bce-with-logits",
    );
    await fails(
      ["train", "--input", input, "--output", out(), "--buckets", "100"],
      2,
      "--buckets applies to word n-grams: give --ngrams 2 or more with it",
    );
    await fails(
      ["train", "--input", input, "--output", input],
      2,
      `--output ${input} is the data file ${input}; choose another file for the model`,
    );
    // No arguments at all: the help, as a usage error.
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: torchlet");
    const help = await cli(["train", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--label-smoothing <x>");
  });

  test("a diverging run is stopped and writes nothing", async () => {
    const target = path.join(dir, "diverged.safetensors");
    await fails(
      ["train", "--input", data.multiclass.txt, "--output", target, "--lr", "1e20", "--quiet"],
      1,
      /^error: training diverged: the loss is NaN in epoch 1 \(batch \d+ of 8\); try a lower --lr than 1e\+20 \(nothing was written\)\n$/,
    );
    expect(fs.existsSync(target)).toBe(false);
  });

  test("a failed run leaves an existing model as it was", async () => {
    const target = path.join(dir, "keep.safetensors");
    fs.copyFileSync(models.binary, target);
    const before = fs.readFileSync(target);
    const bad = write("half-bad.txt", "__label__a fine\n__label__b also fine\nbroken\n");
    await fails(["train", "--input", bad, "--output", target], 1, `${bad}:3: no __label__ found`);
    await fails(["train", "--input", data.binary.txt, "--output", target, "--lr", "1e400"], 2, /argument '1e400' is invalid/);
    expect(fs.readFileSync(target).equals(before)).toBe(true);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---- the built bin --------------------------------------------------------------------------------------------

describe("the built command", () => {
  let out: string;
  let bin: string;

  beforeAll(() => {
    ({ out, bin } = buildCli("torchlet-bin-"));
    fs.chmodSync(bin, 0o755); // what npm does for a bin on install
  }, 120_000);

  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test("starts with a shebang and runs as an executable", () => {
    expect(fs.readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const help = spawnSync(bin, ["--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: torchlet [options] [command]");
    expect(help.stdout).toMatch(/train \[options\]/);
    const version = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version);
  });

  test("exit codes and errors through the process", () => {
    const usage = spawnSync(bin, ["train", "--epochs", "0"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("error: option '--epochs <n>' argument '0' is invalid. It must be at least 1.\n");
    const data = spawnSync(bin, ["predict", path.join(out, "package.json")], { encoding: "utf8", input: "" });
    expect(data.status).toBe(1);
    expect(data.stderr).toMatch(/^error: .*package\.json: is not a safetensors file[^\n]*\n$/);
    const ok = spawnSync(bin, ["predict", models.binary], { encoding: "utf8", input: "the team won the match\nvote for the bill\n" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe("__label__sports\n__label__politics\n");
  });
});
