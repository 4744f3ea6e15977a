/**
 * Finite-difference gradient checks (autograd.gradcheck, float64) for the core ops and the
 * linalg / indexing ops: fixed cases for every shape kind, and property-based random shapes and
 * broadcasts with fast-check (seeded, so a failure is reproducible).
 */
import fc from "fast-check";
import * as torch from "torchlet";

type Tensor = torch.Tensor;
const { autograd } = torch;

const RUNS = { numRuns: 25, seed: 1913 };

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float64 leaf requiring grad, uniform in [lo, hi) from the seeded generator. */
function leaf(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  torch.manualSeed(seed);
  return torch
    .rand(shape, { dtype: "float64" })
    .mul(hi - lo)
    .add(lo)
    .detach()
    .requiresGrad_(true);
}

/** Like `leaf`, but every value at least `gap` away from zero (for div, log of |x|, abs). */
function awayFromZero(shape: number[], seed: number, gap = 0.2): Tensor {
  torch.manualSeed(seed);
  const u = torch.rand(shape, { dtype: "float64" });
  const sign = torch.rand(shape, { dtype: "float64" }).toArray();
  const values = Array.from(u.toArray(), (v, i) => (sign[i] < 0.5 ? -1 : 1) * (gap + 1.5 * v));
  return torch.tensor(values, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
}

function int64(values: number[], shape: number[]): Tensor {
  return torch.tensor(values, { dtype: "int64" }).reshape(shape);
}

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  expect(autograd.gradcheck(fn, inputs)).toBe(true);
}

// ---- arbitraries --------------------------------------------------------------------------

const size = fc.integer({ min: 1, max: 3 });
const shapeArb = (maxDims = 3) => fc.array(size, { minLength: 0, maxLength: maxDims });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

/** Two shapes that broadcast to a common shape: each drops leading dims and may set dims to 1. */
const broadcastPair = fc
  .record({
    shape: shapeArb(3),
    dropA: fc.nat(3),
    dropB: fc.nat(3),
    onesA: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    onesB: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    seed: seedArb,
  })
  .map(({ shape, dropA, dropB, onesA, onesB, seed }) => {
    const a = shape.slice(Math.min(dropA, shape.length)).map((s, i) => (onesA[i] ? 1 : s));
    const b = shape.slice(Math.min(dropB, shape.length)).map((s, i) => (onesB[i] ? 1 : s));
    return { a, b, seed };
  });

/** A shape with at least one dim and a valid dim of it (possibly negative). */
const shapeWithDim = fc
  .record({ shape: fc.array(size, { minLength: 1, maxLength: 3 }), pick: fc.nat(5), negative: fc.boolean(), seed: seedArb })
  .map(({ shape, pick, negative, seed }) => {
    const d = pick % shape.length;
    return { shape, dim: negative ? d - shape.length : d, seed };
  });

// ---- element-wise -------------------------------------------------------------------------

describe("gradcheck: element-wise ops with broadcasting", () => {
  test("add, sub, mul (random broadcast shapes)", () => {
    fc.assert(
      fc.property(broadcastPair, ({ a, b, seed }) => {
        const x = leaf(a, seed);
        const y = leaf(b, seed + 1);
        check((p, q) => p.add(q), [x, y]);
        check((p, q) => p.add(q, 2.5), [x, y]);
        check((p, q) => p.sub(q), [x, y]);
        check((p, q) => p.mul(q), [x, y]);
      }),
      RUNS,
    );
  });

  test("div and pow (random broadcast shapes, away from the singular points)", () => {
    fc.assert(
      fc.property(broadcastPair, ({ a, b, seed }) => {
        check((p, q) => p.div(q), [leaf(a, seed), awayFromZero(b, seed + 1)]);
        check((p, q) => p.pow(q), [leaf(a, seed, 0.5, 2), leaf(b, seed + 1, -1.5, 1.5)]);
      }),
      RUNS,
    );
  });

  test("ops with a plain number", () => {
    const x = leaf([3, 4], 1);
    check((p) => p.add(2), [x]);
    check((p) => p.sub(0.5), [x]);
    check((p) => p.mul(-1.5), [x]);
    check((p) => p.div(4), [x]);
    for (const e of [2, 3, -1, 0.5, 1.5, 0]) check((p) => p.pow(e), [leaf([3, 4], 2, 0.3, 2)]);
  });

  test("neg, exp, log, sqrt, abs, clamp (random shapes)", () => {
    fc.assert(
      fc.property(shapeArb(3), seedArb, (shape, seed) => {
        check((p) => p.neg(), [leaf(shape, seed)]);
        check((p) => p.exp(), [leaf(shape, seed)]);
        check((p) => p.log(), [leaf(shape, seed, 0.2, 3)]);
        check((p) => p.sqrt(), [leaf(shape, seed, 0.2, 3)]);
        check((p) => p.abs(), [awayFromZero(shape, seed)]);
        // Points at least 0.05 away from the bounds ±0.7, where clamp has kinks.
        const x = awayFromZero(shape, seed, 0.05);
        const shifted = x.detach().add(0.7).detach().requiresGrad_(true);
        check((p) => p.clamp(0.7, null), [shifted]);
        check((p) => p.clamp(null, 0.7), [shifted]);
        check((p) => p.clamp(-0.7 + 0.7, 1.4 + 0.7), [shifted]);
      }),
      RUNS,
    );
  });

  test("a tensor used twice, and chains of ops", () => {
    const x = leaf([2, 3], 5, 0.5, 2);
    check((p) => p.mul(p).add(p.exp()).div(p).log(), [x]);
    check((p) => p.sub(p.mean(1, true)).pow(2).sum(), [x]);
  });
});

