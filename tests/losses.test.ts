import * as torch from "torchlet";
import * as dtypeModule from "../src/dtype";
import { loadCases, toTensor } from "./helpers/golden";
import { replay } from "./helpers/nn-replay";
import { Rng } from "./helpers/random-cases";
import { leaf64 } from "./helpers/twice";

const { nn, autograd } = torch;
const F = nn.functional;
type Reduction = "none" | "mean" | "sum";

describe("golden losses (PyTorch 1.13)", () => {
  const cases = loadCases("losses.json");
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));
});

describe("golden loss errors (PyTorch 1.13): exact message", () => {
  const cases = loadCases("losses_errors.json");
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));
});

describe("golden loss errors: thrown before any computation", () => {
  const cases = loadCases("losses_errors.json");
  test.each(cases.map((c) => [c.id, c] as const))("%s allocates nothing", (_, c) => {
    const inputs = c.inputs.map(toTensor);
    const Module = (nn as unknown as Record<string, new (o: unknown) => torch.nn.Module>)[c.op.slice(3)];
    const options = Object.fromEntries(
      Object.entries(c.options).map(([k, v]) => [k, v && typeof v === "object" ? toTensor(v as never) : v]),
    );
    const module = new Module(options);
    const spy = jest.spyOn(dtypeModule, "allocate");
    try {
      expect(() => module.forward(inputs[0], inputs[1])).toThrow();
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe("golden seed examples (the notes)", () => {
  const cases = loadCases("seed.json");
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));

  test("the printed values of the notes", () => {
    const logits = torch.tensor(
      [
        [0.1, 0.2, 0.7],
        [0.4, 0.5, 0.1],
      ],
      { requiresGrad: true },
    );
    const target = torch.tensor([2, 1], { dtype: "int64" });
    const loss = new nn.CrossEntropyLoss().forward(logits, target);
    expect(loss.toString()).toBe("tensor(0.8569, grad_fn=<NllLossBackward0>)");
    const oneHot = torch.tensor([
      [0, 0, 1],
      [0, 1, 0],
    ]);
    expect(new nn.BCEWithLogitsLoss().forward(logits, oneHot).item()).toBeCloseTo(0.6795, 4);
    const binary = new nn.BCEWithLogitsLoss().forward(torch.tensor([0.6, 0.3]), torch.tensor([0, 1]));
    expect(binary.item()).toBeCloseTo(0.7959, 4);
  });
});

/** Random class indices for `shape`, some set to `ignoreIndex`, at least one kept. */
function classTargets(rng: Rng, shape: number[], c: number, ignoreIndex: number | undefined): torch.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // The first target is kept: a class other than ignoreIndex (which may itself be a class, like 0).
  const kept = () => {
    let t = rng.int(0, c - 1);
    while (t === ignoreIndex) t = rng.int(0, c - 1);
    return t;
  };
  const values = Array.from({ length: n }, (_, i) =>
    i === 0 ? kept() : ignoreIndex !== undefined && rng.next() < 0.3 ? ignoreIndex : rng.int(0, c - 1),
  );
  return torch.tensor(values, { dtype: "int64" }).reshape(shape);
}

/** (C) with a 0-d target, (N, C), or (N, C, d1, ...) with K = 1..3. */
function classLayout(rng: Rng): { input: number[]; target: number[]; c: number } {
  const c = rng.int(2, 5);
  const k = rng.pick([-1, 0, 0, 1, 2, 3]);
  if (k < 0) return { input: [c], target: [], c };
  const n = rng.int(1, 3);
  const spatial = rng.shape(k, 1, 3);
  return { input: [n, c, ...spatial], target: [n, ...spatial], c };
}

describe("gradcheck (finite differences in float64) over random shapes and options", () => {
  const rng = new Rng(7);
  const reductions: Reduction[] = ["none", "mean", "sum"];

  test.each(Array.from({ length: 16 }, (_, i) => i))("nllLoss #%d", () => {
    const { input, target, c } = classLayout(rng);
    const ignoreIndex = rng.pick([undefined, 1, -100]);
    const weight = rng.next() < 0.5 ? torch.tensor(rng.values(c, 0.5, 1.5)) : undefined;
    const opts = { reduction: rng.pick(reductions), ignoreIndex, weight };
    const t = classTargets(rng, target, c, ignoreIndex === 1 ? undefined : ignoreIndex);
    expect(autograd.gradcheck((x) => F.nllLoss(x, t, opts), [leaf64(rng, input, -2, 0)])).toBe(true);
  });

  test.each(Array.from({ length: 20 }, (_, i) => i))("crossEntropy with class indices #%d", () => {
    const { input, target, c } = classLayout(rng);
    const ignoreIndex = rng.pick([undefined, 0, -1]);
    const weight = rng.next() < 0.5 ? torch.tensor(rng.values(c, 0.5, 1.5)) : undefined;
    const opts = { reduction: rng.pick(reductions), ignoreIndex, weight, labelSmoothing: rng.pick([0, 0.1, 0.3, 1]) };
    const t = classTargets(rng, target, c, ignoreIndex);
    expect(autograd.gradcheck((x) => F.crossEntropy(x, t, opts), [leaf64(rng, input, -3, 3)])).toBe(true);
  });

  test.each(Array.from({ length: 12 }, (_, i) => i))("crossEntropy with class probabilities (input and target) #%d", () => {
    const { input, c } = classLayout(rng);
    const weight = rng.next() < 0.5 ? torch.tensor(rng.values(c, 0.5, 1.5)) : undefined;
    const opts = { reduction: rng.pick(reductions), weight, labelSmoothing: rng.pick([0, 0.2]) };
    const fn = (x: torch.Tensor, p: torch.Tensor) => F.crossEntropy(x, p, opts);
    expect(autograd.gradcheck(fn, [leaf64(rng, input, -3, 3), leaf64(rng, input, 0, 1)])).toBe(true);
  });

  test.each(Array.from({ length: 12 }, (_, i) => i))("binaryCrossEntropy (input and target) #%d", () => {
    const shape = rng.shape(rng.int(0, 3));
    // Shapes that broadcast to the input's (a [1] weight on a 0-d input fails in PyTorch too).
    const candidates = shape.length === 0 ? [null, []] : [null, shape, shape.slice(-1), [1], [...shape.slice(0, -1), 1].slice(-2)];
    const weightShape = rng.pick(candidates);
    const weight = weightShape ? torch.rand(weightShape).add(0.5) : undefined;
    const opts = { reduction: rng.pick(reductions), weight };
    const fn = (x: torch.Tensor, y: torch.Tensor) => F.binaryCrossEntropy(x, y, opts);
    expect(autograd.gradcheck(fn, [leaf64(rng, shape, 0.1, 0.9), leaf64(rng, shape, 0, 1)])).toBe(true);
  });

  test.each(Array.from({ length: 12 }, (_, i) => i))("binaryCrossEntropyWithLogits (input and target) #%d", () => {
    const shape = rng.shape(rng.int(1, 3));
    const tail = shape.slice(-1);
    const weight = rng.next() < 0.5 ? torch.rand(rng.pick([shape, tail, [1]])).add(0.5) : undefined;
    const posWeight = rng.next() < 0.6 ? torch.rand(rng.pick([tail, [1]])).mul(3) : undefined;
    const opts = { reduction: rng.pick(reductions), weight, posWeight };
    const fn = (x: torch.Tensor, y: torch.Tensor) => F.binaryCrossEntropyWithLogits(x, y, opts);
    expect(autograd.gradcheck(fn, [leaf64(rng, shape, -4, 4), leaf64(rng, shape, 0, 1)])).toBe(true);
  });
});

/** The values with -0 read as 0 (PyTorch, like us, can produce -0 from -w * 0). */
const unsigned = (t: torch.Tensor) => Array.from(t.toArray(), (v) => v + 0);

describe("extreme logits stay finite", () => {
  test.each(["float32", "float64"] as const)("crossEntropy with ±1000 and ±1e30 (%s)", (dtype) => {
    for (const big of [1000, 1e30]) {
      const x = torch.tensor(
        [
          [big, -big, 0],
          [-big, big, 1],
        ],
        { dtype, requiresGrad: true },
      );
      const target = torch.tensor([1, 1], { dtype: "int64" });
      const none = F.crossEntropy(x, target, { reduction: "none" });
      expect(unsigned(none)).toEqual([dtype === "float32" ? Math.fround(2 * big) : 2 * big, 0]);
      const loss = F.crossEntropy(x, target, { labelSmoothing: 0.1 });
      expect(Number.isFinite(loss.item())).toBe(true);
      F.crossEntropy(x, target).backward();
      // softmax - one-hot, over 2 samples
      expect(x.grad!.tolist()).toEqual([
        [0.5, -0.5, 0],
        [0, 0, 0],
      ]);
    }
  });

  test.each(["float32", "float64"] as const)("binaryCrossEntropyWithLogits with ±1000 and ±1e30 (%s)", (dtype) => {
    const x = torch.tensor([1e30, -1e30, 1000, -1000], { dtype, requiresGrad: true });
    const y = torch.tensor([0, 1, 0.5, 0.5], { dtype });
    const none = F.binaryCrossEntropyWithLogits(x, y, { reduction: "none", posWeight: torch.tensor([1], { dtype }) });
    expect(none.tolist()).toEqual([
      dtype === "float32" ? Math.fround(1e30) : 1e30,
      dtype === "float32" ? Math.fround(1e30) : 1e30,
      500,
      500,
    ]);
    none.sum().backward();
    expect(x.grad!.tolist()).toEqual([1, -1, 0.5, -0.5]);
  });

  test("BCELoss clamps each log at -100: input 0 with target 1 is exactly 100, with a finite gradient", () => {
    const x = torch.tensor([0, 1, 0, 1], { requiresGrad: true });
    const y = torch.tensor([1, 0, 0, 1]);
    const loss = F.binaryCrossEntropy(x, y, { reduction: "none" });
    expect(unsigned(loss)).toEqual([100, 100, 0, 0]);
    loss.sum().backward();
    expect(Array.from(x.grad!.toArray()).every(Number.isFinite)).toBe(true);
  });
});

describe("PyTorch's edge cases, stated directly", () => {
  const x = () =>
    torch.tensor(
      [
        [0.1, 0.2, 0.7],
        [0.4, 0.5, 0.1],
      ],
      { requiresGrad: true },
    );

  test("every target ignored with mean: NaN loss and an exactly-zero gradient", () => {
    const input = x();
    const loss = F.crossEntropy(input, torch.tensor([1, 1], { dtype: "int64" }), { ignoreIndex: 1 });
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(Array.from(input.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test("every remaining weight zero with mean: NaN loss and NaN gradient at the target places only", () => {
    const input = x();
    const logp = input.logSoftmax(1).detach().requiresGrad_(true);
    const loss = F.nllLoss(logp, torch.tensor([0, 2], { dtype: "int64" }), { weight: torch.tensor([0, 1, 0]) });
    expect(loss.item()).toBeNaN();
    loss.backward();
    const g = Array.from(logp.grad!.toArray());
    expect(g.map(Number.isNaN)).toEqual([true, false, false, false, false, true]);
  });

  test("K-dimensional input: NllLoss2DBackward0, and ViewBackward0 for unreduced 3-d input", () => {
    const t3 = torch.zeros([2, 3], { dtype: "int64" });
    const x3 = torch.zeros([2, 4, 3], { requiresGrad: true });
    expect(F.nllLoss(x3, t3).gradFn!.name).toBe("NllLoss2DBackward0");
    const none3 = F.nllLoss(x3, t3, { reduction: "none" });
    expect(none3.gradFn!.name).toBe("ViewBackward0");
    expect(none3.gradFn!.nextFunctions[0][0]!.name).toBe("NllLoss2DBackward0");
    const x5 = torch.zeros([2, 4, 1, 2, 3], { requiresGrad: true });
    expect(F.crossEntropy(x5, torch.zeros([2, 1, 2, 3], { dtype: "int64" }), { reduction: "none" }).shape).toEqual([2, 1, 2, 3]);
  });

  test("cross entropy is log-softmax then NLL, two nodes", () => {
    const loss = F.crossEntropy(x(), torch.tensor([2, 1], { dtype: "int64" }));
    expect(loss.gradFn!.name).toBe("NllLossBackward0");
    expect(loss.gradFn!.nextFunctions[0][0]!.name).toBe("LogSoftmaxBackward0");
  });

  test("a negative label smoothing is ignored for class indices but rejected for probabilities, as in PyTorch", () => {
    const target = torch.tensor([2, 1], { dtype: "int64" });
    expect(F.crossEntropy(x(), target, { labelSmoothing: -0.5 }).item()).toBe(F.crossEntropy(x(), target).item());
    expect(() => F.crossEntropy(x(), torch.full([2, 3], 1 / 3), { labelSmoothing: -0.5 })).toThrow(
      "label_smoothing must be between 0.0 and 1.0. Got: -0.5",
    );
  });

  test("the 4-d kernel's own messages", () => {
    const input = torch.zeros([2, 3, 2, 2]);
    expect(() => F.nllLoss(input, torch.zeros([2, 2, 3], { dtype: "int64" }))).toThrow(
      "size mismatch (got input: [2, 3, 2, 2] , target: [2, 2, 3]",
    );
    expect(() => F.nllLoss(input, torch.zeros([2, 2, 2], { dtype: "int64" }), { weight: torch.ones([2]) })).toThrow(
      "weight tensor should be defined either for all or no classes",
    );
  });

  test("weights that broadcast beyond the input's shape are rejected", () => {
    expect(() => F.binaryCrossEntropyWithLogits(torch.zeros([4, 3]), torch.zeros([4, 3]), { weight: torch.ones([2, 4, 3]) })).toThrow(
      "output with shape [4, 3] doesn't match the broadcast shape [2, 4, 3]",
    );
  });
});

describe("equivalences the notes rely on", () => {
  test("LogSoftmax then NLLLoss equals CrossEntropyLoss, values and gradients", () => {
    torch.manualSeed(11);
    const a = torch.randn([5, 7]).requiresGrad_(true);
    const b = a.detach().clone().requiresGrad_(true);
    const target = torch.randint(0, 7, [5], { dtype: "int64" });
    const weight = torch.rand([7]);
    const l1 = new nn.NLLLoss({ weight }).forward(new nn.LogSoftmax(1).forward(a), target);
    const l2 = new nn.CrossEntropyLoss({ weight }).forward(b, target);
    expect(l1.item()).toBe(l2.item());
    l1.backward();
    l2.backward();
    expect(a.grad!.tolist()).toEqual(b.grad!.tolist());
  });

  test("Sigmoid then BCELoss matches BCEWithLogitsLoss (float64)", () => {
    torch.manualSeed(12);
    const x = torch.randn([4, 3], { dtype: "float64" });
    const y = torch.rand([4, 3], { dtype: "float64" });
    const a = new nn.BCELoss().forward(new nn.Sigmoid().forward(x), y).item();
    const b = new nn.BCEWithLogitsLoss().forward(x, y).item();
    expect(Math.abs(a - b)).toBeLessThan(1e-12);
  });
});

describe("loss modules", () => {
  test("weights are buffers (in stateDict), not parameters", () => {
    const weight = torch.tensor([1, 2, 3]);
    const ce = new nn.CrossEntropyLoss({ weight, labelSmoothing: 0.1 });
    expect(ce.parameters()).toEqual([]);
    expect(Object.keys(ce.stateDict())).toEqual(["weight"]);
    expect(Object.keys(new nn.NLLLoss().stateDict())).toEqual([]);
    const bce = new nn.BCEWithLogitsLoss({ posWeight: torch.tensor([2]), weight: torch.tensor([1]) });
    expect(Object.keys(bce.stateDict()).sort()).toEqual(["posWeight", "weight"]);
    expect(String(ce)).toBe("CrossEntropyLoss()");
  });

  test("modules call the functional forms with their settings", () => {
    torch.manualSeed(5);
    const x = torch.randn([3, 4]);
    const t = torch.tensor([0, 3, 1], { dtype: "int64" });
    const opts = { weight: torch.rand([4]), ignoreIndex: 3, reduction: "sum" as const, labelSmoothing: 0.2 };
    expect(new nn.CrossEntropyLoss(opts).forward(x, t).item()).toBe(F.crossEntropy(x, t, opts).item());
    const p = torch.rand([3, 4]);
    expect(new nn.BCELoss({ reduction: "none" }).forward(p, p).tolist()).toEqual(
      F.binaryCrossEntropy(p, p, { reduction: "none" }).tolist(),
    );
  });

  test("an invalid reduction fails when the loss is computed, as in PyTorch", () => {
    const loss = new nn.BCELoss({ reduction: "average" as never });
    expect(() => loss.forward(torch.rand([2]), torch.rand([2]))).toThrow("average is not a valid value for reduction");
  });
});

describe("performance: cross entropy on (4096, 1000) float32", () => {
  test("forward and backward allocate only outputs and the saved log-softmax", () => {
    const [n, c] = [4096, 1000];
    torch.manualSeed(0);
    const x = torch.randn([n, c]).requiresGrad_(true);
    const target = torch.randint(0, c, [n], { dtype: "int64" });
    const spy = jest.spyOn(dtypeModule, "allocate");
    try {
      const loss = F.crossEntropy(x, target);
      const forward = spy.mock.calls.map(([, length]) => length);
      // the log-softmax (saved for backward) and the 0-d loss
      expect(forward.sort((a, b) => b - a)).toEqual([n * c, 1]);
      spy.mockClear();
      loss.backward();
      const backward = spy.mock.calls.map(([, length]) => length);
      // the seed and d loss / dx (LogSoftmaxBackward0's output): NllLossBackward0 hands over one
      // value per row, not an (n, c) tensor
      expect(backward.sort((a, b) => b - a)).toEqual([n * c, 1]);
      expect(x.grad!.shape).toEqual([n, c]);
    } finally {
      spy.mockRestore();
    }
  });
});
