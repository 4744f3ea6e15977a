/**
 * The matrix product over strided operands, `gemm`: the one kernel behind every product of
 * ops/linalg.ts, forward and backward. It reads its operands through strides, so a transposed
 * operand is the same storage with its two strides swapped, and `g @ B^T` or `A^T @ g` never
 * build a transposed copy by hand.
 *
 * How it sums: each element of C is the sum over k, in order, in the result's type. A float32
 * product sums in float32, as PyTorch's CPU sgemm does (BLAS accumulates float32 products in
 * float32 registers): every product and every partial sum is rounded to float32 (no fused
 * multiply-add). A float64 product sums in float64. No implementation splits k into partial
 * sums, so the order depends on nothing but k: every path below gives the same bits, and a
 * range of rows (or columns) computes exactly what the full product computes there.
 *
 * The implementations, chosen inside `gemm`:
 * - WebAssembly SIMD (assembly/matmul.as.ts: `sgemm` in f32x4 lanes, `dgemm` in f64x2) for
 *   products of at least `wasmThreshold()` multiply-adds with more than one row and column, when
 *   the module loads: the operands are copied into its memory and the result out (`gemmOnWasm`).
 * - TypeScript for float32 (`gemmFloat32`): plain loops with Math.fround after each multiply and
 *   add, which reproduce the float32 lanes exactly.
 * - TypeScript for float64: it packs each block of A and B once into contiguous Float64 panels
 *   (that is where a strided operand is materialised, once per block), then runs a 4x4
 *   register-blocked micro-kernel over the panels: sixteen accumulators held in locals, started
 *   from C's running sums, four loads of B and four of A per step of k. Blocks are sized for the
 *   caches (KC x NC of B, MC x KC of A). Thin products (one row or one column) take a
 *   matrix-vector path, small ones a plain triple loop.
 */
import type { TypedArray } from "../dtype";
import { kernelModule, reserve, wasmAvailable, wasmForProduct } from "./wasm";

/** A strided matrix: element (i, j) is `data[off + i * rs + j * cs]`. */
export interface Mat {
  data: TypedArray;
  off: number;
  rs: number;
  cs: number;
}

/** The same storage read as its transpose. */
export function transposed(m: Mat): Mat {
  return { data: m.data, off: m.off, rs: m.cs, cs: m.rs };
}

/**
 * C = A (M x K) @ B (K x N), written to `out[oOff + i * ors + j * ocs]` in `out`'s type. Each
 * element is summed over k in order in `out`'s type (float32 sums for a Float32Array), whichever
 * implementation runs, so rows computed apart equal the same rows computed together.
 */
export function gemm(M: number, N: number, K: number, A: Mat, B: Mat, out: TypedArray, oOff: number, ors: number, ocs: number): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[oOff + i * ors + j * ocs] = 0;
    return;
  }
  // Products of some size with more than one row and column run on the WebAssembly SIMD kernel.
  const onWasm = M > 1 && N > 1 && wasmForProduct(M * N * K);
  if (out instanceof Float32Array) {
    if (!(onWasm && A.data instanceof Float32Array && gemmOnWasm(M, N, K, A, B, out, oOff, ors, ocs)))
      gemmFloat32(M, N, K, A, B, out, oOff, ors, ocs);
    return;
  }
  if (N === 1) {
    gemv(M, K, A, B.data, B.off, B.rs, out, oOff, ors);
    return;
  }
  if (M === 1) {
    gemv(N, K, transposed(B), A.data, A.off, A.cs, out, oOff, ocs);
    return;
  }
  if (onWasm && A.data instanceof Float64Array && out instanceof Float64Array && gemmOnWasm(M, N, K, A, B, out, oOff, ors, ocs)) return;
  if (M * N * K <= SMALL) {
    gemmSmall(M, N, K, A, B, out, oOff, ors, ocs);
    return;
  }
  if (M < 4 && N > M) {
    // A thin left operand wastes most of a 4-row strip: compute C^T = B^T A^T instead.
    gemmBlocked(N, M, K, transposed(B), transposed(A), out, oOff, ocs, ors);
    return;
  }
  gemmBlocked(M, N, K, A, B, out, oOff, ors, ocs);
}

