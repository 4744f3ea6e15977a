/** Activation modules: thin wrappers that hold `dim` and call the ops. */
import { Module } from "./module";
import type { Tensor } from "../tensor";
import * as F from "./functional";

/**
 * PyTorch's legacy choice when no dim is given (nn.Softmax() with dim=None): dim 0 for 0-, 1- and
 * 3-dimensional inputs, dim 1 otherwise.
 */
function implicitDim(x: Tensor): number {
  return x.ndim === 0 || x.ndim === 1 || x.ndim === 3 ? 0 : 1;
}

export class Softmax extends Module {
  constructor(readonly dim?: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim ?? implicitDim(x));
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

export class LogSoftmax extends Module {
  constructor(readonly dim?: number) {
    super();
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
