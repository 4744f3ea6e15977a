/**
 * Large products on several threads: the rows of C are cut into blocks that the calling thread
 * and the idle workers take in turn (parallel/share.ts), and every block is computed by the one
 * kernel, `gemm` (kernels/matmul.ts). `gemm` sums each element over k in the same order whatever
 * rows it is given with it, so the result has the same bits on any number of threads, whoever
 * computes which block.
 *
 * A worker cannot read the caller's arrays: A, B and the blocks of C it computes go through
 * SharedArrayBuffers, reused from one product to the next. The copies cost O(MK + KN + MN)
 * against the product's O(MNK), which is why only products of some size are shared.
 */
import type { TypedArray } from "../dtype";
import { type Mat, gemm } from "../kernels/matmul";
import { wasmAvailable } from "../kernels/wasm";
import { type UnitTask, shareUnits } from "./share";
import { registerTask } from "./tasks";
import { getNumThreads, idleWorkers } from "./threads";

/**
 * Products below this many multiply-adds stay on one thread. Measured on the 2-core machine (busy,
 * so in CPU time): sharing costs 43% more CPU than one thread at 64^3, a product of 40 µs, no
 * longer than waking a worker; 17-28% from 96^3 to 256^3 (0.1 to 2 ms); 7% at 1024^3. From 128^3
 * on, half the work on a free core more than pays for it.
 */
let threshold = 128 ** 3;
/** Fewest rows in a block (so that no block takes the kernel's single-row path). */
const MIN_ROWS = 8;
/** Blocks per thread: enough that a thread held up leaves work for the others. */
const BLOCKS_PER_THREAD = 3;

/** For tests and benchmarks: the size (M * N * K) from which products are shared. Returns the previous one. */
export function setThreadedProductThreshold(multiplyAdds: number): number {
  const previous = threshold;
  threshold = multiplyAdds;
  return previous;
}

type FloatArray = Float32Array | Float64Array;

/** A matrix copied row-major into shared memory, as a worker reads it: its type and its buffer. */
interface SharedMat {
  wide: boolean;
  buffer: SharedArrayBuffer;
}

interface RowsTask extends UnitTask {
  M: number;
  N: number;
  K: number;
  /** Rows of C per block (the last block may have fewer). */
  blockRows: number;
  a: SharedMat;
  b: SharedMat;
  /** C, row-major, in the type of the caller's output (Float64Array when `cWide`). */
  c: SharedArrayBuffer;
  cWide: boolean;
}

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
  const threads = getNumThreads();
  const big = threads > 1 && M * N * K >= threshold && M >= 2 * MIN_ROWS && N > 1 && floatOperands(A.data, B.data, out);
  const workers = big ? idleWorkers(threads) : [];
  if (workers.length === 0) {
    gemm(M, N, K, A, B, out, oOff, ors, ocs);
    return;
  }
  const blocks = Math.min(BLOCKS_PER_THREAD * (workers.length + 1), Math.floor(M / MIN_ROWS));
  const blockRows = Math.ceil(M / blocks);
  const task: RowsTask = {
    kind: "gemm-rows",
    wasm: wasmAvailable(),
    unit: -1,
    M,
    N,
    K,
    blockRows,
    a: share("a", A.data as FloatArray, A, M, K),
    b: share("b", B.data as FloatArray, B, K, N),
    c: sharedArray("c", out as FloatArray, M * N).buffer as SharedArrayBuffer,
    cWide: out instanceof Float64Array,
  };
  const count = Math.ceil(M / blockRows);
  const onWorker = shareUnits(
    count,
    task,
    (unit) => {
      const [r0, rows] = block(unit, blockRows, M);
      gemm(rows, N, K, { ...A, off: A.off + r0 * A.rs }, B, out, oOff + r0 * ors, ors, ocs);
    },
    workers,
  );
  const c = floatView(task.cWide, task.c, M * N);
  onWorker.forEach((ran, unit) => {
    if (ran === 0) return;
    const [r0, rows] = block(unit, blockRows, M);
    copyRows(c.subarray(r0 * N, (r0 + rows) * N), rows, N, out, oOff + r0 * ors, ors, ocs);
  });
}

/** The first row and the number of rows of block `unit`. */
function block(unit: number, blockRows: number, M: number): [number, number] {
  const r0 = unit * blockRows;
  return [r0, Math.min(blockRows, M - r0)];
}

registerTask("gemm-rows", (task) => {
  const { unit, M, N, K, blockRows, a, b, c, cWide } = task as RowsTask;
  const [r0, rows] = block(unit, blockRows, M);
  const A: Mat = { data: floatView(a.wide, a.buffer, M * K), off: r0 * K, rs: K, cs: 1 };
  const B: Mat = { data: floatView(b.wide, b.buffer, K * N), off: 0, rs: N, cs: 1 };
  gemm(rows, N, K, A, B, floatView(cWide, c, M * N), r0 * N, N, 1);
  return null;
});

function floatOperands(a: TypedArray, b: TypedArray, c: TypedArray): boolean {
  const float = (x: TypedArray) => x instanceof Float32Array || x instanceof Float64Array;
  return float(a) && float(b) && float(c);
}

/** Shared buffers kept from one product to the next, by role. */
const scratch = new Map<string, SharedArrayBuffer>();

/** A shared array of `length` elements of `like`'s type, over the `role` buffer when it is large enough. */
function sharedArray(role: string, like: FloatArray, length: number): FloatArray {
  const bytes = length * like.BYTES_PER_ELEMENT;
  let buffer = scratch.get(role);
  if (buffer === undefined || buffer.byteLength < bytes) {
    buffer = new SharedArrayBuffer(Math.max(bytes, 64));
    scratch.set(role, buffer);
  }
  return floatView(like instanceof Float64Array, buffer, length);
}

/** The first `length` float64 (`wide`) or float32 elements of `buffer`. */
function floatView(wide: boolean, buffer: SharedArrayBuffer, length: number): FloatArray {
  return wide ? new Float64Array(buffer, 0, length) : new Float32Array(buffer, 0, length);
}

/** The (rows x cols) matrix `m` of `data`, copied row-major into the `role` buffer. */
function share(role: string, data: FloatArray, m: Mat, rows: number, cols: number): SharedMat {
  const dst = sharedArray(role, data, rows * cols);
  for (let i = 0; i < rows; i++) {
    const src = m.off + i * m.rs;
    if (m.cs === 1) dst.set(data.subarray(src, src + cols), i * cols);
    else for (let j = 0, p = src; j < cols; j++, p += m.cs) dst[i * cols + j] = data[p];
  }
  return { wide: data instanceof Float64Array, buffer: dst.buffer as SharedArrayBuffer };
}

/** out[at + i * ors + j * ocs] = src[i * cols + j]. */
function copyRows(src: FloatArray, rows: number, cols: number, out: TypedArray, at: number, ors: number, ocs: number): void {
  if (ocs === 1 && ors === cols && out.constructor === src.constructor) {
    (out as FloatArray).set(src, at);
    return;
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[at + i * ors + j * ocs] = src[i * cols + j];
}
