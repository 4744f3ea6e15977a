/**
 * A fastText-style linear text classifier: the embeddings of a document's words and hashed word
 * n-grams, averaged by an EmbeddingBag, then one Linear layer. Trained with SGD and a learning
 * rate that decays linearly to zero, as fastText does. The loss follows the notes: softmax
 * cross-entropy for one label among many, BCEWithLogits on a single logit for two classes, and
 * BCEWithLogits on multi-hot targets when an example may carry several labels.
 */
import { Tensor } from "../tensor";
import { noGrad } from "../autograd/grad-mode";
import { Module } from "../nn/module";
import { Linear } from "../nn/layers";
import { EmbeddingBag } from "../nn/embedding";
import { uniform_, zeros_ } from "../nn/init";
import { BCEWithLogitsLoss, CrossEntropyLoss } from "../nn/loss";
import type { Reduction } from "../ops/loss";
import { MAX_HEADER_BYTES } from "../io/safetensors-format";
import { totalMemory } from "../host";
import { SGD } from "../optim/sgd";
import { LinearLR } from "../optim/lr-scheduler";
import { Generator, defaultGenerator } from "../random";
import { DataLoader } from "../data/loader";
import { tokenize } from "./tokenizer";
import { Vocab } from "./vocab";
import { encodeTokens, numFeatures } from "./ngrams";
import { LabelSet } from "./labels";
import { toBagBatch } from "./batch";
import { checkOptions, optionKeys } from "../options";
import { checkThreads, getNumThreads } from "../parallel/threads";
import {
  MIN_BATCHES_PER_THREAD,
  type PhaseResult,
  type PhaseTask,
  type Replica,
  type ReplicaSpec,
  ThreadedTraining,
  markRows,
  privateRow,
  remapRows,
  setReplicaFactory,
  sharedInt32,
} from "./parallel-training";

export type Task = "binary" | "multiclass" | "multilabel";
export type LossName = "cross-entropy" | "bce-with-logits";

export interface Example {
  text: string;
  labels: string[];
}

/** Everything needed to turn text into features and outputs into labels, saved with the weights. */
export interface ClassifierConfig {
  task: Task;
  loss: LossName;
  labels: string[];
  dim: number;
  wordNgrams: number;
  buckets: number;
  minCount: number;
  maxTokens: number;
  /** Tokens are cut to this many characters (absent in models saved before the cap: no cut). */
  maxTokenLength?: number;
  posWeight?: number;
  labelSmoothing?: number;
}

export interface TrainOptions {
  epochs?: number;
  lr?: number;
  batchSize?: number;
  dim?: number;
  wordNgrams?: number;
  buckets?: number;
  minCount?: number;
  maxTokens?: number;
  maxTokenLength?: number;
  seed?: number;
  task?: Task;
  loss?: LossName;
  posWeight?: number;
  labelSmoothing?: number;
  /**
   * Threads to train on (default: `torch.getNumThreads()`, the number of cores in Node). One
   * thread trains as always; with more, each thread trains a replica of the model on its share of
   * the batches and the replicas are combined at fixed points (text/parallel-training.ts), so a
   * run depends on the seed and the number of threads, not on timing. A run with fewer than
   * `MIN_BATCHES_PER_THREAD` (8) batches per thread per epoch uses fewer threads, as does one
   * whose shared table (with room for each thread's private rows) would not fit in memory.
   */
  threads?: number;
  /** Evaluated after every epoch when given. */
  validation?: Example[];
  /** Called after every epoch with its statistics and the model as it stands (it may throw to stop). */
  onEpoch?: (stats: EpochStats, model: TextClassifier) => void;
  onBatch?: (progress: BatchProgress) => void;
}

export interface EpochStats {
  epoch: number;
  epochs: number;
  loss: number;
  /** Accuracy on the training batches as they were seen (before each step's update). */
  accuracy: number;
  tokensPerSecond: number;
  seconds: number;
  lr: number;
  validation?: Evaluation;
}

export interface BatchProgress {
  epoch: number;
  /** The number of epochs of the run (so a progress display can give the time left). */
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  tokensPerSecond: number;
}

export interface Evaluation {
  /** Exact-match accuracy (for multi-label: every label right). */
  accuracy: number;
  /** Class index per example (binary and multi-class); null for multi-label. */
  yTrue: Int32Array | null;
  yPred: Int32Array | null;
  /** Multi-label: micro-F1 over all labels at the threshold. */
  microF1?: number;
  /**
   * The training loss (same function, same options) at the current weights, averaged the way
   * training's "mean" averages: over the scored examples for cross-entropy, over their logits
   * for BCEWithLogits. A single-label example whose label the model does not know has no loss and
   * is left out; a multi-label example just has no column for such a label. 0 when nothing is scored.
   */
  loss: number;
  /** How many examples the loss is a mean over (0: there is no loss to report). */
  scored: number;
}