// ---- matmul -------------------------------------------------------------------------------

/**
 * Operand shapes for matmul of every kind: 1-D, 2-D, batched with broadcasting batch dims.
 */
const matmulShapes = fc
  .record({
    d1: fc.integer({ min: 1, max: 4 }),
    d2: fc.integer({ min: 1, max: 4 }),
    n: size,
    m: size,
    p: size,
    batch: fc.array(size, { minLength: 2, maxLength: 2 }),
    onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    transposeA: fc.boolean(),
    transposeB: fc.boolean(),
    seed: seedArb,
  })
  .map(({ d1, d2, n, m, p, batch, onesA, onesB, transposeA, transposeB, seed }) => {
    const batchA = batch.slice(2 - Math.max(d1 - 2, 0)).map((s, i) => (onesA[i] ? 1 : s));
    const batchB = batch.slice(2 - Math.max(d2 - 2, 0)).map((s, i) => (onesB[i] ? 1 : s));
    const a = d1 === 1 ? [m] : [...batchA, n, m];
    const b = d2 === 1 ? [m] : [...batchB, m, p];
    return { a, b, transposeA: transposeA && d1 > 1, transposeB: transposeB && d2 > 1, seed };
  });

/** A leaf whose last two dims are stored swapped, so that `.transpose(-1, -2)` gives `shape`. */
function swappedLeaf(shape: number[], seed: number): Tensor {
  const s = [...shape];
  [s[s.length - 1], s[s.length - 2]] = [s[s.length - 2], s[s.length - 1]];
  return leaf(s, seed);
}

describe("gradcheck: matmul", () => {
  const kinds: Array<[string, number[], number[]]> = [
    ["1-D @ 1-D (dot)", [4], [4]],
    ["2-D @ 1-D (mv)", [3, 4], [4]],
    ["1-D @ 2-D", [4], [4, 3]],
    ["2-D @ 2-D (mm)", [3, 4], [4, 2]],
    ["3-D @ 2-D (folded)", [2, 3, 4], [4, 5]],
    ["3-D @ 1-D (folded mv)", [2, 3, 4], [4]],
    ["2-D @ 3-D", [3, 4], [2, 4, 5]],
    ["1-D @ 3-D", [4], [2, 4, 5]],
    ["3-D @ 3-D", [2, 3, 4], [2, 4, 2]],
    ["broadcast batch 4-D @ 3-D", [2, 1, 3, 4], [3, 4, 2]],
    ["broadcast batch 3-D @ 4-D", [1, 3, 2], [2, 3, 2, 2]],
    ["larger than one kernel tile", [9, 7], [7, 6]],
  ];

  test.each(kinds)("%s", (_, sa, sb) => {
    check((a, b) => a.matmul(b), [leaf(sa, 11), leaf(sb, 12)]);
    check((a, b) => torch.matmul(a, b), [leaf(sa, 13), leaf(sb, 14).detach()]);
  });

  test("non-contiguous operands (transposed views) and an expanded upstream gradient", () => {
    check((a, b) => a.transpose(0, 1).matmul(b.transpose(0, 1)), [leaf([4, 3], 1), leaf([5, 4], 2)]);
    check((a, b) => a.permute(2, 0, 1).matmul(b).sum(), [leaf([3, 4, 2], 3), leaf([4, 5], 4)]);
    check((a, b) => a.matmul(b.expand(2, 3, 4)), [leaf([2, 3], 5), leaf([3, 4], 6)]);
  });

  test("mm, mv, dot and bmm", () => {
    check((a, b) => torch.mm(a, b), [leaf([3, 4], 1), leaf([4, 2], 2)]);
    check((a, b) => torch.mv(a, b), [leaf([3, 4], 3), leaf([4], 4)]);
    check((a, b) => torch.dot(a, b), [leaf([5], 5), leaf([5], 6)]);
    check((a, b) => torch.bmm(a, b), [leaf([2, 3, 4], 7), leaf([2, 4, 2], 8)]);
  });

  test("random shapes of every kind, with broadcast batches and transposed operands", () => {
    fc.assert(
      fc.property(matmulShapes, ({ a, b, transposeA, transposeB, seed }) => {
        const x = transposeA ? swappedLeaf(a, seed) : leaf(a, seed);
        const y = transposeB ? swappedLeaf(b, seed + 1) : leaf(b, seed + 1);
        check((p, q) => (transposeA ? p.transpose(-1, -2) : p).matmul(transposeB ? q.transpose(-1, -2) : q), [x, y]);
      }),
      { numRuns: 40, seed: 77 },
    );
  });
});