/** @internal For benchmarks and tests: C (M x N) = A @ B over row-major arrays. */
export function gemmRowMajor(M: number, N: number, K: number, A: TypedArray, B: TypedArray, C: TypedArray): void {
  gemm(M, N, K, { data: A, off: 0, rs: K, cs: 1 }, { data: B, off: 0, rs: N, cs: 1 }, C, 0, N, 1);
}

/** The dot product of n elements of x and y read with strides, summed in order in a double. */
export function dotProduct(n: number, x: TypedArray, xOff: number, xs: number, y: TypedArray, yOff: number, ys: number): number {
  let s = 0;
  for (let i = 0, px = xOff, py = yOff; i < n; i++, px += xs, py += ys) s += x[px] * y[py];
  return s;
}

// ---- TypeScript, float32 ---------------------------------------------------------------------

/** Rows of A and columns of B copied with unit steps along k, and one row of C, for the float32 loops. */
let copyOfA: Float32Array = new Float32Array(0);
let copyOfB: Float32Array = new Float32Array(0);
let rowOfC: Float32Array = new Float32Array(0);

/**
 * A float32 product summed as the wasm kernel's f32x4 lanes sum: each element over k in order,
 * each product and each sum rounded to float32 (Math.fround, or a store into a Float32Array). A
 * product of two floats is exact in a double, and a sum of two floats rounded to a double and then
 * to a float is the float sum rounded once, so these are the lanes' bits exactly.
 */
function gemmFloat32(M: number, N: number, K: number, A: Mat, B: Mat, out: TypedArray, oOff: number, ors: number, ocs: number): void {
  if (M === 1 && B.cs === 1) {
    vectorTimesRows32(N, K, A, B, out, oOff, ocs);
    return;
  }
  // Each element is the dot product of a row of A and a column of B, read with unit steps along k.
  if (A.cs !== 1) A = { data: (copyOfA = unitAlongK(M, K, A, copyOfA)), off: 0, rs: K, cs: 1 };
  const Bt = B.rs === 1 ? transposed(B) : { data: (copyOfB = unitAlongK(N, K, transposed(B), copyOfB)), off: 0, rs: K, cs: 1 };
  dots32(M, N, K, A.data as Float32Array, A.off, A.rs, Bt.data as Float32Array, Bt.off, Bt.rs, out, oOff, ors, ocs);
}

/** The (rows x cols) matrix `m` copied row-major into `buffer`, or into a larger one it returns. */
function unitAlongK(rows: number, cols: number, m: Mat, buffer: Float32Array): Float32Array {
  const into = buffer.length < rows * cols ? new Float32Array(rows * cols) : buffer;
  const data = m.data;
  for (let i = 0; i < rows; i++) {
    const src = m.off + i * m.rs;
    const dst = i * cols;
    for (let j = 0; j < cols; j++) into[dst + j] = data[src + j * m.cs];
  }
  return into;
}

/** C (M x N) from rows of A at `a[aOff + i * ars + k]` and columns of B at `b[bOff + j * bcs + k]`; four rows share each load of a column. */
function dots32(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOff: number,
  ars: number,
  b: Float32Array,
  bOff: number,
  bcs: number,
  out: TypedArray,
  oOff: number,
  ors: number,
  ocs: number,
): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const p0 = aOff + i * ars,
      p1 = p0 + ars,
      p2 = p1 + ars,
      p3 = p2 + ars;
    for (let j = 0; j < N; j++) {
      const pb = bOff + j * bcs;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = b[pb + k];
        s0 = Math.fround(s0 + Math.fround(a[p0 + k] * y));
        s1 = Math.fround(s1 + Math.fround(a[p1 + k] * y));
        s2 = Math.fround(s2 + Math.fround(a[p2 + k] * y));
        s3 = Math.fround(s3 + Math.fround(a[p3 + k] * y));
      }
      const dst = oOff + i * ors + j * ocs;
      out[dst] = s0;
      out[dst + ors] = s1;
      out[dst + 2 * ors] = s2;
      out[dst + 3 * ors] = s3;
    }
  }
  for (; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = aOff + i * ars, pb = bOff + j * bcs; k < K; k++) s = Math.fround(s + Math.fround(a[pa + k] * b[pb + k]));
      out[oOff + i * ors + j * ocs] = s;
    }
  }
}

