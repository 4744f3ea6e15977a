/** `torch.nn`: modules, parameters and the functional forms. */
export { Module, Parameter } from "./module";
export type { StateDict, RemovableHandle, ForwardHook, ForwardPreHook, ForwardInputs, ForwardOutput } from "./module";
export { Softmax, LogSoftmax, Sigmoid, Tanh, ReLU, GELU, LeakyReLU, ELU, SiLU, Softplus } from "./activation";
export { NLLLoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss } from "./loss";
export * as functional from "./functional";
export { Linear, LayerNorm, Dropout, Flatten, Identity } from "./layers";
export type { FactoryOptions, LayerNormOptions } from "./layers";
export { Embedding, EmbeddingBag } from "./embedding";
export type { EmbeddingOptions, EmbeddingBagMode, EmbeddingBagOptions } from "./embedding";
export { Sequential, ModuleList, ModuleDict } from "./containers";
export * as init from "./init";
export * as utils from "./utils";
