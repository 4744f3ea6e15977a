/** `torch.nn.functional`: the activations and losses as plain functions (PyTorch's `F`). */
export { sigmoid, tanh, relu, softmax, logSoftmax } from "../ops/activation";
export { softplus, gelu, leakyRelu, elu, silu, logSigmoid, oneHot } from "../ops/activation-functions";
export type { GeluOptions } from "../ops/activation-functions";
export { nllLoss, crossEntropy, binaryCrossEntropy, binaryCrossEntropyWithLogits } from "../ops/loss";
export type {
  Reduction,
  NllLossOptions,
  CrossEntropyOptions,
  BinaryCrossEntropyOptions,
  BinaryCrossEntropyWithLogitsOptions,
} from "../ops/loss";
export { mseLoss, l1Loss, smoothL1Loss, huberLoss, klDiv } from "../ops/regression-loss";
export type { RegressionLossOptions, SmoothL1LossOptions, HuberLossOptions, KLDivOptions, KLDivReduction } from "../ops/regression-loss";
export { layerNorm } from "../ops/normalization";
export type { LayerNormOptions } from "../ops/normalization";
export { embedding } from "../ops/embedding";
export type { EmbeddingOptions } from "../ops/embedding";
export { dropout } from "../ops/dropout";
export type { DropoutOptions } from "../ops/dropout";
