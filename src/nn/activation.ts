/** Activation modules: thin wrappers that hold their settings (`dim`, slopes, ...) and call the functional forms. */
import { Module } from "./module";
import type { Tensor } from "../tensor";
import * as F from "./functional";
import { pyFloat } from "./repr";
import { checkOptions, isOptionsObject, typeName } from "../options";

/**
 * PyTorch's legacy choice when no dim is given (nn.Softmax() with dim=None): dim 0 for 0-, 1- and
 * 3-dimensional inputs, dim 1 otherwise.
 */
function implicitDim(x: Tensor): number {
  return x.ndim === 0 || x.ndim === 1 || x.ndim === 3 ? 0 : 1;
}

/** A softmax module's dim: a number, an options object `{dim}`, or nothing (PyTorch's implicit choice). */
function moduleDim(call: string, dim: number | { dim?: number } | undefined | null): number | undefined {
  if (isOptionsObject(dim)) {
    checkOptions(call, dim, ["dim"]);
    dim = dim.dim;
  }
  if (dim === undefined || dim === null) return undefined;
  if (typeof dim !== "number") throw new TypeError(`${call}(): argument 'dim' must be int, not ${typeName(dim)}`);
  return dim;
}

export class Softmax extends Module {
  readonly dim?: number;
  /** `new Softmax(1)`, or `new Softmax({dim: 1})` as PyTorch's keyword. */
  constructor(dim?: number | { dim?: number }) {
    super();
    this.dim = moduleDim("Softmax", dim);
  }
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim ?? implicitDim(x));
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

export class LogSoftmax extends Module {
  readonly dim?: number;
  /** `new LogSoftmax(1)`, or `new LogSoftmax({dim: 1})` as PyTorch's keyword. */
  constructor(dim?: number | { dim?: number }) {
    super();
    this.dim = moduleDim("LogSoftmax", dim);
  }
  forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim ?? implicitDim(x));
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** x * Phi(x), or PyTorch's tanh approximation with `approximate: "tanh"`. */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";
  constructor(options: F.GeluOptions = {}) {
    super();
    checkOptions("GELU", options, ["approximate"]);
    this.approximate = options.approximate ?? "none";
  }
  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x for x >= 0, negativeSlope * x below. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  /** `new LeakyReLU(0.2)`, or `new LeakyReLU({negativeSlope: 0.2})` as PyTorch's keyword. */
  constructor(negativeSlope: number | { negativeSlope?: number } = 0.01) {
    super();
    if (isOptionsObject(negativeSlope)) checkOptions("LeakyReLU", negativeSlope, ["negativeSlope"]);
    this.negativeSlope = isOptionsObject(negativeSlope) ? (negativeSlope.negativeSlope ?? 0.01) : negativeSlope;
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** x for x > 0, alpha * (exp(x) - 1) below. */
export class ELU extends Module {
  readonly alpha: number;
  constructor(options: { alpha?: number } = {}) {
    super();
    checkOptions("ELU", options, ["alpha"]);
    this.alpha = options.alpha ?? 1;
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** x * sigmoid(x). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

/** log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(options: { beta?: number; threshold?: number } = {}) {
    super();
    checkOptions("Softplus", options, ["beta", "threshold"]);
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
  }
  forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }
  /** PyTorch prints the settings as given: its defaults are the integers 1 and 20. */
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}
