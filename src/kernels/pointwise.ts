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
  for (let i = 0; i < src.length; i++) out[i] = Math.tanh(src[i]);
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
