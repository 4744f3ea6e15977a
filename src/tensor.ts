/**
 * `Tensor` as the library and its users see it: the core class (tensor-core.ts) with its methods
 * attached here, in one place. Each method is a thin call into an op (`x.add(y)` is
 * `torch.add(x, y)`) or into the autograd engine; the core imports none of them, which keeps the
 * module graph free of cycles (ops build on the core, this module on the ops).
 */
import type { DType } from "./dtype";
import { allocate } from "./dtype";
import { formatSize, sameShape, sizesArg } from "./shape";
import { Tensor } from "./tensor-core";
import { runBackward } from "./autograd/engine";
import { freshGradient, gradEdge, type GradHook } from "./autograd/node";
import { gradSlotOf } from "./autograd/grad-slot";
import * as elementwise from "./ops/elementwise";
import * as activation from "./ops/activation";
import * as reduction from "./ops/reduction";
import * as linalg from "./ops/linalg";
import * as shapeOps from "./ops/shape";
import * as indexing from "./ops/indexing";
import * as inplace from "./ops/inplace";

export { Tensor };
export type { NestedArray } from "./tensor-core";
export type Operand = Tensor | number;

export interface BackwardOptions {
  /** Keep the graph's saved tensors, so that it can be run backward again (default: `createGraph`). */
  retainGraph?: boolean;
  /** Record the backward's own graph: `.grad` can then be differentiated again. */
  createGraph?: boolean;
  /** Accumulate only into these tensors' `.grad` (leaves or not), instead of every leaf's. */
  inputs?: Tensor | readonly Tensor[];
}

/**
 * The methods of `Tensor` (merged into its type below). `this` is the tensor; every method is also
 * a function of the top-level module (`torch.add`, `torch.sum`, ...).
 */
export class TensorMethods {
  // ---- gradients ----------------------------------------------------------------------

  /** The gradient accumulated by backward (null until one arrives); assigning replaces it. */
  get grad(): Tensor | null {
    return (this as unknown as Tensor).gradSlot?.dense() ?? null;
  }

  set grad(value: Tensor | null) {
    const self = this as unknown as Tensor;
    if (value === null && self.gradSlot === null) return;
    gradSlotOf(self).set(value);
  }

