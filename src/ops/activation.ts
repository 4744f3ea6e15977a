/**
 * Activations: sigmoid, tanh, relu, softmax and log-softmax. Each op checks its input, runs its
 * kernel (kernels/pointwise.ts, softmax.ts, log-softmax.ts: loops in doubles, stored once in the
 * output's dtype; log-softmax on WebAssembly for large float32 rows) and records a backward that
 * uses only the saved output, as PyTorch's do.
 */
import { type DType, type TypedArray, allocate, floatOf, isFloating, scalarTypeName } from "../dtype";
import { normalizeDim, numelOf } from "../shape";
import { freshGradient, record } from "../autograd/node";
import type { OneHotRowsGrad } from "../autograd/sparse";
import { Tensor } from "../tensor-core";
import type { Lanes } from "../kernels/lanes";
import { logSoftmaxBackward, logSoftmaxForward, logSoftmaxOneHotBackward } from "../kernels/log-softmax";
import { reluBackward, reluForward, sigmoidBackward, sigmoidForward, tanhBackward, tanhForward } from "../kernels/pointwise";
import { softmaxBackward, softmaxForward } from "../kernels/softmax";

/** A contiguous tensor of `shape` over freshly computed values. */
function wrap(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return Tensor.fromArray(values, shape, dtype);
}

/** A backward result over freshly allocated `values`, marked so that a leaf may keep it uncopied. */
function gradientOf(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return freshGradient(wrap(values, shape, dtype));
}

export function sigmoid(x: Tensor): Tensor {
  const dtype = floatOf(x.dtype);
  const src = x.toArray();
  const out = allocate(dtype, src.length);
  sigmoidForward(src, out);
  const y = wrap(out, x.shape, dtype);
  return record(
    "SigmoidBackward0",
    y,
    [x],
    (g) => {
      const grad = allocate(dtype, out.length);
      sigmoidBackward(g.toArray(), out, grad);
      return [gradientOf(grad, y.shape, dtype)];
    },
    { saved: [y] },
  );
}

export function tanh(x: Tensor): Tensor {
  const dtype = floatOf(x.dtype);
  const src = x.toArray();
  const out = allocate(dtype, src.length);
  tanhForward(src, out);
  const y = wrap(out, x.shape, dtype);
  return record(
    "TanhBackward0",
    y,
    [x],
    (g) => {
      const grad = allocate(dtype, out.length);
      tanhBackward(g.toArray(), out, grad);
      return [gradientOf(grad, y.shape, dtype)];
    },
    { saved: [y] },
  );
}

/** max(x, 0), NaN passing through; the gradient is cut where the output is <= 0 (PyTorch's threshold_backward). */
export function relu(x: Tensor): Tensor {
  if (x.dtype === "bool") throw new Error(`"clamp_min_scalar_cpu" not implemented for 'Bool'`);
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  reluForward(src, out);
  const y = wrap(out, x.shape, x.dtype);
  return record(
    "ReluBackward0",
    y,
    [x],
    (g) => {
      const grad = allocate(x.dtype, out.length);
      reluBackward(g.toArray(), out, grad);
      return [gradientOf(grad, y.shape, x.dtype)];
    },
    { saved: [y] },
  );
}

/**
 * The lanes of a softmax over `dim` (kernels/lanes.ts), after PyTorch's dtype check: `outer`
 * blocks of `inner` lanes of `size` values; a 0-d tensor is one lane of one value.
 */
function lanesOf(x: Tensor, dim: number, name: string): Lanes {
  if (!isFloating(x.dtype)) {
    throw new Error(`"${name}_lastdim_kernel_impl" not implemented for '${scalarTypeName(x.dtype)}'`);
  }
  const d = normalizeDim(dim, x.ndim);
  const shape = x.shape;
  if (shape.length === 0) return { outer: 1, size: 1, inner: 1 };
  return { outer: numelOf(shape.slice(0, d)), size: shape[d], inner: numelOf(shape.slice(d + 1)) };
}

/** exp(x - m) / sum(exp(x - m)) along `dim` (m the maximum): ±1e30 never overflows; a lane of only -inf gives NaN. */
export function softmax(x: Tensor, dim: number): Tensor {
  const lanes = lanesOf(x, dim, "softmax");
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  softmaxForward(src, out, lanes);
  const y = wrap(out, x.shape, x.dtype);
  return record(
    "SoftmaxBackward0",
    y,
    [x],
    (g) => {
      const grad = allocate(x.dtype, out.length);
      softmaxBackward(g.toArray(), out, grad, lanes);
      return [gradientOf(grad, y.shape, x.dtype)];
    },
    { saved: [y] },
  );
}

/** (x - m) - log(sum(exp(x - m))) along `dim`: finite for any finite logits. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const lanes = lanesOf(x, dim, "log_softmax");
  const src = x.toArray();
  const out = allocate(x.dtype, src.length);
  logSoftmaxForward(src, out, lanes);
  const y = wrap(out, x.shape, x.dtype);
  // dx = g - exp(y) * sum(g) along the lane.
  const backward = (g: Tensor): Tensor[] => {
    const grad = allocate(x.dtype, out.length);
    logSoftmaxBackward(g.toArray(), out, grad, lanes);
    return [gradientOf(grad, y.shape, x.dtype)];
  };
  // Cross entropy: NLL's gradient arrives as one value per row (when nothing else looks at it).
  const oneHotBackward = (hot: OneHotRowsGrad): Tensor[] => {
    if (lanes.inner !== 1 || hot.cols.length * lanes.size !== out.length) return backward(hot.dense());
    const grad = allocate(x.dtype, out.length);
    logSoftmaxOneHotBackward(hot.cols, hot.values, out, grad, lanes.size);
    return [gradientOf(grad, y.shape, x.dtype)];
  };
  return record("LogSoftmaxBackward0", y, [x], backward, { oneHotBackward, saved: [y] });
}
