/**
 * Finite-difference gradient checks (float64) for indexing: `index` with random mixes of numbers,
 * stepped slices, ellipses, new axes, several broadcast integer arrays (negative entries and
 * repeats included) and masks; views of views; `indexPut_` straight and through a view; select,
 * narrow, maskedFill(_), maskedSelect and take. Second derivatives are checked by running
 * gradcheck on the gradient itself (taken with createGraph), which exercises every backward's own
 * backward. Shapes and items come from seeded generators, so a failure is reproducible.
 */
import fc from "fast-check";
import * as torch from "torchlet";

type Tensor = torch.Tensor;
type Item = torch.IndexItem;
const { autograd } = torch;

const RUNS = { numRuns: 40, seed: 1311 };
const seedArb = fc.integer({ min: 0, max: 1_000_000 });
const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

/** A float64 leaf in [-2, 2) from the seeded generator. */
function leaf(shape: number[], seed: number): Tensor {
  torch.manualSeed(seed);
  return torch.rand(shape, { dtype: "float64" }).mul(4).sub(2).detach().requiresGrad_(true);
}

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  expect(autograd.gradcheck(fn, inputs)).toBe(true);
}

/**
 * Second derivatives: the gradient of sum(w * fn(xs)^3), taken with createGraph, is itself checked
 * by finite differences, so the backward of every backward op is checked too.
 */
function checkSecond(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const w = torch.rand(
    torch.noGrad(() => fn(...inputs.map((t) => t.detach())).shape),
    { dtype: "float64" },
  );
  const gradient = (...xs: Tensor[]) =>
    torch.enableGrad(() =>
      autograd.grad(
        [
          fn(...xs)
            .pow(3)
            .mul(w)
            .sum(),
        ],
        xs,
        { createGraph: true, allowUnused: true },
      ),
    );
  inputs.forEach((_, i) => check((...xs) => gradient(...xs)[i] ?? torch.zerosLike(xs[i]), inputs));
}

/** A small seeded generator (mulberry32), so that the items follow from one seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r: () => number, n: number) => Math.floor(r() * n);
const anyIndex = (r: () => number, size: number) => pick(r, 2 * size) - size;

function int64(values: number[], shape: number[]): Tensor {
  return torch.tensor(values, { dtype: "int64" }).reshape(shape);
}

/** A mask over `shape` with at least one true (unless it is empty). */
function mask(r: () => number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const flags = Array.from({ length: n }, () => r() < 0.5);
  if (n > 0) flags[pick(r, n)] = true;
  return torch.tensor(flags).reshape(shape);
}

/** A slice string with random bounds (possibly negative or past the end) and step 1 to 3. */
function sliceOf(r: () => number, size: number): string {
  const bound = () => (r() < 0.3 ? "" : String(pick(r, 2 * size + 3) - size - 1));
  const step = pick(r, 3) + 1;
  return `${bound()}:${bound()}${step > 1 ? `:${step}` : ""}`;
}

interface Options {
  /** Allow advanced items (integer arrays, masks). */
  advanced: boolean;
  /** Integer arrays without repeats (assignment: a repeated place keeps only its last write). */
  distinct: boolean;
}

/**
 * Valid items for a tensor of `shape`: per dim a number, a slice, an integer array (several are
 * broadcast together: shapes [L] and [L, 1]; with `distinct`, one array of distinct places), or
 * a mask over one or two dims (alone among the advanced items, as its length depends on its
 * values, and last, as PyTorch moves its dim cursor by one for it); nulls and an ellipsis
 * sprinkled in; without an ellipsis, the trailing dims may be left out. An empty dim gets a slice.
 */
