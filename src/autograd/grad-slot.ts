/**
 * A tensor's gradient: what `.grad` reads, what backward accumulates into, what the optimizers
 * step from and what `zeroGrad` clears. Nothing outside this file knows how it is stored:
 *
 * - as rows: row-sparse gradients (embedding lookups) stay compact, summed with later ones,
 *   until someone asks for the dense tensor, so a training step (backward, update, zeroGrad)
 *   touches only the rows a batch used;
 * - as a dense tensor, with, while no one but this slot has written into it, the rows outside
 *   of which it is zero (so that `zero()` and `forEachRow` visit only those).
 *
 * Once the dense tensor is handed out (`dense()`, which `.grad` calls), user code may hold it and
 * write into it, so the slot stops assuming anything about where it is zero.
 */
import type { NdArray } from "ndarray";
import { ndview } from "../ndview";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate } from "../dtype";
import { formatSize, numelOf, sameShape } from "../shape";
import { Tensor } from "../tensor-core";
import { type CompactGrad, RowSparseGrad, unionRows } from "./sparse";

/**
 * `fn(at, values, from, length)`: gradient[at + j] is values[from + j] for j < length, in the
 * flattened (row-major) gradient; each stretch is a whole number of rows.
 */
export type RowVisitor = (at: number, values: TypedArray, from: number, length: number) => void;

export class GradSlot {
  /** Row-sparse gradient not yet made dense (then `value` is null). */
  private rows: RowSparseGrad | null = null;
  private value: Tensor | null = null;
  /** For `value`: the rows outside of which it is zero, or null when any row may be non-zero. */
  private nonZeroRows: Int32Array | null = null;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}

  isEmpty(): boolean {
    return this.value === null && this.rows === null;
  }

  /**
   * Adds `grad` (of this slot's shape) to the gradient, in place when there is one. `owned`: no
   * one else holds `grad` (autograd/ownership.ts), so it may become the gradient without a copy.
   */
  accumulate(grad: Tensor | CompactGrad, owned = false): void {
    if (!sameShape(grad.shape, this.shape)) {
      throw new Error(`internal: gradient of shape ${formatSize([...grad.shape])} for a tensor of shape ${formatSize([...this.shape])}`);
    }
    if (grad instanceof RowSparseGrad && grad.dtype === this.dtype) {
      this.addRows(grad);
      return;
    }
    const g = grad instanceof Tensor ? grad : grad.dense();
    if (this.isEmpty()) {
      const keep = (owned || g !== grad) && g.dtype === this.dtype && g.isContiguous();
      this.value = keep ? g : copyAs(g, this.dtype);
      this.nonZeroRows = null;
      return;
    }
    const value = this.materialize();
    addInPlace(value, g.dtype === this.dtype ? g : copyAs(g, this.dtype));
    value.bumpVersion();
    this.nonZeroRows = null;
  }

  /** The dense gradient (null when there is none). The caller may keep and change it. */
  dense(): Tensor | null {
    const value = this.value === null && this.rows === null ? null : this.materialize();
    this.nonZeroRows = null;
    return value;
  }

  /** `t.grad = value`: the tensor itself becomes the gradient, as in PyTorch. */
  set(value: Tensor | null): void {
    if (value !== null) {
      if (!(value instanceof Tensor))
        throw new TypeError(`assigned grad expected to be a Tensor or None but got grad of type ${typeof value}`);
      if (value.dtype !== this.dtype) throw new Error("assigned grad has data of a different type");
      if (!sameShape(value.shape, this.shape)) throw new Error("assigned grad has data of a different size");
    }
    this.rows = null;
    this.value = value;
    this.nonZeroRows = null;
  }

  /**
   * Visits the parts of the flattened gradient that may be non-zero (see `RowVisitor`): each
   * touched row of a row-sparse gradient, or all of a dense one whose zeros are unknown. The
   * values may be the slot's own storage: read them, do not keep them.
   */
  forEachRow(fn: RowVisitor): void {
    const width = this.rowWidth();
    if (this.value === null) {
      const rows = this.rows;
      if (rows !== null) for (let k = 0; k < rows.rows.length; k++) fn(rows.rows[k] * width, rows.values, k * width, width);
      return;
    }
    const values = this.value.toArray();
    const known = this.nonZeroRows;
    if (known === null) fn(0, values, 0, values.length);
    else for (let k = 0; k < known.length; k++) fn(known[k] * width, values, known[k] * width, width);
  }

  /** `zeroGrad({setToNone: false})`: zeros in place, the same tensor staying the gradient (PyTorch's `zero_()`). */
  zero(): void {
    if (this.rows !== null) {
      this.rows = RowSparseGrad.zeros(this.shape, this.dtype);
      return;
    }
    const value = this.value;
    if (value === null) return;
    // PyTorch detaches a gradient that has a history before zeroing it.
    if (value.gradFn !== null) this.value = value.detach();
    const known = this.nonZeroRows;
    if (known !== null && value.isContiguous()) {
      zeroRows(value.nd.data as Float32Array, value.nd.offset, known, this.rowWidth());
      this.nonZeroRows = new Int32Array(0);
    } else if (value.isContiguous()) {
      value.nd.data.fill(0, value.nd.offset, value.nd.offset + value.numel());
    } else {
      ops.assigns(value.nd, 0);
    }
    value.bumpVersion();
  }

  /** `zeroGrad()` (set to none): no gradient at all. */
  clear(): void {
    this.set(null);
  }

  /** The dense tensor, built from pending rows if need be, keeping what is known of its zeros. */
  private materialize(): Tensor {
    if (this.rows !== null) {
      this.value = this.rows.dense();
      this.nonZeroRows = this.rows.rows;
      this.rows = null;
    }
    return this.value!;
  }

  private addRows(grad: RowSparseGrad): void {
    const value = this.value;
    if (value === null) {
      this.rows = this.rows === null ? grad : this.rows.plus(grad);
    } else if (value.isContiguous()) {
      grad.addInto(value.nd.data, value.nd.offset);
      if (this.nonZeroRows !== null) this.nonZeroRows = unionRows(this.nonZeroRows, grad.rows);
      value.bumpVersion();
    } else {
      addInPlace(value, grad.dense());
      value.bumpVersion();
    }
  }

  /** Elements per row (the first dimension's), one for a 0-d tensor. */
  private rowWidth(): number {
    return this.shape.length === 0 ? 1 : numelOf(this.shape.slice(1));
  }
}