/**
 * One row of A (K) times B (K x N) with contiguous rows: C's row summed in a Float32Array, one
 * row of B after the other, so B is read in its order (each element still sums over k in order).
 */
function vectorTimesRows32(N: number, K: number, A: Mat, B: Mat, out: TypedArray, oOff: number, ocs: number): void {
  if (rowOfC.length < N) rowOfC = new Float32Array(N);
  const row = rowOfC;
  row.fill(0, 0, N);
  const b = B.data;
  for (let k = 0; k < K; k++) {
    const x = A.data[A.off + k * A.cs];
    const pb = B.off + k * B.rs;
    for (let j = 0; j < N; j++) row[j] += Math.fround(x * b[pb + j]);
  }
  for (let j = 0; j < N; j++) out[oOff + j * ocs] = row[j];
}

// ---- TypeScript, float64 ---------------------------------------------------------------------

/** Rows of A per packed block, depth of a block, columns of B per packed block. */
const MC = 128;
const KC = 256;
const NC = 1024;
/** Below this many multiply-adds a plain triple loop beats packing. */
const SMALL = 4096;

const packA = new Float64Array(MC * KC);
const packB = new Float64Array(KC * NC);
let accBuffer = new Float64Array(0);
let vecBuffer = new Float64Array(0);

function gemmSmall(M: number, N: number, K: number, A: Mat, B: Mat, out: TypedArray, oOff: number, ors: number, ocs: number): void {
  const a = A.data;
  const b = B.data;
  for (let i = 0; i < M; i++) {
    const ai = A.off + i * A.rs;
    for (let j = 0; j < N; j++) {
      let s = 0;
      let pa = ai;
      let pb = B.off + j * B.cs;
      for (let k = 0; k < K; k++) {
        s += a[pa] * b[pb];
        pa += A.cs;
        pb += B.rs;
      }
      out[oOff + i * ors + j * ocs] = s;
    }
  }
}

