export { trainTestSplit, resolveGenerator } from "./split";
export type { Split, SplitOptions } from "./split";
export { DataLoader } from "./loader";
export type { DataLoaderOptions } from "./loader";
export { accuracy, confusionMatrix, precisionRecallF1, macroF1, classificationReport, microF1, precisionAtK, recallAtK } from "./metrics";
export type { ClassScores } from "./metrics";
export { loadSpamAssassin, mailText, spamAssassinClass } from "./spam-assassin";
export type { SpamAssassinData, SpamAssassinOptions, SpamAssassinTask } from "./spam-assassin";