/** The slot of `t`, created on first use. */
export function gradSlotOf(t: Tensor): GradSlot {
  return (t.gradSlot ??= new GradSlot(t.shape, t.dtype));
}

/** `zeroGrad` for one tensor, as Module and Optimizer do it: drop the gradient, or zero it in place. */
export function zeroGradOf(t: Tensor, setToNone: boolean): void {
  if (setToNone) t.gradSlot?.clear();
  else t.gradSlot?.zero();
}

/** A contiguous copy of `t` in `dtype` (the store rounds each value, as a cast does). */
function copyAs(t: Tensor, dtype: DType): Tensor {
  const values = allocate(dtype, t.numel());
  values.set(t.toArray());
  return Tensor.fromArray(values, t.shape, dtype);
}

/** target += g elementwise (same shape and dtype), through strides when either is not contiguous. */
function addInPlace(target: Tensor, g: Tensor): void {
  if (target.numel() === 0) return;
  // Contiguous operands go as flat vectors: one simple loop instead of one per dimension.
  const flat = target.isContiguous() && g.isContiguous();
  ops.addeq(flat ? asVector(target) : target.nd, flat ? asVector(g) : g.nd);
}

/** A 1-D view over a contiguous tensor's values (also a 0-d one, which ndarray-ops cannot take). */
function asVector(t: Tensor): NdArray<TypedArray> {
  return ndview(t.nd.data, [t.numel()], [1], t.nd.offset);
}

/** data[offset + row * width ..] = 0 for each row: a loop over locals (a fill() per short row costs more). */
function zeroRows(data: Float32Array, offset: number, rows: Int32Array, width: number): void {
  for (let k = 0; k < rows.length; k++) {
    const base = offset + rows[k] * width;
    for (let j = base; j < base + width; j++) data[j] = 0;
  }
}
