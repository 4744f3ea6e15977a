/**
 * `torchlet train`: reads the data, picks the task and the loss the way the notes advise (and
 * says why), trains with the library's trainTextClassifier, and saves the model atomically,
 * only once training has succeeded.
 */
import * as fs from "fs";
import * as path from "path";
import { type EpochStats, type LossName, type Task, defaultLoss, inferTask, trainTextClassifier } from "../text/classifier";
import { saveClassifier } from "../text/model-file";
import { type Dataset, type Format, DataError, LABEL_PREFIX, describeFsError, readDataset } from "./formats";
import { CliError, type Io, Reporter, TrainingProgress, UsageError, formatBytes, formatNumber, formatRate, lossChart } from "./output";

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
    throw new DataError(`${data.file}: every example has the label ${LABEL_PREFIX}${[...labels][0]}; a classifier needs at least two labels`);
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
      throw new UsageError(`--task ${task} takes one label per example, ${data.file}:${multi.line} has ${multi.labels.length} (use --task multilabel)`);
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

/** Refuses an output that would overwrite the data, and one that cannot be written, before any training. */
function checkOutput(output: string, inputs: Array<string | undefined>): void {
  const target = path.resolve(output);
  for (const input of inputs) {
    if (input !== undefined && path.resolve(input) === target) {
      throw new UsageError(`--output ${output} is the data file ${input}; choose another file for the model`);
    }
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new UsageError(`--output ${output} is a directory; give a file name such as ${path.join(output, "model.safetensors")}`);
  // The nearest existing folder on the way to the output must be writable.
  let dir = path.dirname(target);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new CliError(`${output}: cannot write the model: ${dir} is not a directory`);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${output}: cannot write the model: ${describeFsError(err)}`);
  }
}

function epochLine(s: EpochStats, task: Task): string {
  const width = String(s.epochs).length;
  let line =
    `epoch ${String(s.epoch).padStart(width)}/${s.epochs}  loss ${formatNumber(s.loss)}  train ${task === "multilabel" ? "exact match" : "accuracy"} ${formatNumber(s.accuracy)}` +
    `  lr ${s.lr.toPrecision(3)}  ${formatRate(s.tokensPerSecond)} tokens/s  ${s.seconds.toFixed(2)}s`;
  if (s.validation) {
    line += `  | validation loss ${formatNumber(s.validation.loss)} accuracy ${formatNumber(s.validation.accuracy)}`;
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
      ? { validation: { loss: s.validation.loss, accuracy: s.validation.accuracy, ...(s.validation.microF1 !== undefined ? { microF1: s.validation.microF1 } : {}) } }
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
      out.info(`note: ${validation.file} has labels the training data lacks, counted as wrong: ${unseen.map((l) => LABEL_PREFIX + l).join(", ")}`);
    }
  }
  out.info(plan.reason);

  const epochs: EpochStats[] = [];
  const progress = TrainingProgress.for(io, o);
  let classifier;
  try {
    classifier = trainTextClassifier(train.examples, {
      task: plan.task,
      loss: plan.loss,
      epochs: o.epochs,
      lr: o.lr,
      dim: o.dim,
      wordNgrams: o.ngrams,
      buckets: o.buckets,
      minCount: o.minCount,
      batchSize: o.batchSize,
      posWeight: o.posWeight,
      labelSmoothing: o.labelSmoothing,
      seed: o.seed,
      validation: validation?.examples,
      onBatch: (p) => progress.update(p),
      onEpoch: (s) => {
        epochs.push(s);
        if (!Number.isFinite(s.loss)) {
          throw new CliError(`training diverged: the loss is ${s.loss} after epoch ${s.epoch}; try a smaller --lr (nothing was written)`);
        }
        progress.pause();
        out.info(epochLine(s, plan.task));
      },
    });
  } finally {
    progress.stop();
  }

  const last = epochs[epochs.length - 1];
  const hyperParameters = {
    epochs: last.epochs,
    lr: epochs[0].lr,
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    input: path.basename(train.file),
    format: train.format,
    examples: train.examples.length,
  };
  try {
    saveClassifier(classifier, o.output, hyperParameters);
  } catch (err) {
    throw new CliError(`${o.output}: cannot write the model: ${describeFsError(err)}`);
  }
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
