/**
 * A leaf's gradient slot keeps an embedding bag's row-sparse gradient as compact rows until `.grad`
 * is read (autograd/grad-slot.ts), and SGD and zeroGrad visit only those rows. Nothing a user sees may change: `.grad` reads as the same dense tensor,
 * bit for bit, as a gradient accumulated densely; zeroGrad keeps PyTorch's semantics; and SGD
 * from the compact rows gives the same parameters as SGD from the dense gradient.
 *
 * The dense reference is the same computation with a no-op hook on the weight: a hooked leaf is
 * handed its gradient as a dense tensor, so it accumulates (and SGD reads) it densely.
 */
import * as torch from "torchlet";
import { visitedRows } from "./helpers/grad-rows";

const { nn, optim } = torch;
type Tensor = torch.Tensor;
type DType = torch.DType;

const int64 = (values: number[]): Tensor => torch.tensor(values, { dtype: "int64" });

/** Bags over a table of 40 rows: rows repeat within and across batches, most rows are unused. */
const batches = [
  { indices: [3, 17, 3, 25, 8, 39], offsets: [0, 2, 2, 5] },
  { indices: [17, 0, 8, 8, 12], offsets: [0, 1, 4] },
  { indices: [21, 3, 30], offsets: [0, 3] },
];

/** Fixed random weights per bag output, so that each row's gradient is a sum that rounds. */
const outputWeights = batches.map((b, i) => {
  torch.manualSeed(100 + i);
  return torch.randn([b.offsets.length, 3]);
});

function table(options: { dtype?: DType; dense?: boolean } = {}): Tensor {
  torch.manualSeed(7);
  const w = torch.randn([40, 3], { dtype: options.dtype ?? "float32" }).requiresGrad_(true);
  if (options.dense) w.registerHook(() => undefined);
  return w;
}

/** sum(embeddingBag(w) * c): linear in w, so the gradient does not depend on w's values. */
function lossOf(w: Tensor, i: number, mode: "sum" | "mean" = "mean"): Tensor {
  const { indices, offsets } = batches[i % batches.length];
  const out = torch.embeddingBag(w, int64(indices), int64(offsets), { mode });
  return out.mul(outputWeights[i % batches.length].to(w.dtype)).sum();
}

const bits = (t: Tensor): number[] => Array.from(t.toArray());

describe("reading .grad after an embedding bag's backward", () => {
  test("gives the dense gradient, bit for bit, built once; until then only the touched rows are visited", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const mode of ["sum", "mean"] as const) {
        const w = table({ dtype });
        const ref = table({ dtype, dense: true });
        lossOf(w, 0, mode).backward();
        lossOf(ref, 0, mode).backward();
        expect(visitedRows(w)).toEqual([3, 8, 17, 25, 39]);
        expect(visitedRows(ref)).toEqual(Array.from({ length: 40 }, (_, r) => r)); // dense: any row
        const grad = w.grad!;
        expect(grad.shape).toEqual([40, 3]);
        expect(grad.dtype).toBe(dtype);
        expect(grad.requiresGrad).toBe(false);
        expect(bits(grad)).toEqual(bits(ref.grad!));
        expect(w.grad).toBe(grad);
        // Handed out: the user may write into it, so its zeros are no longer assumed.
        expect(visitedRows(w)).toHaveLength(40);
      }
    }
  });

  test("matches an indexSelect + matmul formulation", () => {
    // Integer weights keep every sum exact, whatever order either formulation adds in.
    const { indices, offsets } = batches[1]; // bags [17], [0, 8, 8], [12]
    const c = torch.tensor([
      [1, -2, 3],
      [4, 5, -6],
      [-7, 8, 9],
    ]);
    const w = table();
    torch.embeddingBag(w, int64(indices), int64(offsets), { mode: "sum" }).mul(c).sum().backward();

    const v = table();
    const membership = torch.tensor([
      [1, 0, 0, 0, 0],
      [0, 1, 1, 1, 0],
      [0, 0, 0, 0, 1],
    ]);
    membership
      .matmul(v.indexSelect(0, int64(indices)))
      .mul(c)
      .sum()
      .backward();
    expect(bits(w.grad!)).toEqual(bits(v.grad!));
    expect(w.grad!.tolist()).toEqual(
      Array.from({ length: 40 }, (_, r) => ({ 17: [1, -2, 3], 0: [4, 5, -6], 8: [8, 10, -12], 12: [-7, 8, 9] })[r] ?? [0, 0, 0]),
    );
  });

  test("setting .grad drops the pending gradient", () => {
    const w = table();
    lossOf(w, 0).backward();
    w.grad = null;
    expect(w.grad).toBeNull();
    lossOf(w, 1).backward();
    const replacement = torch.ones([40, 3]);
    w.grad = replacement;
    expect(w.grad).toBe(replacement);
  });
});

describe("accumulation without zeroGrad", () => {
  test("two backwards sum like a dense gradient: existing + incoming, rounded to the dtype", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const w = table({ dtype });
      const ref = table({ dtype, dense: true });
      for (const i of [0, 1, 2, 0]) {
        lossOf(w, i).backward();
        lossOf(ref, i).backward();
      }
      expect(visitedRows(w)).toEqual([0, 3, 8, 12, 17, 21, 25, 30, 39]);
      expect(bits(w.grad!)).toEqual(bits(ref.grad!));
    }
  });

  test("after .grad was read, further backwards add into the dense tensor in place", () => {
    const w = table();
    const ref = table({ dense: true });
    lossOf(w, 0).backward();
    lossOf(ref, 0).backward();
    const grad = w.grad!;
    lossOf(w, 1).backward();
    lossOf(ref, 1).backward();
    expect(w.grad).toBe(grad);
    expect(bits(grad)).toEqual(bits(ref.grad!));
  });

  test("a dense gradient arriving after pending rows, and a weight used twice in one graph", () => {
    const w = table();
    const ref = table({ dense: true });
    for (const t of [w, ref]) {
      lossOf(t, 0).backward();
      t.mul(0.5).sum().backward(); // dense: every row
      lossOf(t, 1).add(lossOf(t, 2)).backward(); // two bags of one weight in one graph
    }
    expect(bits(w.grad!)).toEqual(bits(ref.grad!));
  });
});

