/**
 * Layers: `Linear`, `LayerNorm`, `Dropout`, `Flatten`, `Identity` (the embedding tables are in
 * embedding.ts, the containers in containers.ts, `ReLU` and the other activations in
 * activation.ts). Parameters are created and initialised in PyTorch's order from the seeded
 * generator, so `torch.manualSeed(s)` before building a model fixes its initial weights.
 */
import { type DType, allocate, isFloating } from "../dtype";
import { Tensor } from "../tensor";
import { checkDropoutProbability, dropout } from "../ops/dropout";
import { linear } from "../ops/linear";
import { layerNorm } from "../ops/normalization";
import { ones_, resetLinear, zeros_ } from "./init";
import { Module, Parameter } from "./module";
import { pyFloat, pyTuple } from "./repr";
import { checkOptions, isOptionsObject, optionKeys } from "../options";

export interface FactoryOptions {
  /** The parameters' dtype, `"float32"` unless given. */
  dtype?: DType;
}

type LinearOptions = { bias?: boolean } & FactoryOptions;
const LINEAR_KEYS = optionKeys<LinearOptions>({ bias: true, dtype: true });

export function checkSize(value: number, what: string, cls: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${cls}: ${what} must be a non-negative integer, got ${value}`);
  }
}

export function emptyParameter(shape: number[], dtype: DType): Parameter {
  if (!isFloating(dtype)) throw new Error("only Tensors of floating point dtype can require gradients");
  let n = 1;
  for (const s of shape) n *= s;
  return new Parameter(Tensor.fromArray(allocate(dtype, n), shape, dtype));
}

/** y = x W^T + b, with W of shape (outFeatures, inFeatures). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions("Linear", options, LINEAR_KEYS);
    checkSize(inFeatures, "in_features", "Linear");
    checkSize(outFeatures, "out_features", "Linear");
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const dtype = options.dtype ?? "float32";
    this.weight = emptyParameter([outFeatures, inFeatures], dtype);
    this.bias = (options.bias ?? true) ? emptyParameter([outFeatures], dtype) : null;
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in)) for the bias. */
  resetParameters(): void {
    resetLinear(this.weight, this.bias);
  }

  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? "True" : "False"}`;
  }
}

export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** Collapses dims startDim..endDim into one. */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/**
 * Zeroes each element with probability `p` while training and scales the rest by 1/(1-p); the
 * identity in eval mode. The mask comes from the seeded generator; the node is `MulBackward0`,
 * as PyTorch records dropout on the CPU.
 */
export class Dropout extends Module {
  readonly p: number;

  /** `new Dropout(0.2)`, or `new Dropout({p: 0.2})` as PyTorch's keyword. */
  constructor(p: number | { p?: number } = 0.5) {
    super();
    if (isOptionsObject(p)) checkOptions("Dropout", p, ["p"]);
    this.p = checkDropoutProbability(isOptionsObject(p) ? (p.p ?? 0.5) : p);
  }

  forward(input: Tensor): Tensor {
    return dropout(input, { p: this.p, training: this.training });
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

export interface LayerNormOptions extends FactoryOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn a per-element weight (starting at ones) and bias (starting at zeros). Default true. */
  elementwiseAffine?: boolean;
}

const LAYER_NORM_KEYS = optionKeys<LayerNormOptions>({ eps: true, elementwiseAffine: true, dtype: true });

/**
 * Normalises over the last dims (`normalizedShape`, a number for one dim) to zero mean and unit
 * biased variance, then scales and shifts by the learnt weight and bias. grad_fn NativeLayerNormBackward0.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkOptions("LayerNorm", options, LAYER_NORM_KEYS);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const dtype = options.dtype ?? "float32";
    this.weight = this.elementwiseAffine ? emptyParameter(this.normalizedShape, dtype) : null;
    this.bias = this.elementwiseAffine ? emptyParameter(this.normalizedShape, dtype) : null;
    this.resetParameters();
  }

  /** PyTorch's default: weight ones, bias zeros. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(input: Tensor): Tensor {
    return layerNorm(input, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${this.elementwiseAffine ? "True" : "False"}`;
  }
}