// ---- reductions ---------------------------------------------------------------------------

describe("gradcheck: reductions", () => {
  test("sum and mean over everything, a dim, or a list of dims, with keepdim", () => {
    fc.assert(
      fc.property(shapeWithDim, fc.boolean(), ({ shape, dim, seed }, keepdim) => {
        const x = leaf(shape, seed);
        check((p) => p.sum(), [x]);
        check((p) => p.mean(), [x]);
        check((p) => p.sum(dim, keepdim), [x]);
        check((p) => p.mean(dim, keepdim), [x]);
        const dims = shape.length > 1 ? [0, shape.length - 1] : [0];
        check((p) => p.sum(dims, keepdim), [x]);
        check((p) => p.mean(dims, keepdim), [x]);
      }),
      RUNS,
    );
  });

  test("max (full and along a dim) and logsumexp", () => {
    fc.assert(
      fc.property(shapeWithDim, fc.boolean(), ({ shape, dim, seed }, keepdim) => {
        // Distinct values with gaps, so that no tie or near-tie sits inside the finite difference.
        const n = numel(shape);
        torch.manualSeed(seed);
        const order = torch.rand([n], { dtype: "float64" }).toArray();
        const ranks = Array.from(order, (v) => Array.from(order).filter((w) => w < v).length);
        const x = torch
          .tensor(
            ranks.map((r) => r * 0.1 - 1),
            { dtype: "float64" },
          )
          .reshape(shape)
          .detach()
          .requiresGrad_(true);
        check((p) => p.max(), [x]);
        check((p) => p.max(dim, keepdim).values, [x]);
        check((p) => p.logsumexp(dim, keepdim), [leaf(shape, seed)]);
      }),
      RUNS,
    );
  });
});

// ---- shape ops ----------------------------------------------------------------------------

describe("gradcheck: shape ops", () => {
  test("reshape, view, transpose, permute, unsqueeze, squeeze, expand, flatten", () => {
    fc.assert(
      fc.property(shapeWithDim, ({ shape, dim, seed }) => {
        const x = leaf(shape, seed);
        const n = numel(shape);
        check((p) => p.reshape([n]).mul(1), [x]);
        check((p) => p.reshape([-1, 1]), [x]);
        check((p) => p.view(n), [x]);
        check((p) => p.transpose(0, dim), [x]);
        check((p) => p.permute([...shape.keys()].reverse()), [x]);
        check((p) => p.unsqueeze(dim).mul(2), [x]);
        check((p) => p.unsqueeze(0).squeeze(), [x]);
        check((p) => p.unsqueeze(-1).squeeze(-1), [x]);
        check((p) => p.unsqueeze(1).expand([...shape.slice(0, 1), 3, ...shape.slice(1)]), [x]);
        check((p) => p.expand([2, ...shape]), [x]);
        check((p) => p.flatten(), [x]);
      }),
      RUNS,
    );
  });

  test("views of views, contiguous() and a reshape that copies", () => {
    const x = leaf([2, 3, 4], 3);
    check((p) => p.transpose(0, 2).reshape([4, 6]).t().contiguous(), [x]);
    check((p) => p.permute(1, 2, 0).flatten(0, 1).mul(p.sum()), [x]);
  });
});

// ---- indexing -----------------------------------------------------------------------------

/** Random int64 indices in [0, high) of `shape`. */
function randomIndex(shape: number[], high: number, seed: number): Tensor {
  torch.manualSeed(seed);
  return torch.randint(0, high, shape);
}