/** The network: bag-of-features embedding average, then a linear layer. */
export class TextClassifierNet extends Module {
  readonly embedding: EmbeddingBag;
  readonly output: Linear;

  /** `table`: start from these embeddings (a loaded model) instead of fastText's initialisation. */
  constructor(features: number, dim: number, outputs: number, table?: Tensor) {
    super();
    // fastText's initialisation: small uniform embeddings, a zero output layer.
    const weight = table ?? uniform_(Tensor.fromArray(new Float32Array(features * dim), [features, dim], "float32"), -1 / dim, 1 / dim);
    this.embedding = new EmbeddingBag(features, dim, { mode: "mean", weight });
    this.output = new Linear(dim, outputs);
    zeros_(this.output.weight);
    zeros_(this.output.bias!);
  }

  forward(indices: Tensor, offsets: Tensor): Tensor {
    return this.output.forward(this.embedding.forward(indices, offsets));
  }
}

/** Picks the task from the labels, as the notes advise, and says why. */
export function inferTask(examples: readonly Example[]): { task: Task; reason: string } {
  const multi = examples.find((e) => e.labels.length > 1);
  const classes = new Set(examples.flatMap((e) => e.labels)).size;
  if (multi) {
    return {
      task: "multilabel",
      reason: `some examples have several labels (${multi.labels.length} on one), so BCEWithLogitsLoss on multi-hot targets, a sigmoid per label`,
    };
  }
  if (classes <= 2) {
    return { task: "binary", reason: `${classes} classes and one label per example, so BCEWithLogitsLoss on a single logit` };
  }
  return { task: "multiclass", reason: `${classes} classes and one label per example, so CrossEntropyLoss (softmax over the classes)` };
}

export function defaultLoss(task: Task): LossName {
  return task === "multiclass" ? "cross-entropy" : "bce-with-logits";
}

/** A trained model with its text pipeline: predicts, evaluates and explains itself. */
export class TextClassifier {
  readonly labelSet: LabelSet;

  constructor(
    readonly net: TextClassifierNet,
    readonly vocab: Vocab,
    readonly config: ClassifierConfig,
  ) {
    this.labelSet = new LabelSet(config.labels);
  }

  /** The model's output width: one logit for binary BCE, else one per label. */
  static outputsFor(task: Task, loss: LossName, labels: number): number {
    return task === "binary" && loss === "bce-with-logits" ? 1 : labels;
  }

  encode(text: string): Int32Array {
    const tokens = tokenize(text, { maxTokens: this.config.maxTokens, maxTokenLength: this.config.maxTokenLength });
    return encodeTokens(tokens, this.vocab, { wordNgrams: this.config.wordNgrams, buckets: this.config.buckets });
  }

  /** Logits for already-encoded documents, in batches, without a graph. */
  logits(docs: readonly Int32Array[], batchSize = 512): Float32Array {
    const outputs = this.net.output.outFeatures;
    const out = new Float32Array(docs.length * outputs);
    this.forwardBatches(docs, batchSize, (y, start) => out.set(y.toArray() as Float32Array, start * outputs));
    return out;
  }

  /**
   * Runs the network on `docs` in batches of `batchSize` under `noGrad`, handing each batch's
   * (B, outputs) logits and the index of its first document to `each` (still under `noGrad`, so
   * a loss computed there records no graph either).
   */
  private forwardBatches(docs: readonly Int32Array[], batchSize: number, each: (y: Tensor, start: number) => void): void {
    noGrad(() => {
      for (let start = 0; start < docs.length; start += batchSize) {
        const rows = Int32Array.from({ length: Math.min(batchSize, docs.length - start) }, (_, i) => start + i);
        const { indices, offsets } = toBagBatch(docs, rows);
        each(this.net.forward(int64(indices), int64(offsets)), start);
      }
    });
  }

