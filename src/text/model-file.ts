/**
 * A trained text classifier as one safetensors file: the weights as tensors that Python's
 * `safetensors.torch.load_file` reads, and in the header's `__metadata__` everything `test` and
 * `predict` need (task, loss, labels, vocabulary, n-gram settings, hyper-parameters).
 * Writing is atomic; reading checks the whole model before trusting any of it: every config
 * field in range, the labels and vocabulary well-formed and matching the tensors' rows, every
 * weight finite. A file edited by hand or by another program is refused with the field named.
 */
import { Tensor } from "../tensor";
import {
  type RawTensor,
  type SaveOptions,
  SafetensorsError,
  loadSafetensors,
  saveSafetensors,
  saveSafetensorsAsync,
} from "../io/safetensors";
import { copyInto } from "../nn/module";
import { type ClassifierConfig, type LossName, type Task, TextClassifier, TextClassifierNet } from "./classifier";
import { Vocab } from "./vocab";
import { numFeatures } from "./ngrams";

export const MODEL_FORMAT = "torchlet.text-classifier";
export const MODEL_VERSION = "1";

export class ModelFileError extends Error {}

function modelTensors(classifier: TextClassifier): Record<string, RawTensor> {
  const tensors: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(classifier.net.stateDict())) {
    tensors[name] = { dtype: "F32", shape: t.shape, data: t.contiguous().toArray() as Float32Array };
  }
  return tensors;
}

function modelMetadata(classifier: TextClassifier, hyperParameters: Record<string, unknown>): Record<string, string> {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    config: JSON.stringify(classifier.config),
    vocab: JSON.stringify(classifier.vocab.toJSON()),
    hyperParameters: JSON.stringify(hyperParameters),
  };
}

/** Refuses to save what loadClassifier would refuse to load (a label with a space, say). */
function checkSavable(classifier: TextClassifier, file: string): void {
  checkConfig(classifier.config, (why) => {
    throw new ModelFileError(`${file}: cannot save: ${why}`);
  });
}

export function saveClassifier(classifier: TextClassifier, file: string, hyperParameters: Record<string, unknown> = {}): void {
  checkSavable(classifier, file);
  saveSafetensors(file, modelTensors(classifier), modelMetadata(classifier, hyperParameters));
}

/**
 * saveClassifier with asynchronous writes: aborting `options.signal` (from a SIGINT handler, say)
 * stops the save between two chunks and removes the temporary file, leaving any old model as it was.
 */
export async function saveClassifierAsync(
  classifier: TextClassifier,
  file: string,
  hyperParameters: Record<string, unknown> = {},
  options: SaveOptions = {},
): Promise<void> {
  checkSavable(classifier, file);
  await saveSafetensorsAsync(file, modelTensors(classifier), modelMetadata(classifier, hyperParameters), options);
}

type Fail = (why: string) => never;

const TASKS: readonly Task[] = ["binary", "multiclass", "multilabel"];
const LOSSES: readonly LossName[] = ["cross-entropy", "bce-with-logits"];

/** A value as it appears in a message: JSON, cut short. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // JSON.stringify recurses: a value nested a million deep overflows the stack.
    text = "a value nested too deeply to show";
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An integer field in [min, max], or absent when `optional`. */
function integerField(config: Record<string, unknown>, key: string, min: number, fail: Fail, max = Number.MAX_SAFE_INTEGER): void {
  const v = config[key];
  if (!(typeof v === "number" && Number.isInteger(v) && v >= min && v <= max)) {
    fail(`config.${key} is ${show(v)}, expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ""}`);
  }
}

function checkLabels(labels: unknown, task: Task, fail: Fail): void {
  if (!Array.isArray(labels)) fail(`config.labels is ${show(labels)}, expected a list of label names`);
  const seen = new Set<string>();
  (labels as unknown[]).forEach((label, i) => {
    if (typeof label !== "string" || label === "") fail(`config.labels[${i}] is ${show(label)}, expected a non-empty string`);
    if (/\s/.test(label as string)) fail(`config.labels[${i}] ${show(label)} contains whitespace, which a __label__ cannot hold`);
    if (seen.has(label as string)) fail(`config.labels names ${show(label)} twice`);
    seen.add(label as string);
  });
  const n = (labels as unknown[]).length;
  if (task === "binary" && n !== 2) fail(`config.labels has ${n} label${n === 1 ? "" : "s"}, and a binary model has exactly 2`);
  if (n < 2) fail(`config.labels has ${n} label${n === 1 ? "" : "s"}, and a classifier has at least 2`);
}

