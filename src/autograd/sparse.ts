/**
 * Row-sparse gradients. An embedding lookup touches a few hundred rows of a table that may have
 * millions, so its backward hands the engine only those rows (`RowSparseGrad`) instead of a
 * dense table of zeros. A leaf adds the rows into its `.grad` in place; anything else that
 * receives one (a hook, autograd.grad, a non-leaf weight) gets the dense equivalent.
 *
 * `touchedRows` records, for a dense gradient, the rows outside of which it is exactly zero;
 * the optimizer and `zeroGrad` use it to visit only those rows. Whoever writes into a gradient
 * densely must drop its entry.
 */
import { type DType, type TypedArray, allocate } from "../dtype";
import type { Tensor } from "../tensor";

export const touchedRows: WeakMap<Tensor, Int32Array> = new WeakMap();

export class RowSparseGrad {
  /**
   * `rows` are unique and sorted; `values` holds one row of `width` values per entry of `rows`,
   * in the same order. `shape` is the dense gradient's shape (rows first).
   */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly rows: Int32Array,
    readonly values: TypedArray,
  ) {}

  get width(): number {
    return this.rows.length === 0 ? 0 : this.values.length / this.rows.length;
  }

  /** Adds the rows into a dense, contiguous, zero-offset array of the full shape. */
  addInto(dense: TypedArray): void {
    const width = this.width;
    for (let k = 0; k < this.rows.length; k++) {
      const base = this.rows[k] * width;
      const from = k * width;
      for (let j = 0; j < width; j++) dense[base + j] += this.values[from + j];
    }
  }

  /** The dense values: zeros except the touched rows. */
  denseValues(): TypedArray {
    let n = 1;
    for (const s of this.shape) n *= s;
    const out = allocate(this.dtype, n);
    this.addInto(out);
    return out;
  }
}

/** The sorted union of two sorted duplicate-free row lists. */
export function unionRows(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out[n++] = a[i++];
    else if (i >= a.length || b[j] < a[i]) out[n++] = b[j++];
    else {
      out[n++] = a[i++];
      j++;
    }
  }
  return n === out.length ? out : out.slice(0, n);
}
