/**
 * Activations: sigmoid, tanh, relu, softmax and log-softmax. Each kernel is a plain loop over
 * the input's row-major values, computed in doubles and stored once in the output's dtype; each
 * backward uses only the saved output, as PyTorch's do. Log-softmax over the last dim of float32
 * input of at least 4096 elements runs on the WebAssembly kernel (src/kernels) when it loads.
 */
import { type DType, type TypedArray, allocate, floatOf, isFloating, scalarTypeName } from "../dtype";
import { normalizeDim, numelOf } from "../shape";
import { freshGradient, record } from "../autograd/node";
import type { OneHotRowsGrad } from "../autograd/sparse";
import { Tensor } from "../tensor-core";
import { logSoftmaxBackwardRowsWasm, logSoftmaxOneHotBackwardWasm, logSoftmaxRowsWasm, useWasmElementwise } from "../kernels/wasm-matmul";

/** A contiguous tensor of `shape` over freshly computed values. */
function wrap(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return Tensor.fromArray(values, shape, dtype);
}

/** A backward result over freshly allocated `values`, marked so that a leaf may keep it uncopied. */
function gradientOf(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return freshGradient(wrap(values, shape, dtype));
}

/** The logistic function, never taking exp of a large positive number (so ±1e30 stays finite). */
export function stableSigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v); // v < 0 here, so e is in (0, 1)
  return e / (1 + e);
}