function gemmBlocked(M: number, N: number, K: number, A: Mat, B: Mat, out: TypedArray, oOff: number, ors: number, ocs: number): void {
  const rowsPadded = (M + 3) & ~3;
  if (accBuffer.length < rowsPadded * N) accBuffer = new Float64Array(rowsPadded * N);
  const acc = accBuffer;
  acc.fill(0, 0, rowsPadded * N);
  const Ap = packA;
  const Bp = packB;
  const a = A.data;
  const b = B.data;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const panels = nc >> 2;
    const rest = nc & 3;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      // Pack B[pc:pc+kc, jc:jc+nc]: full panels of 4 columns interleaved by k, then single columns.
      for (let p = 0; p < panels; p++) {
        let q = p * 4 * kc;
        const col = B.off + (jc + 4 * p) * B.cs;
        for (let k = 0; k < kc; k++) {
          const src = col + (pc + k) * B.rs;
          Bp[q] = b[src];
          Bp[q + 1] = b[src + B.cs];
          Bp[q + 2] = b[src + 2 * B.cs];
          Bp[q + 3] = b[src + 3 * B.cs];
          q += 4;
        }
      }
      for (let t = 0; t < rest; t++) {
        const q = panels * 4 * kc + t * kc;
        const col = B.off + (jc + 4 * panels + t) * B.cs + pc * B.rs;
        for (let k = 0; k < kc; k++) Bp[q + k] = b[col + k * B.rs];
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        const strips = (mc + 3) >> 2;
        // Pack A[ic:ic+mc, pc:pc+kc] in strips of 4 rows interleaved by k, zero-padded.
        for (let s = 0; s < strips; s++) {
          let q = s * 4 * kc;
          const i0 = ic + 4 * s;
          const r0 = A.off + i0 * A.rs + pc * A.cs;
          if (i0 + 4 <= M) {
            for (let k = 0; k < kc; k++) {
              const src = r0 + k * A.cs;
              Ap[q] = a[src];
              Ap[q + 1] = a[src + A.rs];
              Ap[q + 2] = a[src + 2 * A.rs];
              Ap[q + 3] = a[src + 3 * A.rs];
              q += 4;
            }
          } else {
            const live = M - i0;
            for (let k = 0; k < kc; k++) {
              const src = r0 + k * A.cs;
              for (let r = 0; r < 4; r++) Ap[q + r] = r < live ? a[src + r * A.rs] : 0;
              q += 4;
            }
          }
        }
        for (let p = 0; p < panels; p++) {
          const pb = p * 4 * kc;
          for (let s = 0; s < strips; s++) micro4x4(Ap, s * 4 * kc, Bp, pb, kc, acc, (ic + 4 * s) * N + jc + 4 * p, N);
        }
        for (let t = 0; t < rest; t++) {
          const pb = panels * 4 * kc + t * kc;
          for (let s = 0; s < strips; s++) micro4x1(Ap, s * 4 * kc, Bp, pb, kc, acc, (ic + 4 * s) * N + jc + 4 * panels + t, N);
        }
      }
    }
  }
  for (let i = 0; i < M; i++) {
    const src = i * N;
    const dst = oOff + i * ors;
    if (ocs === 1) for (let j = 0; j < N; j++) out[dst + j] = acc[src + j];
    else for (let j = 0; j < N; j++) out[dst + j * ocs] = acc[src + j];
  }
}

/**
 * acc[4 x 4 tile at ci] += Ap strip (4 x kc) @ Bp panel (kc x 4): sixteen running sums loaded into
 * locals, summed on over this block of k, and stored back (so each sums over k in order).
 */
function micro4x4(
  Ap: Float64Array,
  pa: number,
  Bp: Float64Array,
  pb: number,
  kc: number,
  acc: Float64Array,
  ci: number,
  ldc: number,
): void {
  const r1 = ci + ldc,
    r2 = r1 + ldc,
    r3 = r2 + ldc;
  let c00 = acc[ci],
    c01 = acc[ci + 1],
    c02 = acc[ci + 2],
    c03 = acc[ci + 3];
  let c10 = acc[r1],
    c11 = acc[r1 + 1],
    c12 = acc[r1 + 2],
    c13 = acc[r1 + 3];
  let c20 = acc[r2],
    c21 = acc[r2 + 1],
    c22 = acc[r2 + 2],
    c23 = acc[r2 + 3];
  let c30 = acc[r3],
    c31 = acc[r3 + 1],
    c32 = acc[r3 + 2],
    c33 = acc[r3 + 3];
  for (let k = 0; k < kc; k++) {
    const b0 = Bp[pb],
      b1 = Bp[pb + 1],
      b2 = Bp[pb + 2],
      b3 = Bp[pb + 3];
    let x = Ap[pa];
    c00 += x * b0;
    c01 += x * b1;
    c02 += x * b2;
    c03 += x * b3;
    x = Ap[pa + 1];
    c10 += x * b0;
    c11 += x * b1;
    c12 += x * b2;
    c13 += x * b3;
    x = Ap[pa + 2];
    c20 += x * b0;
    c21 += x * b1;
    c22 += x * b2;
    c23 += x * b3;
    x = Ap[pa + 3];
    c30 += x * b0;
    c31 += x * b1;
    c32 += x * b2;
    c33 += x * b3;
    pa += 4;
    pb += 4;
  }
  acc[ci] = c00;
  acc[ci + 1] = c01;
  acc[ci + 2] = c02;
  acc[ci + 3] = c03;
  acc[r1] = c10;
  acc[r1 + 1] = c11;
  acc[r1 + 2] = c12;
  acc[r1 + 3] = c13;
  acc[r2] = c20;
  acc[r2 + 1] = c21;
  acc[r2 + 2] = c22;
  acc[r2 + 3] = c23;
  acc[r3] = c30;
  acc[r3 + 1] = c31;
  acc[r3 + 2] = c32;
  acc[r3 + 3] = c33;
}

