/** `torch.optim`: the optimizer base class, SGD, and learning-rate schedulers (`optim.lrScheduler`). */
export { Optimizer, required } from "./optimizer";
export type { ParamGroup, ParamGroupInput, Params, OptimizerStateDict, PerParamState } from "./optimizer";
export { SGD } from "./sgd";
export type { SGDOptions, SGDParamGroup } from "./sgd";
export * as lrScheduler from "./lr-scheduler";
