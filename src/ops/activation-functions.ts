/**
 * The activations of `nn.functional` beyond sigmoid/tanh/relu/softmax: softplus, gelu, leakyRelu,
 * elu, silu, logSigmoid, and `oneHot`. Values follow PyTorch's CPU kernels step by step: for
 * float32 every intermediate is rounded where PyTorch's float arithmetic rounds it (`r`), so
 * results match to the last bit wherever the libm functions agree.
 *
 * Each backward is PyTorch's own backward kernel made a recorded op (`SoftplusBackwardBackward0`,
 * ...), whose backward in turn is PyTorch's double-backward formula written in ops: gradients of
 * gradients work, as in PyTorch. silu, like PyTorch, uses the kernel for an ordinary backward and
 * the composed formula under createGraph.
 */
import { type TypedArray, allocate, isFloating, rounderFor, scalarTypeName } from "../dtype";
import { record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { Tensor } from "../tensor-core";
import { checkOptions } from "../options";
import { intArg, numberArg } from "../arguments";
import { mapUnary } from "./elementwise";
import { erfValue, expectTensor, zerosFrom } from "./math-unary";

type Round = (v: number) => number;

/** The input checks every activation here shares: a tensor, of a floating dtype (PyTorch names its kernel). */
function floatInput(x: unknown, fn: string, kernel: string): Round {
  expectTensor(x, fn);
  if (!isFloating(x.dtype)) throw new Error(`"${kernel}" not implemented for '${scalarTypeName(x.dtype)}'`);
  return rounderFor(x.dtype);
}

/** `fn(v)` for every value of `x`, in x's dtype. */
function each(x: Tensor, fn: (v: number) => number): Tensor {
  return mapUnary(x, x.dtype, (v) => fn(v));
}

/** `fn(g, x, i)` pointwise, for a backward kernel: `g` is read broadcast to x's shape. */
function eachWithGrad(g: Tensor, x: Tensor, fn: (g: number, v: number, i: number) => number): Tensor {
  return mapUnary(x, x.dtype, (v, i, grads: TypedArray) => fn(grads[i], v, i), g);
}

/** A constant 0/1 tensor in x's dtype: 1 where `test` holds. */
function indicator(x: Tensor, test: (v: number) => boolean): Tensor {
  return each(x, (v) => (test(v) ? 1 : 0));
}

// ---- softplus -----------------------------------------------------------------------------

/** log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (so large inputs stay exact). */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const r = floatInput(x, "softplus", "softplus_cpu");
  numberArg(beta, "softplus", "beta", 2);
  numberArg(threshold, "softplus", "threshold", 3);
  const [b, t] = [r(beta), r(threshold)];
  const out = each(x, (v) => {
    const xb = r(v * b);
    return xb > t ? v : r(Math.log1p(r(Math.exp(xb)))) / b;
  });
  return record("SoftplusBackward0", out, [x], (g) => [softplusBackward(g, x, beta, threshold)], { saved: [x] });
}

/** g * sigmoid(beta x) (computed as z / (z + 1), z = exp(beta x)), g itself above the threshold. */
function softplusBackward(g: Tensor, x: Tensor, beta: number, threshold: number): Tensor {
  const r = rounderFor(x.dtype);
  const [b, t] = [r(beta), r(threshold)];
  const out = eachWithGrad(g, x, (gv, v) => {
    const xb = r(v * b);
    const z = r(Math.exp(xb));
    return xb > t ? gv : r(gv * z) / r(z + 1);
  });
  return record(
    "SoftplusBackwardBackward0",
    out,
    [g, x],
    (gg) => {
      // d/dx = g * sigmoid'(beta x) * beta below the threshold (PyTorch's softplus_double_backward).
      const y = x.mul(beta).sigmoid();
      const below = indicator(x, (v) => r(v * b) < t);
      return [softplusBackward(gg, x, beta, threshold), gg.mul(g).mul(y.neg().add(1)).mul(y).mul(below).mul(beta)];
    },
    { saved: [g, x] },
  );
}

// ---- gelu ---------------------------------------------------------------------------------

export interface GeluOptions {
  /** "none" (the default): x * Phi(x) with the exact normal CDF; "tanh": PyTorch's tanh approximation. */
  approximate?: "none" | "tanh";
}

const SQRT_2_OVER_PI = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
const PDF_SCALE = (2 / Math.sqrt(Math.PI)) * Math.SQRT1_2 * 0.5; // 1 / sqrt(2 pi)
const KAPPA = 0.044715;

export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkOptions("gelu", options, ["approximate"]);
  const approximate = options.approximate ?? "none";
  if (approximate !== "none" && approximate !== "tanh") throw new Error("approximate argument must be either none or tanh.");
  const r = floatInput(x, "gelu", "GeluKernelImpl");
  const out = each(x, (v) => (approximate === "tanh" ? geluTanh(v, r) : geluErf(v, r)));
  return record("GeluBackward0", out, [x], (g) => [geluBackward(g, x, approximate)], { saved: [x] });
}