function randomItems(shape: number[], seed: number, options: Options): Item[] {
  const r = rng(seed);
  const items: Item[] = [];
  const length = pick(r, 3) + 1;
  let arrays = 0;
  const first = r() < 0.2 ? pick(r, shape.length + 1) : 0;
  if (first > 0) items.push("...");
  for (let d = first; d < shape.length; d++) {
    if (r() < 0.15) items.push(null);
    const size = shape[d];
    const kind = pick(r, options.advanced ? 5 : 2);
    const arrayAllowed = !options.distinct || arrays === 0;
    if (size === 0) items.push(sliceOf(r, size));
    else if (kind === 0) items.push(anyIndex(r, size));
    else if (kind === 4 && arrays === 0) {
      const dims = d + 1 < shape.length && r() < 0.4 ? 2 : 1;
      items.push(mask(r, shape.slice(d, d + dims)));
      return items;
    } else if (kind === 1 || kind === 4 || !arrayAllowed) items.push(sliceOf(r, size));
    else {
      const offset = pick(r, size);
      const values = options.distinct
        ? Array.from({ length: Math.min(length, size) }, (_, i) => ((i + offset) % size) - (r() < 0.5 ? size : 0))
        : Array.from({ length }, () => anyIndex(r, size));
      items.push(kind === 3 && arrays > 0 ? int64(values, [values.length, 1]) : values);
      arrays++;
    }
    if (first === 0 && r() < 0.15) break;
  }
  if (r() < 0.15) items.push(null);
  return items;
}

/** The shape of x.index(...items), read without a graph. */
const shapeOf = (x: Tensor, items: Item[]) => torch.noGrad(() => x.detach().index(...items).shape);

const BASIC: Options = { advanced: false, distinct: false };
const ANY: Options = { advanced: true, distinct: false };

/** Runs `body` on random shapes, each with a seed for its values and items. */
function forShapes(body: (shape: number[], seed: number) => void, runs = RUNS): void {
  fc.assert(fc.property(shapeArb, seedArb, body), runs);
}

describe("gradcheck: x.index(...items)", () => {
  test.each([
    ["basic items: numbers, stepped slices, ellipsis, null (views)", BASIC],
    ["advanced items: several integer arrays broadcast together, negative and repeated entries, masks", ANY],
  ] as const)("%s", (_, options) => {
    forShapes((shape, seed) => {
      const items = randomItems(shape, seed, options);
      check((p) => p.index(...items), [leaf(shape, seed)]);
    });
  });

  test("views of views, and an index of a transposed (non-contiguous) tensor", () => {
    forShapes((shape, seed) => {
      const first = randomItems(shape, seed, BASIC);
      const inner = shapeOf(leaf(shape, seed), first);
      const second = inner.length > 0 ? randomItems(inner, seed + 1, ANY) : [];
      check((p) => p.index(...first).index(...second), [leaf(shape, seed)]);
      const transposed = leaf(shape, seed).transpose(0, -1).shape;
      const items = randomItems(transposed, seed + 2, ANY);
      check((p) => p.transpose(0, -1).index(...items), [leaf(shape, seed)]);
    });
  });

  test("fixed mixes: a mask over two dims, separated arrays (their dims go first), bool items", () => {
    const x = leaf([3, 4, 2], 5);
    check((p) => p.index(mask(rng(1), [3, 4])), [x]);
    check((p) => p.index([0, -1, 0], ":", int64([1, 0], [2, 1])), [x]);
    check((p) => p.index(null, [2, 2], "::2", [-1]), [x]);
    check((p) => p.index(true, 1, "...", false), [x]);
    check((p) => p.index(torch.tensor(1, { dtype: "int64" }), ":", torch.tensor(true)), [x]);
  });
});

describe("gradcheck: x.indexPut_(items, value)", () => {
  /** y = p * 1, then y[items] = v (v broadcast from a random trailing part of the target's shape, or a number). */
  function assignment(shape: number[], seed: number, advanced: boolean) {
    const items = randomItems(shape, seed, { advanced, distinct: true });
    const target = shapeOf(leaf(shape, seed), items);
    const valueShape = target.slice(pick(rng(seed), target.length + 1));
    return { items, value: leaf(valueShape, seed + 3) };
  }

  test("into a tensor, with basic or advanced items (CopySlices, IndexPutBackward0)", () => {
    forShapes((shape, seed) => {
      const { items, value } = assignment(shape, seed, seed % 2 === 0);
      check((p, v) => p.mul(1).indexPut_(items, v), [leaf(shape, seed), value]);
      check((p) => p.mul(1).indexPut_(items, 0.25), [leaf(shape, seed)]);
    });
  });

  test("through a view: the base's history becomes CopySlices", () => {
    forShapes((shape, seed) => {
      const outer = randomItems(shape, seed, BASIC);
      const inner = shapeOf(leaf(shape, seed), outer);
      const { items, value } = assignment(inner.length > 0 ? inner : [1], seed + 1, true);
      const chosen = inner.length > 0 ? items : ["..."];
      const run = (p: Tensor, v: Tensor) => {
        const y = p.mul(1);
        y.index(...outer).indexPut_(chosen, inner.length > 0 ? v : v.sum());
        return y;
      };
      check(run, [leaf(shape, seed), value]);
    });
  });
});