  /**
   * Computes the gradient of this tensor with respect to the graph's leaves and adds it into
   * their `.grad`. A scalar needs no `gradient`; any other output needs one of its shape.
   */
  backward(this: Tensor, gradient?: Tensor | number | null, options: BackwardOptions = {}): void {
    if (!this.requiresGrad) {
      throw new Error("element 0 of tensors does not require grad and does not have a grad_fn");
    }
    let seed: Tensor;
    if (gradient === undefined || gradient === null) {
      if (this.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
      seed = freshGradient(Tensor.fromArray(allocate(this.dtype, 1).fill(1), this.shape, this.dtype));
    } else {
      seed = typeof gradient === "number" ? Tensor.fromArray(allocate(this.dtype, 1).fill(gradient), [], this.dtype) : gradient;
      if (!sameShape(seed.nd.shape, this.nd.shape)) {
        throw new Error(
          `Mismatch in shape: grad_output[0] has a shape of ${formatSize(seed.shape)} and output[0] has a shape of ${formatSize(this.shape)}.`,
        );
      }
    }
    const { retainGraph, createGraph } = options;
    if (options.inputs === undefined) {
      runBackward([this], [seed], { retainGraph, createGraph });
      return;
    }
    const inputs = options.inputs instanceof Tensor ? [options.inputs] : [...options.inputs];
    if (inputs.length === 0) throw new Error("'inputs' argument to backward() cannot be empty.");
    const grads = runBackward([this], [seed], { retainGraph, createGraph, captureFor: inputs });
    inputs.forEach((t, i) => {
      const g = grads[i];
      if (g !== null) gradSlotOf(t).accumulate(g);
    });
  }

  /** Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs). */
  retainGrad(this: Tensor): Tensor {
    if (!this.requiresGrad) throw new Error("can't retain_grad on Tensor that has requires_grad=False");
    if (this.gradFn) this.gradFn.retainedTensor = this;
    return this;
  }

  /** `fn(grad)` runs when this tensor's gradient is computed; returning a tensor replaces the gradient. */
  registerHook(this: Tensor, fn: GradHook): { remove(): void } {
    if (!this.requiresGrad) {
      throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    }
    const hooks = gradEdge(this).tensorHooks;
    hooks.push(fn);
    return {
      remove: () => {
        const i = hooks.indexOf(fn);
        if (i >= 0) hooks.splice(i, 1);
      },
    };
  }

  // ---- conversions --------------------------------------------------------------------

  /** A contiguous tensor with these values: this one if already contiguous, else a copy. */
  contiguous(this: Tensor): Tensor {
    return shapeOps.contiguous(this);
  }

  clone(this: Tensor): Tensor {
    return shapeOps.clone(this);
  }

  to(this: Tensor, dtype: DType): Tensor {
    return elementwise.toDtype(this, dtype);
  }

  toDtype(this: Tensor, dtype: DType): Tensor {
    return elementwise.toDtype(this, dtype);
  }

  float(this: Tensor): Tensor {
    return elementwise.toDtype(this, "float32");
  }

  double(this: Tensor): Tensor {
    return elementwise.toDtype(this, "float64");
  }

  long(this: Tensor): Tensor {
    return elementwise.toDtype(this, "int64");
  }

  bool(this: Tensor): Tensor {
    return elementwise.toDtype(this, "bool");
  }

  // ---- in place: change this tensor's storage and return it (ops/inplace.ts) -----------

  add_(this: Tensor, other: Operand, alpha?: number): Tensor {
    return inplace.add_(this, other, alpha);
  }
  sub_(this: Tensor, other: Operand, alpha?: number): Tensor {
    return inplace.sub_(this, other, alpha);
  }
  mul_(this: Tensor, other: Operand): Tensor {
    return inplace.mul_(this, other);
  }
  div_(this: Tensor, other: Operand): Tensor {
    return inplace.div_(this, other);
  }
  pow_(this: Tensor, exponent: Operand): Tensor {
    return inplace.pow_(this, exponent);
  }
  neg_(this: Tensor): Tensor {
    return inplace.neg_(this);
  }
  exp_(this: Tensor): Tensor {
    return inplace.exp_(this);
  }
  clamp_(this: Tensor, min?: number | null, max?: number | null): Tensor {
    return inplace.clamp_(this, min, max);
  }
  zero_(this: Tensor): Tensor {
    return inplace.zero_(this);
  }
  fill_(this: Tensor, value: number | boolean): Tensor {
    return inplace.fill_(this, value);
  }
  copy_(this: Tensor, source: Tensor): Tensor {
    return inplace.copy_(this, source);
  }
  uniform_(this: Tensor, low?: number, high?: number): Tensor {
    return inplace.uniform_(this, low, high);
  }
  normal_(this: Tensor, mean?: number, std?: number): Tensor {
    return inplace.normal_(this, mean, std);
  }

  // ---- ops ----------------------------------------------------------------------------

  add(this: Tensor, other: Operand, alpha?: number): Tensor {
    return elementwise.add(this, other, alpha);
  }
  sub(this: Tensor, other: Operand, alpha?: number): Tensor {
    return elementwise.sub(this, other, alpha);
  }
  mul(this: Tensor, other: Operand): Tensor {
    return elementwise.mul(this, other);
  }
  div(this: Tensor, other: Operand): Tensor {
    return elementwise.div(this, other);
  }
  pow(this: Tensor, exponent: Operand): Tensor {
    return elementwise.pow(this, exponent);
  }
  neg(this: Tensor): Tensor {
    return elementwise.neg(this);
  }
  exp(this: Tensor): Tensor {
    return elementwise.exp(this);
  }
  log(this: Tensor): Tensor {
    return elementwise.log(this);
  }
  sqrt(this: Tensor): Tensor {
    return elementwise.sqrt(this);
  }
  abs(this: Tensor): Tensor {
    return elementwise.abs(this);
  }
  clamp(this: Tensor, min?: number | null, max?: number | null): Tensor {
    return elementwise.clamp(this, min, max);
  }
  eq(this: Tensor, other: Operand): Tensor {
    return elementwise.eq(this, other);
  }
  sigmoid(this: Tensor): Tensor {
    return activation.sigmoid(this);
  }
  tanh(this: Tensor): Tensor {
    return activation.tanh(this);
  }
  relu(this: Tensor): Tensor {
    return activation.relu(this);
  }
  softmax(this: Tensor, dim: number): Tensor {
    return activation.softmax(this, dim);
  }
  logSoftmax(this: Tensor, dim: number): Tensor {
    return activation.logSoftmax(this, dim);
  }
  matmul(this: Tensor, other: Tensor): Tensor {
    return linalg.matmul(this, other);
  }
  sum(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
    return reduction.sum(this, dim, keepdim);
  }
  mean(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
    return reduction.mean(this, dim, keepdim);
  }
  max(this: Tensor): Tensor;
  max(this: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(this: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? reduction.max(this) : reduction.max(this, dim, keepdim);
  }
  logsumexp(this: Tensor, dim: number | number[], keepdim = false): Tensor {
    return reduction.logsumexp(this, dim, keepdim);
  }
  argmax(this: Tensor, dim?: number, keepdim = false): Tensor {
    return reduction.argmax(this, dim, keepdim);
  }
  reshape(this: Tensor, ...sizes: Array<number | number[]>): Tensor {
    return shapeOps.reshape(this, sizesArg(sizes));
  }
  view(this: Tensor, ...sizes: Array<number | number[]>): Tensor {
    return shapeOps.view(this, sizesArg(sizes));
  }
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor {
    return shapeOps.flatten(this, startDim, endDim);
  }
  transpose(this: Tensor, dim0: number, dim1: number): Tensor {
    return shapeOps.transpose(this, dim0, dim1);
  }
  t(this: Tensor): Tensor {
    return shapeOps.t(this);
  }
  permute(this: Tensor, ...dims: Array<number | number[]>): Tensor {
    return shapeOps.permute(this, sizesArg(dims));
  }
  unsqueeze(this: Tensor, dim: number): Tensor {
    return shapeOps.unsqueeze(this, dim);
  }
  squeeze(this: Tensor, dim?: number): Tensor {
    return shapeOps.squeeze(this, dim);
  }
  expand(this: Tensor, ...sizes: Array<number | number[]>): Tensor {
    return shapeOps.expand(this, sizesArg(sizes));
  }
  gather(this: Tensor, dim: number, index: Tensor): Tensor {
    return indexing.gather(this, dim, index);
  }
  scatter(this: Tensor, dim: number, index: Tensor, source: Tensor | number | { value: number }): Tensor {
    return indexing.scatter(this, dim, index, source);
  }
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor {
    return indexing.indexSelect(this, dim, index);
  }

  // ---- indexing: index, indexPut_, select, narrow, masks, take (ops/index.ts) -----------

  // ---- joining, comparing, selecting (ops/join.ts, ops/compare.ts, ops/sort.ts) ---------

  // ---- more math: unary functions and reductions (ops/math.ts) -------------------------
}

declare module "./tensor-core" {
  // The methods above, as members of every Tensor.
  interface Tensor extends TensorMethods {}
}

for (const name of Object.getOwnPropertyNames(TensorMethods.prototype)) {
  if (name !== "constructor")
    Object.defineProperty(Tensor.prototype, name, Object.getOwnPropertyDescriptor(TensorMethods.prototype, name)!);
}