/** acc[4 x 1 column at ci] += Ap strip (4 x kc) @ one packed column of B, summed on from acc as micro4x4 does. */
function micro4x1(
  Ap: Float64Array,
  pa: number,
  Bp: Float64Array,
  pb: number,
  kc: number,
  acc: Float64Array,
  ci: number,
  ldc: number,
): void {
  let c0 = acc[ci],
    c1 = acc[ci + ldc],
    c2 = acc[ci + 2 * ldc],
    c3 = acc[ci + 3 * ldc];
  for (let k = 0; k < kc; k++) {
    const y = Bp[pb + k];
    c0 += Ap[pa] * y;
    c1 += Ap[pa + 1] * y;
    c2 += Ap[pa + 2] * y;
    c3 += Ap[pa + 3] * y;
    pa += 4;
  }
  acc[ci] = c0;
  acc[ci + ldc] = c1;
  acc[ci + 2 * ldc] = c2;
  acc[ci + 3 * ldc] = c3;
}

/** y (M) = A (M x K) @ x (K, at `x[xOff + k * xs]`), written to `out[oOff + i * os]`. */
function gemv(M: number, K: number, A: Mat, x: TypedArray, xOff: number, xs: number, out: TypedArray, oOff: number, os: number): void {
  if (vecBuffer.length < K) vecBuffer = new Float64Array(Math.max(K, 2 * vecBuffer.length));
  const v = vecBuffer;
  for (let k = 0; k < K; k++) v[k] = x[xOff + k * xs];
  const a = A.data;
  if (A.rs !== 1 || A.cs === 1) {
    // Rows of A are (usually) contiguous: four dot products share each load of x.
    const cs = A.cs;
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      let p0 = A.off + i * A.rs;
      let p1 = p0 + A.rs;
      let p2 = p1 + A.rs;
      let p3 = p2 + A.rs;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = v[k];
        s0 += a[p0] * y;
        s1 += a[p1] * y;
        s2 += a[p2] * y;
        s3 += a[p3] * y;
        p0 += cs;
        p1 += cs;
        p2 += cs;
        p3 += cs;
      }
      out[oOff + i * os] = s0;
      out[oOff + (i + 1) * os] = s1;
      out[oOff + (i + 2) * os] = s2;
      out[oOff + (i + 3) * os] = s3;
    }
    for (; i < M; i++) {
      let p = A.off + i * A.rs;
      let s = 0;
      for (let k = 0; k < K; k++) {
        s += a[p] * v[k];
        p += cs;
      }
      out[oOff + i * os] = s;
    }
    return;
  }
  // Columns of A are contiguous (a transposed matrix): accumulate column after column, in k order.
  if (accBuffer.length < M) accBuffer = new Float64Array(Math.max(M, 2 * accBuffer.length));
  const acc = accBuffer;
  acc.fill(0, 0, M);
  for (let k = 0; k < K; k++) {
    const y = v[k];
    const col = A.off + k * A.cs;
    for (let i = 0; i < M; i++) acc[i] += a[col + i] * y;
  }
  for (let i = 0; i < M; i++) out[oOff + i * os] = acc[i];
}

// ---- WebAssembly ----------------------------------------------------------------------------

/**
 * The product on the WebAssembly kernel: A and B both float32 (`sgemm`, float32 sums) or both
 * float64 (`dgemm`, float64 sums), each element summed over k in order as `gemm` promises; the
 * sums are copied into `out` as they are (a Float64Array `out` for float32 operands holds the
 * float32 sums exactly). Returns false, computing nothing, when the module is not available, the
 * operands are of other types, or they do not fit in its memory. `gemm` calls it for products of
 * some size (kernels/linear.ts's dense products among them).
 */
