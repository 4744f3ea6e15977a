/**
 * The kernels of `linear` (ops/linear.ts): out (N,O) = bias (O,) + x (N,I) @ weight (O,I)^T and
 * its gradients, over row-major arrays. The weight's transpose is never materialised: the forward
 * is a dot product of contiguous rows of x and weight; forward and backward visit only the
 * non-zeros of a mostly-zero x (bag-of-words counts).
 *
 * Dense float32 work of at least `wasmThreshold()` multiply-adds runs on the WebAssembly product
 * (`gemmOnWasm`, summed in float32 along k, as `gemm` sums); otherwise these TypeScript loops,
 * which sum in float64 along k. They are not `gemm`: the bias is added to the sum before its one
 * rounding and zeros of x are skipped.
 */
import type { TypedArray } from "../dtype";
import { gemmOnWasm, type Mat } from "./matmul";
import { wasmForProduct } from "./wasm";

/** Whether a dense product of `madds` multiply-adds over these float32 arrays runs on the wasm kernel. */
function onWasm(madds: number, a: TypedArray, b: TypedArray, c: TypedArray): boolean {
  return madds > 0 && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array && wasmForProduct(madds);
}

/**
 * `data` read as a (rows x cols) matrix: stored row-major, or, with `transposed`, the transpose of
 * a row-major (cols x rows) matrix (the same storage with its strides swapped).
 */
function matrix(data: TypedArray, rows: number, cols: number, transposed = false): Mat {
  return transposed ? { data, off: 0, rs: 1, cs: rows } : { data, off: 0, rs: cols, cs: 1 };
}

/**
 * Double-precision running sums, reused from call to call: a small model's step runs these
 * kernels a dozen times, and a fresh typed array of a few kilobytes costs an allocation and a
 * garbage-collector visit each time. Kernels run one at a time and never hand it out. Larger
 * needs get an array of their own, so that one big product does not pin its sums in memory.
 */
const SHARED_SUMS = 1 << 16;
let sums = new Float64Array(0);

/** Room for `n` double sums: the shared array (grown as needed, its contents not cleared), or for more than SHARED_SUMS a new one. */
function sumsFor(n: number): Float64Array {
  if (n > SHARED_SUMS) return new Float64Array(n);
  if (sums.length < n) sums = new Float64Array(Math.min(SHARED_SUMS, Math.max(n, 2 * sums.length)));
  return sums;
}

/**
 * out (n, outF) = bias + xs (n, inF) @ ws (outF, inF)^T, each sum in float64 with the bias added
 * before it is stored (rounded once in float32). `bias` has outF values or is null.
 */
export function linearForward(
  xs: TypedArray,
  ws: TypedArray,
  bias: TypedArray | null,
  n: number,
  inF: number,
  outF: number,
  out: TypedArray,
): void {
  // Mostly-zero inputs (bag-of-words counts) visit only their non-zeros. Skipping 0 * w is exact
  // unless w is infinite or NaN, so a weight with such values takes the dense loop, as BLAS would.
  const sparse = outF > 1 && mostlyZero(xs) && allFinite(ws) ? csrOf(xs, n, inF) : null;
  if (sparse === null && onWasm(n * inF * outF, xs, ws, out)) {
    // x @ weight^T on the wasm kernel, summed in doubles: stored into `out` as they are (one
    // rounding), or with the bias added first.
    const acc = bias ? sumsFor(n * outF) : out;
    if (gemmOnWasm(n, outF, inF, matrix(xs, n, inF), matrix(ws, inF, outF, true), acc, 0, outF, 1)) {
      if (bias) for (let r = 0; r < n; r++) for (let o = 0, p = r * outF; o < outF; o++, p++) out[p] = bias[o] + acc[p];
      return;
    }
  }
  for (let r = 0; r < n; r++) {
    const xBase = r * inF;
    for (let o = 0; o < outF; o++) {
      const wBase = o * inF;
      let acc = 0;
      if (sparse) {
        const { rowStart, cols, vals } = sparse;
        for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc += vals[k] * ws[wBase + cols[k]];
      } else {
        for (let i = 0; i < inF; i++) acc += xs[xBase + i] * ws[wBase + i];
      }
      out[r * outF + o] = bias ? bias[o] + acc : acc;
    }
  }
}

