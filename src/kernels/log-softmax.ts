/**
 * Log-softmax along lanes (kernels/lanes.ts): the forward, the backward, and the backward after
 * NLL's one-hot gradient (cross entropy's). Each is one function that runs the WebAssembly kernel
 * (assembly/log-softmax.as.ts) on float32 rows (the dim last) of at least the element threshold
 * when the module loads, and these TypeScript loops otherwise.
 *
 * Both sum in float64 and round each result to float32 once; the wasm kernel's exp runs in
 * float32 lanes within about an ulp, so the two agree to float32 rounding, with NaN and infinities
 * in the same places (tests/wasm-kernels.test.ts).
 */
import type { TypedArray } from "../dtype";
import { type Lanes, forEachLane, laneMax } from "./lanes";
import { isResident, keepResident, kernelModule, reserve, wasmForElements } from "./wasm";

/**
 * log softmax(x)_j = (x_j - m) - log(sum_k exp(x_k - m)) along each lane, m the lane maximum:
 * finite for any finite logits. The subtraction goes in that order so that log(sum) is not lost
 * against m = 1e30.
 */
export function logSoftmaxForward(src: TypedArray, out: TypedArray, lanes: Lanes): void {
  if (rowsOnWasm(lanes.inner, src, out) && forwardOnWasm(src as Float32Array, out as Float32Array, lanes.outer, lanes.size)) return;
  const step = lanes.inner;
  const size = lanes.size;
  if (step === 1) {
    // The common case (classes last): contiguous rows, no per-lane closure.
    for (let base = 0; base < src.length; base += size) {
      const m = laneMax(src, base, 1, size);
      let s = 0;
      for (let p = base; p < base + size; p++) s += Math.exp(src[p] - m);
      const logS = Math.log(s);
      for (let p = base; p < base + size; p++) out[p] = src[p] - m - logS;
    }
    return;
  }
  forEachLane(lanes, (base) => {
    const m = laneMax(src, base, step, size);
    let s = 0;
    for (let j = 0, p = base; j < size; j++, p += step) s += Math.exp(src[p] - m);
    const logS = Math.log(s);
    for (let j = 0, p = base; j < size; j++, p += step) out[p] = src[p] - m - logS;
  });
}

/** grad = g - exp(y) * sum(g) along each lane, from the forward's output y. */
export function logSoftmaxBackward(g: TypedArray, y: TypedArray, grad: TypedArray, lanes: Lanes): void {
  if (
    rowsOnWasm(lanes.inner, y, grad) &&
    g instanceof Float32Array &&
    backwardOnWasm(g, y as Float32Array, grad as Float32Array, lanes.outer, lanes.size)
  )
    return;
  const step = lanes.inner;
  const size = lanes.size;
  forEachLane(lanes, (base) => {
    let s = 0;
    for (let j = 0, p = base; j < size; j++, p += step) s += g[p];
    for (let j = 0, p = base; j < size; j++, p += step) grad[p] = g[p] - Math.exp(y[p]) * s;
  });
}

/**
 * The backward along contiguous rows of `size` when the upstream gradient comes from NLL: row r
 * of g is zero except v = values[r] at column cols[r] (`OneHotRowsGrad`), so sum(g) = v and the
 * row is 0 - exp(y) * v, plus v at that column: the same arithmetic as the dense loop, without
 * reading the N * C zeros. Rows NLL ignored (cols[r] < 0) get 0 - exp(y) * 0, so that a NaN row
 * stays NaN as before.
 */
export function logSoftmaxOneHotBackward(cols: Int32Array, values: Float64Array, y: TypedArray, grad: TypedArray, size: number): void {
  if (rowsOnWasm(1, y, grad) && oneHotBackwardOnWasm(cols, values, y as Float32Array, grad as Float32Array, size)) return;
  for (let r = 0, base = 0; r < cols.length; r++, base += size) {
    const c = cols[r];
    const v = c < 0 ? 0 : values[r];
    for (let j = base; j < base + size; j++) grad[j] = 0 - Math.exp(y[j]) * v;
    if (c >= 0) grad[base + c] = v - Math.exp(y[base + c]) * v;
  }
}

// ---- WebAssembly ------------------------------------------------------------------------------
// Each copies its operands to the module's memory, runs in place there and copies the result out.

/** Whether float32 rows (lanes with `inner` 1: the dim last) of these arrays go to the wasm kernel. */
function rowsOnWasm(inner: number, a: TypedArray, b: TypedArray): boolean {
  return inner === 1 && a instanceof Float32Array && b instanceof Float32Array && wasmForElements(a.length);
}

/**
 * out = log_softmax(src) along `rows` contiguous rows of `cols` values. Returns false, computing
 * nothing, when the data do not fit in memory. The output stays in the module's memory for the
 * backward that usually follows (cross entropy's), which then need not copy it in again.
 */
function forwardOnWasm(src: Float32Array, out: Float32Array, rows: number, cols: number): boolean {
  const n = rows * cols;
  const heap = reserve(n);
  if (heap === null) return false;
  const { exports, dataAt } = kernelModule();
  const h = heap.heap32;
  h.set(src.subarray(0, n), dataAt);
  exports.logSoftmaxRows32(dataAt * 4, dataAt * 4, rows, cols);
  out.set(h.subarray(dataAt, dataAt + n));
  keepResident(out);
  return true;
}

/** grad = g - exp(y) * sum(g) along each row (see `forwardOnWasm`). */
function backwardOnWasm(g: Float32Array, y: Float32Array, grad: Float32Array, rows: number, cols: number): boolean {
  const n = rows * cols;
  const { exports, dataAt } = kernelModule();
  const yAt = dataAt + ((n + 3) & ~3);
  const heap = reserve(yAt - dataAt + n);
  if (heap === null) return false;
  const h = heap.heap32;
  h.set(g.subarray(0, n), dataAt);
  h.set(y.subarray(0, n), yAt);
  exports.logSoftmaxBackwardRows32(dataAt * 4, yAt * 4, dataAt * 4, rows, cols);
  grad.set(h.subarray(dataAt, dataAt + n));
  return true;
}

/** The one-hot-upstream backward (see `logSoftmaxOneHotBackward`), reading y in place when the forward left it there. */
function oneHotBackwardOnWasm(hotCols: Int32Array, values: Float64Array, y: Float32Array, grad: Float32Array, cols: number): boolean {
  const rows = hotCols.length;
  const n = rows * cols;
  const { exports, dataAt } = kernelModule();
  const colsAt = dataAt + ((n + 3) & ~3);
  const valuesAt = colsAt + ((rows + 3) & ~3); // in floats, a multiple of 4
  const resident = isResident(y); // asked before `reserve`, which forgets it
  const heap = reserve(valuesAt - dataAt + 2 * rows);
  if (heap === null) return false;
  const h = heap.heap32;
  const buffer = exports.memory.buffer;
  if (!resident) h.set(y.subarray(0, n), dataAt);
  new Int32Array(buffer, colsAt * 4, rows).set(hotCols);
  new Float64Array(buffer, valuesAt * 4, rows).set(values.subarray(0, rows));
  exports.logSoftmaxOneHotBackward32(dataAt * 4, colsAt * 4, valuesAt * 4, dataAt * 4, rows, cols);
  grad.set(h.subarray(dataAt, dataAt + n));
  return true;
}
