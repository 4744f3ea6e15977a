/**
 * The WebAssembly SIMD float32 matrix product (src/kernels/matmul.as.ts, compiled at build time to
 * matmul.wasm next to this file) and its host side: synchronous instantiation on first use, the
 * module's memory (grown as products need), operands copied in and the result copied out.
 *
 * The same module holds the float32 row-wise log-softmax (forward and backward) and BCEWithLogits
 * kernels used by ops/activation.ts and ops/loss.ts (see the end of this file).
 *
 * The kernel is optional: when matmul.wasm is missing, fails to instantiate, or TORCHLET_NO_WASM=1
 * is set, `wasmAvailable()` is false and the TypeScript kernel in ops/linalg.ts runs instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Exports {
  memory: WasmMemory;
  workspaceBytes64(): number;
  dgemm32(M: number, N: number, K: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ws: number): void;
  dgemm64(M: number, N: number, K: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ws: number): void;
  heapBase(): number;
  logSoftmaxRows32(src: number, dst: number, rows: number, cols: number): void;
  logSoftmaxBackwardRows32(g: number, y: number, dst: number, rows: number, cols: number): void;
  logSoftmaxOneHotBackward32(y: number, cols: number, values: number, dst: number, rows: number, colsPerRow: number): void;
  bceWithLogits32(x: number, y: number, n: number, storeLoss: number, storeGrad: number, scale: number): number;
}

/** Indexable by position, as the library's typed arrays are. */
interface Strided {
  readonly length: number;
  [index: number]: number;
}

let state: "untried" | "ready" | "failed" = "untried";
let enabled = process.env.TORCHLET_NO_WASM !== "1";
let exportsOf: Exports | null = null;
let heap = new Float32Array(0);
let heap64 = new Float64Array(0);
/** Float index of the workspace and of the first operand. */
let wsAt = 0;
let dataAt = 0;

function instantiate(): Exports | null {
  try {
    const bytes = fs.readFileSync(path.join(__dirname, "matmul.wasm"));
    if (!wasmApi) return null;
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), {});
    const ex = instance.exports as unknown as Exports;
    const base = (ex.heapBase() + 63) & ~63;
    wsAt = base >> 2;
    dataAt = (wsAt + (ex.workspaceBytes64() >> 2) + 15) & ~15;
    return ex;
  } catch {
    return null;
  }
}

/** Whether float32 products run on the wasm kernel (loads it on the first call). */
export function wasmAvailable(): boolean {
  if (!enabled) return false;
  if (state === "untried") {
    exportsOf = instantiate();
    state = exportsOf ? "ready" : "failed";
  }
  return state === "ready";
}

/**
 * For tests and benchmarks: turn the wasm kernel off (products take the TypeScript kernel) or back
 * on (when it loads). Returns the previous setting.
 */
export function setWasmEnabled(flag: boolean): boolean {
  const previous = enabled;
  enabled = flag;
  return previous;
}

/**
 * The log-softmax output that the forward kernel left at `dataAt`, as long as no other kernel has
 * used the memory since: the backward that follows (cross entropy's) reads it there instead of
 * copying 4 bytes per element in again. torchlet has no in-place ops on values; a caller writing
 * into the output's storage by hand between forward and backward would not be seen.
 */
let residentOutput: Float32Array | null = null;

/** A view of the module's memory holding at least `floats` floats from `dataAt`, or null if it cannot grow so far. */
function reserve(floats: number): Float32Array | null {
  const ex = exportsOf!;
  residentOutput = null; // whatever is at dataAt is about to be overwritten
  const needBytes = (dataAt + floats) * 4;
  const have = ex.memory.buffer.byteLength;
  if (needBytes > have) {
    if (needBytes > 2 ** 32 - 65536) return null; // beyond wasm32's address space
    try {
      ex.memory.grow(Math.ceil((needBytes - have) / 65536));
    } catch {
      return null;
    }
  }
  if (heap.buffer !== ex.memory.buffer) {
    heap = new Float32Array(ex.memory.buffer);
    heap64 = new Float64Array(ex.memory.buffer);
  }
  return heap;
}