  /**
   * Per example, the probability of every label: softmax over the classes for cross-entropy,
   * a sigmoid per label for BCEWithLogits (for a single binary logit: [1 - p, p]).
   */
  probabilities(texts: readonly string[]): Float64Array[] {
    const docs = texts.map((t) => this.encode(t));
    const logits = this.logits(docs);
    const outputs = this.net.output.outFeatures;
    const C = this.labelSet.size;
    return docs.map((_, i) => {
      const row = logits.subarray(i * outputs, (i + 1) * outputs);
      const p = new Float64Array(C);
      if (this.config.loss === "cross-entropy") {
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let sum = 0;
        for (let c = 0; c < C; c++) sum += p[c] = Math.exp(row[c] - max);
        for (let c = 0; c < C; c++) p[c] /= sum;
      } else if (outputs === 1) {
        p[1] = sigmoid(row[0]);
        p[0] = 1 - p[1];
      } else {
        for (let c = 0; c < C; c++) p[c] = sigmoid(row[c]);
      }
      return p;
    });
  }

  /**
   * The top `k` labels of each text with their probabilities. Multi-label models keep only the
   * labels at or above `threshold` (possibly none, like fastText).
   */
  predict(
    texts: readonly string[],
    options: { k?: number; threshold?: number } = {},
  ): Array<Array<{ label: string; probability: number }>> {
    const k = options.k ?? 1;
    const threshold = options.threshold ?? (this.config.task === "multilabel" ? 0.5 : 0);
    return this.probabilities(texts).map((p) =>
      [...p]
        .map((probability, c) => ({ label: this.labelSet.nameOf(c), probability }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, k === -1 ? p.length : k)
        .filter((x) => x.probability >= threshold),
    );
  }

  /**
   * Accuracy (and micro-F1 for multi-label) on labelled examples; unknown labels count as wrong.
   * The loss is the training criterion itself (`lossFor`, same options) on the targets training
   * would build, so on the training set it is the value training minimises.
   */
  evaluate(examples: readonly Example[], threshold = 0.5, batchSize = 512): Evaluation {
    const { task, loss } = this.config;
    const docs = examples.map((e) => this.encode(e.text));
    const outputs = this.net.output.outFeatures;
    const C = this.labelSet.size;
    const known = (label: string | undefined) => label !== undefined && this.labelSet.indexOf(label) >= 0;

    // The examples that have a loss, and their labels as training would see them: a single-label
    // example needs a known class; a multi-label one keeps its known labels (unknown ones have
    // no output to be scored against). buildTargets then makes exactly training's targets.
    const scored: number[] = [];
    const scoredExamples: Example[] = [];
    examples.forEach((e, i) => {
      if (task === "multilabel") {
        scored.push(i);
        scoredExamples.push({ text: e.text, labels: e.labels.filter(known) });
      } else if (known(e.labels[0])) {
        scored.push(i);
        scoredExamples.push(e);
      }
    });
    const targets = buildTargets(scoredExamples, this.labelSet, task, loss, outputs);
    // Batches are summed ("sum") and divided once at the end, not averaged per batch: batches
    // differ in size (the last one, and in how many of their rows are scored), and one division
    // by the whole count is what "mean" over the whole set would be.
    const criterion = lossFor(this.config, outputs, "sum");
    const logits = new Float32Array(docs.length * outputs);
    let lossSum = 0;
    let next = 0; // the first entry of `scored` not yet in a batch (both run in document order)
    this.forwardBatches(docs, batchSize, (y, start) => {
      const size = y.shape[0];
      logits.set(y.toArray() as Float32Array, start * outputs);
      const first = next;
      while (next < scored.length && scored[next] < start + size) next++;
      if (next === first) return;
      // Usually every row is scored and the batch's logits go to the loss as they are; else
      // only the scored rows are selected.
      const input = next - first === size ? y : y.indexSelect(0, int64(Float64Array.from(scored.slice(first, next), (i) => i - start)));
      const positions = Int32Array.from({ length: next - first }, (_, k) => first + k);
      lossSum += criterion.forward(input, targets.batch(positions)).item();
    });
    // What "mean" divides by: cross-entropy (no class weight) by the number of targets,
    // BCEWithLogits by the number of elements, one per logit.
    const divisor = scored.length * (loss === "cross-entropy" ? 1 : outputs);
    const meanLoss = divisor === 0 ? 0 : lossSum / divisor;

    if (task === "multilabel") {
      let exact = 0;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      examples.forEach((e, i) => {
        const truth = new Set(e.labels.map((l) => this.labelSet.indexOf(l)));
        let allRight = e.labels.every((l) => this.labelSet.indexOf(l) >= 0);
        for (let c = 0; c < C; c++) {
          const y = truth.has(c);
          const predicted = sigmoid(logits[i * outputs + c]) >= threshold;
          if (predicted && y) tp++;
          else if (predicted) fp++;
          else if (y) fn++;
          if (predicted !== y) allRight = false;
        }
        fn += e.labels.filter((l) => this.labelSet.indexOf(l) < 0).length;
        if (allRight) exact++;
      });
      const microF1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
      return { accuracy: exact / Math.max(examples.length, 1), yTrue: null, yPred: null, microF1, loss: meanLoss, scored: scored.length };
    }
    const yTrue = Int32Array.from(examples, (e) => this.labelSet.indexOf(e.labels[0]));
    const yPred = new Int32Array(examples.length);
    let correct = 0;
    examples.forEach((_, i) => {
      const row = logits.subarray(i * outputs, (i + 1) * outputs);
      yPred[i] = outputs === 1 ? (row[0] > 0 ? 1 : 0) : argmax(row);
      if (yPred[i] === yTrue[i]) correct++;
    });
    return { accuracy: correct / Math.max(examples.length, 1), yTrue, yPred, loss: meanLoss, scored: scored.length };
  }

  /** The first weight that is NaN or infinite, by tensor name and flat index, or null if all are finite. */
  firstNonFiniteWeight(): { name: string; index: number; value: number } | null {
    for (const [name, p] of this.net.namedParameters()) {
      const values = p.toArray();
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) return { name, index: i, value: values[i] as number };
      }
    }
    return null;
  }

  /**
   * The vocabulary words that push hardest toward `label` (or, with `direction: -1`, away from
   * it): each word's own contribution to the logit, `output.weight[c] · embedding[word]`, among
   * words seen at least `minCount` times in training.
   */
  topWords(label: string, n = 10, options: { direction?: 1 | -1; minCount?: number } = {}): Array<{ word: string; score: number }> {
    const direction = options.direction ?? 1;
    // Words seen only a few times (base64 fragments, typos) can carry large weights yet say little.
    const minCount = options.minCount ?? 5;
    const outputs = this.net.output.outFeatures;
    const c = outputs === 1 ? 0 : this.labelSet.indexOf(label);
    if (c < 0) throw new Error(`unknown label ${JSON.stringify(label)}`);
    const sign = outputs === 1 && this.labelSet.indexOf(label) === 0 ? -direction : direction;
    const dim = this.config.dim;
    const w = this.net.output.weight.toArray();
    const e = this.net.embedding.weight.toArray();
    const scores: Array<{ word: string; score: number }> = [];
    for (let id = 0; id < this.vocab.size; id++) {
      if (this.vocab.counts[id] < minCount) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += w[c * dim + d] * e[id * dim + d];
      scores.push({ word: this.vocab.tokenOf(id), score: sign * s });
    }
    return scores.sort((a, b) => b.score - a.score).slice(0, n);
  }
}

