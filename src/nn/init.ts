/**
 * PyTorch's `torch.nn.init`: in-place initialisers drawing from the one seeded generator
 * (`defaultGenerator`, reseeded by `torch.manualSeed`). Each one writes the tensor's own
 * storage, outside the graph, and returns the tensor. The layers call these from their
 * constructors in PyTorch's order (`Linear`: weight then bias), so a seed fixes a model.
 */
import { isFloating } from "../dtype";
import { defaultGenerator, type Generator } from "../random";
import type { Tensor } from "../tensor";

export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

export type FanMode = "fan_in" | "fan_out";

export interface InitOptions {
  /** Draw from this generator instead of the default one. */
  generator?: Generator;
}

/** Runs `fill(i)` over every element of `t`'s storage (any layout), in row-major order. */
function fillEach(t: Tensor, name: string, value: (i: number) => number): Tensor {
  if (!isFloating(t.dtype)) throw new Error(`"${name}" not implemented for '${t.dtype === "int64" ? "Long" : "Bool"}'`);
  const n = t.numel();
  if (n === 0) return t;
  const { data, offset, stride } = t.nd;
  const shape = t.shape;
  if (t.isContiguous()) {
    for (let i = 0; i < n; i++) data[offset + i] = value(i);
    return t;
  }
  // A strided view: walk the indices in row-major order.
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += index[d] * stride[d];
    data[at] = value(i);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return t;
}

/** Fills `t` with values uniform in [a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, options: InitOptions = {}): Tensor {
  if (!(a <= b)) throw new Error(`uniform_ expects to return a [from, to) range, but found from=${a} > to=${b}`);
  const gen = options.generator ?? defaultGenerator;
  return fillEach(t, "check_uniform_bounds", () => a + (b - a) * gen.random());
}

/** Fills `t` with samples of N(mean, std^2). */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new Error(`normal expects std >= 0.0, but found std ${std}`);
  const gen = options.generator ?? defaultGenerator;
  return fillEach(t, "normal_kernel_cpu", () => mean + std * gen.normal());
}

export function constant_(t: Tensor, value: number): Tensor {
  return fillEach(t, "fill_", () => value);
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "conv_transpose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope)) throw new Error(`negative_slope ${param} not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new Error(`Unsupported nonlinearity ${nonlinearity}`);
  }
}

/** `[fanIn, fanOut]` of a weight: dim 1 and dim 0 times the receptive field (the dims after 1). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  const shape = t.shape;
  if (shape.length < 2) throw new Error("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
  let receptive = 1;
  for (let d = 2; d < shape.length; d++) receptive *= shape[d];
  return [shape[1] * receptive, shape[0] * receptive];
}

function fanOf(t: Tensor, mode: FanMode): number {
  if (mode !== "fan_in" && mode !== "fan_out") throw new Error(`Mode ${mode} not supported, please use one of fan_in, fan_out`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return mode === "fan_in" ? fanIn : fanOut;
}

export interface KaimingOptions extends InitOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only). Default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

/**
 * He et al. uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan). `Linear` uses
 * `a = sqrt(5)`, which makes the bound exactly 1/sqrt(fanIn).
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t; // PyTorch warns "Initializing zero-element tensors is a no-op".
  const fan = fanOf(t, options.mode ?? "fan_in");
  const gain = calculateGain(options.nonlinearity ?? "leaky_relu", options.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan));
  return uniform_(t, -bound, bound, options);
}

export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  const fan = fanOf(t, options.mode ?? "fan_in");
  const gain = calculateGain(options.nonlinearity ?? "leaky_relu", options.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan), options);
}

export function xavierUniform_(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = Math.sqrt(3) * (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, options);
}

export function xavierNormal_(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options);
}

/** `nn.Linear.reset_parameters`: kaiming_uniform_(a=sqrt(5)) for the weight, U(±1/sqrt(fanIn)) for the bias. */
export function resetLinear(weight: Tensor, bias: Tensor | null, options: InitOptions = {}): void {
  kaimingUniform_(weight, { ...options, a: Math.sqrt(5) });
  if (bias !== null) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, options);
  }
}
