/**
 * The factories added for more math: linspace and logspace with PyTorch 1.13's values bit for
 * bit (its kernel counts from both ends and fills SIMD vectors, which shows in the last digit),
 * randLike, randnLike, emptyLike and randperm from the seeded generator, and zerosLike, onesLike
 * and fullLike as before. Expected values were printed by PyTorch 1.13.
 */
import * as torch from "torchlet";

/** The float32 values PyTorch printed (shortest decimals), as the exact float32 numbers. */
const float32 = (values: number[]): number[] => values.map(Math.fround);

const valuesOf = (t: torch.Tensor): number[] => Array.from(t.toArray());

describe("linspace", () => {
  test("float32, bit for bit: short (one value at a time) and long (SIMD vectors, then one at a time)", () => {
    expect(valuesOf(torch.linspace(-1, 2, 7))).toEqual(float32([-1, -0.5, 0, 0.5, 1, 1.5, 2]));
    // start + step * i is one fused multiply-add in PyTorch's build (one rounding, not two).
    expect(valuesOf(torch.linspace(-7.31, 6.95, 7))).toEqual(
      float32([-7.31, -4.9333334, -2.5566664, -0.18000054, 2.1966662, 4.573333, 6.95]),
    );
    expect(valuesOf(torch.linspace(-6.28, 9.85, 16))).toEqual(
      float32([
        -6.28, -5.204667, -4.1293335, -3.0540001, -1.9786668, -0.9033332, 0.17199993, 1.247333, 2.322667, 3.3980002, 4.4733334, 5.548667,
        6.6240005, 7.699334, 8.774667, 9.85,
      ]),
    );
    expect(valuesOf(torch.linspace(0.001, 5.5, 40))).toEqual(
      float32([
        0.001, 0.142, 0.283, 0.424, 0.565, 0.70600003, 0.847, 0.988, 1.1290001, 1.2700001, 1.411, 1.552, 1.6930001, 1.8340001, 1.9750001,
        2.1160002, 2.257, 2.398, 2.539, 2.68, 2.821, 2.962, 3.103, 3.244, 3.385, 3.526, 3.667, 3.808, 3.949, 4.09, 4.231, 4.3719997, 4.513,
        4.654, 4.795, 4.936, 5.077, 5.218, 5.359, 5.5,
      ]),
    );
    // The middle value is not 0: the vectors of the second half start from 5 - k * step.
    expect(valuesOf(torch.linspace(5, -5, 37))).toEqual(
      float32([
        5, 4.7222223, 4.4444447, 4.1666665, 3.8888888, 3.6111112, 3.3333333, 3.0555553, 2.7777777, 2.5, 2.222222, 1.9444443, 1.6666665,
        1.3888887, 1.1111109, 0.83333313, 0.55555534, 0.27777755, -2.384185791015625e-7, -0.27777803, -0.5555558, -0.8333336, -1.1111114,
        -1.3888892, -1.6666665, -1.9444443, -2.222222, -2.5, -2.7777777, -3.0555553, -3.3333333, -3.6111112, -3.8888888, -4.1666665,
        -4.4444447, -4.7222223, -5,
      ]),
    );
  });

  test("float64 and int64 (truncated toward zero)", () => {
    expect(valuesOf(torch.linspace(-0.3, 0.7, 11, { dtype: "float64" }))).toEqual([
      -0.3, -0.19999999999999998, -0.09999999999999998, 5.551115123125783e-17, 0.10000000000000003, 0.20000000000000004,
      0.30000000000000004, 0.4000000000000001, 0.49999999999999994, 0.6, 0.7,
    ]);
    expect(torch.linspace(-3, 17, 10, { dtype: "int64" }).tolist()).toEqual([-3, 0, 1, 3, 5, 7, 9, 11, 14, 17]);
    expect(torch.linspace(-7, 30, 19, { dtype: "int64" }).tolist()).toEqual([
      -7, -4, -2, 0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 30,
    ]);
  });

  test("one step is the start, none is empty; requiresGrad; PyTorch's messages", () => {
    expect(torch.linspace(3, 1, 1).tolist()).toEqual([3]);
    expect(torch.linspace(0, 1, 0).shape).toEqual([0]);
    const t = torch.linspace(0, 1, 3, { requiresGrad: true });
    expect([t.requiresGrad, t.isLeaf, t.dtype]).toEqual([true, true, "float32"]);
    expect(() => torch.linspace(0, 1, -1)).toThrow("number of steps must be non-negative");
    expect(() => torch.linspace(0, 1, 3, { dtype: "bool" })).toThrow(`"linspace_cpu" not implemented for 'Bool'`);
  });
});

