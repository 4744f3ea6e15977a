/**
 * BCEWithLogits kernels: `bceWithLogits`, the loss and its gradient without weights in one pass
 * (WebAssembly for float32 data of at least the element threshold, TypeScript otherwise), and the
 * weighted forward and backward (TypeScript).
 *
 * With e = exp(-|x|), the loss max(x, 0) - x * y + log1p(e) is the same value as
 * (1 - y) * x + softplus(-x), finite for any finite x, and sigmoid(x) is 1 / (1 + e) for x >= 0,
 * else e / (1 + e) (exactly `stableSigmoid`): two transcendentals per element give both.
 */
import type { TypedArray } from "../dtype";
import { stableSigmoid } from "./pointwise";
import { kernelModule, reserve, wasmForElements } from "./wasm";

/** Values broadcast over the elements as `values[i % period]` (a per-class weight, say). */
export interface Periodic {
  values: TypedArray;
  period: number;
}

/**
 * BCEWithLogits without weights over n logits x and targets y: returns the float64 sum of the
 * losses, writes each loss to `losses` and round(scale * round(sigmoid(x) - y)) to `grad` when
 * they are given (the gradient for an upstream of `scale`, rounded in the arrays' type).
 */
export function bceWithLogits(x: TypedArray, y: TypedArray, losses: TypedArray | null, grad: TypedArray | null, scale: number): number {
  if (onWasm(x, y, losses, grad)) {
    const sum = bceWithLogitsOnWasm(
      x as Float32Array,
      y as Float32Array,
      losses as Float32Array | null,
      grad as Float32Array | null,
      scale,
    );
    if (sum !== null) return sum;
  }
  if (losses === null && grad !== null) return sumAndGradient(x, y, grad, scale);
  const round = grad instanceof Float32Array ? Math.fround : sameValue;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    const e = Math.exp(-Math.abs(xi));
    const l = Math.max(xi, 0) - xi * yi + Math.log1p(e);
    if (losses !== null) losses[i] = l;
    sum += l;
    if (grad !== null) grad[i] = scale * round((xi >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi);
  }
  return sum;
}

function sameValue(v: number): number {
  return v;
}

/**
 * The training case ("mean"/"sum" with a gradient to come): the sum of the losses without storing
 * them, and the gradient. Only the sum of the log1p(e) terms is needed, and a sum of logs is the
 * log of a product: for e >= 2^-10 the factors 1 + e (in (1, 2], rounded with an absolute error
 * below 1.2e-16, so each term keeps 13 significant digits) are multiplied in blocks of 64 (at most
 * 2^64, no overflow) and one log is taken per block. Smaller e, whose 1 + e would lose digits,
 * take log1p directly.
 */
function sumAndGradient(x: TypedArray, y: TypedArray, grad: TypedArray, scale: number): number {
  const round = grad instanceof Float32Array ? Math.fround : sameValue;
  let sum = 0;
  let logs = 0;
  let product = 1;
  let factors = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    const e = Math.exp(-Math.abs(xi));
    sum += Math.max(xi, 0) - xi * yi;
    if (e >= 0.0009765625) {
      product *= 1 + e;
      if (++factors === 64) {
        logs += Math.log(product);
        product = 1;
        factors = 0;
      }
    } else {
      logs += Math.log1p(e);
    }
    grad[i] = scale * round((xi >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi);
  }
  return sum + (logs + Math.log(product));
}

/**
 * out[i] = upstream(i) * (sign * v[i]), upstream(i) being perElement[i] or else common: one tight
 * loop per case (a per-element closure would cost several times the arithmetic on 4M elements).
 * Scales the stored gradient by "none"'s upstream, and gives the target's gradient from x.
 */
export function scaledBy(v: TypedArray, sign: number, perElement: TypedArray | null, common: number, out: TypedArray): TypedArray {
  const n = out.length;
  if (perElement !== null) for (let i = 0; i < n; i++) out[i] = perElement[i] * (sign * v[i]);
  else for (let i = 0; i < n; i++) out[i] = common * (sign * v[i]);
  return out;
}

/** log(1 + exp(v)) without overflow. */
function softplus(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/**
 * With a positive-class weight p and/or a weight w: l = w * [(1 - y) * x + (1 + (p - 1) * y) * softplus(-x)]
 * per element, written to `losses`; returns their float64 sum.
 */
export function weightedBceWithLogits(
  x: TypedArray,
  y: TypedArray,
  pos: Periodic | null,
  weight: Periodic | null,
  losses: TypedArray,
): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const positive = pos ? 1 + (pos.values[i % pos.period] - 1) * y[i] : 1;
    const l = (1 - y[i]) * x[i] + positive * softplus(-x[i]);
    const wl = weight ? l * weight.values[i % weight.period] : l;
    losses[i] = wl;
    sum += wl;
  }
  return sum;
}

/**
 * The weighted backward, upstream(i) being perElement[i] or else common: into `gradInput`,
 * g w ((p y + 1 - y) sigmoid(x) - p y); into `gradTarget`, g w (p softplus(-x) - softplus(x)),
 * which is -x when p = 1. Either may be null.
 */
export function weightedBceWithLogitsBackward(
  x: TypedArray,
  y: TypedArray,
  pos: Periodic | null,
  weight: Periodic | null,
  perElement: TypedArray | null,
  common: number,
  gradInput: TypedArray | null,
  gradTarget: TypedArray | null,
): void {
  for (let i = 0; i < x.length; i++) {
    const gw = (perElement !== null ? perElement[i] : common) * (weight ? weight.values[i % weight.period] : 1);
    const p = pos ? pos.values[i % pos.period] : 1;
    // d/dx = (p*y + 1 - y) * sigmoid(x) - p*y;  d/dy = p * softplus(-x) - softplus(x) = -x when p = 1.
    if (gradInput) gradInput[i] = gw * ((p * y[i] + 1 - y[i]) * stableSigmoid(x[i]) - p * y[i]);
    if (gradTarget) gradTarget[i] = gw * (pos ? p * softplus(-x[i]) - softplus(x[i]) : -x[i]);
  }
}

// ---- WebAssembly ------------------------------------------------------------------------------

/** Whether these arrays go to the wasm kernel: float32 throughout, of at least the element threshold. */
function onWasm(x: TypedArray, y: TypedArray, losses: TypedArray | null, grad: TypedArray | null): boolean {
  return (
    x instanceof Float32Array &&
    y instanceof Float32Array &&
    x.length === y.length &&
    (losses === null || losses instanceof Float32Array) &&
    (grad === null || grad instanceof Float32Array) &&
    wasmForElements(x.length)
  );
}

/**
 * `bceWithLogits` on the wasm kernel (assembly/bce-with-logits.as.ts): x and y are copied in, the
 * losses come back over x and the gradient over y. Null, computing nothing, when the data do not fit.
 */
function bceWithLogitsOnWasm(
  x: Float32Array,
  y: Float32Array,
  losses: Float32Array | null,
  grad: Float32Array | null,
  scale: number,
): number | null {
  const n = x.length;
  const { exports, dataAt } = kernelModule();
  const yAt = dataAt + ((n + 3) & ~3);
  const heap = reserve(yAt - dataAt + n);
  if (heap === null) return null;
  const h = heap.heap32;
  h.set(x, dataAt);
  h.set(y.subarray(0, n), yAt);
  const sum = exports.bceWithLogits32(dataAt * 4, yAt * 4, n, losses ? 1 : 0, grad ? 1 : 0, scale);
  if (losses) losses.set(h.subarray(dataAt, dataAt + n));
  if (grad) grad.set(h.subarray(yAt, yAt + n));
  return sum;
}
