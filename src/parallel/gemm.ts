/**
 * Large products on several threads: the rows of C are split between the calling thread and the
 * idle workers (parallel/threads.ts), and every share is computed by the one kernel, `gemm`
 * (kernels/matmul.ts). `gemm` sums each element over k in the same order whatever rows it is given
 * with it, so the result has the same bits on any number of threads.
 *
 * A worker cannot read the caller's arrays: its rows of A, all of B and its rows of C go through
 * SharedArrayBuffers, reused from one product to the next. The copies cost O(MK + KN + MN)
 * against the product's O(MNK), which is why only products of `THREADED_PRODUCT` multiply-adds
 * or more are split.
 */
import type { TypedArray } from "../dtype";
import type { PoolWorker, WorkerTask } from "../host";
import { type Mat, gemm } from "../kernels/matmul";
import { wasmAvailable } from "../kernels/wasm";
import { registerTask } from "./tasks";
import { idleWorkers } from "./threads";

/**
 * Products below this many multiply-adds stay on one thread. Measured on the 2-core machine
 * (bench/threads.ts): two threads break even near 64^3 and win clearly from 128^3 on.
 */
let threshold = 128 ** 3;
/** Fewest rows of C in a share (so that none takes the kernel's single-row path). */
const MIN_ROWS = 8;

/** For tests and benchmarks: the size (M * N * K) from which products are split. Returns the previous one. */
export function setThreadedProductThreshold(multiplyAdds: number): number {
  const previous = threshold;
  threshold = multiplyAdds;
  return previous;
}

type FloatArray = Float32Array | Float64Array;

/** C = A @ B as `gemm` computes it, with the rows of C shared among the threads when it is worth it. */
export function threadedGemm(
  M: number,
  N: number,
  K: number,
  A: Mat,
  B: Mat,
  out: TypedArray,
  oOff: number,
  ors: number,
  ocs: number,
): void {
  const workers = M * N * K >= threshold && M >= 2 * MIN_ROWS && N > 1 && floatOperands(A.data, B.data, out) ? idleWorkers() : [];
  const shares = Math.min(workers.length + 1, Math.floor(M / MIN_ROWS));
  if (shares < 2) {
    gemm(M, N, K, A, B, out, oOff, ors, ocs);
    return;
  }
  const bounds = rowBounds(M, shares);
  const b = shareMatrix(scratch.b, B.data as FloatArray, B, K, N);
  scratch.b = b.buffer;
  const posted: Array<{ worker: PoolWorker; c: SharedArrayBuffer; r0: number; rows: number }> = [];
  for (let s = 1; s < shares; s++) {
    const r0 = bounds[s];
    const rows = bounds[s + 1] - r0;
    const a = shareMatrix(scratch.a[s], A.data as FloatArray, { ...A, off: A.off + r0 * A.rs }, rows, K);
    scratch.a[s] = a.buffer;
    const c = sharedArray(scratch.c[s], out as FloatArray, rows * N);
    scratch.c[s] = c.buffer as SharedArrayBuffer;
    const task: GemmTask = {
      kind: "gemm",
      wasm: wasmAvailable(),
      M: rows,
      N,
      K,
      a: a.mat,
      b: b.mat,
      c: c.buffer as SharedArrayBuffer,
      cWide: out instanceof Float64Array,
    };
    workers[s - 1].post(task);
    posted.push({ worker: workers[s - 1], c: c.buffer as SharedArrayBuffer, r0, rows });
  }
  gemm(bounds[1], N, K, A, B, out, oOff, ors, ocs);
  for (const { worker, c, r0, rows } of posted) {
    worker.join();
    copyRows(view(out as FloatArray, c, rows * N), rows, N, out, oOff + r0 * ors, ors, ocs);
  }
}

/** The first row of each of `shares` nearly equal shares of M rows, then M. */
function rowBounds(M: number, shares: number): number[] {
  return Array.from({ length: shares + 1 }, (_, s) => Math.round((s * M) / shares));
}

function floatOperands(a: TypedArray, b: TypedArray, c: TypedArray): boolean {
  const float = (x: TypedArray) => x instanceof Float32Array || x instanceof Float64Array;
  return float(a) && float(b) && float(c);
}

/** A matrix in shared memory, as a worker reads it: the array's type, its buffer and its strides. */
interface SharedMat {
  wide: boolean;
  buffer: SharedArrayBuffer;
  rs: number;
  cs: number;
}

interface GemmTask extends WorkerTask {
  M: number;
  N: number;
  K: number;
  a: SharedMat;
  b: SharedMat;
  /** C's rows, row-major, in the type of the caller's output (Float64Array when `cWide`). */
  c: SharedArrayBuffer;
  cWide: boolean;
}

/** Shared buffers kept from one product to the next: B, then A's and C's rows for each share. */
const scratch: { b: SharedArrayBuffer | null; a: Array<SharedArrayBuffer | null>; c: Array<SharedArrayBuffer | null> } = {
  b: null,
  a: [],
  c: [],
};

/** A shared array of `length` elements of `like`'s type, over `reuse` when it is large enough. */
function sharedArray(reuse: SharedArrayBuffer | null | undefined, like: FloatArray, length: number): FloatArray {
  const bytes = length * like.BYTES_PER_ELEMENT;
  const buffer = reuse && reuse.byteLength >= bytes ? reuse : new SharedArrayBuffer(Math.max(bytes, 64));
  return view(like, buffer, length);
}

function view(like: FloatArray, buffer: SharedArrayBuffer, length: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(buffer, 0, length) : new Float32Array(buffer, 0, length);
}

/** Copies the (rows x cols) matrix `m` of `data` into shared memory, row-major. */
function shareMatrix(reuse: SharedArrayBuffer | null | undefined, data: FloatArray, m: Mat, rows: number, cols: number) {
  const dst = sharedArray(reuse, data, rows * cols);
  for (let i = 0; i < rows; i++) {
    const src = m.off + i * m.rs;
    if (m.cs === 1) dst.set(data.subarray(src, src + cols), i * cols);
    else for (let j = 0, p = src, q = i * cols; j < cols; j++, p += m.cs) dst[q + j] = data[p];
  }
  const mat: SharedMat = { wide: data instanceof Float64Array, buffer: dst.buffer as SharedArrayBuffer, rs: cols, cs: 1 };
  return { buffer: mat.buffer, mat };
}

/** out[at + i * ors + j * ocs] = src[i * cols + j]. */
function copyRows(src: FloatArray, rows: number, cols: number, out: TypedArray, at: number, ors: number, ocs: number): void {
  if (ocs === 1 && ors === cols && out.constructor === src.constructor) {
    (out as FloatArray).set(src, at);
    return;
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[at + i * ors + j * ocs] = src[i * cols + j];
}

function matOf(m: SharedMat, length: number): Mat {
  const data = m.wide ? new Float64Array(m.buffer, 0, length) : new Float32Array(m.buffer, 0, length);
  return { data, off: 0, rs: m.rs, cs: m.cs };
}

registerTask("gemm", (task) => {
  const { M, N, K, a, b, c, cWide } = task as GemmTask;
  const out = cWide ? new Float64Array(c, 0, M * N) : new Float32Array(c, 0, M * N);
  gemm(M, N, K, matOf(a, M * K), matOf(b, K * N), out, 0, N, 1);
  return null;
});