/**
 * Copies the (rows x cols) operand at `data[off + i * rs + j * cs]` to `heap[at...]` and returns
 * its strides there: a row-major or column-major operand (possibly with padded rows or columns)
 * is copied as one block; anything else is gathered row-major.
 */
function copyIn(heap: Float32Array | Float64Array, at: number, data: Strided, off: number, rows: number, cols: number, rs: number, cs: number): [number, number] {
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

/**
 * out[oOff + i * ors + j * ocs] = sum_k A(i, k) * B(k, j) for strided operands
 * A(i, k) = a[aOff + i * ars + k * acs] and B(k, j) = b[bOff + k * brs + j * bcs], both
 * float32 or both float64 (a's type decides). The sums run over k in order in float64 (a
 * product of two floats is exact there), with the TypeScript kernel's blocks; a float32 `out`
 * gets each rounded once, a float64 one gets them as they are. Call only when
 * `wasmAvailable()`. Returns false, computing nothing, when the operands do not fit in memory.
 */
export function gemmWasm(
  M: number, N: number, K: number,
  a: Strided, aOff: number, ars: number, acs: number,
  b: Strided, bOff: number, brs: number, bcs: number,
  out: Strided, oOff: number, ors: number, ocs: number,
): boolean {
  const wide = a instanceof Float64Array;
  const ex = exportsOf!;
  // Operand sizes in elements, rounded to 16 bytes' worth of floats.
  const aLen = (footprint(M, K, ars, acs) + 3) & ~3;
  const bLen = (footprint(K, N, brs, bcs) + 3) & ~3;
  const unit = wide ? 2 : 1; // floats per element
  if (reserve((aLen + bLen) * unit + 2 * M * N) === null) return false;
  const view = wide ? heap64 : heap;
  const aAt = dataAt / unit; // dataAt is a multiple of 16 floats
  const bAt = aAt + aLen;
  const c = ((bAt + bLen) * unit) >> 1; // C, in doubles
  const [ars2, acs2] = copyIn(view, aAt, a, aOff, M, K, ars, acs);
  const [brs2, bcs2] = copyIn(view, bAt, b, bOff, K, N, brs, bcs);
  const bytes = 4 * unit;
  (wide ? ex.dgemm64 : ex.dgemm32)(M, N, K, aAt * bytes, ars2, acs2, bAt * bytes, brs2, bcs2, c * 8, wsAt * 4);
  if (ocs === 1 && ors === N && (out instanceof Float32Array || out instanceof Float64Array)) {
    // Into float32 storage this rounds each double once; a Float64Array gets the sums unrounded.
    out.set(heap64.subarray(c, c + M * N), oOff);
    return true;
  }
  for (let i = 0; i < M; i++) {
    const src = c + i * N;
    const dst = oOff + i * ors;
    for (let j = 0; j < N; j++) out[dst + j * ocs] = heap64[src + j];
  }
  return true;
}

/**
 * Products of fewer multiply-adds than this stay on the TypeScript kernel. Measured on the 2-core
 * machine, wasm already wins at 16^3 (3.1 against 0.33 GFLOPS) and roughly breaks even at 8^3;
 * below 4096 the TypeScript kernel's plain triple loop (gemmSmall) is as good and copies nothing.
 */
let threshold = 4096;

export function wasmThreshold(): number {
  return threshold;
}

/** For tests: the size (M * N * K) from which float32 products use wasm; 0 sends every one there. */
export function setWasmThreshold(multiplyAdds: number): number {
  const previous = threshold;
  threshold = multiplyAdds;
  return previous;
}

// ---------------------------------------------------------------------------------------------
// Row-wise log-softmax and BCEWithLogits on the same module (float32 data, float64 arithmetic).
// Each copies its operands to the module's memory, runs in place there and copies the result out.
// ---------------------------------------------------------------------------------------------

/** Elementwise kernels on fewer elements than this stay in TypeScript. */
let elementThreshold = 4096;

/** For tests: the element count from which log-softmax and BCEWithLogits use wasm; 0 sends every one. */
export function setWasmElementThreshold(elements: number): number {
  const previous = elementThreshold;
  elementThreshold = elements;
  return previous;
}

/** Whether a float32 elementwise kernel over `n` elements should run on wasm (loads it if needed). */
export function useWasmElementwise(n: number): boolean {
  return n >= elementThreshold && n > 0 && wasmAvailable();
}

/**
 * out = log_softmax(src) along each of `rows` contiguous rows of `cols` values. Call only when
 * `wasmAvailable()`; returns false, computing nothing, when the data do not fit in memory.
 */
export function logSoftmaxRowsWasm(src: Float32Array, out: Float32Array, rows: number, cols: number): boolean {
  const n = rows * cols;
  const h = reserve(n);
  if (h === null) return false;
  h.set(src.subarray(0, n), dataAt);
  exportsOf!.logSoftmaxRows32(dataAt * 4, dataAt * 4, rows, cols);
  out.set(h.subarray(dataAt, dataAt + n));
  residentOutput = out;
  return true;
}

/** grad = g - exp(y) * sum(g) along each row (see `logSoftmaxRowsWasm`). */
export function logSoftmaxBackwardRowsWasm(g: Float32Array, y: Float32Array, grad: Float32Array, rows: number, cols: number): boolean {
  const n = rows * cols;
  const yAt = dataAt + ((n + 3) & ~3);
  const h = reserve(yAt - dataAt + n);
  if (h === null) return false;
  h.set(g.subarray(0, n), dataAt);
  h.set(y.subarray(0, n), yAt);
  exportsOf!.logSoftmaxBackwardRows32(dataAt * 4, yAt * 4, dataAt * 4, rows, cols);
  grad.set(h.subarray(dataAt, dataAt + n));
  return true;
}

/** The one-hot-upstream log-softmax backward (ops/activation.ts's oneHotLogSoftmaxBackward). */
export function logSoftmaxOneHotBackwardWasm(hotCols: Int32Array, values: Float64Array, y: Float32Array, grad: Float32Array, cols: number): boolean {
  const rows = hotCols.length;
  const n = rows * cols;
  const colsAt = dataAt + ((n + 3) & ~3);
  const valuesAt = colsAt + ((rows + 3) & ~3); // in floats, a multiple of 4
  const resident = residentOutput === y;
  const h = reserve(valuesAt - dataAt + 2 * rows);
  if (h === null) return false;
  const buffer = exportsOf!.memory.buffer;
  if (!resident) h.set(y.subarray(0, n), dataAt);
  new Int32Array(buffer, colsAt * 4, rows).set(hotCols);
  new Float64Array(buffer, valuesAt * 4, rows).set(values.subarray(0, rows));
  exportsOf!.logSoftmaxOneHotBackward32(dataAt * 4, colsAt * 4, valuesAt * 4, dataAt * 4, rows, cols);
  grad.set(h.subarray(dataAt, dataAt + n));
  return true;
}

/**
 * BCEWithLogits without weights: returns the float64 sum of the losses, writing the per-element
 * losses to `losses` and round(scale * round(sigmoid(x) - y)) to `grad` when given; null when the
 * data do not fit.
 */
export function bceWithLogitsWasm(x: Float32Array, y: Float32Array, losses: Float32Array | null, grad: Float32Array | null, scale: number): number | null {
  const n = x.length;
  const yAt = dataAt + ((n + 3) & ~3);
  const h = reserve(yAt - dataAt + n);
  if (h === null) return null;
  h.set(x, dataAt);
  h.set(y.subarray(0, n), yAt);
  const sum = exportsOf!.bceWithLogits32(dataAt * 4, yAt * 4, n, losses ? 1 : 0, grad ? 1 : 0, scale);
  if (losses) losses.set(h.subarray(dataAt, dataAt + n));
  if (grad) grad.set(h.subarray(yAt, yAt + n));
  return sum;
}