export const DEFAULT_DIM = 10;
export const DEFAULT_BATCH_SIZE = 32;
/** Hash buckets of the word n-grams when n-grams are on and no count is given. */
export const DEFAULT_NGRAM_BUCKETS = 1 << 20;
export const DEFAULT_MAX_TOKENS = 1000;
/**
 * Tokens are cut to this many characters: longer than any word or number in real text (the
 * longest in the SpamAssassin corpus has 304), short enough that no token can bloat the model's
 * header. One 36 MB run of letters would otherwise be a 36 MB vocabulary entry.
 */
export const DEFAULT_MAX_TOKEN_LENGTH = 1024;

/**
 * The learning rate when none is given: fastText's 0.1 per example, capped at half the rate at
 * which plain gradient descent on this loss stops being stable.
 *
 * The loss is a mean over the batch, so the rows only one example uses (its rarer words) move by
 * lr / B per step where fastText's per-example step moves them by 0.1: lr = 0.1 * B makes the
 * two alike. What every example shares (the output bias, the words on every line) moves by the
 * whole rate, though, and gradient descent is stable only while lr stays below 2 / (the loss's
 * largest curvature): a softmax cross-entropy's curvature reaches 1/2, so its edge is 4 and the
 * cap 2. BCEWithLogits is a mean over every logit, so each output's gradient carries a factor
 * 1 / outputs (fastText's one-vs-all loss sums over the labels instead) and a sigmoid's curvature
 * reaches 1/4, scaled by posWeight on the positives: rate and cap are multiplied by the outputs
 * and divided by posWeight. None of this depends on the words per line: a document is the mean
 * of its rows, and each row's gradient shrinks with the words as its share of the mean does.
 */
export function defaultLearningRate(o: { batchSize?: number; loss: LossName; outputs: number; posWeight?: number }): number {
  const perExample = (o.batchSize ?? DEFAULT_BATCH_SIZE) / 10;
  if (o.loss === "cross-entropy") return Math.min(perExample, 2);
  return (Math.min(perExample, 4) * o.outputs) / Math.max(1, o.posWeight ?? 1);
}

