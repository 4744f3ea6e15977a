/** `torch.nn`: modules, parameters and the functional forms. */
export { Module, Parameter } from "./module";
export type { StateDict } from "./module";
export { Softmax, LogSoftmax, Sigmoid, Tanh, ReLU } from "./activation";
export { NLLLoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss } from "./loss";
export * as functional from "./functional";
export { Linear, EmbeddingBag, Sequential, Dropout, Flatten, Identity } from "./layers";
export type { EmbeddingBagMode, EmbeddingBagOptions, FactoryOptions } from "./layers";
export * as init from "./init";
