/**
 * `torchlet train`: reads the data, picks the task and the loss the way the notes advise (and
 * says why), trains with the library's trainTextClassifier, and saves the model atomically,
 * only once training has succeeded.
 *
 * Everything that can be known before training is checked before it: the output path (a
 * regular file or a new one, in a directory that exists or can be made), the model's size from
 * the options. A run whose loss or weights blow up stops with nothing written, and a SIGINT or
 * SIGTERM while the model is being written removes the temporary file.
 */
import * as fs from "fs";
import * as path from "path";
import {
  type BatchProgress,
  DEFAULT_DIM,
  DEFAULT_NGRAM_BUCKETS,
  type EpochStats,
  type LossName,
  ModelTooLargeError,
  type SizeOption,
  type Task,
  TextClassifier,
  checkTableSize,
  defaultLearningRate,
  defaultLoss,
  inferTask,
  trainTextClassifier,
} from "../text/classifier";
import { saveClassifierAsync } from "../text/model-file";
import { fileKind, finalTarget } from "../io/files";
import { SafetensorsError } from "../io/safetensors";
import { type Dataset, type Format, DataError, LABEL_PREFIX, describeFsError, readDataset } from "./formats";
import {
  CliError,
  Interrupted,
  type Io,
  Reporter,
  TrainingProgress,
  UsageError,
  formatBytes,
  formatNumber,
  formatRate,
  lossChart,
} from "./output";

export interface TrainCommandOptions {
  input: string;
  output: string;
  validation?: string;
  format: Format | "auto";
  textColumn?: string;
  labelColumn?: string;
  task: Task | "auto";
  loss?: LossName;
  epochs?: number;
  lr?: number;
  dim?: number;
  ngrams?: number;
  buckets?: number;
  minCount?: number;
  batchSize?: number;
  posWeight?: number;
  labelSmoothing?: number;
  seed?: number;
  threads?: number;
  quiet?: boolean;
  json?: boolean;
}

export interface TaskPlan {
  task: Task;
  loss: LossName;
  /** One line: which task and loss, and why. */
  reason: string;
}

const LOSS_TEXT: Record<LossName, string> = {
  "cross-entropy": "CrossEntropyLoss",
  "bce-with-logits": "BCEWithLogitsLoss",
};

/** What a loss does for a task, in the notes' words. */
function lossMeaning(task: Task, loss: LossName, classes: number): string {
  if (loss === "cross-entropy") return `CrossEntropyLoss (softmax over the ${classes} classes)`;
  if (task === "binary") return "BCEWithLogitsLoss on a single logit";
  return task === "multilabel" ? "BCEWithLogitsLoss on multi-hot targets, a sigmoid per label" : "BCEWithLogitsLoss, a sigmoid per class";
}

/**
 * The task and loss of a run: inferTask's choice unless --task says otherwise, the task's
 * default loss unless --loss overrides it. Combinations that cannot train are usage errors.
 */
export function planTask(data: Dataset, options: Pick<TrainCommandOptions, "task" | "loss" | "posWeight" | "labelSmoothing">): TaskPlan {
  const examples = data.examples;
  const labels = new Set(examples.flatMap((e) => e.labels));
  if (labels.size < 2) {
    throw new DataError(
      `${data.file}: every example has the label ${LABEL_PREFIX}${[...labels][0]}; a classifier needs at least two labels`,
    );
  }
  const multi = examples.find((e) => e.labels.length > 1);
  let task: Task;
  let why: string;
  if (options.task === "auto") {
    const inferred = inferTask(examples);
    task = inferred.task;
    why = `auto: ${inferred.reason}`;
  } else {
    task = options.task;
    if (task === "binary" && labels.size !== 2) {
      throw new UsageError(`--task binary needs exactly two labels, ${data.file} has ${labels.size}`);
    }
    if (task !== "multilabel" && multi) {
      throw new UsageError(
        `--task ${task} takes one label per example, ${data.file}:${multi.line} has ${multi.labels.length} (use --task multilabel)`,
      );
    }
    why = `--task ${task}, so ${lossMeaning(task, defaultLoss(task), labels.size)}`;
  }
  let loss = defaultLoss(task);
  if (options.loss && options.loss !== loss) {
    if (options.loss === "cross-entropy" && task === "multilabel") {
      throw new UsageError("--loss cross-entropy needs one label per example; multi-label data trains with bce-with-logits");
    }
    why += `; --loss ${options.loss} overrides that: ${lossMeaning(task, options.loss, labels.size)}`;
    loss = options.loss;
  }
  if (options.posWeight !== undefined && loss !== "bce-with-logits") {
    throw new UsageError(`--pos-weight applies to bce-with-logits, and this run uses ${loss}`);
  }
  if (options.labelSmoothing !== undefined && loss !== "cross-entropy") {
    throw new UsageError(`--label-smoothing applies to cross-entropy, and this run uses ${loss}`);
  }
  return { task, loss, reason: `task ${task}, loss ${loss} (${LOSS_TEXT[loss]}): ${why}` };
}

