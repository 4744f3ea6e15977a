/**
 * The adaptive optimizers on an embedding table's row-sparse gradient (kept as rows in the
 * gradient slot until someone reads `.grad`). Whatever the route, the parameters must come out
 * bit for bit as from the dense gradient. Adagrad without weight decay or maximize updates only
 * the touched rows (an untouched row's dense update is p + (-0) = p); Adam, AdamW and RMSprop
 * read the dense gradient, because every row's running averages decay at every step.
 *
 * The dense reference hooks the weight: a hooked leaf is handed its gradient as a dense tensor.
 */
import * as torch from "torchlet";
import { visitedRows } from "./helpers/grad-rows";

const { optim } = torch;
type Tensor = torch.Tensor;
type Optimizer = torch.optim.Optimizer;

const ROWS = 30;
/** Bags per step; each step touches a few rows, and rows 11 and 12 only at the first step. */
const STEPS = [
  { indices: [4, 11, 4, 12], offsets: [0, 2] },
  { indices: [7, 4], offsets: [0, 1] },
  { indices: [20, 7, 7, 29], offsets: [0, 3] },
  { indices: [4], offsets: [0] },
];
const LAST_ROWS = [4];

const int64 = (values: number[]): Tensor => torch.tensor(values, { dtype: "int64" });
const bits = (t: Tensor): number[] => Array.from(t.toArray());

/** A seeded (ROWS, 3) table; with `dense`, hooked so that its gradient arrives dense. */
function table(dense: boolean): Tensor {
  torch.manualSeed(3);
  const w = torch.randn([ROWS, 3]).requiresGrad_(true);
  if (dense) w.registerHook(() => undefined);
  return w;
}

/** The first `steps` steps, each: zeroGrad, sum(embeddingBag(w) * c) backward, step. */
function train(make: (params: Tensor[]) => Optimizer, dense: boolean, steps = STEPS.length): { w: Tensor; rowsAfterStep: number[] } {
  const w = table(dense);
  const optimizer = make([w]);
  let rowsAfterStep: number[] = [];
  STEPS.slice(0, steps).forEach(({ indices, offsets }, k) => {
    optimizer.zeroGrad();
    torch.manualSeed(50 + k);
    const c = torch.randn([offsets.length, 3]);
    torch.embeddingBag(w, int64(indices), int64(offsets), { mode: "mean" }).mul(c).sum().backward();
    optimizer.step();
    rowsAfterStep = visitedRows(w);
  });
  return { w, rowsAfterStep };
}

const ALL_ROWS = Array.from({ length: ROWS }, (_, r) => r);

describe("Adagrad's sparse fast path", () => {
  test.each([
    ["defaults", { lr: 0.5 }],
    ["lrDecay and an initial accumulator", { lr: 0.5, lrDecay: 0.3, initialAccumulatorValue: 0.2 }],
  ])("%s: only the touched rows are updated, with the dense path's numbers bit for bit", (_name, options) => {
    const make = (ps: Tensor[]) => new optim.Adagrad(ps, options);
    const sparse = train(make, false);
    // The step read the gradient as rows: the slot still knows which rows are non-zero.
    expect(sparse.rowsAfterStep).toEqual(LAST_ROWS);
    expect(bits(sparse.w)).toEqual(bits(train(make, true).w));
    // Rows no step touched kept their initial values.
    const initial = bits(table(false));
    expect(bits(sparse.w).slice(0, 3)).toEqual(initial.slice(0, 3));
  });

  test.each([
    ["weight decay", { lr: 0.5, weightDecay: 0.1 }],
    ["maximize", { lr: 0.5, maximize: true }],
    ["eps 0 (an untouched row's 0 / 0 is NaN)", { lr: 0.5, eps: 0 }],
  ])("%s: the dense path, since an untouched row may change", (_name, options) => {
    const make = (ps: Tensor[]) => new optim.Adagrad(ps, options);
    const sparse = train(make, false);
    expect(sparse.rowsAfterStep).toEqual(ALL_ROWS);
    expect(bits(sparse.w)).toEqual(bits(train(make, true).w));
  });
});

test("maximize: an untouched parameter of -0 becomes +0 (-0 + +0), as PyTorch's dense update gives", () => {
  const w = torch
    .tensor([
      [-0, 1],
      [2, 3],
    ])
    .requiresGrad_(true);
  expect(Object.is(w.toArray()[0], -0)).toBe(true);
  const optimizer = new optim.Adagrad([w], { lr: 0.5, maximize: true });
  torch
    .embeddingBag(w, int64([1]), int64([0]), { mode: "sum" })
    .sum()
    .backward(); // row 1 only
  optimizer.step();
  expect(Object.is(w.toArray()[0], 0)).toBe(true);
  expect(bits(w)).toEqual([0, 1, 2.5, 3.5]);
});

describe("Adam, AdamW and RMSprop on a row-sparse gradient", () => {
  test.each([
    ["Adam", (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1 })],
    ["Adam amsgrad", (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, amsgrad: true })],
    ["AdamW", (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1 })],
    ["RMSprop", (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.1, momentum: 0.5 })],
  ])("%s: dense Adam's numbers, untouched rows moving on their running averages", (_name, make) => {
    const sparse = train(make, false);
    expect(bits(sparse.w)).toEqual(bits(train(make, true).w));
    // Rows 11 and 12 had a gradient only at the first step, yet moved at every later step.
    const afterOneStep = bits(train(make, false, 1).w);
    expect(bits(sparse.w).slice(33, 39)).not.toEqual(afterOneStep.slice(33, 39));
  });
});