describe("logspace", () => {
  test("float32, float64 and int64 values; base 10 by default", () => {
    expect(valuesOf(torch.logspace(0, 2, 5))).toEqual(float32([1, 3.1622777, 10, 31.622776, 100]));
    expect(valuesOf(torch.logspace(-2, 3, 7, 2))).toEqual(float32([0.25, 0.44544935, 0.7937005, 1.4142135, 2.5198421, 4.489848, 8]));
    expect(valuesOf(torch.logspace(0.1, 3.3, 9))).toEqual(
      float32([1.2589254, 3.1622777, 7.9432826, 19.952623, 50.118713, 125.892525, 316.22772, 794.3281, 1995.2621]),
    );
    expect(valuesOf(torch.logspace(-1, 1, 5, { dtype: "float64" }))).toEqual([0.1, 0.31622776601683794, 1, 3.1622776601683795, 10]);
    expect(torch.logspace(0, 3, 4, 2, { dtype: "int64" }).tolist()).toEqual([1, 2, 4, 8]);
    expect(torch.logspace(0, 1, 3, { dtype: "int64" }).tolist()).toEqual([1, 3, 10]);
  });

  test("one step; int64 past 2^31 exact, past 2^53 - 1 refused; PyTorch's messages", () => {
    expect(torch.logspace(1, 2, 1).tolist()).toEqual([10]);
    expect(torch.logspace(0, 10, 3, { dtype: "int64" }).tolist()).toEqual([1, 100000, 10000000000]);
    expect(() => torch.logspace(0, 16, 3, { dtype: "int64" })).toThrow(
      "int64 value 10000000000000000 cannot be stored exactly: torchlet holds int64 integers exactly up to 2^53 = 9007199254740992 in magnitude",
    );
    expect(() => torch.logspace(0, 1, -2)).toThrow("number of steps must be non-negative");
  });
});

describe("the *Like factories and randperm", () => {
  const x = torch.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  test("randLike and randnLike: the seeded generator, the shape and dtype of their model", () => {
    torch.manualSeed(7);
    const u = torch.randLike(x);
    const n = torch.randnLike(x, { dtype: "float64" });
    torch.manualSeed(7);
    expect(valuesOf(u)).toEqual(valuesOf(torch.rand([2, 3])));
    expect(valuesOf(n)).toEqual(valuesOf(torch.randn([2, 3], { dtype: "float64" })));
    expect([u.shape, u.dtype, n.dtype]).toEqual([[2, 3], "float32", "float64"]);
    expect(valuesOf(u).every((v) => v >= 0 && v < 1)).toBe(true);
    expect(torch.randLike(x, { requiresGrad: true }).requiresGrad).toBe(true);
  });

  test("an integer model is refused in PyTorch's words", () => {
    const ints = torch.tensor([1, 2], { dtype: "int64" });
    expect(() => torch.randLike(ints)).toThrow(`"check_uniform_bounds" not implemented for 'Long'`);
    expect(() => torch.randnLike(ints)).toThrow(`"normal_kernel_cpu" not implemented for 'Long'`);
  });

  test("emptyLike gives zeros; zerosLike, onesLike and fullLike keep working", () => {
    const ints = torch.tensor([1, 2], { dtype: "int64" });
    expect([torch.emptyLike(x).tolist(), torch.emptyLike(ints).dtype]).toEqual([
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      "int64",
    ]);
    expect(torch.zerosLike(x).tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect([torch.onesLike(ints).tolist(), torch.onesLike(ints).dtype]).toEqual([[1, 1], "int64"]);
    expect(torch.fullLike(x, 2.5, { dtype: "float64" }).tolist()).toEqual([
      [2.5, 2.5, 2.5],
      [2.5, 2.5, 2.5],
    ]);
  });

  test("randperm: a permutation of 0..n-1, int64 unless told, reproducible from the seed", () => {
    torch.manualSeed(3);
    const p = torch.randperm(10);
    expect(p.dtype).toBe("int64");
    expect([...valuesOf(p)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(valuesOf(p)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    torch.manualSeed(3);
    expect(valuesOf(torch.randperm(10))).toEqual(valuesOf(p));
    torch.manualSeed(3);
    expect(valuesOf(torch.randperm(10, { dtype: "float64" }))).toEqual(valuesOf(p));
    expect(torch.randperm(0).shape).toEqual([0]);
    expect(() => torch.randperm(-1)).toThrow("Trying to create tensor with negative dimension -1: [-1]");
  });
});

describe("sizes as one array or as separate numbers, options last (API.md's calling conventions)", () => {
  test("zeros, ones, rand and randn take both forms", () => {
    expect(torch.zeros(2, 3).shape).toEqual([2, 3]);
    expect(torch.ones([2, 3]).shape).toEqual([2, 3]);
    expect(torch.zeros(4).shape).toEqual([4]);
    expect(torch.zeros([]).shape).toEqual([]);
    const r = torch.randn(3, 5, { requiresGrad: true });
    expect([r.shape, r.requiresGrad, r.dtype]).toEqual([[3, 5], true, "float32"]);
    const u = torch.rand(2, 2, { dtype: "float64" });
    expect([u.shape, u.dtype]).toEqual([[2, 2], "float64"]);
    expect(torch.ones([2], { dtype: "int64" }).tolist()).toEqual([1, 1]);
  });

  test("the same draws either way, from the same seed", () => {
    torch.manualSeed(3);
    const a = torch.randn(2, 3).tolist();
    torch.manualSeed(3);
    expect(torch.randn([2, 3]).tolist()).toEqual(a);
  });

  test("anything else: PyTorch's messages", () => {
    expect(() => (torch.zeros as (...a: unknown[]) => unknown)(2, "a")).toThrow(
      "zeros(): argument 'size' must be tuple of ints, but found element of type string at pos 2",
    );
    expect(() => (torch.randn as (...a: unknown[]) => unknown)()).toThrow('randn() missing 1 required positional arguments: "size"');
  });
});
