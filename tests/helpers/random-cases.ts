/** Shapes, options and values for property-style tests, from torchlet's seeded generator. */
import { Generator } from "torchlet";

export class Rng extends Generator {
  /** Uniform in [0, 1). */
  next(): number {
    return this.random();
  }
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return this.randint(lo, hi + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.randint(0, items.length)];
  }
  shape(ndim: number, lo = 1, hi = 4): number[] {
    return Array.from({ length: ndim }, () => this.int(lo, hi));
  }
  /** `n` uniform values in [lo, hi). */
  values(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => lo + (hi - lo) * this.random());
  }
}