/** x * 0.5 * (1 + erf(x / sqrt(2))). */
function geluErf(v: number, r: Round): number {
  return r(r(v * 0.5) * r(1 + r(erfValue(r(v * r(Math.SQRT1_2))))));
}

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanh(v: number, r: Round): number {
  const cube = r(r(v * v) * v);
  const inner = r(r(SQRT_2_OVER_PI) * r(v + r(r(KAPPA) * cube)));
  return r(r(0.5 * v) * r(1 + r(Math.tanh(inner))));
}

/** PyTorch's GeluBackwardKernelImpl for one value. */
function geluDerivative(v: number, approximate: "none" | "tanh", r: Round): number {
  if (approximate === "none") {
    const cdf = r(0.5 * r(1 + r(erfValue(r(v * r(Math.SQRT1_2))))));
    const pdf = r(r(PDF_SCALE) * r(Math.exp(r(r(v * v) * -0.5))));
    return r(cdf + r(v * pdf));
  }
  const beta = r(SQRT_2_OVER_PI);
  const square = r(v * v);
  const tanhInner = r(Math.tanh(r(beta * r(v + r(r(KAPPA) * r(square * v))))));
  const left = r(0.5 * v);
  const leftDerivative = r(0.5 * r(1 + tanhInner));
  const tanhDerivative = r(1 - r(tanhInner * tanhInner));
  const innerDerivative = r(beta * r(1 + r(r(3 * r(KAPPA)) * square)));
  return r(leftDerivative + r(r(left * tanhDerivative) * innerDerivative));
}

function geluBackward(g: Tensor, x: Tensor, approximate: "none" | "tanh"): Tensor {
  const r = rounderFor(x.dtype);
  const out = eachWithGrad(g, x, (gv, v) => r(gv * geluDerivative(v, approximate, r)));
  return record(
    "GeluBackwardBackward0",
    out,
    [g, x],
    (gg) => [geluBackward(gg, x, approximate), gg.mul(g).mul(geluSecondDerivative(x, approximate))],
    { saved: [g, x] },
  );
}

/** PyTorch's gelu_double_backward, without its ggI * gO factor: d/dx of the derivative, in ops. */
function geluSecondDerivative(x: Tensor, approximate: "none" | "tanh"): Tensor {
  if (approximate === "none") {
    const square = x.mul(x);
    const pdf = square.mul(-0.5).exp().mul(PDF_SCALE);
    return pdf.mul(2).sub(square.mul(pdf));
  }
  const tanhInner = x.add(x.pow(3).mul(KAPPA)).mul(SQRT_2_OVER_PI).tanh();
  const f = x.mul(0.5);
  const g = tanhInner.mul(tanhInner).neg().add(1); // sech^2 of the inner value
  const h = x
    .mul(x)
    .mul(3 * KAPPA)
    .add(1)
    .mul(SQRT_2_OVER_PI);
  const fPrimeGH = g.mul(h).mul(0.5);
  const gPrimeFH = f.mul(h).mul(g.mul(tanhInner).mul(h).mul(-2));
  const hPrimeFG = f.mul(g).mul(x.mul(6 * KAPPA * SQRT_2_OVER_PI));
  return fPrimeGH.add(fPrimeGH).add(gPrimeFH).add(hPrimeFG);
}

// ---- leakyRelu, elu -----------------------------------------------------------------------

/** x where x > 0, negativeSlope * x elsewhere (NaN and 0 take the slope's side, as in PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  const r = floatInput(x, "leaky_relu", "leaky_relu_cpu");
  numberArg(negativeSlope, "leaky_relu", "negative_slope", 2);
  const slope = r(negativeSlope);
  const out = each(x, (v) => (v > 0 ? v : r(v * slope)));
  return record("LeakyReluBackward0", out, [x], (g) => [leakyReluBackward(g, x, negativeSlope)], { saved: [x] });
}

/** g where x > 0, slope * g elsewhere; linear in g, so its derivative in x is zero (zeros_like in PyTorch). */
function leakyReluBackward(g: Tensor, x: Tensor, negativeSlope: number): Tensor {
  const r = rounderFor(x.dtype);
  const slope = r(negativeSlope);
  const out = eachWithGrad(g, x, (gv, v) => (v > 0 ? gv : r(gv * slope)));
  return record("LeakyReluBackwardBackward0", out, [g, x], (gg) => [leakyReluBackward(gg, x, negativeSlope), zerosFrom(x)], {
    saved: [x],
  });
}

/** x where x > 0, alpha * (exp(x) - 1) elsewhere (exp then minus one, as PyTorch's kernel computes it). */
export function elu(x: Tensor, alpha = 1): Tensor {
  const r = floatInput(x, "elu", "elu_cpu");
  numberArg(alpha, "elu", "alpha", 2);
  const a = r(alpha);
  const out = each(x, (v) => (v <= 0 ? r(r(r(Math.exp(v)) - 1) * a) : v));
  return record("EluBackward0", out, [x], (g) => [eluBackward(g, x, alpha)], { saved: [x] });
}

