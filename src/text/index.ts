export { TOKEN_PATTERN, tokenize, tokenizeAll } from "./tokenizer";
export type { TokenizeOptions } from "./tokenizer";
export { Vocab } from "./vocab";
export type { VocabOptions, VocabJSON } from "./vocab";
export {
  DEFAULT_BUCKETS,
  FNV_OFFSET_BASIS,
  FNV_PRIME,
  fnv1a32,
  fnv1a32Update,
  hashNgram,
  numFeatures,
  encodeTokens,
  encodeDocuments,
} from "./ngrams";
export type { NgramOptions } from "./ngrams";
export { LabelSet } from "./labels";
export type { LabelOrder, LabelSetJSON } from "./labels";
export { toBagBatch, toCountMatrix } from "./batch";
export type { BagBatch } from "./batch";
export {
  TextClassifier,
  TextClassifierNet,
  trainTextClassifier,
  inferTask,
  defaultLoss,
  defaultLearningRate,
  checkTableSize,
  checkHeaderSize,
  ModelTooLargeError,
  MAX_TABLE_WEIGHTS,
  DEFAULT_MAX_TOKEN_LENGTH,
} from "./classifier";
export type {
  Task,
  LossName,
  Example,
  ClassifierConfig,
  TrainOptions,
  EpochStats,
  BatchProgress,
  Evaluation,
  SizeOption,
} from "./classifier";
