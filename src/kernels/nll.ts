/**
 * Class-index target kernels (TypeScript): the NLL loss and its gradient, and the label-smoothing
 * term of cross entropy. Input (C), (N, C) or (N, C, d1, ...) is read as `n` samples of `c` classes
 * at `d` positions: element (s, k, p) is at `(s * c + k) * d + p` and its target at `s * d + p`.
 */
import type { TypedArray } from "../dtype";

export interface ClassTargets {
  n: number;
  c: number;
  d: number;
  targets: TypedArray;
}

/**
 * loss = -w[t] * x[t] per position (0 where t is ignoreIndex), into `losses` when given. Returns
 * the float64 sum of the losses and of the w[t] of the kept positions ("mean"'s denominator).
 */
export function nllForward(
  x: TypedArray,
  t: ClassTargets,
  w: TypedArray | null,
  ignoreIndex: number,
  losses: TypedArray | null,
): { sum: number; totalWeight: number } {
  const { n, c, d, targets } = t;
  let sum = 0;
  let totalWeight = 0;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      const k = targets[s * d + p];
      if (k === ignoreIndex) continue; // its "none" loss stays 0
      const wk = w ? w[k] : 1;
      const loss = -wk * x[(s * c + k) * d + p];
      if (losses) losses[s * d + p] = loss;
      sum += loss;
      totalWeight += wk;
    }
  }
  return { sum, totalWeight };
}

/**
 * NLL's gradient for rows of classes (d = 1): one non-zero per row, -w[t] * upstream at column t,
 * handed over as such (`OneHotRowsGrad`): cols[s] = t (-1 where ignored) and values[s], rounded
 * with `round` to the input's dtype (0 where ignored). The upstream is perSample[s], or else common.
 */
export function nllOneHotGrad(
  t: ClassTargets,
  w: TypedArray | null,
  ignoreIndex: number,
  perSample: TypedArray | null,
  common: number,
  round: (v: number) => number,
  cols: Int32Array,
  values: Float64Array,
): void {
  const { n, targets } = t;
  for (let s = 0; s < n; s++) {
    const k = targets[s];
    cols[s] = k === ignoreIndex ? -1 : k;
    values[s] = k === ignoreIndex ? 0 : round(-(w ? w[k] : 1) * (perSample ? perSample[s] : common));
  }
}

/**
 * NLL's dense gradient, written into `grad` (zeros, the input's size): -w[t] * upstream at each
 * kept position's target, the upstream being perPosition[s * d + p], or else common.
 */
export function nllGrad(
  t: ClassTargets,
  w: TypedArray | null,
  ignoreIndex: number,
  perPosition: TypedArray | null,
  common: number,
  grad: TypedArray,
): void {
  const { n, c, d, targets } = t;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      const k = targets[s * d + p];
      if (k !== ignoreIndex) grad[(s * c + k) * d + p] = -(w ? w[k] : 1) * (perPosition ? perPosition[s * d + p] : common);
    }
  }
}

/**
 * The label-smoothing term of cross entropy with class-index targets, before its scale e / C:
 * -sum_k w[k] * logp[k] per position (0 at ignored positions), into `terms` when given after
 * multiplying by `scale`. Returns the float64 sum of the unscaled terms and "mean"'s denominator,
 * the same as NLL's: the sum of w[t] over kept positions (their count without weights).
 */
export function smoothingForward(
  logp: TypedArray,
  t: ClassTargets,
  w: TypedArray | null,
  ignoreIndex: number,
  scale: number,
  terms: TypedArray | null,
): { sum: number; denominator: number } {
  const { n, c, d, targets } = t;
  let sum = 0;
  let denominator = 0;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      const target = targets[s * d + p];
      if (target === ignoreIndex) continue;
      let acc = 0;
      for (let k = 0, i = s * c * d + p; k < c; k++, i += d) acc -= (w ? w[k] : 1) * logp[i];
      if (terms) terms[s * d + p] = scale * acc;
      sum += acc;
      denominator += w ? w[target] : 1;
    }
  }
  return { sum, denominator };
}

/**
 * The smoothing term's gradient into `grad` (zeros, the input's size): -w[k] * upstream at every
 * class of each kept position, the upstream being scale * perPosition[s * d + p], or else common
 * (already scaled).
 */
export function smoothingBackward(
  t: ClassTargets,
  w: TypedArray | null,
  ignoreIndex: number,
  scale: number,
  perPosition: TypedArray | null,
  common: number,
  grad: TypedArray,
): void {
  const { n, c, d, targets } = t;
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < d; p++) {
      if (targets[s * d + p] === ignoreIndex) continue;
      const gs = perPosition ? scale * perPosition[s * d + p] : common;
      for (let k = 0, i = s * c * d + p; k < c; k++, i += d) grad[i] = -(w ? w[k] : 1) * gs;
    }
  }
}