/** out (n, inF) = gs (n, outF) @ ws (outF, inF): the input's gradient. */
export function linearInputGrad(gs: TypedArray, ws: TypedArray, n: number, inF: number, outF: number, out: TypedArray): void {
  if (onWasm(n * inF * outF, gs, ws, out) && gemmOnWasm(n, inF, outF, matrix(gs, n, outF), matrix(ws, outF, inF), out, 0, inF, 1)) return;
  const acc = sumsFor(inF);
  const skipZeros = allFinite(ws);
  for (let r = 0; r < n; r++) {
    clear(acc, inF);
    for (let o = 0; o < outF; o++) {
      const gv = gs[r * outF + o];
      if (gv === 0 && skipZeros) continue;
      const wBase = o * inF;
      for (let i = 0; i < inF; i++) acc[i] += gv * ws[wBase + i];
    }
    storeRow(acc, inF, out, r * inF);
  }
}

/** out (outF, inF) = gs^T (outF, n) @ xs (n, inF): the weight's gradient, visiting only the non-zeros of x (exact while g is finite). */
export function linearWeightGrad(gs: TypedArray, xs: TypedArray, n: number, inF: number, outF: number, out: TypedArray): void {
  if (
    onWasm(n * inF * outF, gs, xs, out) &&
    !mostlyZero(xs) &&
    gemmOnWasm(outF, inF, n, matrix(gs, outF, n, true), matrix(xs, n, inF), out, 0, inF, 1)
  ) {
    // A dense x: g^T @ x ran on the wasm kernel (g read through transposed strides).
    return;
  }
  const acc = sumsFor(inF);
  // Only a mostly-zero x feeding several outputs is worth listing its non-zeros (exact while g is finite).
  const sparse = outF > 1 && mostlyZero(xs) && allFinite(gs) ? csrOf(xs, n, inF) : null;
  for (let o = 0; o < outF; o++) {
    clear(acc, inF);
    for (let r = 0; r < n; r++) {
      const gv = gs[r * outF + o];
      if (sparse) {
        if (gv === 0) continue;
        const { rowStart, cols, vals } = sparse;
        for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc[cols[k]] += gv * vals[k];
      } else {
        const base = r * inF;
        for (let i = 0; i < inF; i++) acc[i] += gv * xs[base + i];
      }
    }
    storeRow(acc, inF, out, o * inF);
  }
}

/**
 * The bias's gradient: gs (n, outF) summed over the batch into `out` (outF values), or, with
 * `total`, those sums summed again into out[0] (a bias of one value broadcast over outF outputs).
 */
export function linearBiasGrad(gs: TypedArray, n: number, outF: number, out: TypedArray, total: boolean): void {
  const acc = sumsFor(outF).fill(0, 0, outF);
  for (let r = 0; r < n; r++) {
    const base = r * outF;
    for (let o = 0; o < outF; o++) acc[o] += gs[base + o];
  }
  if (!total) {
    storeRow(acc, outF, out, 0);
    return;
  }
  let sum = 0;
  for (let o = 0; o < outF; o++) sum += acc[o];
  out[0] = sum;
}

/** acc[0..length) = 0: a loop, as a fill() call costs more than a short row's products. */
function clear(acc: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) acc[i] = 0;
}

/** out[at + i] = acc[i] for i < length, each double rounded once to out's type. */
function storeRow(acc: Float64Array, length: number, out: TypedArray, at: number): void {
  for (let i = 0; i < length; i++) out[at + i] = acc[i];
}

interface Csr {
  rowStart: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** The non-zeros of a row-major (n, width) matrix, row by row. */
function csrOf(xs: TypedArray, n: number, width: number): Csr {
  const rowStart = new Int32Array(n + 1);
  const nnz = nonZeroCount(xs);
  const cols = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let at = 0;
  for (let r = 0; r < n; r++) {
    rowStart[r] = at;
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const v = xs[base + i];
      if (v !== 0) {
        cols[at] = i;
        vals[at++] = v;
      }
    }
  }
  rowStart[n] = at;
  return { rowStart, cols, vals };
}

/** Whether fewer than a quarter of `xs` are non-zero: the scan stops as soon as the answer is no (a dense x is told after a quarter of it). */
function mostlyZero(xs: TypedArray): boolean {
  const limit = xs.length / 4;
  let nnz = 0;
  for (let k = 0; k < xs.length; k++) if (xs[k] !== 0 && ++nnz >= limit) return false;
  return true;
}

function nonZeroCount(xs: TypedArray): number {
  let nnz = 0;
  for (let k = 0; k < xs.length; k++) if (xs[k] !== 0) nnz++;
  return nnz;
}

function allFinite(xs: TypedArray): boolean {
  for (let k = 0; k < xs.length; k++) if (!Number.isFinite(xs[k])) return false;
  return true;
}
