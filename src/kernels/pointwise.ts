/**
 * The pointwise activations, forward and backward: sigmoid, tanh and relu over row-major arrays,
 * computed in doubles and stored once in the output's type. Each backward reads only the forward's
 * output y, as PyTorch's do. TypeScript only.
 */
import type { TypedArray } from "../dtype";

/** The logistic function, never taking exp of a large positive number (so ±1e30 stays finite). */
export function stableSigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v); // v < 0 here, so e is in (0, 1)
  return e / (1 + e);
}

export function sigmoidForward(src: TypedArray, out: TypedArray): void {
  for (let i = 0; i < src.length; i++) out[i] = stableSigmoid(src[i]);
}

/** grad = g * (1 - y) * y. */
export function sigmoidBackward(g: TypedArray, y: TypedArray, grad: TypedArray): void {
  for (let i = 0; i < y.length; i++) grad[i] = g[i] * (1 - y[i]) * y[i];
}

export function tanhForward(src: TypedArray, out: TypedArray): void {
  // The inline tanh is within a few double ulps, which float32 rounding hides; a float64 result
  // keeps Math.tanh's last bits.
  if (out instanceof Float64Array) {
    for (let i = 0; i < src.length; i++) out[i] = Math.tanh(src[i]);
  } else {
    for (let i = 0; i < src.length; i++) out[i] = tanh(src[i]);
  }
}

// ---- tanh ---------------------------------------------------------------------------------
//
// Math.tanh is a call into V8's C library (about 10 ns); a small model spends a fifth of its step
// there. tanh below is computed inline from e^(2|x|) - 1, within a few double ulps of Math.tanh
// (so a float32 result is the same float; tests/pointwise-tanh.test.ts measures both):
//
//   y = 2|x| = k·ln2/32 + r, |r| <= ln2/64  (k·ln2/32 split in two parts, so r is nearly exact)
//   e^y - 1 = 2^(k/32) (1 + p) - 1, p = e^r - 1 by its Taylor series to r^6 (error < r^7/7! < 1e-17)
//   tanh(|x|) = (e^y - 1) / (e^y - 1 + 2)
//
// For k < 32, 2^(k/32) - 1 comes from its own table, so small results do not lose digits to
// the subtraction.

const EXP_STEP = Math.LN2 / 32;
const EXP_STEPS_PER_UNIT = 32 / Math.LN2;
/** EXP_STEP to 40 bits after the point: k·EXP_STEP_HI is exact for every k used (k < 2^11). */
const EXP_STEP_HI = Math.round(EXP_STEP * 2 ** 40) / 2 ** 40;
const EXP_STEP_LO = EXP_STEP - EXP_STEP_HI;
/** 2^(j/32) and 2^(j/32) - 1 for j < 32; 2^m for m < 64. */
const EXP2_FRACTION = Float64Array.from({ length: 32 }, (_, j) => Math.pow(2, j / 32));
const EXP2_FRACTION_M1 = Float64Array.from({ length: 32 }, (_, j) => Math.expm1(j * EXP_STEP));
const EXP2_WHOLE = Float64Array.from({ length: 64 }, (_, m) => Math.pow(2, m));

/** e^y - 1 for 0 <= y < 40. */
function expm1Below40(y: number): number {
  const k = Math.round(y * EXP_STEPS_PER_UNIT);
  const r = y - k * EXP_STEP_HI - k * EXP_STEP_LO;
  const p = r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r / 720)))));
  const m = k >> 5;
  const j = k & 31;
  if (m === 0) return EXP2_FRACTION[j] * p + EXP2_FRACTION_M1[j];
  const s = EXP2_WHOLE[m] * EXP2_FRACTION[j];
  return s * p + (s - 1);
}

/** The hyperbolic tangent: ±0, NaN and ±1 (from |x| >= 20, where tanh is 1 in doubles) exactly as Math.tanh. */
export function tanh(x: number): number {
  const a = Math.abs(x);
  if (!(a < 20)) return a === a ? (x > 0 ? 1 : -1) : x;
  if (a === 0) return x;
  const e = expm1Below40(2 * a);
  const t = e / (e + 2);
  return x < 0 ? -t : t;
}

/** grad = g * (1 - y^2). */
export function tanhBackward(g: TypedArray, y: TypedArray, grad: TypedArray): void {
  for (let i = 0; i < y.length; i++) grad[i] = g[i] * (1 - y[i] * y[i]);
}

/** max(x, 0), NaN passing through. */
export function reluForward(src: TypedArray, out: TypedArray): void {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v > 0 || v !== v ? v : 0;
  }
}

/** The gradient passes where the output is > 0 (and NaN), and is cut where it is <= 0 (PyTorch's threshold_backward). */
export function reluBackward(g: TypedArray, y: TypedArray, grad: TypedArray): void {
  for (let i = 0; i < y.length; i++) grad[i] = y[i] <= 0 ? 0 : g[i];
}