/** The most weights the embedding table may hold: its rows are addressed by 32-bit feature ids. */
export const MAX_TABLE_WEIGHTS = 2 ** 31 - 1;

/** The smallest vocabulary worth suggesting --min-count for. */
const MIN_USEFUL_VOCABULARY = 1000;

/** A training option whose value decides the model's size. */
export type SizeOption = "dim" | "buckets" | "minCount";

/**
 * A model that cannot be built or saved with these options, found before anything is
 * allocated: what is too large, by how much, and which options bring it down.
 */
export class ModelTooLargeError extends RangeError {
  constructor(
    /** The part that is too large, e.g. "the embedding table (1048576 rows x 100000 dims)". */
    readonly what: string,
    readonly bytes: number,
    readonly limitBytes: number,
    /** What the limit is, e.g. "the 8 GiB one table can hold". */
    readonly limit: string,
    /** Options to lower ("dim", "buckets") or, for minCount, to raise. */
    readonly fixes: readonly SizeOption[],
  ) {
    super("");
    this.name = "ModelTooLargeError";
    this.message = this.explain((option) => option);
  }

  /** The message, with each option named by `name` (the command line says --dim, not dim). */
  explain(name: (option: SizeOption) => string): string {
    const lower = this.fixes.filter((f) => f !== "minCount").map(name);
    const advice = [lower.length ? `lower ${lower.join(" or ")}` : "", this.fixes.includes("minCount") ? `raise ${name("minCount")}` : ""];
    return `${this.what} would take ${formatSize(this.bytes)}, more than ${this.limit}; ${advice.filter((a) => a).join(", or ")}`;
  }
}

/** Bytes in binary units, to three significant digits: 391 GiB, 1.50 MiB. */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toPrecision(3)} ${units[unit]}`;
}

/**
 * Refuses an embedding table that could not be allocated: more weights than MAX_TABLE_WEIGHTS,
 * or more bytes than the machine has memory. `vocabSize` 0 checks what the options alone imply.
 */
export function checkTableSize(vocabSize: number, o: { dim: number; wordNgrams: number; buckets: number }): void {
  const bucketRows = o.wordNgrams > 1 ? o.buckets : 0;
  const rows = vocabSize + bucketRows;
  const weights = rows * o.dim;
  const bytes = 4 * weights;
  const memory = totalMemory();
  if (weights <= MAX_TABLE_WEIGHTS && bytes <= memory) return;
  const limit =
    weights > MAX_TABLE_WEIGHTS
      ? `the ${formatSize(4 * MAX_TABLE_WEIGHTS)} (2^31 - 1 weights) one table can hold`
      : `this machine's ${formatSize(memory)} of memory`;
  const fixes: SizeOption[] = ["dim"];
  if (bucketRows > 0) fixes.push("buckets");
  // Fewer words help only if the table would fit with the buckets and a useful vocabulary.
  if (vocabSize > 0 && (bucketRows + MIN_USEFUL_VOCABULARY) * o.dim <= Math.min(MAX_TABLE_WEIGHTS, memory / 4)) fixes.push("minCount");
  const parts = [vocabSize > 0 ? `${vocabSize} words` : "", bucketRows > 0 ? `${bucketRows} n-gram buckets` : ""]
    .filter((p) => p)
    .join(" + ");
  throw new ModelTooLargeError(
    `the embedding table (${parts} = ${rows} rows x ${o.dim} dims)`,
    bytes,
    Math.min(4 * MAX_TABLE_WEIGHTS, memory),
    limit,
    fixes,
  );
}

/** Refuses a vocabulary whose words would not fit in the header of a model file. */
export function checkHeaderSize(vocab: Vocab): void {
  // The vocabulary is stored as a JSON string inside the JSON header, so it is encoded twice.
  const bytes = new TextEncoder().encode(JSON.stringify(JSON.stringify(vocab.toJSON()))).length;
  // The rest of the header (config, labels, tensor entries) takes a few kilobytes.
  const room = MAX_HEADER_BYTES - 1_000_000;
  if (bytes > room) {
    throw new ModelTooLargeError(
      `the vocabulary (${vocab.size} words) in the model file's header`,
      bytes,
      room,
      `the ${formatSize(MAX_HEADER_BYTES)} header safetensors readers accept`,
      ["minCount"],
    );
  }
}

