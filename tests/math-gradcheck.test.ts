/**
 * Finite differences (autograd.gradcheck, float64) for the more-math ops: the unary functions
 * and the reductions on shapes and dims drawn from a seeded generator, the awkward points (zeros
 * for prod, cumprod and norm; exact ties for amax/amin), and second derivatives: the gradient
 * taken with createGraph, itself checked by finite differences.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";

type Tensor = torch.Tensor;
type Fn = (x: Tensor) => Tensor;

const RUNS = 20;

/** A float64 leaf of `shape` with values uniform in [lo, hi), away from 0 by `gap` when given. */
function sample(rng: Rng, shape: number[], lo: number, hi: number, gap = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = rng.values(n, lo, hi).map((v) => (gap > 0 && Math.abs(v) < gap ? (v < 0 ? -gap : gap) : v));
  return torch.tensor(values, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
}

/** `x` with the values at the given flat positions set to `value`. */
function withValues(x: Tensor, positions: number[], value: number): Tensor {
  const values = Array.from(x.toArray());
  for (const p of positions) values[p] = value;
  return torch.tensor(values, { dtype: "float64" }).reshape(x.shape).detach().requiresGrad_(true);
}

function check(fn: Fn, x: Tensor): void {
  expect(torch.autograd.gradcheck(fn, [x])).toBe(true);
}

/**
 * The second derivative: x -> d(sum(fn(x) * w))/dx, taken with createGraph, checked by finite
 * differences of that gradient (what PyTorch's gradgradcheck does).
 */
function checkSecond(fn: Fn, x: Tensor, rng: Rng): void {
  const w = torch.tensor(rng.values(fn(x.detach()).numel(), -1, 1), { dtype: "float64" }).reshape(fn(x.detach()).shape);
  // gradcheck evaluates under noGrad; the gradient needs its graph either way.
  const gradient = (p: Tensor): Tensor => torch.enableGrad(() => torch.autograd.grad([fn(p).mul(w).sum()], [p], { createGraph: true })[0]!);
  expect(torch.autograd.gradcheck(gradient, [x])).toBe(true);
}

/** A random shape of 1 to 3 dims of sizes 1 to 4, and a dim of it (maybe negative). */
function shapeAndDim(rng: Rng): { shape: number[]; dim: number } {
  const shape = rng.shape(rng.int(1, 3));
  const d = rng.int(0, shape.length - 1);
  return { shape, dim: rng.next() < 0.5 ? d : d - shape.length };
}

/** For each of RUNS seeded draws. */
function forRuns(seed: number, body: (rng: Rng) => void): void {
  const rng = new Rng(seed);
  for (let run = 0; run < RUNS; run++) body(rng);
}

describe("unary functions", () => {
  // Name, op, the interval values are drawn from, and how far from 0 they stay.
  const domains: Array<[string, Fn, number, number, number]> = [
    ["sin", (x) => x.sin(), -3, 3, 0],
    ["cos", (x) => x.cos(), -3, 3, 0],
    ["tan", (x) => x.tan(), -1.2, 1.2, 0],
    ["log1p", (x) => x.log1p(), -0.8, 3, 0],
    ["expm1", (x) => x.expm1(), -3, 3, 0],
    ["log2", (x) => x.log2(), 0.2, 4, 0],
    ["log10", (x) => x.log10(), 0.2, 4, 0],
    ["square", (x) => x.square(), -3, 3, 0],
    ["reciprocal", (x) => x.reciprocal(), -3, 3, 0.3],
    ["rsqrt", (x) => x.rsqrt(), 0.2, 4, 0],
    ["erf", (x) => x.erf(), -3, 3, 0],
    ["sign", (x) => x.sign(), -3, 3, 0.1],
    ["floor", (x) => x.floor().add(x), -3, 3, 0],
    ["ceil", (x) => x.ceil().mul(x), -3, 3, 0],
    ["round", (x) => x.round().add(x), -3, 3, 0],
    ["trunc", (x) => x.trunc().mul(x), -3, 3, 0],
  ];

  test.each(domains)("%s, first and second derivatives, random shapes", (name, fn, lo, hi, gap) => {
    forRuns(name.length * 101, (rng) => {
      const x = sample(rng, rng.shape(rng.int(0, 3)), lo, hi, gap);
      check(fn, x);
      checkSecond(fn, x, rng);
    });
  });

  test("as torch functions too", () => {
    const rng = new Rng(3);
    const x = sample(rng, [2, 3], 0.3, 2);
    for (const name of ["sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "square", "reciprocal", "rsqrt", "erf"]) {
      check((p) => (torch as unknown as Record<string, Fn>)[name](p), x);
    }
  });
});

describe("reductions", () => {
  test("prod over everything and along a dim, keepdim or not", () => {
    forRuns(11, (rng) => {
      const { shape, dim } = shapeAndDim(rng);
      const x = sample(rng, shape, -2, 2);
      const keepdim = rng.next() < 0.5;
      check((p) => p.prod(), x);
      check((p) => p.prod(dim, keepdim), x);
      checkSecond((p) => p.prod(dim, keepdim), x, rng);
      checkSecond((p) => torch.prod(p), x, rng);
    });
  });

  test("prod at zeros: one zero, two zeros, a lane of zeros", () => {
    forRuns(12, (rng) => {
      const shape = [rng.int(2, 3), rng.int(2, 4)];
      const n = shape[0] * shape[1];
      const base = sample(rng, shape, -2, 2);
      for (const zeros of [[rng.int(0, n - 1)], [0, n - 1], [0, 1]]) {
        const x = withValues(base, zeros, 0);
        check((p) => p.prod(), x);
        for (const dim of [0, 1]) {
          check((p) => p.prod(dim), x);
          checkSecond((p) => p.prod(dim, true), x, rng);
        }
      }
      checkSecond((p) => p.prod(), withValues(base, [rng.int(0, n - 1)], 0), rng);
    });
  });

  test("std and var over a dim, a list of dims or everything, unbiased or not", () => {
    forRuns(13, (rng) => {
      const shape = [rng.int(2, 4), rng.int(2, 3), rng.int(1, 3)];
      const x = sample(rng, shape, -2, 2);
      const keepdim = rng.next() < 0.5;
      const unbiased = rng.next() < 0.5;
      const dims = rng.pick([0, -1, [0, 1], [0, 2], [1]]);
      for (const fn of [(p: Tensor) => p.std(dims, unbiased, keepdim), (p: Tensor) => p.var(dims, unbiased, keepdim)]) {
        check(fn, x);
        checkSecond(fn, x, rng);
      }
      check((p) => p.std(unbiased), x);
      check((p) => torch.var(p), x);
      checkSecond((p) => p.std(), x, rng);
    });
  });

  test("norm for p = 2, 1, ±inf and other numbers, over dims or everything", () => {
    forRuns(14, (rng) => {
      const { shape, dim } = shapeAndDim(rng);
      const keepdim = rng.next() < 0.5;
      const x = sample(rng, shape, -2, 2, 0.1);
      for (const p of [2, 1, 3, 1.5, 0.5, -1]) {
        check((t) => t.norm(p), x);
        check((t) => t.norm(p, dim, keepdim), x);
        checkSecond((t) => t.norm(p, dim, keepdim), x, rng);
      }
      // Distinct magnitudes, so that no tie sits inside the finite difference.
      const ranked = Array.from(x.toArray(), (v, i) => (v < 0 ? -1 : 1) * (0.5 + 0.1 * i));
      const y = torch.tensor(ranked, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
      for (const p of [Infinity, -Infinity]) {
        check((t) => t.norm(p, dim, keepdim), y);
        checkSecond((t) => t.norm(p), y, rng);
      }
    });
  });

  test("norm at zeros: a zero in a lane and a lane of zeros (p = 2, 3, 1.5)", () => {
    const rng = new Rng(15);
    const x = withValues(sample(rng, [3, 4], -2, 2), [1, 4, 5, 6, 7], 0);
    for (const p of [2, 3, 1.5]) {
      check((t) => t.norm(p, 1), x);
      check((t) => t.norm(p, 0, true), x);
    }
    check((t) => t.norm(), withValues(x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0));
    // Twice differentiable at a zero entry for p = 3 (not at a lane of zeros, where the norm has a kink).
    checkSecond((t) => t.norm(3, 1), withValues(sample(rng, [3, 4], -2, 2), [1, 6], 0), rng);
  });

  test("cumsum and cumprod along any dim", () => {
    forRuns(16, (rng) => {
      const { shape, dim } = shapeAndDim(rng);
      const x = sample(rng, shape, -2, 2);
      check((p) => p.cumsum(dim), x);
      check((p) => p.cumprod(dim), x);
      checkSecond((p) => p.cumprod(dim), x, rng);
      checkSecond((p) => torch.cumsum(p, dim).mul(p), x, rng);
    });
  });

  test("cumprod at zeros: one or two zeros in a lane, a leading zero, a lane of zeros", () => {
    forRuns(17, (rng) => {
      const shape = [rng.int(1, 3), rng.int(3, 5)];
      const base = sample(rng, shape, -2, 2);
      const last = shape[1] - 1;
      for (const zeros of [[rng.int(0, last)], [0], [1, last], [0, 1, 2]]) {
        const x = withValues(base, zeros, 0);
        check((p) => p.cumprod(1), x);
        check((p) => p.cumprod(0), x);
        checkSecond((p) => p.cumprod(1), x, rng);
      }
    });
  });

  test("amax and amin with distinct values, over dims or everything", () => {
    forRuns(18, (rng) => {
      const { shape, dim } = shapeAndDim(rng);
      const n = shape.reduce((a, b) => a * b, 1);
      const order = rng.values(n, 0, 1);
      const ranks = order.map((v) => order.filter((w) => w < v).length * 0.1 - 1);
      const x = torch.tensor(ranks, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
      const keepdim = rng.next() < 0.5;
      for (const fn of [
        (p: Tensor) => p.amax(dim, keepdim),
        (p: Tensor) => p.amin(dim, keepdim),
        (p: Tensor) => p.amax(),
        (p: Tensor) => torch.amin(p, []),
      ]) {
        check(fn, x);
        checkSecond((p) => fn(p).mul(fn(p)), x, rng);
      }
    });
  });

  test("amax and amin at a tie of two: each gets half, as a central difference sees it", () => {
    const x = torch.tensor([1, 3, 3, -2, 0.5, -2], { dtype: "float64" }).reshape([2, 3]).requiresGrad_(true);
    check((p) => p.amax(1), x);
    check((p) => p.amin(1), x);
    check((p) => p.amax(), x);
    check((p) => p.amin([0, 1]), x);
  });
});