describe("gradcheck: select, narrow, masks, take", () => {
  test("select and narrow along any dim, negative indices and starts", () => {
    forShapes((shape, seed) => {
      const r = rng(seed);
      const dim = pick(r, 2 * shape.length) - shape.length;
      const size = shape[(dim + shape.length) % shape.length];
      const at = anyIndex(r, size);
      check((p) => p.select(dim, at), [leaf(shape, seed)]);
      const start = anyIndex(r, size);
      const length = pick(r, size - (start < 0 ? start + size : start) + 1);
      check((p) => torch.narrow(p, dim, start, length), [leaf(shape, seed)]);
    });
  });

  test("maskedFill with a number or a 0-d tensor, mask broadcast either way; maskedFill_; maskedSelect", () => {
    forShapes((shape, seed) => {
      const r = rng(seed);
      const own = shape.slice(pick(r, shape.length)).map((s) => (r() < 0.3 ? 1 : s));
      const m = mask(r, own.length === shape.length && r() < 0.5 ? [2, ...own] : own);
      const x = leaf(shape, seed);
      const v = leaf([], seed + 1);
      check((p) => p.maskedFill(m, -1.5), [x]);
      check((p, q) => torch.maskedFill(p, m, q), [x, v]);
      check((p) => p.maskedSelect(m), [x]);
      const inPlace = mask(r, own);
      check((p, q) => p.mul(1).maskedFill_(inPlace, q), [x, v]);
    });
  });

  test("take with negative and repeated indices in any shape", () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), (shape, seed, indexShape) => {
        const r = rng(seed);
        const n = shape.reduce((a, b) => a * b, 1);
        const count = indexShape.reduce((a, b) => a * b, 1);
        const index = int64(
          Array.from({ length: count }, () => anyIndex(r, n)),
          indexShape,
        );
        check((p) => p.take(index), [leaf(shape, seed)]);
      }),
      RUNS,
    );
  });
});

describe("second derivatives (the backward ops are differentiable)", () => {
  test("index (basic and advanced), select, narrow", () => {
    forShapes(
      (shape, seed) => {
        const items = randomItems(shape, seed, ANY);
        checkSecond((p) => p.index(...items), [leaf(shape, seed)]);
        checkSecond((p) => p.narrow(0, 0, 1).select(-1, 0), [leaf(shape, seed)]);
      },
      { ...RUNS, numRuns: 15 },
    );
  });

  test("indexPut_ and an in-place op through a view (CopySlices), maskedFill, maskedSelect, take", () => {
    const x = leaf([3, 4], 21);
    const m = mask(rng(4), [4]);
    checkSecond((p, v) => p.mul(1).indexPut_([[2, 0], "1:"], v), [x, leaf([3], 22)]);
    checkSecond((p, v) => p.mul(1).indexPut_([1, "::2"], v), [x, leaf([2], 23)]);
    const mulThroughView = (p: Tensor, v: Tensor) => {
      const y = p.mul(1);
      y.index(1).mul_(v);
      return y;
    };
    checkSecond(mulThroughView, [x, leaf([4], 25)]);
    checkSecond((p, v) => p.maskedFill(m, v), [x, leaf([], 24)]);
    checkSecond((p) => p.maskedSelect(m), [x]);
    checkSecond((p) => p.take(int64([0, -1, 5, 5], [2, 2])), [x]);
  });
});
