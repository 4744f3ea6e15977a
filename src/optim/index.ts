/** `torch.optim`: the optimizer base class, SGD, Adam, AdamW, RMSprop, Adagrad, and learning-rate schedulers (`optim.lrScheduler`). */
export { Optimizer, required } from "./optimizer";
export type { ParamGroup, ParamGroupInput, Params, OptimizerStateDict, PerParamState } from "./optimizer";
export { SGD } from "./sgd";
export type { SGDOptions, SGDParamGroup } from "./sgd";
export { Adam, AdamW } from "./adam";
export type { AdamOptions, AdamParamGroup } from "./adam";
export { RMSprop } from "./rmsprop";
export type { RMSpropOptions, RMSpropParamGroup } from "./rmsprop";
export { Adagrad } from "./adagrad";
export type { AdagradOptions, AdagradParamGroup } from "./adagrad";
export * as lrScheduler from "./lr-scheduler";
