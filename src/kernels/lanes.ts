/**
 * The geometry of a kernel working along one dim of a row-major array (softmax, log-softmax):
 * `outer` blocks, each holding `inner` lanes of `size` values that sit `inner` apart. When the dim
 * is last, `inner` is 1 and every lane is a contiguous row.
 */
import type { TypedArray } from "../dtype";

export interface Lanes {
  outer: number;
  size: number;
  inner: number;
}

/** Calls `fn(base)` for the first element of every lane; the lane's elements are `base + j * inner`. */
export function forEachLane(l: Lanes, fn: (base: number) => void): void {
  const block = l.size * l.inner;
  for (let o = 0; o < l.outer; o++) {
    for (let i = 0; i < l.inner; i++) fn(o * block + i);
  }
}

/** The largest value of a lane; NaN wins, so that a NaN row gives NaN (as in PyTorch). */
export function laneMax(src: TypedArray, base: number, step: number, size: number): number {
  let m = -Infinity;
  for (let j = 0, p = base; j < size; j++, p += step) {
    const v = src[p];
    if (v > m || v !== v) m = v;
    if (m !== m) break;
  }
  return m;
}