export function sigmoid(x: Tensor): Tensor {
  const src = x.toArray();
  const dtype = floatOf(x.dtype);
  const out = allocate(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = stableSigmoid(src[i]);
  const y = wrap(out, x.shape, dtype);
  return record("SigmoidBackward0", y, [x], (g) => {
    const gv = g.toArray();
    const grad = allocate(dtype, out.length);
    for (let i = 0; i < out.length; i++) grad[i] = gv[i] * (1 - out[i]) * out[i];
    return [gradientOf(grad, y.shape, dtype)];
  });
}

export function tanh(x: Tensor): Tensor {
  const src = x.toArray();
  const dtype = floatOf(x.dtype);
  const out = allocate(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.tanh(src[i]);
  const y = wrap(out, x.shape, dtype);
  return record("TanhBackward0", y, [x], (g) => {
    const gv = g.toArray();
    const grad = allocate(dtype, out.length);
    for (let i = 0; i < out.length; i++) grad[i] = gv[i] * (1 - out[i] * out[i]);
    return [gradientOf(grad, y.shape, dtype)];
  });
}

/** max(x, 0), NaN passing through; the gradient is cut where the output is <= 0 (PyTorch's threshold_backward). */
export function relu(x: Tensor): Tensor {
  if (x.dtype === "bool") throw new Error(`"clamp_min_scalar_cpu" not implemented for 'Bool'`);
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v > 0 || v !== v ? v : 0;
  }
  const y = wrap(out, x.shape, x.dtype);
  return record("ReluBackward0", y, [x], (g) => {
    const gv = g.toArray();
    const grad = allocate(x.dtype, out.length);
    for (let i = 0; i < out.length; i++) grad[i] = out[i] <= 0 ? 0 : gv[i];
    return [gradientOf(grad, y.shape, x.dtype)];
  });
}

/**
 * The geometry of a softmax over `dim`: `outer` blocks, each holding `inner` lanes of `size`
 * values that sit `inner` apart in row-major order. When `dim` is last, `inner` is 1 and every
 * lane is a contiguous row.
 */
interface Lanes {
  outer: number;
  size: number;
  inner: number;
}

function lanesOf(x: Tensor, dim: number, name: string): Lanes {
  if (!isFloating(x.dtype)) {
    throw new Error(`"${name}_lastdim_kernel_impl" not implemented for '${scalarTypeName(x.dtype)}'`);
  }
  const d = normalizeDim(dim, x.ndim);
  const shape = x.shape;
  if (shape.length === 0) return { outer: 1, size: 1, inner: 1 }; // a 0-d tensor is one lane of one value
  return { outer: numelOf(shape.slice(0, d)), size: shape[d], inner: numelOf(shape.slice(d + 1)) };
}

/** Calls `fn(base)` for the first element of every lane; the lane's elements are `base + j * inner`. */
function forEachLane(l: Lanes, fn: (base: number) => void): void {
  const block = l.size * l.inner;
  for (let o = 0; o < l.outer; o++) {
    for (let i = 0; i < l.inner; i++) fn(o * block + i);
  }
}

/** The largest value of a lane; NaN wins, so that a NaN row gives NaN (as in PyTorch). */
function laneMax(src: TypedArray, base: number, step: number, size: number): number {
  let m = -Infinity;
  for (let j = 0, p = base; j < size; j++, p += step) {
    const v = src[p];
    if (v > m || v !== v) m = v;
    if (m !== m) break;
  }
  return m;
}

/**
 * softmax(x)_j = exp(x_j - m) / sum_k exp(x_k - m), with m the lane maximum, so that logits of
 * ±1000 or ±1e30 never overflow. A -inf entry gets 0; a lane of only -inf gives NaN, as PyTorch.
 */
export function softmax(x: Tensor, dim: number): Tensor {
  const lanes = lanesOf(x, dim, "softmax");
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  const step = lanes.inner;
  const size = lanes.size;
  const scratch = new Float64Array(size); // one lane of exps, so each output rounds only once
  forEachLane(lanes, (base) => {
    const m = laneMax(src, base, step, size);
    let s = 0;
    for (let j = 0, p = base; j < size; j++, p += step) {
      const e = Math.exp(src[p] - m);
      scratch[j] = e;
      s += e;
    }
    for (let j = 0, p = base; j < size; j++, p += step) out[p] = scratch[j] / s;
  });
  const y = wrap(out, x.shape, x.dtype);
  return record("SoftmaxBackward0", y, [x], (g) => {
    // dx = y * (g - sum(g * y)) along the lane.
    const gv = g.toArray();
    const grad = allocate(x.dtype, out.length);
    forEachLane(lanes, (base) => {
      let dot = 0;
      for (let j = 0, p = base; j < size; j++, p += step) dot += gv[p] * out[p];
      for (let j = 0, p = base; j < size; j++, p += step) grad[p] = out[p] * (gv[p] - dot);
    });
    return [gradientOf(grad, y.shape, x.dtype)];
  });
}

/**
 * log softmax(x)_j = (x_j - m) - log(sum_k exp(x_k - m)): finite for any finite logits. The
 * subtraction goes in that order so that log(sum) is not lost against m = 1e30.
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const lanes = lanesOf(x, dim, "log_softmax");
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  // Float32 rows (classes last) of enough elements go to the WebAssembly kernel, same arithmetic.
  const onWasm = lanes.inner === 1 && src instanceof Float32Array && useWasmElementwise(src.length);
  if (!(onWasm && logSoftmaxRowsWasm(src, out as Float32Array, lanes.outer, lanes.size))) logSoftmaxInto(src, out, lanes);
  const y = wrap(out, x.shape, x.dtype);
  const backward = (g: Tensor): Tensor[] => {
    // dx = g - exp(y) * sum(g) along the lane.
    const grad = allocate(x.dtype, out.length);
    const gv = g.toArray();
    if (onWasm && gv instanceof Float32Array && logSoftmaxBackwardRowsWasm(gv, out as Float32Array, grad as Float32Array, lanes.outer, lanes.size)) {
      return [gradientOf(grad, y.shape, x.dtype)];
    }
    const step = lanes.inner;
    const size = lanes.size;
    forEachLane(lanes, (base) => {
      let s = 0;
      for (let j = 0, p = base; j < size; j++, p += step) s += gv[p];
      for (let j = 0, p = base; j < size; j++, p += step) grad[p] = gv[p] - Math.exp(out[p]) * s;
    });
    return [gradientOf(grad, y.shape, x.dtype)];
  };
  // Cross entropy: NLL's gradient arrives as one value per row (when nothing else looks at it).
  const oneHotBackward = (hot: OneHotRowsGrad): Tensor[] => {
    if (lanes.inner !== 1 || hot.cols.length * lanes.size !== out.length) return backward(hot.dense());
    const grad = allocate(x.dtype, out.length);
    if (!(onWasm && logSoftmaxOneHotBackwardWasm(hot.cols, hot.values, out as Float32Array, grad as Float32Array, lanes.size))) {
      oneHotLogSoftmaxBackward(hot.cols, hot.values, out, grad, lanes.size);
    }
    return [gradientOf(grad, y.shape, x.dtype)];
  };
  return record("LogSoftmaxBackward0", y, [x], backward, { oneHotBackward });
}

/**
 * The log-softmax backward when the upstream gradient comes from NLL: row r of g is zero except
 * v = values[r] at column cols[r] (`OneHotRowsGrad`), so sum(g) = v and the row is 0 - exp(y) * v,
 * plus v at that column: the same arithmetic as the dense loop, without reading the N * C zeros.
 * Rows NLL ignored (cols[r] < 0) get 0 - exp(y) * 0, so that a NaN row stays NaN as before.
 */
function oneHotLogSoftmaxBackward(cols: Int32Array, values: Float64Array, out: TypedArray, grad: TypedArray, size: number): void {
  for (let r = 0, base = 0; r < cols.length; r++, base += size) {
    const c = cols[r];
    const v = c < 0 ? 0 : values[r];
    for (let j = base; j < base + size; j++) grad[j] = 0 - Math.exp(out[j]) * v;
    if (c >= 0) grad[base + c] = v - Math.exp(out[base + c]) * v;
  }
}

function logSoftmaxInto(src: TypedArray, out: TypedArray, lanes: Lanes): void {
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
