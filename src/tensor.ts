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
import * as join from "./ops/join";
import * as compare from "./ops/compare";
import * as sorting from "./ops/sort";
import * as indexOps from "./ops/index";
import * as math from "./ops/math";
import { checkOptions, isOptionsObject, optionKeys } from "./options";
import { operandArg, tensorArg, typeName } from "./arguments";

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
 * A method's arguments are checked where the method is called, because PyTorch counts them after
 * self: `x.mul("a")` names 'other' at position 1 where `torch.mul(x, "a")` says position 2, and
 * `x.gather(0, "a")` names 'index' at position 2. (Where PyTorch lists overloads only because of
 * its named-dimension forms, which torchlet has not, the one remaining form's message is given, as
 * the functions do.) `methodOperand` takes a tensor or a scalar, `methodTensor` only a tensor.
 */
function methodOperand<T>(v: T, fn: string, arg = "other", position = 1): T {
  operandArg(v, fn, arg, position);
  return v;
}

function methodTensor<T>(v: T, fn: string, arg = "other", position = 1): T {
  tensorArg(v, fn, arg, position);
  return v;
}

const BACKWARD_KEYS = optionKeys<BackwardOptions>({ retainGraph: true, createGraph: true, inputs: true });

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
  backward(this: Tensor, gradient?: Tensor | number | null | BackwardOptions, options: BackwardOptions = {}): void {
    // `loss.backward({retainGraph: true})`: in JavaScript the options may come first.
    if (gradient !== null && typeof gradient === "object" && !(gradient instanceof Tensor)) {
      [gradient, options] = [undefined, gradient];
    }
    checkOptions("backward", options, BACKWARD_KEYS);
    if (gradient !== undefined && gradient !== null && typeof gradient !== "number" && !(gradient instanceof Tensor)) {
      throw new TypeError(`gradients can be either Tensors or None, but got ${typeName(gradient)}`);
    }
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
    if (!this.requiresGrad) throw new Error("can't retainGrad on Tensor that has requiresGrad false");
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

  /** `x.to("float64")`, or `x.to({dtype: "float64"})` as PyTorch's keyword. */
  to(this: Tensor, dtype: DType | { dtype: DType }): Tensor {
    if (isOptionsObject(dtype)) checkOptions("to", dtype, ["dtype"]);
    return elementwise.toDtype(this, isOptionsObject(dtype) ? dtype.dtype : dtype);
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
    return inplace.add_(this, methodOperand(other, "add_"), alpha);
  }
  sub_(this: Tensor, other: Operand, alpha?: number): Tensor {
    return inplace.sub_(this, methodOperand(other, "sub_"), alpha);
  }
  mul_(this: Tensor, other: Operand): Tensor {
    return inplace.mul_(this, methodOperand(other, "mul_"));
  }
  div_(this: Tensor, other: Operand, options?: elementwise.DivOptions): Tensor {
    return inplace.div_(this, methodOperand(other, "div_"), options);
  }
  pow_(this: Tensor, exponent: Operand): Tensor {
    return inplace.pow_(this, methodOperand(exponent, "pow_", "exponent"));
  }
  neg_(this: Tensor): Tensor {
    return inplace.neg_(this);
  }
  exp_(this: Tensor): Tensor {
    return inplace.exp_(this);
  }
  clamp_(this: Tensor, min?: number | null | elementwise.ClampOptions, max?: number | null): Tensor {
    return inplace.clamp_(this, min, max);
  }
  zero_(this: Tensor): Tensor {
    return inplace.zero_(this);
  }
  fill_(this: Tensor, value: number | boolean): Tensor {
    return inplace.fill_(this, value);
  }
  copy_(this: Tensor, source: Tensor): Tensor {
    return inplace.copy_(this, methodTensor(source, "copy_"));
  }
  uniform_(this: Tensor, low?: number, high?: number): Tensor {
    return inplace.uniform_(this, low, high);
  }
  normal_(this: Tensor, mean?: number, std?: number): Tensor {
    return inplace.normal_(this, mean, std);
  }

  // ---- ops ----------------------------------------------------------------------------

  add(this: Tensor, other: Operand, alpha?: number): Tensor {
    return elementwise.add(this, methodOperand(other, "add"), alpha);
  }
  sub(this: Tensor, other: Operand, alpha?: number): Tensor {
    return elementwise.sub(this, methodOperand(other, "sub"), alpha);
  }
  mul(this: Tensor, other: Operand): Tensor {
    return elementwise.mul(this, methodOperand(other, "mul"));
  }
  div(this: Tensor, other: Operand, options?: elementwise.DivOptions): Tensor {
    return elementwise.div(this, methodOperand(other, "div"), options);
  }
  pow(this: Tensor, exponent: Operand): Tensor {
    return elementwise.pow(this, methodOperand(exponent, "pow", "exponent"));
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
  clamp(this: Tensor, min?: number | null | elementwise.ClampOptions, max?: number | null): Tensor {
    return elementwise.clamp(this, min, max);
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
    return linalg.matmul(this, methodTensor(other, "matmul"));
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
    return shapeOps.reshape(this, sizesArg(sizes, "reshape", "shape"));
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
    return shapeOps.permute(this, sizesArg(dims, "permute", "dims"));
  }
  unsqueeze(this: Tensor, dim: number): Tensor {
    return shapeOps.unsqueeze(this, dim);
  }
  squeeze(this: Tensor, dim?: number): Tensor {
    return shapeOps.squeeze(this, dim);
  }
  expand(this: Tensor, ...sizes: Array<number | number[]>): Tensor {
    return shapeOps.expand(this, sizesArg(sizes, "expand"));
  }
  gather(this: Tensor, dim: number, index: Tensor): Tensor {
    return indexing.gather(this, dim, methodTensor(index, "gather", "index", 2));
  }
  scatter(this: Tensor, dim: number, index: Tensor, source: Tensor | number | { value: number }): Tensor {
    return indexing.scatter(this, dim, methodTensor(index, "scatter", "index", 2), source);
  }
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor {
    return indexing.indexSelect(this, dim, methodTensor(index, "index_select", "index", 2));
  }

  // ---- indexing: index, indexPut_, select, narrow, masks, take (ops/index.ts) -----------
  /** PyTorch's `x[items]`: numbers, slice strings ("1:3", "::2"), "...", null, int64/bool tensors or number arrays. */
  index(this: Tensor, ...items: indexOps.IndexItem[]): Tensor {
    return indexOps.index(this, ...items);
  }
  /** PyTorch's `x[items] = value`, in place; returns this tensor. */
  indexPut_(this: Tensor, items: readonly indexOps.IndexItem[], value: Tensor | number | boolean): Tensor {
    return inplace.indexPut_(this, items, value);
  }
  select(this: Tensor, dim: number, index: number): Tensor {
    return indexOps.select(this, dim, index);
  }
  narrow(this: Tensor, dim: number, start: number, length: number): Tensor {
    return indexOps.narrow(this, dim, start, length);
  }
  maskedFill(this: Tensor, mask: Tensor, value: Tensor | number | boolean): Tensor {
    return indexOps.maskedFill(this, methodTensor(mask, "masked_fill", "mask"), methodOperand(value, "masked_fill", "value", 2));
  }
  maskedFill_(this: Tensor, mask: Tensor, value: Tensor | number | boolean): Tensor {
    return inplace.maskedFill_(this, methodTensor(mask, "masked_fill_", "mask"), methodOperand(value, "masked_fill_", "value", 2));
  }
  maskedSelect(this: Tensor, mask: Tensor): Tensor {
    return indexOps.maskedSelect(this, methodTensor(mask, "masked_select", "mask"));
  }
  take(this: Tensor, index: Tensor): Tensor {
    return indexOps.take(this, methodTensor(index, "take", "index"));
  }
  indexAdd(this: Tensor, dim: number, index: Tensor, source: Tensor, options?: { alpha?: number }): Tensor {
    const fn = "index_add";
    return indexing.indexAdd(this, dim, methodTensor(index, fn, "index", 2), methodTensor(source, fn, "source", 3), options);
  }

  // ---- joining, comparing, selecting (ops/join.ts, ops/compare.ts, ops/sort.ts) ---------

  split(this: Tensor, sizeOrSizes: number | readonly number[], dim = 0): Tensor[] {
    return join.split(this, sizeOrSizes, dim);
  }
  chunk(this: Tensor, chunks: number, dim = 0): Tensor[] {
    return join.chunk(this, chunks, dim);
  }
  flip(this: Tensor, ...dims: Array<number | readonly number[]>): Tensor {
    return join.flip(this, ...dims);
  }
  repeat(this: Tensor, ...sizes: Array<number | readonly number[]>): Tensor {
    return join.repeat(this, ...sizes);
  }
  /** `torch.where(condition, this, other)`. */
  where(this: Tensor, condition: Tensor, other: compare.Value): Tensor {
    return join.where(methodTensor(condition, "where", "condition"), this, methodOperand(other, "where", "other", 2));
  }
  eq(this: Tensor, other: compare.Value): Tensor {
    return compare.eq(this, other);
  }
  ne(this: Tensor, other: compare.Value): Tensor {
    return compare.ne(this, other);
  }
  gt(this: Tensor, other: compare.Value): Tensor {
    return compare.gt(this, other);
  }
  ge(this: Tensor, other: compare.Value): Tensor {
    return compare.ge(this, other);
  }
  lt(this: Tensor, other: compare.Value): Tensor {
    return compare.lt(this, other);
  }
  le(this: Tensor, other: compare.Value): Tensor {
    return compare.le(this, other);
  }
  logicalNot(this: Tensor): Tensor {
    return compare.logicalNot(this);
  }
  logicalAnd(this: Tensor, other: Tensor): Tensor {
    return compare.logicalAnd(this, methodTensor(other, "logical_and"));
  }
  logicalOr(this: Tensor, other: Tensor): Tensor {
    return compare.logicalOr(this, methodTensor(other, "logical_or"));
  }
  isnan(this: Tensor): Tensor {
    return compare.isnan(this);
  }
  isinf(this: Tensor): Tensor {
    return compare.isinf(this);
  }
  isfinite(this: Tensor): Tensor {
    return compare.isfinite(this);
  }
  maximum(this: Tensor, other: Tensor): Tensor {
    return compare.maximum(this, methodTensor(other, "maximum"));
  }
  minimum(this: Tensor, other: Tensor): Tensor {
    return compare.minimum(this, methodTensor(other, "minimum"));
  }
  any(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    return reduction.any(this, dim, keepdim);
  }
  all(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    return reduction.all(this, dim, keepdim);
  }
  min(this: Tensor): Tensor;
  min(this: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(this: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? reduction.min(this) : reduction.min(this, dim, keepdim);
  }
  argmin(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    return reduction.argmin(this, dim, keepdim);
  }
  topk(this: Tensor, k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    return sorting.topk(this, k, dim, largest, sorted);
  }
  sort(this: Tensor, dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    return sorting.sort(this, dim, descending);
  }
  argsort(this: Tensor, dim = -1, descending = false): Tensor {
    return sorting.argsort(this, dim, descending);
  }

  // ---- more math: unary functions and reductions (ops/math.ts) -------------------------
  sin(this: Tensor): Tensor {
    return math.sin(this);
  }
  cos(this: Tensor): Tensor {
    return math.cos(this);
  }
  tan(this: Tensor): Tensor {
    return math.tan(this);
  }
  log1p(this: Tensor): Tensor {
    return math.log1p(this);
  }
  expm1(this: Tensor): Tensor {
    return math.expm1(this);
  }
  log2(this: Tensor): Tensor {
    return math.log2(this);
  }
  log10(this: Tensor): Tensor {
    return math.log10(this);
  }
  square(this: Tensor): Tensor {
    return math.square(this);
  }
  reciprocal(this: Tensor): Tensor {
    return math.reciprocal(this);
  }
  rsqrt(this: Tensor): Tensor {
    return math.rsqrt(this);
  }
  sign(this: Tensor): Tensor {
    return math.sign(this);
  }
  floor(this: Tensor): Tensor {
    return math.floor(this);
  }
  ceil(this: Tensor): Tensor {
    return math.ceil(this);
  }
  /** Rounds half to even, as PyTorch does. */
  round(this: Tensor): Tensor {
    return math.round(this);
  }
  trunc(this: Tensor): Tensor {
    return math.trunc(this);
  }
  erf(this: Tensor): Tensor {
    return math.erf(this);
  }
  prod(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    return math.prod(this, dim, keepdim);
  }
  /** `std(dim?, unbiased = true, keepdim = false)`, or `std(unbiased)` over every dim. */
  std(this: Tensor, dim?: number | number[] | boolean | null, unbiased = true, keepdim = false): Tensor {
    return math.std(this, dim, unbiased, keepdim);
  }
  /** `var(dim?, unbiased = true, keepdim = false)`, or `var(unbiased)` over every dim. */
  var(this: Tensor, dim?: number | number[] | boolean | null, unbiased = true, keepdim = false): Tensor {
    return math.variance(this, dim, unbiased, keepdim);
  }
  norm(this: Tensor, p: number | "fro" = 2, dim?: number | number[] | null, keepdim = false): Tensor {
    return math.norm(this, p, dim, keepdim);
  }
  cumsum(this: Tensor, dim: number): Tensor {
    return math.cumsum(this, dim);
  }
  cumprod(this: Tensor, dim: number): Tensor {
    return math.cumprod(this, dim);
  }
  amax(this: Tensor, dim: number | number[] = [], keepdim = false): Tensor {
    return math.amax(this, dim, keepdim);
  }
  amin(this: Tensor, dim: number | number[] = [], keepdim = false): Tensor {
    return math.amin(this, dim, keepdim);
  }
}

declare module "./tensor-core" {
  // The methods above, as members of every Tensor.
  interface Tensor extends TensorMethods {}
}

for (const name of Object.getOwnPropertyNames(TensorMethods.prototype)) {
  if (name !== "constructor")
    Object.defineProperty(Tensor.prototype, name, Object.getOwnPropertyDescriptor(TensorMethods.prototype, name)!);
}