describe("gradcheck: indexing ops", () => {
  test("gather: index smaller or larger than the input along dim, repeated indices", () => {
    fc.assert(
      fc.property(shapeWithDim, size, seedArb, ({ shape, dim, seed }, along, s2) => {
        const d = dim < 0 ? dim + shape.length : dim;
        const ishape = shape.map((sz, i) => (i === d ? along + 1 : Math.max(1, sz - (s2 % 2))));
        const index = randomIndex(ishape, shape[d], s2);
        check((p) => p.gather(dim, index), [leaf(shape, seed)]);
      }),
      RUNS,
    );
  });

  test("scatter from a tensor (into x and from src) and from a value", () => {
    fc.assert(
      fc.property(shapeWithDim, seedArb, ({ shape, dim, seed }, s2) => {
        const d = dim < 0 ? dim + shape.length : dim;
        const ishape = shape.map((sz, i) => (i === d ? sz : Math.max(1, sz - (s2 % 2))));
        // Distinct positions along dim (a permutation prefix), so that no write is overwritten.
        torch.manualSeed(s2);
        const perms: number[] = [];
        const rows = numel(ishape) / ishape[d];
        for (let r = 0; r < rows; r++) {
          const keys = Array.from(torch.rand([shape[d]]).toArray());
          const perm = [...keys.keys()].sort((i, j) => keys[i] - keys[j]);
          perms.push(...perm.slice(0, ishape[d]));
        }
        // perms is ordered (row, position along d); move d into place.
        const moved = ishape.filter((_, i) => i !== d);
        const index = int64(perms, [...moved, ishape[d]])
          .permute([...ishape.keys()].map((i) => (i < d ? i : i === d ? ishape.length - 1 : i - 1)))
          .contiguous();
        const src = leaf(
          ishape.map((s, i) => s + (i === 0 ? 1 : 0)),
          seed + 1,
        );
        check((p, q) => p.scatter(dim, index, q), [leaf(shape, seed), src]);
        check((p) => p.scatter(dim, index, 0.5), [leaf(shape, seed)]);
        check((p) => p.scatter(dim, index, { value: -1 }), [leaf(shape, seed)]);
        check((p, q) => torch.scatterAdd(p, dim, index, q), [leaf(shape, seed), src]);
      }),
      RUNS,
    );
  });

  test("scatterAdd with repeated indices accumulates", () => {
    const index = int64([0, 0, 1, 1, 1, 0], [2, 3]);
    check((p, q) => torch.scatterAdd(p, 1, index, q), [leaf([2, 2], 1), leaf([2, 3], 2)]);
  });

  test("indexSelect and indexAdd along any dim, with repeated indices", () => {
    fc.assert(
      fc.property(shapeWithDim, fc.integer({ min: 0, max: 5 }), seedArb, ({ shape, dim, seed }, count, s2) => {
        const d = dim < 0 ? dim + shape.length : dim;
        const index = randomIndex([count], shape[d], s2);
        check((p) => p.indexSelect(dim, index), [leaf(shape, seed)]);
        const source = leaf(
          shape.map((s, i) => (i === d ? count : s)),
          seed + 2,
        );
        check((p, q) => torch.indexAdd(p, dim, index, q, { alpha: 0.5 }), [leaf(shape, seed), source]);
      }),
      RUNS,
    );
    check((p) => p.indexSelect(0, int64([2], [])), [leaf([3, 2], 9)]);
  });

  test("embeddingBag: sum, mean and max, empty bags, perSampleWeights, includeLastOffset, paddingIdx", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        seedArb,
        (vocab, dim, lengths, seed) => {
          const total = lengths.reduce((a, b) => a + b, 0);
          const offsets = int64(
            lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0)),
            [lengths.length],
          );
          const indices = randomIndex([total], vocab, seed);
          // Distinct weights with gaps keep max away from ties.
          torch.manualSeed(seed + 5);
          const keys = Array.from(torch.rand([vocab * dim], { dtype: "float64" }).toArray());
          const ranks = keys.map((v) => keys.filter((w) => w < v).length * 0.1);
          const weight = torch.tensor(ranks, { dtype: "float64" }).reshape([vocab, dim]).detach().requiresGrad_(true);
          for (const mode of ["sum", "mean", "max"] as const) {
            check((w) => torch.embeddingBag(w, indices, offsets, { mode }), [weight]);
          }
          check(
            (w, s) => torch.embeddingBag(w, indices, offsets, { mode: "sum", perSampleWeights: s }),
            [leaf([vocab, dim], seed), leaf([total], seed + 1)],
          );
          const last = int64([...Array.from(offsets.toArray()), total], [lengths.length + 1]);
          check((w) => torch.embeddingBag(w, indices, last, { mode: "mean", includeLastOffset: true }), [weight]);
          check((w) => torch.embeddingBag(w, indices, offsets, { mode: "mean", paddingIdx: 0 }), [weight]);
        },
      ),
      RUNS,
    );
  });
});
