/**
 * A trained text classifier as one safetensors file: the weights as tensors that Python's
 * `safetensors.torch.load_file` reads, and in the header's `__metadata__` everything `test` and
 * `predict` need (task, loss, labels, vocabulary, n-gram settings, hyper-parameters).
 * Writing is atomic; reading checks the header against the weights before trusting either.
 */
import { Tensor } from "../tensor";
import { type RawTensor, SafetensorsError, loadSafetensors, saveSafetensors } from "../io/safetensors";
import { copyInto } from "../nn/module";
import { type ClassifierConfig, TextClassifier, TextClassifierNet } from "./classifier";
import { Vocab } from "./vocab";
import { numFeatures } from "./ngrams";

export const MODEL_FORMAT = "torchlet.text-classifier";
export const MODEL_VERSION = "1";

export class ModelFileError extends Error {}

export function saveClassifier(classifier: TextClassifier, file: string, hyperParameters: Record<string, unknown> = {}): void {
  const tensors: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(classifier.net.stateDict())) {
    tensors[name] = { dtype: "F32", shape: t.shape, data: t.contiguous().toArray() as Float32Array };
  }
  saveSafetensors(file, tensors, {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    config: JSON.stringify(classifier.config),
    vocab: JSON.stringify(classifier.vocab.toJSON()),
    hyperParameters: JSON.stringify(hyperParameters),
  });
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
  const fail = (why: string): never => {
    throw new ModelFileError(`${file}: not a usable torchlet model: ${why}`);
  };
  if (metadata.format !== MODEL_FORMAT) fail(`its metadata says format ${JSON.stringify(metadata.format ?? null)}, expected "${MODEL_FORMAT}"`);
  if (metadata.version !== MODEL_VERSION) fail(`model format version ${metadata.version} is not supported (this torchlet reads ${MODEL_VERSION})`);
  const config = parseJson(metadata.config, "config", fail) as ClassifierConfig;
  const vocabJson = parseJson(metadata.vocab, "vocab", fail) as { tokens: string[]; counts: number[] };
  if (!config || !Array.isArray(config.labels) || !(config.dim > 0) || !(config.wordNgrams >= 1)) fail("its config is incomplete");
  if (!vocabJson || !Array.isArray(vocabJson.tokens) || !Array.isArray(vocabJson.counts)) fail("its vocabulary is malformed");
  const vocab = Vocab.fromJSON(vocabJson);
  const features = numFeatures(vocab.size, { wordNgrams: config.wordNgrams, buckets: config.buckets });
  const outputs = TextClassifier.outputsFor(config.task, config.loss, config.labels.length);
  const expected: Record<string, number[]> = {
    "embedding.weight": [features, config.dim],
    "output.weight": [outputs, config.dim],
    "output.bias": [outputs],
  };
  for (const [name, shape] of Object.entries(expected)) {
    const t = tensors[name];
    if (!t) fail(`tensor ${name} is missing`);
    if (t.dtype !== "F32") fail(`tensor ${name} has dtype ${t.dtype}, expected F32`);
    if (t.shape.join(",") !== shape.join(",")) fail(`tensor ${name} has shape [${t.shape}], expected [${shape}]`);
  }
  const loaded = (name: string) => Tensor.fromArray(tensors[name].data as Float32Array, tensors[name].shape, "float32");
  // The embedding table is the bulk of the file: adopt the loaded array rather than copy it.
  const net = new TextClassifierNet(features, config.dim, outputs, loaded("embedding.weight"));
  copyInto(net.output.weight, loaded("output.weight"));
  copyInto(net.output.bias!, loaded("output.bias"));
  return new TextClassifier(net, vocab, config);
}

function parseJson(text: string | undefined, what: string, fail: (why: string) => never): unknown {
  if (text === undefined) return fail(`its metadata has no ${what}`);
  try {
    return JSON.parse(text);
  } catch {
    return fail(`its ${what} metadata is not valid JSON`);
  }
}