/** g * alpha * exp(x) where x <= 0, g elsewhere. */
function eluBackward(g: Tensor, x: Tensor, alpha: number): Tensor {
  const r = rounderFor(x.dtype);
  const a = r(alpha);
  const out = eachWithGrad(g, x, (gv, v) => (v <= 0 ? r(r(gv * a) * r(Math.exp(v))) : gv));
  return record(
    "EluBackwardBackward0",
    out,
    [g, x],
    // PyTorch's elu_double_backward: elu_backward(gg * g, x) where x <= 0, 0 elsewhere.
    (gg) => [eluBackward(gg, x, alpha), eluBackward(gg.mul(g), x, alpha).mul(indicator(x, (v) => v <= 0))],
    { saved: [g, x] },
  );
}

// ---- silu, logSigmoid ---------------------------------------------------------------------

/** x * sigmoid(x), computed as x / (1 + exp(-x)): -1000 gives -0, not NaN. */
export function silu(x: Tensor): Tensor {
  const r = floatInput(x, "silu", "silu_cpu");
  const out = each(x, (v) => r(v / r(1 + r(Math.exp(-v)))));
  return record("SiluBackward0", out, [x], (g) => [isGradEnabled() ? siluGradComposed(g, x) : siluGradKernel(g, x, r)], {
    saved: [x],
  });
}

/** g * s * (1 + x (1 - s)), s = sigmoid(x): PyTorch's silu_backward kernel. */
function siluGradKernel(g: Tensor, x: Tensor, r: Round): Tensor {
  return eachWithGrad(g, x, (gv, v) => {
    const s = r(1 / r(1 + r(Math.exp(-v))));
    return r(r(gv * s) * r(1 + r(v * r(1 - s))));
  });
}

/** The same formula in ops, which PyTorch uses when the backward is itself recorded. */
function siluGradComposed(g: Tensor, x: Tensor): Tensor {
  const s = x.sigmoid();
  return g.mul(s).mul(x.mul(s.neg().add(1)).add(1));
}

/**
 * log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): finite for any finite x (-1000 gives -1000,
 * 1000 gives 0). exp(-|x|) is kept for the backward, as PyTorch keeps its buffer.
 */
export function logSigmoid(x: Tensor): Tensor {
  const r = floatInput(x, "log_sigmoid", "log_sigmoid_cpu");
  const buffer = each(x, (v) => r(Math.exp(-Math.abs(v))));
  const out = mapUnary(x, x.dtype, (v, i, z) => r(Math.min(v, 0) - r(Math.log1p(z[i]))), buffer);
  return record("LogSigmoidBackward0", out, [x], (g) => [logSigmoidBackward(g, x, buffer)], { saved: [x] });
}

/** g * (1 - z / (1 + z)) for x < 0 and g * z / (1 + z) otherwise, z = exp(-|x|): sigmoid(-x) without overflow. */
function logSigmoidBackward(g: Tensor, x: Tensor, buffer: Tensor): Tensor {
  const r = rounderFor(x.dtype);
  const z = buffer.toArray();
  const out = eachWithGrad(g, x, (gv, v, i) => {
    const share = r(z[i] / r(1 + z[i]));
    return r((v < 0 ? r(1 - share) : share) * gv);
  });
  return record(
    "LogSigmoidBackwardBackward0",
    out,
    [g, x],
    (gg) => {
      // PyTorch's log_sigmoid_double_backward: grad * (s - 1) * s, s = sigmoid(x).
      const s = x.sigmoid();
      return [logSigmoidBackward(gg, x, buffer), gg.mul(g).mul(s.sub(1)).mul(s)];
    },
    { saved: [g, x] },
  );
}

// ---- oneHot -------------------------------------------------------------------------------

/**
 * int64 indices as one-hot rows: the result has one more dim, of size `numClasses` (one more
 * than the largest index when -1). PyTorch's checks and messages.
 */
export function oneHot(t: Tensor, numClasses = -1): Tensor {
  expectTensor(t, "one_hot");
  intArg(numClasses, "one_hot", "num_classes", 2);
  if (t.dtype !== "int64") throw new Error("one_hot is only applicable to index tensor.");
  const indices = t.toArray();
  if (indices.length === 0) {
    if (numClasses <= 0) throw new Error("Can not infer total number of classes from empty tensor.");
    return Tensor.fromArray(allocate("int64", 0), [...t.shape, numClasses], "int64");
  }
  let [lowest, highest] = [Infinity, -Infinity];
  for (let i = 0; i < indices.length; i++) [lowest, highest] = [Math.min(lowest, indices[i]), Math.max(highest, indices[i])];
  if (lowest < 0) throw new Error("Class values must be non-negative.");
  if (numClasses === -1) numClasses = highest + 1;
  else if (numClasses <= highest) throw new Error("Class values must be smaller than num_classes.");
  const out = allocate("int64", indices.length * numClasses);
  for (let i = 0; i < indices.length; i++) out[i * numClasses + indices[i]] = 1;
  return Tensor.fromArray(out, [...t.shape, numClasses], "int64");
}
