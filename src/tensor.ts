import { inspect } from "node:util";
import ndarray, { type NdArray } from "ndarray";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate, isFloating } from "./dtype";
import { contiguousStrides, formatSize, numelOf, sameShape, sizesArg } from "./shape";
import { AccumulateGrad, type GradHook, Node } from "./autograd/node";
import { runBackward } from "./autograd/engine";
import { OneHotRowsGrad, RowSparseGrad, touchedRows, unionRows } from "./autograd/sparse";
import { formatTensor } from "./format";
import * as elementwise from "./ops/elementwise";
import * as activation from "./ops/activation";
import * as reduction from "./ops/reduction";
import * as linalg from "./ops/linalg";
import * as shapeOps from "./ops/shape";
import * as indexing from "./ops/indexing";

export type NestedArray = number | boolean | NestedArray[];
export type Operand = Tensor | number;

/**
 * An n-dimensional view (`ndarray`) over a typed array, plus autograd state: whether it
 * requires a gradient, the accumulated `grad`, and `gradFn`, the node that made it.
 */
export class Tensor {
  private gradValue: Tensor | null = null;
  /**
   * A row-sparse gradient (from an embedding bag) not yet written into a dense table: `.grad`
   * builds the table on first read. Never set together with `gradValue`.
   */
  private pendingRows: RowSparseGrad | null = null;
  private gradFnNode: Node | null = null;
  private requiresGradFlag = false;
  private accumulator: AccumulateGrad | null = null;

  /** `nd` is the storage view; views of one tensor share its typed array. */
  constructor(
    readonly nd: NdArray<TypedArray>,
    readonly dtype: DType,
  ) {}

  /** A tensor over `data` (row-major, not copied) with the given shape. */
  static fromArray(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    if (data.length !== numelOf(shape)) {
      throw new Error(`internal: ${data.length} values for shape [${shape.join(", ")}]`);
    }
    return new Tensor(ndarray(data, [...shape], contiguousStrides(shape), 0), dtype);
  }

  // ---- shape and storage -------------------------------------------------------------

  get shape(): number[] {
    return this.nd.shape.slice();
  }

  get ndim(): number {
    return this.nd.shape.length;
  }

  numel(): number {
    return numelOf(this.nd.shape);
  }

  size(dim?: number): number[] | number {
    return dim === undefined ? this.shape : this.nd.shape[dim < 0 ? dim + this.ndim : dim];
  }

