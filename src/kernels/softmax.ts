/**
 * Softmax along lanes (kernels/lanes.ts), forward and backward: plain loops computed in doubles
 * and stored once in the output's type. TypeScript only.
 */
import type { TypedArray } from "../dtype";
import { type Lanes, forEachLane, laneMax } from "./lanes";

/**
 * out = exp(x_j - m) / sum_k exp(x_k - m) along each lane, with m the lane maximum, so that logits
 * of ±1000 or ±1e30 never overflow. A -inf entry gets 0; a lane of only -inf gives NaN, as PyTorch.
 */
export function softmaxForward(src: TypedArray, out: TypedArray, lanes: Lanes): void {
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
}

/** grad = y * (g - sum(g * y)) along each lane, from the forward's output y. */
export function softmaxBackward(g: TypedArray, y: TypedArray, grad: TypedArray, lanes: Lanes): void {
  const step = lanes.inner;
  const size = lanes.size;
  forEachLane(lanes, (base) => {
    let dot = 0;
    for (let j = 0, p = base; j < size; j++, p += step) dot += g[p] * y[p];
    for (let j = 0, p = base; j < size; j++, p += step) grad[p] = y[p] * (g[p] - dot);
  });
}