/** A path that names a directory by its form: it ends with a separator, or is "." or "..". */
function namesDirectory(output: string): boolean {
  return /[\\/]$/.test(output) || [".", ".."].includes(path.basename(output));
}

function statIfExists(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** Whether two paths name the same existing file (through links, or the same inode). */
function sameFile(a: fs.Stats | undefined, b: fs.Stats | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Refuses, before anything is read or trained, an output that could not take the model or would
 * destroy something else: a name ending in a slash, a directory, a device or FIFO (the model is
 * renamed into place, which would replace it with a regular file), one of the data files, a path
 * through a file, an unwritable folder. Usage errors (exit 2); nothing is touched.
 */
function checkOutput(output: string, inputs: Array<string | undefined>): void {
  if (output === "") throw new UsageError("--output is empty; give the model's file name");
  if (namesDirectory(output)) {
    // path.resolve drops the slash, so "keep.model/" would otherwise replace the file keep.model.
    const without = output.replace(/[\\/]+$/, "");
    if (without !== "" && statIfExists(without)?.isFile()) {
      throw new UsageError(
        `--output ${output} ends with a slash, but ${without} is a file; to replace it, give ${without} without the slash`,
      );
    }
    throw new UsageError(
      `--output ${output} names a directory; give the model's file name, such as ${path.join(output, "model.safetensors")}`,
    );
  }
  let target: string;
  try {
    target = finalTarget(output);
  } catch (err) {
    // A file on the way ("data.txt/model"): the search for the nearest folder below says which.
    if ((err as NodeJS.ErrnoException).code !== "ENOTDIR") throw new UsageError(`--output ${output}: ${describeFsError(err)}`);
    target = path.resolve(output);
  }
  const stat = statIfExists(target);
  if (stat?.isDirectory())
    throw new UsageError(`--output ${output} is a directory; give a file name such as ${path.join(output, "model.safetensors")}`);
  if (stat && !stat.isFile()) {
    throw new UsageError(
      `--output ${output} is ${fileKind(stat)}, not a regular file; the model replaces its output, so give a regular file's name`,
    );
  }
  for (const input of inputs) {
    if (input !== undefined && (path.resolve(input) === target || sameFile(statIfExists(input), stat))) {
      throw new UsageError(`--output ${output} is the data file ${input}; choose another file for the model`);
    }
  }
  // The nearest existing folder on the way to the output must be a folder, and writable.
  let dir = path.dirname(target);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--output ${output}: ${dir} is a file, not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UsageError(`--output ${output}: cannot write in ${dir}: ${describeFsError(err)}`);
  }
}

const OPTION_NAMES: Record<SizeOption, string> = { dim: "--dim", buckets: "--buckets", minCount: "--min-count" };

/** A model too large for its options as a usage error, with the command line's option names. */
function tooLarge(err: ModelTooLargeError): UsageError {
  return new UsageError(err.explain((option) => OPTION_NAMES[option]));
}

/** Refuses, from the options alone, an n-gram table that could never be built. */
function checkSizeFromOptions(o: TrainCommandOptions): void {
  const wordNgrams = o.ngrams ?? 1;
  try {
    checkTableSize(0, { dim: o.dim ?? DEFAULT_DIM, wordNgrams, buckets: o.buckets ?? DEFAULT_NGRAM_BUCKETS });
  } catch (err) {
    if (err instanceof ModelTooLargeError) throw tooLarge(err);
    throw err;
  }
}

/** A loss as a short number: four decimals, or three significant digits once it is huge. */
function formatLoss(x: number): string {
  return Number.isFinite(x) && Math.abs(x) >= 1e4 ? x.toExponential(2) : formatNumber(x);
}

/**
 * How far the loss may rise above where it started (the untrained model's loss, or epoch 1's,
 * whichever is higher) before the run counts as diverged. Healthy runs stay within about 1.3x.
 */
export const DIVERGENCE_FACTOR = 10;

/**
 * The loss of the untrained model, whose output layer starts at zero: every logit is 0, so
 * cross-entropy is log(classes) (label smoothing or not) and BCEWithLogits log 2 per logit, up to
 * posWeight times that on positives. An upper bound, whatever the first batches hold.
 */
export function untrainedLoss(loss: LossName, outputs: number, posWeight = 1): number {
  return loss === "cross-entropy" ? Math.log(outputs) : Math.LN2 * Math.max(1, posWeight);
}

/**
 * Watches a run for divergence: a loss that is not finite (checked every batch, so a blow-up
 * stops at once), an epoch loss far above its start, or weights that are not finite.
 */
export class DivergenceWatch {
  /** What later epochs are held to: the higher of the untrained loss and epoch 1's. */
  private reference: number;

  constructor(
    private readonly lr: number,
    untrained: number,
  ) {
    this.reference = untrained;
  }

  private diverged(what: string): CliError {
    const lr = this.lr >= 1e6 || this.lr < 1e-4 ? this.lr.toExponential() : String(this.lr);
    return new CliError(`training diverged: ${what}; try a lower --lr than ${lr} (nothing was written)`);
  }

  batch(p: BatchProgress): void {
    if (!Number.isFinite(p.loss)) throw this.diverged(`the loss is ${p.loss} in epoch ${p.epoch} (batch ${p.batch} of ${p.batches})`);
  }

  epoch(s: EpochStats, model: TextClassifier): void {
    if (!Number.isFinite(s.loss)) throw this.diverged(`the loss is ${s.loss} after epoch ${s.epoch}`);
    if (s.loss > DIVERGENCE_FACTOR * this.reference) {
      throw this.diverged(
        `the loss rose to ${formatLoss(s.loss)} in epoch ${s.epoch}, over ${DIVERGENCE_FACTOR} times where it started (${formatLoss(this.reference)})`,
      );
    }
    if (s.epoch === 1) this.reference = Math.max(this.reference, s.loss);
    const bad = model.firstNonFiniteWeight();
    if (bad) throw this.diverged(`${bad.name} holds ${bad.value} after epoch ${s.epoch}`);
  }
}

/**
 * Saves the model with SIGINT and SIGTERM caught for the duration of the write: either one stops
 * the write between two chunks, the temporary file is removed, an existing model stays as it was,
 * and the command ends as interrupted. Outside the save, the signals keep their usual meaning.
 */
async function saveInterruptibly(classifier: TextClassifier, file: string, hyperParameters: Record<string, unknown>): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) =>
    controller.abort(new Interrupted(signal, `interrupted by ${signal} while writing ${file}; the model was not saved`));
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) process.on(signal, onSignal);
  try {
    await saveClassifierAsync(classifier, file, hyperParameters, { signal: controller.signal });
  } catch (err) {
    // Interrupted, and the library's refusals, already say what happened and name the file.
    if (err instanceof CliError || err instanceof SafetensorsError) throw err;
    throw new CliError(`${file}: cannot write the model: ${describeFsError(err)}`);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

function epochLine(s: EpochStats, task: Task): string {
  const width = String(s.epochs).length;
  let line =
    `epoch ${String(s.epoch).padStart(width)}/${s.epochs}  loss ${formatNumber(s.loss)}  train ${task === "multilabel" ? "exact match" : "accuracy"} ${formatNumber(s.accuracy)}` +
    `  lr ${s.lr.toPrecision(3)}  ${formatRate(s.tokensPerSecond)} tokens/s  ${s.seconds.toFixed(2)}s`;
  if (s.validation) {
    const loss = s.validation.scored === 0 ? "none (no label in common with the training data)" : formatNumber(s.validation.loss);
    line += `  | validation loss ${loss} accuracy ${formatNumber(s.validation.accuracy)}`;
    if (s.validation.microF1 !== undefined) line += ` micro-F1 ${formatNumber(s.validation.microF1)}`;
  }
  return line;
}

function epochJson(s: EpochStats) {
  return {
    epoch: s.epoch,
    loss: s.loss,
    accuracy: s.accuracy,
    lr: s.lr,
    tokensPerSecond: s.tokensPerSecond,
    seconds: s.seconds,
    ...(s.validation
      ? {
          validation: {
            loss: s.validation.scored === 0 ? null : s.validation.loss,
            accuracy: s.validation.accuracy,
            ...(s.validation.microF1 !== undefined ? { microF1: s.validation.microF1 } : {}),
          },
        }
      : {}),
  };
}

export async function trainCommand(o: TrainCommandOptions, io: Io): Promise<void> {
  const started = performance.now();
  const out = new Reporter(io, o);
  checkOutput(o.output, [o.input, o.validation]);
  if (o.buckets !== undefined && !(o.ngrams !== undefined && o.ngrams > 1)) {
    throw new UsageError("--buckets applies to word n-grams: give --ngrams 2 or more with it");
  }
  checkSizeFromOptions(o);
  const read = { format: o.format, textColumn: o.textColumn, labelColumn: o.labelColumn };
  const train = readDataset(o.input, read);
  const validation = o.validation !== undefined ? readDataset(o.validation, read) : undefined;
  const plan = planTask(train, o);
  const labelCount = new Set(train.examples.flatMap((e) => e.labels)).size;
  out.info(`read ${train.examples.length} examples with ${labelCount} labels from ${train.file} (${train.format})`);
  if (validation) {
    out.info(`read ${validation.examples.length} validation examples from ${validation.file} (${validation.format})`);
    const known = new Set(train.examples.flatMap((e) => e.labels));
    const unseen = [...new Set(validation.examples.flatMap((e) => e.labels))].filter((l) => !known.has(l));
    if (unseen.length > 0) {
      out.info(
        `note: ${validation.file} has labels the training data lacks, counted as wrong: ${unseen.map((l) => LABEL_PREFIX + l).join(", ")}`,
      );
    }
    if (plan.task !== "multilabel" && validation.examples.every((e) => !known.has(e.labels[0]))) {
      out.info(`note: no label of ${validation.file} is in the training data, so it has no validation loss to report`);
    }
  }
  out.info(plan.reason);

  const epochs: EpochStats[] = [];
  const progress = TrainingProgress.for(io, o);
  const outputs = TextClassifier.outputsFor(plan.task, plan.loss, labelCount);
  const lr = o.lr ?? defaultLearningRate({ batchSize: o.batchSize, loss: plan.loss, outputs, posWeight: o.posWeight });
  const watch = new DivergenceWatch(lr, untrainedLoss(plan.loss, outputs, o.posWeight));
  let classifier;
  try {
    classifier = trainTextClassifier(train.examples, {
      task: plan.task,
      loss: plan.loss,
      epochs: o.epochs,
      lr,
      dim: o.dim,
      wordNgrams: o.ngrams,
      buckets: o.buckets,
      minCount: o.minCount,
      batchSize: o.batchSize,
      posWeight: o.posWeight,
      labelSmoothing: o.labelSmoothing,
      seed: o.seed,
      threads: o.threads,
      validation: validation?.examples,
      onBatch: (p) => {
        watch.batch(p);
        progress.update(p);
      },
      onEpoch: (s, model) => {
        epochs.push(s);
        progress.pause();
        watch.epoch(s, model);
        out.info(epochLine(s, plan.task));
      },
    });
  } catch (err) {
    if (err instanceof ModelTooLargeError) throw tooLarge(err);
    throw err;
  } finally {
    progress.stop();
  }

  const last = epochs[epochs.length - 1];
  const hyperParameters = {
    epochs: last.epochs,
    lr: epochs[0].lr,
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    input: path.basename(train.file),
    format: train.format,
    examples: train.examples.length,
  };
  await saveInterruptibly(classifier, o.output, hyperParameters);
  const bytes = fs.statSync(o.output).size;
  const seconds = (performance.now() - started) / 1000;
  const config = classifier.config;

  if (out.human && epochs.length >= 2) {
    out.info();
    out.info("training loss per epoch");
    out.info(lossChart(epochs.map((s) => s.loss)));
  }
  out.info();
  if (plan.task === "binary") out.info(`positive label (logit > 0): ${LABEL_PREFIX}${config.labels[1]}`);
  out.info(
    `saved ${o.output} (${formatBytes(bytes)}): ${config.labels.length} labels, ${classifier.vocab.size} words` +
      `${config.wordNgrams > 1 ? ` + ${config.wordNgrams}-grams in ${config.buckets} buckets` : ""}, dim ${config.dim}; ` +
      `${last.epochs} epochs in ${seconds.toFixed(1)}s`,
  );
  out.json({
    command: "train",
    input: train.file,
    format: train.format,
    examples: train.examples.length,
    validation: validation ? { file: validation.file, examples: validation.examples.length } : undefined,
    task: plan.task,
    loss: plan.loss,
    reason: plan.reason,
    labels: config.labels,
    vocabulary: classifier.vocab.size,
    config,
    epochs: epochs.map(epochJson),
    model: { file: o.output, bytes },
    seconds,
  });
}