/** Every field of the config, in range and consistent with the others. */
function checkConfig(raw: unknown, fail: Fail): ClassifierConfig {
  if (!isObject(raw)) fail(`its config is ${show(raw)}, not a JSON object`);
  const config = raw as Record<string, unknown>;
  if (!TASKS.includes(config.task as Task))
    fail(`config.task is ${show(config.task)}, expected one of ${TASKS.map((t) => `"${t}"`).join(", ")}`);
  if (!LOSSES.includes(config.loss as LossName))
    fail(`config.loss is ${show(config.loss)}, expected one of ${LOSSES.map((l) => `"${l}"`).join(", ")}`);
  if (config.task === "multilabel" && config.loss === "cross-entropy") fail(`config.loss "cross-entropy" cannot score a multilabel model`);
  checkLabels(config.labels, config.task as Task, fail);
  integerField(config, "dim", 1, fail);
  integerField(config, "wordNgrams", 1, fail);
  integerField(config, "buckets", (config.wordNgrams as number) > 1 ? 1 : 0, fail);
  integerField(config, "minCount", 1, fail);
  integerField(config, "maxTokens", 1, fail);
  if (config.maxTokenLength !== undefined) integerField(config, "maxTokenLength", 1, fail);
  if (config.posWeight !== undefined) {
    const w = config.posWeight;
    if (!(typeof w === "number" && Number.isFinite(w) && w > 0)) fail(`config.posWeight is ${show(w)}, expected a number above 0`);
    if (config.loss !== "bce-with-logits") fail(`config.posWeight is set, and only bce-with-logits uses it`);
  }
  if (config.labelSmoothing !== undefined) {
    const e = config.labelSmoothing;
    if (!(typeof e === "number" && e >= 0 && e < 1)) fail(`config.labelSmoothing is ${show(e)}, expected a number from 0 to below 1`);
    if (config.loss !== "cross-entropy") fail(`config.labelSmoothing is set, and only cross-entropy uses it`);
  }
  return config as unknown as ClassifierConfig;
}

function checkVocab(raw: unknown, fail: Fail): Vocab {
  if (!isObject(raw)) fail(`its vocab is ${show(raw)}, not a JSON object`);
  const { tokens, counts } = raw as Record<string, unknown>;
  if (!Array.isArray(tokens)) fail(`vocab.tokens is ${show(tokens)}, expected a list of words`);
  if (!Array.isArray(counts)) fail(`vocab.counts is ${show(counts)}, expected a list of counts`);
  const words = tokens as unknown[];
  const numbers = counts as unknown[];
  if (words.length !== numbers.length) fail(`vocab.tokens has ${words.length} words but vocab.counts has ${numbers.length} counts`);
  const seen = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (typeof word !== "string" || word === "") fail(`vocab.tokens[${i}] is ${show(word)}, expected a non-empty string`);
    if (seen.has(word as string)) fail(`vocab.tokens has ${show(word)} twice`);
    seen.add(word as string);
    const count = numbers[i];
    if (!(typeof count === "number" && Number.isInteger(count) && count >= 0 && count <= 0xffffffff)) {
      fail(`vocab.counts[${i}] is ${show(count)}, expected a count from 0 to 4294967295`);
    }
  }
  return new Vocab(words as string[], numbers as number[]);
}

/** The three tensors, F32, shaped as the config and vocabulary say, every weight finite. */
function checkTensors(tensors: Record<string, RawTensor>, config: ClassifierConfig, vocab: Vocab, fail: Fail): void {
  const features = numFeatures(vocab.size, { wordNgrams: config.wordNgrams, buckets: config.buckets });
  const outputs = TextClassifier.outputsFor(config.task, config.loss, config.labels.length);
  const rowsWhy = `${vocab.size} words${config.wordNgrams > 1 ? ` + ${config.buckets} buckets` : ""}`;
  const outputsWhy = outputs === 1 ? "one logit for a binary bce-with-logits model" : `one row per label in config.labels`;
  const expected: Array<[string, number[], string]> = [
    ["embedding.weight", [features, config.dim], `${rowsWhy}, config.dim ${config.dim}`],
    ["output.weight", [outputs, config.dim], `${outputsWhy}, config.dim ${config.dim}`],
    ["output.bias", [outputs], outputsWhy],
  ];
  for (const [name, shape, why] of expected) {
    const t = tensors[name];
    if (!t) fail(`tensor ${name} is missing`);
    if (t.dtype !== "F32") fail(`tensor ${name} has dtype ${t.dtype}, expected F32`);
    if (t.shape.join(",") !== shape.join(",")) fail(`tensor ${name} has shape [${t.shape}], expected [${shape}] (${why})`);
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) fail(`tensor ${name} holds ${data[i]} at flat index ${i}; every weight must be finite`);
    }
  }
}

export function loadClassifier(file: string): TextClassifier {
  let contents;
  try {
    contents = loadSafetensors(file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelFileError(e.message);
    throw e;
  }
  const { tensors, metadata } = contents;
  const fail: Fail = (why) => {
    throw new ModelFileError(`${file}: not a usable torchlet model: ${why}`);
  };
  if (metadata.format !== MODEL_FORMAT)
    fail(`its metadata says format ${JSON.stringify(metadata.format ?? null)}, expected "${MODEL_FORMAT}"`);
  if (metadata.version !== MODEL_VERSION)
    fail(`model format version ${metadata.version} is not supported (this torchlet reads ${MODEL_VERSION})`);
  const config = checkConfig(parseJson(metadata.config, "config", fail), fail);
  const vocab = checkVocab(parseJson(metadata.vocab, "vocab", fail), fail);
  checkTensors(tensors, config, vocab, fail);
  const loaded = (name: string) => Tensor.fromArray(tensors[name].data as Float32Array, tensors[name].shape, "float32");
  // The embedding table is the bulk of the file: adopt the loaded array rather than copy it.
  const net = new TextClassifierNet(
    tensors["embedding.weight"].shape[0],
    config.dim,
    tensors["output.bias"].shape[0],
    loaded("embedding.weight"),
  );
  copyInto(net.output.weight, loaded("output.weight"));
  copyInto(net.output.bias!, loaded("output.bias"));
  return new TextClassifier(net, vocab, config);
}

function parseJson(text: string | undefined, what: string, fail: Fail): unknown {
  if (text === undefined) return fail(`its metadata has no ${what}`);
  try {
    return JSON.parse(text);
  } catch {
    return fail(`its ${what} metadata is not valid JSON`);
  }
}
