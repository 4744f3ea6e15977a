/**
 * Activations: sigmoid, tanh, relu, softmax and log-softmax. Each op checks its input, runs its
 * kernel (kernels/pointwise.ts, softmax.ts, log-softmax.ts: loops in doubles, stored once in the
 * output's dtype; log-softmax on WebAssembly for large float32 rows) and records a backward that
 * uses only the saved output, as PyTorch's do.
 *
 * Each backward is itself an op of (upstream g, output y), as in PyTorch (`sigmoid_backward`,
 * `threshold_backward`, `_softmax_backward_data`, ...): the same kernel, recorded under PyTorch's
 * name (SigmoidBackwardBackward0, ...) with a backward of its own written in ops. An ordinary
 * backward runs without grad mode, so nothing is recorded and the kernel's result is all there
 * is; with createGraph the gradient joins the graph and can be differentiated again.
 */
import { type DType, type TypedArray, allocate, floatOf, isFloating, scalarTypeName } from "../dtype";
import { normalizeDim, numelOf } from "../shape";
import { freshGradient, record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import type { OneHotRowsGrad } from "../autograd/sparse";
import { Tensor } from "../tensor-core";
import type { Lanes } from "../kernels/lanes";
import { logSoftmaxBackward, logSoftmaxForward, logSoftmaxOneHotBackward } from "../kernels/log-softmax";
import { reluBackward, reluForward, sigmoidBackward, sigmoidForward, tanhBackward, tanhForward } from "../kernels/pointwise";
import { softmaxBackward, softmaxForward } from "../kernels/softmax";
import { tensorArg } from "../arguments";

/** A contiguous tensor of `shape` over freshly computed values. */
function wrap(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return Tensor.fromArray(values, shape, dtype);
}

/** A backward result over freshly allocated `values`, marked so that a leaf may keep it uncopied. */
function gradientOf(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return freshGradient(wrap(values, shape, dtype));
}

type Kernel = (src: TypedArray, out: TypedArray) => void;
type BackwardKernel = (g: TypedArray, y: TypedArray, grad: TypedArray) => void;

/** `kernel` over x's values into a fresh tensor of x's shape and `dtype`. */
function mapped(x: Tensor, dtype: DType, kernel: Kernel): Tensor {
  const src = x.toArray();
  const out = allocate(dtype, src.length);
  kernel(src, out);
  return wrap(out, x.shape, dtype);
}

/** A backward kernel over (g, y) into a fresh gradient of y's shape and dtype. */
function kernelGradient(kernel: BackwardKernel, g: Tensor, y: Tensor): Tensor {
  const grad = allocate(y.dtype, y.numel());
  kernel(g.toArray(), y.toArray(), grad);
  return gradientOf(grad, y.shape, y.dtype);
}

/**
 * A backward as an op of (g, y): `kernel`'s gradient recorded as `name`, whose own backward
 * `derivatives` gives the gradients with respect to g and y.
 */
function backwardOp(
  name: string,
  kernel: BackwardKernel,
  g: Tensor,
  y: Tensor,
  derivatives: (gg: Tensor) => [Tensor, Tensor],
  saved: Tensor[] = [g, y],
): Tensor {
  return record(name, kernelGradient(kernel, g, y), [g, y], derivatives, { saved });
}

/** The zero gradient of `t`: what PyTorch returns where a backward's result does not depend on an input. */
function zerosOf(t: Tensor): Tensor {
  return wrap(allocate(t.dtype, t.numel()), t.shape, t.dtype);
}

// ---- pointwise ------------------------------------------------------------------------------

export function sigmoid(x: Tensor): Tensor {
  tensorArg(x, "sigmoid");
  const y = mapped(x, floatOf(x.dtype), sigmoidForward);
  return record("SigmoidBackward0", y, [x], (g) => [sigmoidGrad(g, y)], { saved: [y] });
}

/** sigmoid_backward: g * (1 - y) * y; d/dy = g * (1 - 2y). */
function sigmoidGrad(g: Tensor, y: Tensor): Tensor {
  return backwardOp("SigmoidBackwardBackward0", sigmoidBackward, g, y, (gg) => [sigmoidGrad(gg, y), gg.mul(g).mul(y.mul(-2).add(1))]);
}

export function tanh(x: Tensor): Tensor {
  tensorArg(x, "tanh");
  const y = mapped(x, floatOf(x.dtype), tanhForward);
  return record("TanhBackward0", y, [x], (g) => [tanhGrad(g, y)], { saved: [y] });
}

/** tanh_backward: g * (1 - y^2); d/dy = -2 * y * g. */
function tanhGrad(g: Tensor, y: Tensor): Tensor {
  return backwardOp("TanhBackwardBackward0", tanhBackward, g, y, (gg) => [tanhGrad(gg, y), gg.mul(y.mul(-2).mul(g))]);
}

/** max(x, 0), NaN passing through; the gradient is cut where the output is <= 0 (PyTorch's threshold_backward). */
export function relu(x: Tensor): Tensor {
  tensorArg(x, "relu");
  if (x.dtype === "bool") throw new Error(`"clamp_min_scalar_cpu" not implemented for 'Bool'`);
  const y = mapped(x, x.dtype, reluForward);
  return record("ReluBackward0", y, [x], (g) => [thresholdGrad(g, y)], { saved: [y] });
}

/** threshold_backward: g where y > 0, else 0; piecewise constant in y, so y's gradient is zeros (as in PyTorch). */
function thresholdGrad(g: Tensor, y: Tensor): Tensor {
  return backwardOp("ThresholdBackwardBackward0", reluBackward, g, y, (gg) => [thresholdGrad(gg, y), zerosOf(y)], [y]);
}

// ---- softmax and log-softmax ----------------------------------------------------------------

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

/** Sums along the softmax's dim, kept for broadcasting (a 0-d tensor is its own lane). */
function laneSum(t: Tensor, dim: number): Tensor {
  return t.ndim === 0 ? t : t.sum(dim, true);
}

/** exp(x - m) / sum(exp(x - m)) along `dim` (m the maximum): ±1e30 never overflows; a lane of only -inf gives NaN. */
export function softmax(x: Tensor, dim: number): Tensor {
  tensorArg(x, "softmax");
  const lanes = lanesOf(x, dim, "softmax");
  const y = mapped(x, x.dtype, (src, out) => softmaxForward(src, out, lanes));
  return record("SoftmaxBackward0", y, [x], (g) => [softmaxGrad(g, y, dim, lanes)], { saved: [y] });
}

/**
 * _softmax_backward_data: y * (g - sum(g * y)) along the lane. Linear in g with a symmetric
 * Jacobian, so g's gradient is the same map of gg; y's is PyTorch's softmax_double_backward.
 */
function softmaxGrad(g: Tensor, y: Tensor, dim: number, lanes: Lanes): Tensor {
  const kernel: BackwardKernel = (gv, yv, out) => softmaxBackward(gv, yv, out, lanes);
  return backwardOp("SoftmaxBackwardDataBackward0", kernel, g, y, (gg) => [
    softmaxGrad(gg, y, dim, lanes),
    g
      .mul(gg)
      .sub(laneSum(y.mul(g), dim).mul(gg))
      .sub(g.mul(laneSum(y.mul(gg), dim))),
  ]);
}

/** (x - m) - log(sum(exp(x - m))) along `dim`: finite for any finite logits. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  tensorArg(x, "log_softmax");
  const lanes = lanesOf(x, dim, "log_softmax");
  const y = mapped(x, x.dtype, (src, out) => logSoftmaxForward(src, out, lanes));
  // Cross entropy: NLL's gradient arrives as one value per row (when nothing else looks at it,
  // which is never the case when the backward is recorded: NLL then sends a dense tensor).
  const oneHotBackward = (hot: OneHotRowsGrad): Tensor[] => {
    if (isGradEnabled() || lanes.inner !== 1 || hot.cols.length * lanes.size !== y.numel())
      return [logSoftmaxGrad(hot.dense(), y, dim, lanes)];
    const grad = allocate(x.dtype, y.numel());
    logSoftmaxOneHotBackward(hot.cols, hot.values, y.toArray(), grad, lanes.size);
    return [gradientOf(grad, y.shape, x.dtype)];
  };
  return record("LogSoftmaxBackward0", y, [x], (g) => [logSoftmaxGrad(g, y, dim, lanes)], { oneHotBackward, saved: [y] });
}

/** _log_softmax_backward_data: g - exp(y) * sum(g) along the lane; its derivatives are PyTorch's. */
function logSoftmaxGrad(g: Tensor, y: Tensor, dim: number, lanes: Lanes): Tensor {
  const kernel: BackwardKernel = (gv, yv, out) => logSoftmaxBackward(gv, yv, out, lanes);
  return backwardOp("LogSoftmaxBackwardDataBackward0", kernel, g, y, (gg) => [
    gg.sub(laneSum(gg.mul(y.exp()), dim)),
    laneSum(g, dim).neg().mul(y.exp()).mul(gg),
  ]);
}
