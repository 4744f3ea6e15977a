/**
 * BCELoss on probabilities, forward and backward (TypeScript): l = -w * [y * log(x) + (1 - y) * log(1 - x)],
 * each log clamped at -100 so that x = 0 with y = 1 gives exactly 100 (and a finite gradient).
 */
import type { TypedArray } from "../dtype";
import type { Periodic } from "./bce-with-logits";

/** Each element's loss (times its weight) into `losses`; returns their float64 sum. */
export function binaryCrossEntropyForward(x: TypedArray, y: TypedArray, weight: Periodic | null, losses: TypedArray): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const l = (y[i] - 1) * Math.max(Math.log1p(-x[i]), -100) - y[i] * Math.max(Math.log(x[i]), -100);
    const wl = weight ? l * weight.values[i % weight.period] : l;
    losses[i] = wl;
    sum += wl;
  }
  return sum;
}

/**
 * The backward, upstream(i) being perElement[i] or else common: into `gradInput`,
 * g w (x - y) / max((1 - x) x, 1e-12); into `gradTarget`, g w (log(1 - x) - log(x)) = -g w logit(x).
 * Either may be null.
 */
export function binaryCrossEntropyBackward(
  x: TypedArray,
  y: TypedArray,
  weight: Periodic | null,
  perElement: TypedArray | null,
  common: number,
  gradInput: TypedArray | null,
  gradTarget: TypedArray | null,
): void {
  for (let i = 0; i < x.length; i++) {
    const gw = (perElement !== null ? perElement[i] : common) * (weight ? weight.values[i % weight.period] : 1);
    // PyTorch guards the denominator with 1e-12 rather than clamping the logs here.
    if (gradInput) gradInput[i] = (gw * (x[i] - y[i])) / Math.max((1 - x[i]) * x[i], 1e-12);
    if (gradTarget) gradTarget[i] = gw * (Math.log1p(-x[i]) - Math.log(x[i])); // -logit(x)
  }
}