  /** Row-major with no gaps and no offset: the typed array can be read as is. */
  isContiguous(): boolean {
    const { shape, stride } = this.nd;
    let step = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1 && stride[i] !== step) return false;
      step *= shape[i];
    }
    return true;
  }

  /**
   * The values in row-major order. For a contiguous tensor this is its storage itself (a
   * subarray, no copy), so callers must treat it as read-only; otherwise a fresh copy.
   */
  toArray(): TypedArray {
    const n = this.numel();
    if (this.isContiguous()) {
      const { data, offset } = this.nd;
      return offset === 0 && data.length === n ? data : (data.subarray(offset, offset + n) as TypedArray);
    }
    const out = allocate(this.dtype, n);
    if (n > 0) ops.assign(ndarray(out, this.shape.length ? this.shape : [1]), this.ndim ? this.nd : ndarray(this.nd.data, [1], [1], this.nd.offset));
    return out;
  }

  // ---- autograd state -----------------------------------------------------------------

  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  requiresGrad_(flag = true): this {
    if (!this.isLeaf) {
      throw new Error(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
      );
    }
    if (flag && !isFloating(this.dtype)) {
      throw new Error("only Tensors of floating point dtype can require gradients");
    }
    this.requiresGradFlag = flag;
    return this;
  }

  get isLeaf(): boolean {
    return this.gradFnNode === null;
  }

  get gradFn(): Node | null {
    return this.gradFnNode;
  }

  /** @internal Called by `record` when an op output joins the graph. */
  setGradFn(node: Node): void {
    this.gradFnNode = node;
    this.requiresGradFlag = true;
  }

  /** @internal The node that receives this tensor's gradient: its gradFn, or the leaf's accumulator. */
  gradEdge(): Node {
    if (this.gradFnNode) return this.gradFnNode;
    if (!this.requiresGradFlag) {
      throw new Error("One of the differentiated Tensors does not require grad");
    }
    return (this.accumulator ??= new AccumulateGrad(this));
  }

  /**
   * The accumulated gradient (null until a backward reaches this tensor). A pending row-sparse
   * gradient becomes its dense tensor here, once, with its rows listed in `touchedRows`.
   */
  get grad(): Tensor | null {
    if (this.pendingRows !== null) {
      this.gradValue = denseGrad(this.pendingRows);
      this.pendingRows = null;
    }
    return this.gradValue;
  }

  set grad(value: Tensor | null) {
    this.gradValue = value;
    this.pendingRows = null;
  }

  /** @internal Whether `.grad` is non-null, without building a pending row-sparse gradient. */
  hasGrad(): boolean {
    return this.gradValue !== null || this.pendingRows !== null;
  }

  /**
   * @internal The row-sparse gradient `.grad` would build, or null when the gradient is dense or
   * absent. Its rows are the only non-zero ones; the caller must not modify it.
   */
  pendingRowSparseGrad(): RowSparseGrad | null {
    return this.pendingRows;
  }

  /** @internal Zeroes a pending row-sparse gradient: `.grad` then reads as zeros of the full shape. */
  zeroPendingRowSparseGrad(): void {
    const g = this.pendingRows;
    if (g !== null && g.rows.length > 0) this.pendingRows = RowSparseGrad.zeros(g.shape, g.dtype);
  }

  /**
   * @internal Adds `g` into `.grad`, in place when a dense gradient is already there. A row-sparse
   * gradient stays pending (merged with one already pending) until `.grad` is read; added into a
   * dense gradient it touches only its rows, and `touchedRows` keeps track of them. `owned`: no
   * one else holds `g`, so it may become `.grad` without a copy.
   */
  accumulateGrad(g: Tensor | RowSparseGrad, owned = false): void {
    if (!sameShape(g.shape, this.nd.shape)) {
      throw new Error(`internal: gradient of shape ${formatSize([...g.shape])} for a tensor of shape ${formatSize(this.shape)}`);
    }
    if (g instanceof RowSparseGrad && g.dtype === this.dtype && this.gradValue === null) {
      this.pendingRows = this.pendingRows === null ? g : this.pendingRows.plus(g);
      return;
    }
    const current = this.grad;
    if (g instanceof RowSparseGrad) {
      if (current !== null && current.dtype === g.dtype && current.isContiguous() && current.nd.offset === 0) {
        g.addInto(current.nd.data);
        const own = touchedRows.get(current);
        if (own) touchedRows.set(current, unionRows(own, g.rows));
        return;
      }
      g = denseGrad(g).toDtype(this.dtype);
    }
    if (current === null) {
      // A gradient the engine owns (see autograd/node.ts freshGradient) is kept as it is.
      const value = g.toDtype(this.dtype).contiguous();
      this.grad = owned ? value : value.cloneIfShared(g);
      return;
    }
    touchedRows.delete(current); // written densely from here on: its zero rows are no longer known
    if (!current.isContiguous()) {
      this.grad = current.add(g);
    } else if (this.numel() > 0) {
      ops.addeq(asVector(current), asVector(g.toDtype(current.dtype).contiguous()));
    }
  }

  backward(gradient?: Tensor | number, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGradFlag) {
      throw new Error("element 0 of tensors does not require grad and does not have a grad_fn");
    }
    let seed: Tensor;
    if (gradient === undefined || gradient === null) {
      if (this.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
      seed = Tensor.fromArray(allocate(this.dtype, 1).fill(1), this.shape, this.dtype);
    } else {
      seed = typeof gradient === "number" ? Tensor.fromArray(allocate(this.dtype, 1).fill(gradient), [], this.dtype) : gradient;
      if (!sameShape(seed.nd.shape, this.nd.shape)) {
        throw new Error(
          `Mismatch in shape: grad_output[0] has a shape of ${formatSize(seed.shape)} and output[0] has a shape of ${formatSize(this.shape)}.`,
        );
      }
    }
    runBackward([this], [seed], { retainGraph: options.retainGraph });
  }

  /** A new leaf sharing this tensor's storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.nd, this.dtype);
  }

  /** Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs). */
  retainGrad(): this {
    if (!this.requiresGradFlag) throw new Error("can't retain_grad on Tensor that has requires_grad=False");
    if (this.gradFnNode) this.gradFnNode.retainedTensor = this;
    return this;
  }

  /** `fn(grad)` runs when this tensor's gradient is computed; returning a tensor replaces the gradient. */
  registerHook(fn: GradHook): { remove(): void } {
    if (!this.requiresGradFlag) {
      throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    }
    const hooks = this.gradEdge().tensorHooks;
    hooks.push(fn);
    return {
      remove: () => {
        const i = hooks.indexOf(fn);
        if (i >= 0) hooks.splice(i, 1);
      },
    };
  }

  // ---- values -------------------------------------------------------------------------

  item(): number {
    const n = this.numel();
    if (n !== 1) throw new Error(`a Tensor with ${n} elements cannot be converted to Scalar`);
    return this.toArray()[0];
  }

  tolist(): NestedArray {
    const values = this.toArray();
    const read = (i: number): number | boolean => (this.dtype === "bool" ? values[i] !== 0 : values[i]);
    const shape = this.nd.shape;
    const build = (dim: number, start: number): NestedArray => {
      if (dim === shape.length) return read(start);
      const step = numelOf(shape.slice(dim + 1));
      return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  toString(): string {
    return formatTensor(this.toArray(), this.shape, this.dtype, {
      gradFn: this.gradFnNode?.name ?? null,
      requiresGrad: this.requiresGradFlag,
    });
  }

  [inspect.custom](): string {
    return this.toString();
  }

  // ---- conversions --------------------------------------------------------------------

  /** A contiguous tensor with these values: this one if already contiguous, else a copy. */
  contiguous(): Tensor {
    return shapeOps.contiguous(this);
  }

  clone(): Tensor {
    return shapeOps.clone(this);
  }

  to(dtype: DType): Tensor {
    return elementwise.toDtype(this, dtype);
  }

  toDtype(dtype: DType): Tensor {
    return elementwise.toDtype(this, dtype);
  }

  float(): Tensor {
    return this.to("float32");
  }

  double(): Tensor {
    return this.to("float64");
  }

  long(): Tensor {
    return this.to("int64");
  }

  bool(): Tensor {
    return this.to("bool");
  }

  /** @internal A copy unless this tensor is a fresh result distinct from `source`. */
  private cloneIfShared(source: Tensor): Tensor {
    return this === source || this.nd.data === source.nd.data ? shapeOps.clone(this.detach()) : this;
  }

  // ---- ops as methods (each also `torch.NAME`) ----------------------------------------

  add(other: Operand, alpha?: number): Tensor {
    return elementwise.add(this, other, alpha);
  }
  sub(other: Operand, alpha?: number): Tensor {
    return elementwise.sub(this, other, alpha);
  }
  mul(other: Operand): Tensor {
    return elementwise.mul(this, other);
  }
  div(other: Operand): Tensor {
    return elementwise.div(this, other);
  }
  pow(exponent: Operand): Tensor {
    return elementwise.pow(this, exponent);
  }
  neg(): Tensor {
    return elementwise.neg(this);
  }
  exp(): Tensor {
    return elementwise.exp(this);
  }
  log(): Tensor {
    return elementwise.log(this);
  }
  sqrt(): Tensor {
    return elementwise.sqrt(this);
  }
  abs(): Tensor {
    return elementwise.abs(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return elementwise.clamp(this, min, max);
  }
  eq(other: Operand): Tensor {
    return elementwise.eq(this, other);
  }
  sigmoid(): Tensor {
    return activation.sigmoid(this);
  }
  tanh(): Tensor {
    return activation.tanh(this);
  }
  relu(): Tensor {
    return activation.relu(this);
  }
  softmax(dim: number): Tensor {
    return activation.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return activation.logSoftmax(this, dim);
  }
  matmul(other: Tensor): Tensor {
    return linalg.matmul(this, other);
  }
  sum(dim?: number | number[] | null, keepdim = false): Tensor {
    return reduction.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[] | null, keepdim = false): Tensor {
    return reduction.mean(this, dim, keepdim);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? reduction.max(this) : reduction.max(this, dim, keepdim);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return reduction.logsumexp(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return reduction.argmax(this, dim, keepdim);
  }
  reshape(...sizes: Array<number | number[]>): Tensor {
    return shapeOps.reshape(this, sizesArg(sizes));
  }
  view(...sizes: Array<number | number[]>): Tensor {
    return shapeOps.view(this, sizesArg(sizes));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return shapeOps.flatten(this, startDim, endDim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return shapeOps.transpose(this, dim0, dim1);
  }
  t(): Tensor {
    return shapeOps.t(this);
  }
  permute(...dims: Array<number | number[]>): Tensor {
    return shapeOps.permute(this, sizesArg(dims));
  }
  unsqueeze(dim: number): Tensor {
    return shapeOps.unsqueeze(this, dim);
  }
  squeeze(dim?: number): Tensor {
    return shapeOps.squeeze(this, dim);
  }
  expand(...sizes: Array<number | number[]>): Tensor {
    return shapeOps.expand(this, sizesArg(sizes));
  }
  gather(dim: number, index: Tensor): Tensor {
    return indexing.gather(this, dim, index);
  }
  scatter(dim: number, index: Tensor, source: Tensor | number | { value: number }): Tensor {
    return indexing.scatter(this, dim, index, source);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return indexing.indexSelect(this, dim, index);
  }
}

/** The dense tensor a compact gradient stands for (a row-sparse one with its rows recorded in `touchedRows`). */
export function denseGrad(g: Tensor | RowSparseGrad | OneHotRowsGrad): Tensor {
  if (g instanceof OneHotRowsGrad) return Tensor.fromArray(g.denseValues(), g.shape, g.dtype);
  if (!(g instanceof RowSparseGrad)) return g;
  const dense = Tensor.fromArray(g.denseValues(), g.shape, g.dtype);
  touchedRows.set(dense, g.rows);
  return dense;
}

/** A 1-D view over a contiguous tensor's values, for ndarray-ops kernels (which need ndim >= 1). */
export function asVector(t: Tensor): NdArray<TypedArray> {
  return ndarray(t.nd.data, [t.numel()], [1], t.nd.offset);
}