export function gemmOnWasm(
  M: number,
  N: number,
  K: number,
  A: Mat,
  B: Mat,
  out: TypedArray,
  oOff: number,
  ors: number,
  ocs: number,
): boolean {
  const wide = A.data instanceof Float64Array;
  if (!(wide ? B.data instanceof Float64Array : A.data instanceof Float32Array && B.data instanceof Float32Array)) return false;
  if (!wasmAvailable()) return false;
  const { exports, workspaceAt, dataAt } = kernelModule();
  // Operand sizes in elements, rounded to 16 bytes' worth of floats.
  const aLen = (footprint(M, K, A.rs, A.cs) + 3) & ~3;
  const bLen = (footprint(K, N, B.rs, B.cs) + 3) & ~3;
  const unit = wide ? 2 : 1; // floats per element
  const heap = reserve((aLen + bLen + M * N) * unit);
  if (heap === null) return false;
  const view = wide ? heap.heap64 : heap.heap32;
  const aAt = dataAt / unit; // dataAt is a multiple of 16 floats
  const bAt = aAt + aLen;
  const cAt = bAt + bLen;
  const [ars, acs] = copyIn(view, aAt, A.data, A.off, M, K, A.rs, A.cs);
  const [brs, bcs] = copyIn(view, bAt, B.data, B.off, K, N, B.rs, B.cs);
  const bytes = 4 * unit;
  (wide ? exports.dgemm : exports.sgemm)(M, N, K, aAt * bytes, ars, acs, bAt * bytes, brs, bcs, cAt * bytes, workspaceAt);
  const c = view.subarray(cAt, cAt + M * N);
  if (ocs === 1 && ors === N && (out instanceof Float32Array || out instanceof Float64Array)) {
    out.set(c, oOff);
    return true;
  }
  for (let i = 0; i < M; i++) {
    const src = i * N;
    const dst = oOff + i * ors;
    for (let j = 0; j < N; j++) out[dst + j * ocs] = c[src + j];
  }
  return true;
}

/**
 * Copies the (rows x cols) operand at `data[off + i * rs + j * cs]` to `heap[at...]` and returns
 * its strides there: a row-major or column-major operand (possibly with padded rows or columns)
 * is copied as one block; anything else is gathered row-major.
 */
function copyIn(
  heap: Float32Array | Float64Array,
  at: number,
  data: TypedArray,
  off: number,
  rows: number,
  cols: number,
  rs: number,
  cs: number,
): [number, number] {
  const dense = rows * cols;
  if (data.constructor === heap.constructor) {
    const same = data as typeof heap;
    if (cs === 1 && rs >= cols) {
      const span = (rows - 1) * rs + cols;
      if (span <= 2 * dense + 64) {
        heap.set(same.subarray(off, off + span), at);
        return [rs, 1];
      }
    } else if (rs === 1 && cs >= rows) {
      const span = (cols - 1) * cs + rows;
      if (span <= 2 * dense + 64) {
        heap.set(same.subarray(off, off + span), at);
        return [1, cs];
      }
    }
  }
  for (let i = 0; i < rows; i++) {
    const src = off + i * rs;
    const dst = at + i * cols;
    if (cs === 1) for (let j = 0; j < cols; j++) heap[dst + j] = data[src + j];
    else for (let j = 0; j < cols; j++) heap[dst + j] = data[src + j * cs];
  }
  return [cols, 1];
}

/** Floats an operand takes in the heap once copied by `copyIn` (at most). */
function footprint(rows: number, cols: number, rs: number, cs: number): number {
  const dense = rows * cols;
  if (cs === 1 && rs >= cols) return Math.max(dense, Math.min((rows - 1) * rs + cols, 2 * dense + 64));
  if (rs === 1 && cs >= rows) return Math.max(dense, Math.min((cols - 1) * cs + rows, 2 * dense + 64));
  return dense;
}