/** Trains a classifier on `train`; the whole text pipeline is fitted on the training texts only. */
const TRAIN_KEYS = optionKeys<TrainOptions>({
  epochs: true,
  lr: true,
  batchSize: true,
  dim: true,
  wordNgrams: true,
  buckets: true,
  minCount: true,
  maxTokens: true,
  maxTokenLength: true,
  seed: true,
  task: true,
  loss: true,
  posWeight: true,
  labelSmoothing: true,
  threads: true,
  validation: true,
  onEpoch: true,
  onBatch: true,
});

export function trainTextClassifier(train: readonly Example[], options: TrainOptions = {}): TextClassifier {
  checkOptions("trainTextClassifier", options, TRAIN_KEYS);
  if (train.length === 0) throw new Error("no training examples");
  const requestedThreads = options.threads === undefined ? getNumThreads() : checkThreads(options.threads, "threads");
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const wordNgrams = options.wordNgrams ?? 1;
  const buckets = options.buckets ?? (wordNgrams > 1 ? DEFAULT_NGRAM_BUCKETS : 0);
  const { task: inferred } = inferTask(train);
  const task = options.task ?? inferred;
  const loss = options.loss ?? defaultLoss(task);
  const generator = new Generator(options.seed ?? 0);

  const tokens = train.map((e) => tokenize(e.text, { maxTokens, maxTokenLength }));
  const vocab = Vocab.build(tokens, { minCount: options.minCount ?? 1 });
  const dim = options.dim ?? DEFAULT_DIM;
  checkTableSize(vocab.size, { dim, wordNgrams, buckets });
  checkHeaderSize(vocab);
  const labelSet = LabelSet.fromLabels(
    train.map((e) => e.labels),
    { order: task === "binary" ? "sorted" : "first" },
  );
  const config: ClassifierConfig = {
    task,
    loss,
    labels: [...labelSet.names],
    dim,
    wordNgrams,
    buckets,
    minCount: options.minCount ?? 1,
    maxTokens,
    maxTokenLength,
    ...(options.posWeight !== undefined ? { posWeight: options.posWeight } : {}),
    ...(options.labelSmoothing !== undefined ? { labelSmoothing: options.labelSmoothing } : {}),
  };
  const ngramOptions = { wordNgrams, buckets };
  const docs = tokens.map((t) => encodeTokens(t, vocab, ngramOptions));
  const outputs = TextClassifier.outputsFor(task, loss, labelSet.size);
  const lr = options.lr ?? defaultLearningRate({ batchSize, loss, outputs, posWeight: options.posWeight });
  const net = withSeed(generator, () => new TextClassifierNet(numFeatures(vocab.size, ngramOptions), config.dim, outputs));
  const classifier = new TextClassifier(net, vocab, config);

  const targets = buildTargets(train, labelSet, task, loss, outputs);
  const criterion = lossFor(config, outputs, "mean");

  const loader = new DataLoader(docs.length, { batchSize, shuffle: true, generator });
  const optimizer = new SGD(net.parameters(), { lr });
  const scheduler = new LinearLR(optimizer, { startFactor: 1, endFactor: 0, totalIters: epochs * loader.length });
  const wordsIn = (rows: Int32Array) => rows.reduce((n, r) => n + tokens[r].length, 0);
  const threads = trainingThreads(requestedThreads, loader.length, net.embedding.numEmbeddings * dim);
  const main = new ClassifierReplica(net, docs, targets, criterion, optimizer);
  const threaded = threads > 1 ? threadedTraining(net, threads, { outputs, config, docs, train }) : null;

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const started = performance.now();
      let lossSum = 0;
      let seen = 0;
      let correct = 0;
      let words = 0;
      let batch = 0;
      const progress = () =>
        options.onBatch?.({
          epoch,
          epochs,
          batch,
          batches: loader.length,
          loss: lossSum / seen,
          tokensPerSecond: words / ((performance.now() - started) / 1000),
        });
      let lrAtStart = optimizer.paramGroups[0].lr;
      if (threaded === null) {
        for (const rows of loader) {
          const step = main.step(rows);
          scheduler.step();
          lossSum += step.loss * rows.length;
          seen += rows.length;
          correct += step.correct;
          words += wordsIn(rows);
          batch++;
          progress();
        }
      } else {
        // The same batches as on one thread, and the schedule LinearLR follows there: a rate
        // falling linearly from lr to 0 over every batch of the run.
        const batches = [...loader];
        const first = (epoch - 1) * loader.length;
        const lrs = batches.map((_, i) => lr * (1 - (first + i) / (epochs * loader.length)));
        lrAtStart = lrs[0];
        threaded.epoch(batches, lrs, (done, phase) => {
          lossSum += phase.lossSum;
          seen += phase.examples;
          correct += phase.correct;
          for (; batch < done; batch++) words += wordsIn(batches[batch]);
          progress();
        });
        threaded.publish();
      }
      const seconds = (performance.now() - started) / 1000;
      const stats: EpochStats = {
        epoch,
        epochs,
        loss: lossSum / seen,
        accuracy: correct / seen,
        tokensPerSecond: words / seconds,
        seconds,
        lr: lrAtStart,
      };
      if (options.validation) stats.validation = classifier.evaluate(options.validation);
      options.onEpoch?.(stats, classifier);
    }
  } finally {
    threaded?.close();
  }
  return classifier;
}

