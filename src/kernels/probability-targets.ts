/**
 * Cross entropy with class-probability targets, forward and backward (TypeScript), over log
 * probabilities read as `n` samples of `c` classes at `d` positions (element (s, k, p) at
 * `(s * c + k) * d + p`, the target the same shape). With label smoothing e the target becomes
 * q = (1 - e) * target + e / C.
 */
import type { TypedArray } from "../dtype";

export interface ProbabilityGrid {
  n: number;
  c: number;
  d: number;
}

/** loss = -sum_k w[k] * logp[k] * q[k] per position, into `losses` when given; returns their float64 sum. */
export function probabilityTargetForward(
  logp: TypedArray,
  target: TypedArray,
  grid: ProbabilityGrid,
  w: TypedArray | null,
  smoothing: number,
  losses: TypedArray | null,
): number {
  const { n, c, d } = grid;
  const keep = 1 - smoothing;
  const spread = smoothing / c;
  let sum = 0;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      let acc = 0;
      for (let k = 0, i = s * c * d + p; k < c; k++, i += d) {
        const q = smoothing > 0 ? target[i] * keep + spread : target[i];
        acc -= (w ? w[k] : 1) * logp[i] * q;
      }
      if (losses) losses[s * d + p] = acc;
      sum += acc;
    }
  }
  return sum;
}

/**
 * The backward, upstream being perPosition[s * d + p] or else common: into `gradLogp`,
 * -w[k] * g * q[k]; into `gradTarget`, -w[k] * g * logp[k] * (1 - e). Either may be null.
 */
export function probabilityTargetBackward(
  logp: TypedArray,
  target: TypedArray,
  grid: ProbabilityGrid,
  w: TypedArray | null,
  smoothing: number,
  perPosition: TypedArray | null,
  common: number,
  gradLogp: TypedArray | null,
  gradTarget: TypedArray | null,
): void {
  const { n, c, d } = grid;
  const keep = 1 - smoothing;
  const spread = smoothing / c;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      const gs = perPosition ? perPosition[s * d + p] : common;
      for (let k = 0, i = s * c * d + p; k < c; k++, i += d) {
        const wg = -(w ? w[k] : 1) * gs;
        if (gradLogp) gradLogp[i] = wg * (smoothing > 0 ? target[i] * keep + spread : target[i]);
        if (gradTarget) gradTarget[i] = wg * logp[i] * keep;
      }
    }
  }
}
