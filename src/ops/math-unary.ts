/**
 * Element-wise math beyond elementwise.ts: trigonometry, logarithms and exponentials, powers,
 * rounding and erf. Each op maps a contiguous copy of its input in doubles and stores once in the
 * output's dtype; its backward is PyTorch's formula (derivatives.yaml) written in ops, so that it
 * can be differentiated again. sign and the rounding ops have PyTorch's zero gradient.
 */
import { type DType, allocate, floatOf, scalarTypeName } from "../dtype";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { mapUnary, pow } from "./elementwise";
import { tensorArg } from "../arguments";

/** PyTorch's message for an argument that should be a tensor: `sin(): argument 'input' (position 1) must be Tensor, not number`. */
export const expectTensor: (x: unknown, fn: string, arg?: string, position?: number) => asserts x is Tensor = tensorArg;

/** A tensor of zeros shaped and typed like `t` (no graph). */
export function zerosFrom(t: Tensor): Tensor {
  return Tensor.fromArray(allocate(t.dtype, t.numel()), t.shape, t.dtype);
}

/** `fn` applied to every value of `x`, in doubles, stored as `dtype`. */
function map(x: Tensor, dtype: DType, fn: (v: number) => number): Tensor {
  return mapUnary(x, dtype, (v) => fn(v));
}

/** A float function of `x`: integer and bool inputs give float32, as PyTorch promotes them. */
function floatMap(x: Tensor, name: string, fn: (v: number) => number): Tensor {
  expectTensor(x, name);
  return map(x, floatOf(x.dtype), fn);
}

export function sin(x: Tensor): Tensor {
  const out = floatMap(x, "sin", Math.sin);
  return record("SinBackward0", out, [x], (g) => [g.mul(cos(x))], { saved: [x] });
}

export function cos(x: Tensor): Tensor {
  const out = floatMap(x, "cos", Math.cos);
  return record("CosBackward0", out, [x], (g) => [g.mul(sin(x).neg())], { saved: [x] });
}

export function tan(x: Tensor): Tensor {
  const out = floatMap(x, "tan", Math.tan);
  // d tan = 1 + tan^2, read from the output.
  return record("TanBackward0", out, [x], (g) => [g.mul(out.pow(2).add(1))], { saved: [out] });
}

export function log1p(x: Tensor): Tensor {
  const out = floatMap(x, "log1p", Math.log1p);
  return record("Log1PBackward0", out, [x], (g) => [g.div(x.add(1))], { saved: [x] });
}

export function expm1(x: Tensor): Tensor {
  const out = floatMap(x, "expm1", Math.expm1);
  return record("Expm1Backward0", out, [x], (g) => [g.mul(out.add(1))], { saved: [out] });
}

export function log2(x: Tensor): Tensor {
  const out = floatMap(x, "log2", Math.log2);
  return record("Log2Backward0", out, [x], (g) => [g.div(x.mul(Math.LN2))], { saved: [x] });
}

export function log10(x: Tensor): Tensor {
  const out = floatMap(x, "log10", Math.log10);
  return record("Log10Backward0", out, [x], (g) => [g.div(x.mul(Math.LN10))], { saved: [x] });
}

/** x * x, which PyTorch computes as pow(x, 2): integers stay integers, bool gives int64, PowBackward0. */
export function square(x: Tensor): Tensor {
  expectTensor(x, "square");
  return pow(x, 2);
}

export function reciprocal(x: Tensor): Tensor {
  const out = floatMap(x, "reciprocal", (v) => 1 / v);
  return record("ReciprocalBackward0", out, [x], (g) => [g.neg().mul(out.mul(out))], { saved: [out] });
}

export function rsqrt(x: Tensor): Tensor {
  const out = floatMap(x, "rsqrt", (v) => 1 / Math.sqrt(v));
  return record("RsqrtBackward0", out, [x], (g) => [g.mul(-0.5).mul(out.pow(3))], { saved: [out] });
}

/**
 * An op whose derivative is zero wherever it exists (sign, floor, ...): PyTorch's backward is
 * zeros_like(grad), a fresh tensor with no history, and the node holds no tensor.
 */
function piecewiseConstant(name: string, x: Tensor, out: Tensor): Tensor {
  return record(name, out, [x], (g) => [zerosFrom(g)], { savesTensors: false });
}

/** -1, 0 or 1 in the input's dtype; NaN and -0 give 0, as `(0 < x) - (x < 0)` does. */
export function sign(x: Tensor): Tensor {
  expectTensor(x, "sign");
  const out = map(x, x.dtype, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0));
  return piecewiseConstant("SignBackward0", x, out);
}

/** A rounding op: float inputs rounded, integers copied, bool refused in PyTorch's words. */
function rounding(x: Tensor, name: string, fn: (v: number) => number): Tensor {
  expectTensor(x, name);
  if (x.dtype === "bool") throw new Error(`"${name}_vml_cpu" not implemented for '${scalarTypeName(x.dtype)}'`);
  const title = name[0].toUpperCase() + name.slice(1);
  return piecewiseConstant(`${title}Backward0`, x, map(x, x.dtype, fn));
}

export function floor(x: Tensor): Tensor {
  return rounding(x, "floor", Math.floor);
}

export function ceil(x: Tensor): Tensor {
  return rounding(x, "ceil", Math.ceil);
}

export function trunc(x: Tensor): Tensor {
  return rounding(x, "trunc", Math.trunc);
}

/** Round half to even (C's nearbyint), as PyTorch does: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // halves go up here
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function round(x: Tensor): Tensor {
  return rounding(x, "round", roundHalfEven);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf in double precision (JavaScript has none). Below 2.5 a series whose terms are all
 * positive, so nothing cancels: erf(a) = 2/sqrt(pi) e^(-a^2) sum_n (2a^2)^n a / (1*3*...*(2n+1)).
 * From 2.5, 1 - erfc(a) with erfc's continued fraction; from 6, erfc is below half an ulp of 1.
 */
export function erfValue(x: number): number {
  if (x === 0 || Number.isNaN(x)) return x; // keeps -0
  const a = Math.abs(x);
  const value = a >= 6 ? 1 : a < 2.5 ? erfSeries(a) : 1 - erfcFraction(a);
  return x < 0 ? -value : value;
}

function erfSeries(a: number): number {
  const ratio = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= ratio / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
}

/** erfc(a) = e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from depth 60 up. */
function erfcFraction(a: number): number {
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

export function erf(x: Tensor): Tensor {
  const out = floatMap(x, "erf", erfValue);
  // 2/sqrt(pi) * exp(-x^2) * grad, in PyTorch's order.
  return record("ErfBackward0", out, [x], (g) => [x.pow(2).neg().exp().mul(TWO_OVER_SQRT_PI).mul(g)], { saved: [x] });
}