/**
 * The threads a run trains on: as asked, but no more than leave `MIN_BATCHES_PER_THREAD` batches
 * per thread and epoch, and no more than the machine's memory holds the shared table for (the
 * model's rows and a table's worth of private rows per thread, besides the model's own table).
 */
function trainingThreads(requested: number, batches: number, tableWeights: number): number {
  const tables = Math.floor(totalMemory() / (4 * tableWeights)) - 2;
  return Math.max(1, Math.min(requested, Math.floor(batches / MIN_BATCHES_PER_THREAD), tables));
}

type Targets = ReturnType<typeof buildTargets>;
type Criterion = ReturnType<typeof lossFor>;

/** A model trained with SGD, one batch at a time; on several threads, one of the replicas. */
class ClassifierReplica implements Replica {
  constructor(
    readonly model: TextClassifierNet,
    private readonly docs: readonly Int32Array[],
    private readonly targets: Targets,
    private readonly criterion: Criterion,
    private readonly optimizer: SGD,
    /**
     * On several threads: the bitset where a phase marks the embedding rows it changes, and where
     * the rows that several replicas use are (text/parallel-training.ts).
     */
    private readonly threaded: { used: Uint32Array; slot: Int32Array; at: number } | null = null,
  ) {}

  /** One SGD step on the documents `rows`: the batch's mean loss, and how many it got right before the step. */
  step(rows: Int32Array): { loss: number; correct: number } {
    const { model: net, optimizer } = this;
    const { indices, offsets } = toBagBatch(this.docs, rows);
    if (this.threaded !== null) remapRows(indices, this.threaded.slot, this.threaded.at);
    const logits = net.forward(int64(indices), int64(offsets));
    const value = this.criterion.forward(logits, this.targets.batch(rows));
    // The embedding's gradient stays compact rows either way (its dense table is never built).
    // Zeroing in place rather than dropping keeps the Linear layer's gradient computed as 0 + g,
    // as it always was, so a model trains to the same bits; the two cost the same.
    optimizer.zeroGrad({ setToNone: false });
    value.backward();
    optimizer.step();
    return { loss: value.item(), correct: this.targets.correct(logits.toArray(), rows) };
  }

  markPhase(phase: PhaseTask): void {
    for (const r of phase.rows) markRows(this.threaded!.used, this.docs[r]);
  }

  runPhase(phase: PhaseTask): PhaseResult {
    const { weight, bias } = this.model.output;
    // Plain writes into the parameters' storage, as the optimizer's own: no graph holds them here.
    (weight.nd.data as Float32Array).set(phase.dense[0]);
    (bias!.nd.data as Float32Array).set(phase.dense[1]);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b + 1 < phase.bounds.length; b++) {
      const rows = phase.rows.subarray(phase.bounds[b], phase.bounds[b + 1]);
      this.optimizer.paramGroups[0].lr = phase.lrs[b];
      const step = this.step(rows);
      lossSum += step.loss * rows.length;
      correct += step.correct;
    }
    return { lossSum, correct, dense: [(weight.nd.data as Float32Array).slice(), (bias!.nd.data as Float32Array).slice()] };
  }
}

/** What every replica of a run shares (in shared memory where that matters), for `replicaOf`. */
interface ClassifierModel {
  outputs: number;
  config: ClassifierConfig;
  /** Every document's features, one after the other: document i is docs[starts[i] .. starts[i + 1]). */
  docs: Int32Array;
  starts: Int32Array;
  labels: string[][];
}

function threadedTraining(
  net: TextClassifierNet,
  threads: number,
  run: { outputs: number; config: ClassifierConfig; docs: Int32Array[]; train: readonly Example[] },
): ThreadedTraining {
  const starts = sharedInt32(run.docs.length + 1);
  run.docs.forEach((d, i) => (starts[i + 1] = starts[i] + d.length));
  const docs = sharedInt32(starts[run.docs.length]);
  run.docs.forEach((d, i) => docs.set(d, starts[i]));
  const model: ClassifierModel = {
    outputs: run.outputs,
    config: run.config,
    docs,
    starts,
    labels: run.train.map((e) => e.labels),
  };
  return new ThreadedTraining({
    table: net.embedding.weight.nd.data as Float32Array,
    dense: [net.output.weight.nd.data as Float32Array, net.output.bias!.nd.data as Float32Array],
    dim: run.config.dim,
    threads,
    model,
  });
}

