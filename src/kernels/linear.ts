/**
 * The kernels of `linear` (ops/linear.ts): out (N,O) = bias (O,) + x (N,I) @ weight (O,I)^T and
 * its gradients, over row-major arrays. The weight's transpose is never materialised: operands
 * are read through strides; forward and backward visit only the non-zeros of a mostly-zero x
 * (bag-of-words counts).
 *
 * How they sum, at every size: as PyTorch 1.13's CPU addmm/mm (reference BLAS sgemm) does, each
 * element over k in order in the result's type (float32 sums for float32, every product and
 * partial sum rounded), from zero, and the bias added to the finished sum (one more rounding).
 * tools/linear/sums.py measured it against torch on shapes from 1x1x1 to 128x64x96: this rule gave
 * torch's bits for the output and both products of the backward on every shape, while starting
 * from the bias or summing in float64 differed on most elements. That is `gemm`'s rule, so the
 * dense products are `gemm` (wasm or TypeScript, the same bits); the sparse loops only skip
 * zeros of x, which adds nothing to a sum (but a signed zero's sign).
 *
 * The bias's gradient is a sum over the batch, not a product: PyTorch reduces it with its
 * cascaded, vectorised sum, whose order neither an in-order float32 sum nor a float64 sum follows
 * past 16 rows; it is summed here in float64 and rounded once, as torchlet's `sum` does, so that
 * the recorded backward (createGraph, `g.sum(0)`) gives the same bits.
 */
import { type TypedArray, roundIf } from "../dtype";
import { gemm, type Mat } from "./matmul";

/**
 * `data` read as a (rows x cols) matrix: stored row-major, or, with `transposed`, the transpose of
 * a row-major (cols x rows) matrix (the same storage with its strides swapped).
 */
function matrix(data: TypedArray, rows: number, cols: number, transposed = false): Mat {
  return transposed ? { data, off: 0, rs: 1, cs: rows } : { data, off: 0, rs: cols, cs: 1 };
}

/** A reusable row of running sums in `out`'s type (a store into it rounds each sum as `out` would). */
let row32 = new Float32Array(0);
let row64 = new Float64Array(0);

function sumsLike(out: TypedArray, n: number): Float32Array | Float64Array {
  if (out instanceof Float32Array) return row32.length >= n ? row32 : (row32 = new Float32Array(n));
  return row64.length >= n ? row64 : (row64 = new Float64Array(n));
}

/**
 * out (n, outF) = xs (n, inF) @ ws (outF, inF)^T, each element summed over k in out's type, then
 * plus the bias (its own rounding). `bias` has outF values or is null.
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
  // unless w is infinite or NaN, so a weight with such values takes the dense product, as BLAS would.
  const sparse = outF > 1 ? sparseOf(xs, n, inF, ws) : null;
  if (sparse) sparseForward(sparse, ws, n, inF, outF, out);
  else gemm(n, outF, inF, matrix(xs, n, inF), matrix(ws, inF, outF, true), out, 0, outF, 1);
  if (bias) for (let r = 0; r < n; r++) for (let o = 0, p = r * outF; o < outF; o++, p++) out[p] += bias[o];
}

function sparseForward({ rowStart, cols, vals }: Csr, ws: TypedArray, n: number, inF: number, outF: number, out: TypedArray): void {
  // Each product and sum rounded as out's type rounds it (roundIf: inlined, where Math.fround
  // called through a variable stays a call per element).
  const f32 = out instanceof Float32Array;
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outF; o++) {
      const wBase = o * inF;
      let acc = 0;
      for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc = roundIf(f32, acc + roundIf(f32, vals[k] * ws[wBase + cols[k]]));
      out[r * outF + o] = acc;
    }
  }
}

/** out (n, inF) = gs (n, outF) @ ws (outF, inF): the input's gradient. */
export function linearInputGrad(gs: TypedArray, ws: TypedArray, n: number, inF: number, outF: number, out: TypedArray): void {
  gemm(n, inF, outF, matrix(gs, n, outF), matrix(ws, outF, inF), out, 0, inF, 1);
}

/** out (outF, inF) = gs^T (outF, n) @ xs (n, inF): the weight's gradient, visiting only the non-zeros of a mostly-zero x (exact while g is finite). */
export function linearWeightGrad(gs: TypedArray, xs: TypedArray, n: number, inF: number, outF: number, out: TypedArray): void {
  const sparse = outF > 1 ? sparseOf(xs, n, inF, gs) : null;
  if (sparse === null) {
    gemm(outF, inF, n, matrix(gs, outF, n, true), matrix(xs, n, inF), out, 0, inF, 1);
    return;
  }
  const { rowStart, cols, vals } = sparse;
  const f32 = out instanceof Float32Array;
  const acc = sumsLike(out, inF);
  for (let o = 0; o < outF; o++) {
    acc.fill(0, 0, inF);
    for (let r = 0; r < n; r++) {
      const gv = gs[r * outF + o];
      if (gv === 0) continue;
      for (let k = rowStart[r], end = rowStart[r + 1]; k < end; k++) acc[cols[k]] += roundIf(f32, gv * vals[k]);
    }
    for (let i = 0; i < inF; i++) out[o * inF + i] = acc[i];
  }
}

/**
 * The bias's gradient: gs (n, outF) summed over the batch into `out` (outF values), or, with
 * `total`, those sums summed again into out[0] (a bias of one value broadcast over outF outputs).
 */
export function linearBiasGrad(gs: TypedArray, n: number, outF: number, out: TypedArray, total: boolean): void {
  const acc = new Float64Array(outF);
  for (let r = 0; r < n; r++) {
    const base = r * outF;
    for (let o = 0; o < outF; o++) acc[o] += gs[base + o];
  }
  if (!total) {
    out.set(acc); // each double rounded once to out's type
    return;
  }
  let sum = 0;
  for (let o = 0; o < outF; o++) sum += acc[o];
  out[0] = sum;
}

interface Csr {
  rowStart: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/**
 * The non-zeros of a mostly-zero row-major (n, width) matrix x, or null when x is not mostly zero
 * or `other`, the operand its zeros would multiply, holds an infinity or NaN (0 * w is then not 0).
 */
function sparseOf(xs: TypedArray, n: number, width: number, other: TypedArray): Csr | null {
  const nnz = fewNonZeros(xs);
  return nnz >= 0 && allFinite(other) ? csrOf(xs, n, width, nnz) : null;
}

/** The non-zeros of a row-major (n, width) matrix that has `nnz` of them, row by row. */
function csrOf(xs: TypedArray, n: number, width: number, nnz: number): Csr {
  const rowStart = new Int32Array(n + 1);
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

/**
 * How many of `xs` are non-zero when fewer than a quarter are, else -1: the scan stops as soon as
 * the answer is no (a dense x is told after a quarter of it), and its count sizes the CSR arrays.
 */
function fewNonZeros(xs: TypedArray): number {
  const limit = xs.length / 4;
  let nnz = 0;
  for (let k = 0; k < xs.length; k++) if (xs[k] !== 0 && ++nnz >= limit) return -1;
  return nnz;
}

function allFinite(xs: TypedArray): boolean {
  for (let k = 0; k < xs.length; k++) if (!Number.isFinite(xs[k])) return false;
  return true;
}