describe("zeroGrad", () => {
  test("optimizer: setToNone gives null; setToNone: false gives zeros of the full shape", () => {
    const w = table();
    const opt = new optim.SGD([w], { lr: 0.1 });
    lossOf(w, 0).backward();
    opt.zeroGrad();
    expect(w.grad).toBeNull();

    lossOf(w, 0).backward();
    opt.zeroGrad({ setToNone: false });
    expect(visitedRows(w)).toEqual([]); // zeroed row by row: nothing left to visit
    const zeros = w.grad!;
    expect(zeros.shape).toEqual([40, 3]);
    expect(zeros.dtype).toBe("float32");
    expect(bits(zeros)).toEqual(new Array(120).fill(0));

    // The next backward is then the whole gradient, as after zeroing a dense one in place.
    const fresh = table();
    lossOf(fresh, 1).backward();
    lossOf(w, 1).backward();
    expect(w.grad).toBe(zeros);
    expect(bits(w.grad!)).toEqual(bits(fresh.grad!));

    w.grad = null;
    lossOf(w, 2).backward();
    opt.zeroGrad({ setToNone: false });
    lossOf(w, 1).backward();
    expect(visitedRows(w)).toEqual([0, 8, 12, 17]);
    expect(bits(w.grad!)).toEqual(bits(fresh.grad!));
  });

  test("module: the same for an EmbeddingBag's weight", () => {
    const bag = new nn.EmbeddingBag(40, 3, { mode: "sum" });
    const { indices, offsets } = batches[0];
    const run = () => bag.forward(int64(indices), int64(offsets)).sum().backward();
    run();
    bag.zeroGrad();
    expect(bag.weight.grad).toBeNull();
    run();
    bag.zeroGrad({ setToNone: false });
    expect(visitedRows(bag.weight)).toEqual([]);
    expect(bag.weight.grad!.shape).toEqual([40, 3]);
    expect(bits(bag.weight.grad!)).toEqual(new Array(120).fill(0));
    run();
    expect(bag.weight.grad!.sum(1).tolist()).toEqual(
      Array.from({ length: 40 }, (_, r) => 3 * [3, 17, 3, 25, 8, 39].filter((i) => i === r).length),
    );
  });
});

describe("SGD on a pending row-sparse gradient", () => {
  type Route = "pending" | "read" | "dense";

  /** Six steps; "read" builds the dense .grad before each step, "dense" has a hooked weight. */
  function train(route: Route, options: torch.optim.SGDOptions, setToNone: boolean, dtype: DType = "float32"): Tensor {
    const w = table({ dtype, dense: route === "dense" });
    const opt = new optim.SGD([w], options);
    for (let i = 0; i < 6; i++) {
      opt.zeroGrad({ setToNone });
      lossOf(w, i).backward();
      if (route === "read") void w.grad;
      opt.step();
    }
    return w;
  }

  test("updates the rows from the compact values: the same parameters as from the dense gradient", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const setToNone of [true, false]) {
        for (const options of [{ lr: 0.37 }, { lr: 0.37, maximize: true }]) {
          const pending = train("pending", options, setToNone, dtype);
          expect(visitedRows(pending)).toEqual([3, 21, 30]); // the last batch's rows, never the whole table
          const expected = bits(train("dense", options, setToNone, dtype));
          expect(bits(pending)).toEqual(expected);
          expect(bits(train("read", options, setToNone, dtype))).toEqual(expected);
        }
      }
    }
  });

  test("momentum and weight decay read the dense gradient, with the same results", () => {
    for (const options of [
      { lr: 0.37, momentum: 0.9 },
      { lr: 0.37, momentum: 0.9, dampening: 0.25 },
      { lr: 0.37, momentum: 0.9, nesterov: true },
      { lr: 0.37, weightDecay: 0.01 },
    ]) {
      for (const setToNone of [true, false]) {
        const expected = bits(train("dense", options, setToNone));
        expect(bits(train("pending", options, setToNone))).toEqual(expected);
        expect(bits(train("read", options, setToNone))).toEqual(expected);
      }
    }
  });

  test("momentum: PyTorch's float32 update, step by step", () => {
    const lr = 0.37;
    const momentum = 0.9;
    const w = table();
    const p0 = bits(w);
    const opt = new optim.SGD([w], { lr, momentum });
    // The loss is linear in w: the same gradient g at both steps.
    lossOf(w, 0).backward();
    const g = bits(w.grad!);
    opt.step();
    opt.zeroGrad();
    lossOf(w, 0).backward();
    opt.step();

    const f = Math.fround;
    const expected = p0.map((p, i) => {
      const p1 = f(p + f(-lr) * g[i]);
      const buf = f(f(g[i] * f(momentum)) + 1 * g[i]);
      return f(p1 + f(-lr) * buf);
    });
    expect(bits(w)).toEqual(expected);
  });
});