/** Replica `spec.index` of a run, over its own table (in a worker, or here when none is idle). */
function replicaOf(spec: ReplicaSpec): Replica {
  const m = spec.model as ClassifierModel;
  const { dim } = m.config;
  const rows = spec.table.length / dim; // the model's, then each replica's private rows
  const net = new TextClassifierNet(rows, dim, m.outputs, Tensor.fromArray(spec.table, [rows, dim], "float32"));
  const docs = Array.from({ length: m.starts.length - 1 }, (_, i) => m.docs.subarray(m.starts[i], m.starts[i + 1]));
  const examples = m.labels.map((labels) => ({ text: "", labels }));
  const targets = buildTargets(examples, new LabelSet(m.config.labels), m.config.task, m.config.loss, m.outputs);
  const optimizer = new SGD(net.parameters(), { lr: 0 });
  const threaded = { used: spec.used[spec.index], slot: spec.slot, at: privateRow(spec, spec.index, 0) };
  return new ClassifierReplica(net, docs, targets, lossFor(m.config, m.outputs, "mean"), optimizer, threaded);
}

setReplicaFactory(replicaOf);

/**
 * The criterion of a model with this config. Training and `evaluate()` both build theirs here,
 * so they cannot drift apart in the loss or its options; only the reduction differs (training
 * averages each batch, `evaluate()` sums its batches and divides once).
 */
function lossFor(config: ClassifierConfig, outputs: number, reduction: Reduction): CrossEntropyLoss | BCEWithLogitsLoss {
  if (config.loss === "cross-entropy") {
    return new CrossEntropyLoss({ reduction, ...(config.labelSmoothing !== undefined ? { labelSmoothing: config.labelSmoothing } : {}) });
  }
  // One positive weight per output, the same for every label, as the single option gives it.
  const posWeight =
    config.posWeight !== undefined ? Tensor.fromArray(new Float32Array(outputs).fill(config.posWeight), [outputs], "float32") : null;
  return new BCEWithLogitsLoss({ reduction, posWeight });
}

/** Targets of every training example in the form the loss wants, sliced per batch. */
function buildTargets(examples: readonly Example[], labels: LabelSet, task: Task, loss: LossName, outputs: number) {
  if (loss === "cross-entropy") {
    if (task === "multilabel") throw new Error("cross-entropy needs one label per example; use bce-with-logits for multi-label data");
    const y = labels.encode(examples.map((e) => e.labels[0]));
    return {
      batch: (rows: Int32Array) => int64(Float64Array.from(rows, (r) => y[r])),
      correct: (logits: ArrayLike<number>, rows: Int32Array) =>
        rows.reduce((n, r, i) => n + (argmax(sliceRow(logits, i, outputs)) === y[r] ? 1 : 0), 0),
    };
  }
  const hot =
    outputs === 1
      ? Float32Array.from(labels.encode(examples.map((e) => e.labels[0])))
      : labels.encodeMultiHot(examples.map((e) => e.labels));
  return {
    batch: (rows: Int32Array) => {
      const out = new Float32Array(rows.length * outputs);
      rows.forEach((r, i) => out.set(hot.subarray(r * outputs, (r + 1) * outputs), i * outputs));
      return Tensor.fromArray(out, [rows.length, outputs], "float32");
    },
    correct: (logits: ArrayLike<number>, rows: Int32Array) =>
      rows.reduce((n, r, i) => {
        for (let c = 0; c < outputs; c++) if ((logits[i * outputs + c] > 0 ? 1 : 0) !== hot[r * outputs + c]) return n;
        return n + 1;
      }, 0),
  };
}

/** Layers draw their initial weights from the library's generator: seed it from the run's seed. */
function withSeed<T>(generator: Generator, fn: () => T): T {
  defaultGenerator.manualSeed(generator.nextUint32());
  return fn();
}

/** A 1-D int64 tensor of the values (an Int32Array is copied into int64's Float64Array storage). */
function int64(values: Int32Array | Float64Array): Tensor {
  return Tensor.fromArray(values, [values.length], "int64");
}

function sliceRow(values: ArrayLike<number>, row: number, width: number): number[] {
  return Array.from({ length: width }, (_, c) => values[row * width + c]);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
