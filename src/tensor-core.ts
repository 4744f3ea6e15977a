/**
 * The core `Tensor`: storage, shape, dtype and autograd state, and nothing that computes. It
 * imports no op and no part of the engine, so every op can build on it without an import cycle;
 * the methods (`add`, `sum`, `backward`, `grad`, ...) are attached in one place, `tensor.ts`
 * (tinygrad's arrangement), which is the module the rest of the library and its users import.
 */
import type { NdArray } from "ndarray";
import ops from "ndarray-ops";
import { type DType, type IndexArray, type TypedArray, allocate, isFloating } from "./dtype";
import { contiguousStrides, numelOf } from "./shape";
import { formatTensor } from "./format";
import { ndview } from "./ndview";
import type { AccumulateGrad, Node } from "./autograd/node";
import type { GradSlot } from "./autograd/grad-slot";

export type NestedArray = number | boolean | NestedArray[];

/** How many times a storage has been changed in place: shared by a tensor, its views and `detach()`. */
class VersionCounter {
  value = 0;
}

/**
 * An n-dimensional view (`ndarray`) over a typed array, plus autograd state: whether it
 * requires a gradient, its gradient slot (what `.grad` reads), and `gradFn`, the node that made it.
 */
export class Tensor {
  private requiresGradFlag = false;
  private gradFnNode: Node | null = null;
  /** @internal The sink that receives this leaf's gradient (autograd/node.ts `gradEdge`). */
  accumulator: AccumulateGrad | null = null;
  /** @internal Where `.grad` lives (autograd/grad-slot.ts); null until a gradient arrives or is set. */
  gradSlot: GradSlot | null = null;
  /** Created when first shared or raised: most tensors are never viewed or changed in place. */
  private versionCounter: VersionCounter | null = null;
  /** @internal For a view: the tensor whose storage it views (never itself a view), else null. */
  base: Tensor | null = null;
  /** @internal The backward run that allocated this gradient and alone holds it (autograd/ownership.ts), or 0. */
  ownedByRun = 0;

  /** `nd` is the storage view; views of one tensor share its typed array. */
  constructor(
    readonly nd: NdArray<TypedArray>,
    readonly dtype: DType,
  ) {}

  /**
   * A tensor over `data` (row-major, not copied) with the given shape. int64 storage is a
   * Float64Array of integers: other arrays given for int64 (an Int32Array of indices) are copied
   * into one.
   */
  static fromArray(data: IndexArray, shape: readonly number[], dtype: DType): Tensor {
    if (data.length !== numelOf(shape)) {
      throw new Error(`internal: ${data.length} values for shape [${shape.join(", ")}]`);
    }
    const storage = dtype === "int64" && !(data instanceof Float64Array) ? Float64Array.from(data) : (data as TypedArray);
    return new Tensor(ndview(storage, shape, contiguousStrides(shape), 0), dtype);
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

  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    return dim === undefined ? this.shape : this.nd.shape[dim < 0 ? dim + this.ndim : dim];
  }

  /** Row-major with no gaps: the typed array can be read as is from the view's offset. */
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
    if (n > 0) {
      const source = this.ndim ? this.nd : ndview(this.nd.data, [1], [1], this.nd.offset);
      ops.assign(this.ndim ? ndview(out, this.nd.shape, contiguousStrides(this.nd.shape)) : ndview(out, [1], [1]), source);
    }
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
        "you can only change requiresGrad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
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

  /** A new leaf sharing this tensor's storage (and its version counter), cut from the graph. */
  detach(): Tensor {
    const out = new Tensor(this.nd, this.dtype);
    out.versionCounter = this.sharedVersionCounter();
    return out;
  }

  /**
   * A tensor sharing this one's storage without sharing its history or its version counter:
   * changes through it are invisible to autograd's checks (PyTorch's `x.data`).
   */
  get data(): Tensor {
    return new Tensor(this.nd, this.dtype);
  }

  // ---- views and versions -------------------------------------------------------------

  /** How many in-place changes this tensor's storage has seen (PyTorch's `x._version`). */
  get version(): number {
    return this.versionCounter?.value ?? 0;
  }

  /** @internal A view over this tensor's storage described by `nd`: same version counter, same base. */
  viewOf(nd: NdArray<TypedArray>): Tensor {
    const view = new Tensor(nd, this.dtype);
    view.versionCounter = this.sharedVersionCounter();
    view.base = this.base ?? this;
    return view;
  }

  /** @internal Records an in-place change of the storage (every view sees the new version). */
  bumpVersion(): void {
    this.sharedVersionCounter().value++;
  }

  private sharedVersionCounter(): VersionCounter {
    return (this.versionCounter ??= new VersionCounter());
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
}

// What Node's console.log and util.inspect print, found through the registered symbol so that the
// core imports nothing from Node (a browser bundle has no node:util).
Object.defineProperty(Tensor.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value(this: Tensor): string {
    return this.toString();
  },
});
