/**
 * Row-sparse gradients. `embeddingBag`'s backward writes a dense gradient for the weight but
 * records, in `touchedRows`, which rows it wrote: every other row is exactly zero. Keeping that
 * fact attached to a parameter's `.grad` lets the optimizer update, and `zeroGrad` clear, only
 * those rows (identical results, far less work for a large vocabulary).
 *
 * The invariant: `touchedRows.get(t) = rows` means every row of `t` outside `rows` is zero.
 * A gradient keeps its entry only while all writes into it go through here (parameters marked
 * with `markRowSparse`); anything else that writes into a keyed gradient must drop the entry.
 */
import ops from "ndarray-ops";
import { sameShape } from "../shape";
import type { Tensor } from "../tensor";
import { touchedRows } from "./indexing";

export { touchedRows };

const rowSparseParams = new WeakSet<Tensor>();

/** Declares that `param`'s gradient accumulation goes through `accumulateRowSparse`. */
export function markRowSparse(param: Tensor): void {
  rowSparseParams.add(param);
}

export function isRowSparse(param: Tensor): boolean {
  return rowSparseParams.has(param);
}

/** `rows` itself when strictly increasing, else a sorted copy without duplicates. */
export function uniqueSortedRows(rows: Int32Array): Int32Array {
  let sorted = true;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i] <= rows[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return rows;
  const copy = Int32Array.from(rows).sort();
  let n = 0;
  for (let i = 0; i < copy.length; i++) if (i === 0 || copy[i] !== copy[n - 1]) copy[n++] = copy[i];
  return copy.slice(0, n);
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

/** Whether `t`'s typed array is exactly its values, row-major, from index 0. */
export function isDense(t: Tensor): boolean {
  return t.isContiguous() && t.nd.offset === 0 && t.nd.data.length === t.numel();
}

/** The touched rows of `grad` (sorted, unique) when it is a row-sparse gradient of `param`'s shape. */
export function rowsOf(grad: Tensor | null, param: Tensor): Int32Array | null {
  if (grad === null || param.ndim < 1) return null;
  const rows = touchedRows.get(grad);
  if (!rows || !isDense(grad) || !sameShape(grad.nd.shape, param.nd.shape)) return null;
  const unique = uniqueSortedRows(rows);
  if (unique !== rows) touchedRows.set(grad, unique);
  return unique;
}

/**
 * Accumulates `g` into `param.grad` when it can do so touching only `g`'s rows; returns false
 * to leave the work to the ordinary (dense) accumulation.
 * - no gradient yet: a fresh row-sparse `g` is adopted as the gradient, with its rows;
 * - a gradient already there: `g`'s rows are added into it, and the row lists are merged.
 */
export function accumulateRowSparse(param: Tensor, g: Tensor): boolean {
  const current = param.grad;
  const rows = g.dtype === param.dtype ? rowsOf(g, param) : null;
  if (current === null) {
    if (rows === null) return false;
    param.grad = g;
    return true;
  }
  const own = rowsOf(current, param);
  if (rows === null || current.dtype !== g.dtype || !isDense(current)) {
    if (own) touchedRows.delete(current); // about to be written densely: its rows are no longer known
    return false;
  }
  const width = param.numel() / param.nd.shape[0];
  const dst = current.nd.data;
  const src = g.nd.data;
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k] * width;
    for (let j = 0; j < width; j++) dst[base + j] += src[base + j];
  }
  if (own) touchedRows.set(current, unionRows(own, rows));
  return true;
}

/**
 * Zeroes a gradient in place. A row-sparse one is cleared row by row; it stays row-sparse (with
 * no rows) only when its parameter keeps the invariant, otherwise its entry is dropped.
 */
export function zeroGradInPlace(param: Tensor, grad: Tensor): void {
  const rows = rowsOf(grad, param);
  if (rows !== null) {
    const width = grad.numel() / grad.nd.shape[0];
    const data = grad.nd.data;
    for (let k = 0; k < rows.length; k++) data.fill(0, rows[k] * width, (rows[k] + 1) * width);
    if (isRowSparse(param)) touchedRows.set(grad, new Int32Array(0));
    else touchedRows.delete(grad);
    return;
  }
  touchedRows.delete(grad);
  if (grad.isContiguous()) {
    const { data, offset } = grad.nd;
    data.fill(0, offset, offset + grad.numel());
  } else if (grad.ndim > 0) {
    ops.assigns(grad.nd, 0);
  }
}
