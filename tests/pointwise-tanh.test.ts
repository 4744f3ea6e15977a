/**
 * kernels/pointwise.ts computes tanh inline instead of calling Math.tanh: it must stay within a
 * few double ulps of Math.tanh everywhere, give the same float32 values, and treat ±0, ±Infinity,
 * NaN and the saturated range as Math.tanh does.
 */
import { tanh } from "../src/kernels/pointwise";
import * as torch from "../src";

const EPS = 2 ** -52;

/** A seeded uniform generator in [-scale, scale) (xorshift), so a failure is reproducible. */
function uniform(seed: number): (scale: number) => number {
  let state = seed >>> 0 || 1;
  return (scale) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  };
}

describe("tanh", () => {
  const next = uniform(20261130);

  test.each([1e-300, 1e-9, 1e-3, 0.02, 0.3, 1, 3, 9, 19.5, 30].map((s) => [s, s]))(
    "within 8 double ulps of Math.tanh on [-%s, %s)",
    (scale: number) => {
      let worst = 0;
      for (let i = 0; i < 20000; i++) {
        const x = next(scale);
        const want = Math.tanh(x);
        const err = want === 0 ? Math.abs(tanh(x)) : Math.abs(tanh(x) - want) / Math.abs(want);
        worst = Math.max(worst, err);
      }
      expect(worst).toBeLessThanOrEqual(8 * EPS);
    },
  );

  test("the same float32 values as Math.tanh rounded to float32", () => {
    let differ = 0;
    for (let i = 0; i < 200000; i++) {
      const x = Math.fround(next(i % 2 ? 4 : 0.05));
      if (Math.fround(tanh(x)) !== Math.fround(Math.tanh(x))) differ++;
    }
    expect(differ).toBe(0);
  });

  test("signed zeros, infinities, NaN, the saturated range and subnormals", () => {
    expect(Object.is(tanh(0), 0)).toBe(true);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect(tanh(Infinity)).toBe(1);
    expect(tanh(-Infinity)).toBe(-1);
    expect(tanh(NaN)).toBeNaN();
    for (const x of [19.99, 20, 25, 1e300]) {
      expect(tanh(x)).toBe(Math.tanh(x));
      expect(tanh(-x)).toBe(Math.tanh(-x));
    }
    expect(tanh(5e-324)).toBe(5e-324);
    expect(tanh(-1e-310)).toBe(-1e-310);
  });

  test("a float64 tensor's tanh is Math.tanh's, to the last bit", () => {
    const values = Array.from({ length: 1000 }, (_, i) => next(i % 2 ? 4 : 0.05));
    const got = torch.tensor(values, { dtype: "float64" }).tanh().tolist() as number[];
    expect(got).toEqual(values.map(Math.tanh));
  });
});
