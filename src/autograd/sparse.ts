/**
 * Compact gradients: what a backward may return in place of a dense tensor that is mostly zeros.
 *
 * - `RowSparseGrad`: an embedding lookup touches a few hundred rows of a table that may have
 *   millions, so its backward returns only those rows. A leaf's gradient slot keeps them as rows
 *   (autograd/grad-slot.ts).
 * - `OneHotRowsGrad`: NLL's gradient, one value per row, which cross entropy's log-softmax
 *   backward takes as it is.
 *
 * A node says which compact gradients it takes; the engine gives every other receiver (and any
 * user code: hooks, retainGrad, autograd.grad) the dense tensor, `dense()`.
 */
import { type DType, type TypedArray, allocate } from "../dtype";
import { numelOf } from "../shape";
import { Tensor } from "../tensor-core";

export type CompactGrad = RowSparseGrad | OneHotRowsGrad;
export type CompactKind = CompactGrad["kind"];

export function isCompact(g: unknown): g is CompactGrad {
  return g instanceof RowSparseGrad || g instanceof OneHotRowsGrad;
}

/**
 * NLL's gradient over (N, C) log-probabilities (or (N, C, 1, ...)) has at most one non-zero per row: row s is zero
 * except column `cols[s]`, which holds `values[s]` (already rounded to `dtype`; `cols[s] < 0`: the
 * whole row is zero). NLL's backward returns this instead of N * C mostly-zero values; the
 * engine passes it as it is to a log-softmax backward (the cross entropy pair) and the dense
 * tensor to anything else (a hook, a retained gradient, autograd.grad, any other op).
 */
export class OneHotRowsGrad {
  readonly kind = "oneHotRows";

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly cols: Int32Array,
    readonly values: Float64Array,
  ) {}

  /** The dense tensor this stands for. */
  dense(): Tensor {
    return Tensor.fromArray(this.denseValues(), this.shape, this.dtype);
  }

  /** The dense values: zeros except one value per row. */
  denseValues(): TypedArray {
    const out = allocate(this.dtype, numelOf(this.shape));
    const width = out.length / Math.max(this.cols.length, 1); // classes per row (trailing dims of size 1 included)
    this.cols.forEach((c, s) => {
      if (c >= 0) out[s * width + c] = this.values[s];
    });
    return out;
  }
}

export class RowSparseGrad {
  readonly kind = "rowSparse";

  /**
   * `rows` are unique, in any order; `values` holds one row of `width` values per entry of `rows`,
   * in the same order. `shape` is the dense gradient's shape (rows first). The values are sums
   * started from +0, so never -0: they are exactly the dense gradient's values in those rows
   * (0 + v == v), which lets the optimizer read them in place of the dense table.
   */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly rows: Int32Array,
    readonly values: TypedArray,
  ) {}

  /** The all-zero gradient of this shape: no rows. */
  static zeros(shape: readonly number[], dtype: DType): RowSparseGrad {
    return new RowSparseGrad(shape, dtype, new Int32Array(0), allocate(dtype, 0));
  }

  /**
   * this + other (same shape and dtype) as a new gradient: the union of the rows (this one's
   * first), each sum rounded to the dtype, exactly as adding both into a dense table in turn.
   */
  plus(other: RowSparseGrad): RowSparseGrad {
    if (this.rows.length === 0) return other;
    if (other.rows.length === 0) return this;
    const width = this.width;
    const rows = unionRows(this.rows, other.rows);
    const values = allocate(this.dtype, rows.length * width);
    values.set(this.values);
    const slot = new Map<number, number>();
    rows.forEach((r, k) => slot.set(r, k));
    addRowsAt(other.rows, other.values as Float32Array, width, slot, values as Float32Array);
    return new RowSparseGrad(this.shape, this.dtype, rows, values);
  }

  get width(): number {
    return this.rows.length === 0 ? 0 : this.values.length / this.rows.length;
  }

  /** Adds the rows into a dense, contiguous array of the full shape that starts at `offset`. */
  addInto(dense: TypedArray, offset = 0): void {
    addRows(this.rows, this.values as Float32Array, this.width, dense as Float32Array, offset);
  }

  /** The dense tensor this stands for. */
  dense(): Tensor {
    return Tensor.fromArray(this.denseValues(), this.shape, this.dtype);
  }

  /** The dense values: zeros except the touched rows. */
  denseValues(): TypedArray {
    const out = allocate(this.dtype, numelOf(this.shape));
    this.addInto(out);
    return out;
  }
}

/**
 * dense[rows[k]] += values[k] for each compact row. A plain function over locals (not a method
 * reading `this.rows`/`this.values` in the loop) so that V8 keeps the arrays in registers.
 */
function addRows(rows: Int32Array, values: Float32Array, width: number, dense: Float32Array, offset: number): void {
  for (let k = 0, from = 0; k < rows.length; k++, from += width) {
    const base = offset + rows[k] * width;
    for (let j = 0; j < width; j++) dense[base + j] += values[from + j];
  }
}

/** out[slot(rows[k])] += values[k] for each compact row (the store rounds to out's dtype). */
function addRowsAt(rows: Int32Array, values: Float32Array, width: number, slot: Map<number, number>, out: Float32Array): void {
  for (let k = 0, from = 0; k < rows.length; k++, from += width) {
    const base = slot.get(rows[k])! * width;
    for (let j = 0; j < width; j++) out[base + j] += values[from + j];
  }
}

/** The union of two duplicate-free row lists (in any order). */
export function unionRows(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const seen = new Set(a);
  const extra = b.filter((r) => !seen.has(r));
  const out = new Int32Array(a.length + extra.length);
  out.set(a);
  out.set(extra, a.length);
  return out;
}
