/** `torch.nn.functional`: the activations and losses as plain functions (PyTorch's `F`). */
export { sigmoid, tanh, relu, softmax, logSoftmax } from "../ops/activation";
export { nllLoss, crossEntropy, binaryCrossEntropy, binaryCrossEntropyWithLogits } from "../ops/loss";
export type {
  Reduction,
  NllLossOptions,
  CrossEntropyOptions,
  BinaryCrossEntropyOptions,
  BinaryCrossEntropyWithLogitsOptions,
} from "../ops/loss";
