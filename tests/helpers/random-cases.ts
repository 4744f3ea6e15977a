/** A tiny seeded generator for property-style tests: shapes and options, reproducible run to run. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  shape(ndim: number, lo = 1, hi = 4): number[] {
    return Array.from({ length: ndim }, () => this.int(lo, hi));
  }
  /** `n` uniform values in [lo, hi). */
  values(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => lo + (hi - lo) * this.next());
  }
}
