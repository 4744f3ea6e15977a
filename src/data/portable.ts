/**
 * `torch.data` everywhere: splits, TensorDataset and batches, metrics, and SpamAssassin's text
 * and classes. Node's `torch.data` (index.ts) adds loadSpamAssassin, which reads the corpus from
 * disk.
 */
export { trainTestSplit, resolveGenerator } from "./split";
export type { Split, SplitOptions } from "./split";
export { DataLoader } from "./loader";
export type { DataLoaderOptions, DataLoaderSource, Batch } from "./loader";
export { TensorDataset } from "./dataset";
export { accuracy, confusionMatrix, precisionRecallF1, macroF1, classificationReport, microF1, precisionAtK, recallAtK } from "./metrics";
export type { ClassScores } from "./metrics";
export { mailText, spamAssassinClass } from "./mail";
export type { SpamAssassinData, SpamAssassinOptions, SpamAssassinTask } from "./mail";
