/**
 * The regression losses and the KL divergence beyond the golden cases: PyTorch's warnings and
 * errors, broadcasting, dtypes, empty inputs, its behaviour at the kinks, and first and second
 * derivatives by finite differences in float64 on seeded random shapes.
 */
import * as torch from "torchlet";
import { messageOf } from "./helpers/replay";
import { Rng } from "./helpers/random-cases";

type Tensor = torch.Tensor;
const { nn, autograd } = torch;
const F = nn.functional;

const values = (t: Tensor): number[] => Array.from(t.toArray());
const f32 = (data: torch.NestedArray, requiresGrad = false) => torch.tensor(data, { requiresGrad });

/** What `fn` printed with console.warn. */
function warningsOf(fn: () => unknown): string[] {
  const printed: string[] = [];
  const spy = jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return printed;
}

type LossFn = (input: Tensor, target: Tensor, options?: { reduction?: "none" | "mean" | "sum" }) => Tensor;
const FUSED: Array<[string, LossFn]> = [
  ["mseLoss", (a, b, o) => F.mseLoss(a, b, o)],
  ["smoothL1Loss", (a, b, o) => F.smoothL1Loss(a, b, o)],
  ["huberLoss", (a, b, o) => F.huberLoss(a, b, o)],
];
const LOSSES: Array<[string, LossFn]> = [...FUSED, ["l1Loss", (a, b, o) => F.l1Loss(a, b, o)]];
const REDUCTIONS = ["none", "mean", "sum"] as const;

describe("warnings, as PyTorch's warnings.warn prints them (each text once)", () => {
  test.each(LOSSES)("%s warns when the target's size differs, then broadcasts", (_, loss) => {
    const x = torch.arange(6).float().reshape(2, 3).detach().requiresGrad_(true);
    const t = f32([[0.5], [4]]);
    const mismatch =
      "Using a target size (torch.Size([2, 1])) that is different to the input size (torch.Size([2, 3])). " +
      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.";
    let out = f32(0);
    // Each test file has its own module instance, but the other losses of this file may have warned already.
    const printed = warningsOf(() => (out = loss(x, t, { reduction: "sum" })));
    expect(printed.length <= 1 && printed.every((w) => w === mismatch)).toBe(true);
    expect(warningsOf(() => loss(x, t))).toEqual([]);
    expect(out.item()).toBeCloseTo(loss(x.detach(), t.expand(2, 3), { reduction: "sum" }).item(), 6);
    out.backward();
    expect(x.grad!.shape).toEqual([2, 3]);
  });

  test("the first size warning carries PyTorch's text", () => {
    const printed = warningsOf(() => F.mseLoss(torch.zeros([4, 1]), torch.zeros([4])));
    expect(printed).toEqual([
      "Using a target size (torch.Size([4])) that is different to the input size (torch.Size([4, 1])). " +
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
    ]);
  });

  test("KL divergence with reduction 'mean' warns about batchmean once; other reductions do not", () => {
    const input = f32([[-1, -2]]);
    const target = f32([[0.3, 0.7]]);
    expect(warningsOf(() => new nn.KLDivLoss({ reduction: "batchmean" }).forward(input, target))).toEqual([]);
    expect(warningsOf(() => new nn.KLDivLoss().forward(input, target))).toEqual([
      "reduction: 'mean' divides the total loss by both the batch size and the support size." +
        "'batchmean' divides only by the batch size, and aligns with the KL div math definition." +
        "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
    ]);
    expect(warningsOf(() => F.klDiv(input, target))).toEqual([]);
  });
});

describe("errors in PyTorch's words and order", () => {
  const x = torch.zeros([3, 4]);

  test.each(LOSSES)("%s: unbroadcastable sizes, then the reduction", (_, loss) => {
    warningsOf(() => {
      expect(messageOf(() => loss(x, torch.zeros([3, 5]), { reduction: "avg" as "sum" }))).toBe(
        "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1",
      );
      expect(messageOf(() => loss(x, torch.zeros([3, 1]), { reduction: "avg" as "sum" }))).toBe("avg is not a valid value for reduction");
    });
  });

  test("beta and delta", () => {
    expect(messageOf(() => F.smoothL1Loss(x, x, { beta: -1 }))).toBe("smooth_l1_loss does not support negative values for beta.");
    expect(messageOf(() => F.huberLoss(x, x, { delta: 0 }))).toBe("huber_loss does not support non-positive values for delta.");
    expect(messageOf(() => F.huberLoss(x, x, { delta: -1 }))).toBe("huber_loss does not support non-positive values for delta.");
    // The reduction is checked before them, as PyTorch's Python layer runs first.
    expect(messageOf(() => F.huberLoss(x, x, { delta: 0, reduction: "x" as "sum" }))).toBe("x is not a valid value for reduction");
  });

  test("integer inputs", () => {
    const ints = torch.tensor([1, 2, 3], { dtype: "int64" });
    expect(messageOf(() => F.mseLoss(ints, ints))).toBe(`"mse_cpu" not implemented for 'Long'`);
    expect(messageOf(() => F.smoothL1Loss(ints, ints))).toBe(`"smooth_l1_cpu" not implemented for 'Long'`);
    expect(messageOf(() => F.huberLoss(ints, ints))).toBe(`"huber_cpu" not implemented for 'Long'`);
    expect(messageOf(() => F.l1Loss(ints, ints))).toBe(
      "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long",
    );
    expect(F.l1Loss(ints, torch.tensor([3, 2, 0], { dtype: "int64" }), { reduction: "sum" }).item()).toBe(5);
    expect(messageOf(() => F.klDiv(ints, f32([1, 2, 3]), { reduction: "sum" }))).toBe("kl_div: Integral inputs not supported.");
    expect(messageOf(() => F.klDiv(f32([1, 2, 3]), ints, { reduction: "sum" }))).toBe("kl_div: Integral inputs not supported.");
    // An integer input with a float target is promoted, as in PyTorch.
    expect(F.mseLoss(ints, f32([1, 2, 5])).item()).toBeCloseTo(4 / 3, 6);
  });

  test("KL divergence: the reduction, and the broadcast of target * input", () => {
    expect(messageOf(() => F.klDiv(x, x, { reduction: "avg" as "sum" }))).toBe("avg is not a valid value for reduction");
    expect(messageOf(() => F.klDiv(x, torch.zeros([3, 5]), { reduction: "sum" }))).toBe(
      "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1",
    );
  });

  test("a saved input changed in place before backward", () => {
    const input = f32([1, 2, 3], true);
    const loss = F.mseLoss(input, f32([0, 0, 0]));
    torch.noGrad(() => input.add_(1));
    expect(messageOf(() => loss.backward())).toBe(
      "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]] " +
        "is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute " +
        "its gradient, with torch.autograd.set_detect_anomaly(True).",
    );
  });
});

describe("values, dtypes and corner cases", () => {
  test("hand-computed values and gradients", () => {
    const input = f32([1, 2, -1], true);
    const target = f32([3, 0, -0.5]);
    // d = [-2, 2, -0.5]
    const mse = F.mseLoss(input, target);
    expect(mse.item()).toBeCloseTo((4 + 4 + 0.25) / 3, 6);
    mse.backward();
    expect(values(input.grad!)).toEqual(values(f32([-4 / 3, 4 / 3, -1 / 3])));
    expect(values(F.huberLoss(input, target, { reduction: "none" }))).toEqual([1.5, 1.5, 0.125]);
    expect(values(F.huberLoss(input, target, { reduction: "none", delta: 0.5 }))).toEqual([0.875, 0.875, 0.125]);
    expect(values(F.smoothL1Loss(input, target, { reduction: "none", beta: 0.5 }))).toEqual([1.75, 1.75, 0.25]);
    expect(values(F.l1Loss(input, target, { reduction: "none" }))).toEqual([2, 2, 0.5]);
    // KL: t * (log t - x); with logTarget, exp(t) * (t - x).
    const logp = f32([Math.log(0.25), Math.log(0.75)]);
    const q = f32([0.5, 0.5]);
    const kl = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
    expect(F.klDiv(logp, q, { reduction: "sum" }).item()).toBeCloseTo(kl, 6);
    expect(F.klDiv(logp, q.log(), { reduction: "sum", logTarget: true }).item()).toBeCloseTo(kl, 6);
    expect(F.klDiv(logp.reshape(1, 2), q.reshape(1, 2), { reduction: "batchmean" }).item()).toBeCloseTo(kl, 6);
    // A zero target contributes 0, not 0 * log 0 = NaN.
    expect(values(F.klDiv(f32([-1, -2]), f32([0, 1]), { reduction: "none" }))).toEqual([0, 2]);
  });

  test("beta = 0 gives the L1 loss; a zero difference then has gradient -1/n, as in PyTorch", () => {
    const input = f32([0.5, 2, -1, 3], true);
    const target = f32([0.5, 1, 1, 2]);
    const loss = F.smoothL1Loss(input, target, { beta: 0 });
    expect(loss.item()).toBe(F.l1Loss(input.detach(), target).item());
    expect(loss.gradFn?.name).toBe("SmoothL1LossBackward0");
    loss.backward();
    expect(values(input.grad!)).toEqual([-0.25, 0.25, -0.25, 0.25]);
  });

  test("mixed float dtypes promote, except Huber, which keeps the input's", () => {
    const a = f32([1, 2]);
    const b = torch.tensor([0, 0], { dtype: "float64" });
    expect(F.mseLoss(a, b).dtype).toBe("float64");
    expect(F.smoothL1Loss(b, a).dtype).toBe("float64");
    expect(F.l1Loss(a, b).dtype).toBe("float64");
    expect(F.huberLoss(a, b).dtype).toBe("float32");
    expect(F.huberLoss(b, a).dtype).toBe("float64");
    const x = f32([1, 2], true);
    F.huberLoss(x, b).backward();
    expect(x.grad!.dtype).toBe("float32");
    expect(values(x.grad!)).toEqual([0.5, 0.5]);
  });

  test("empty inputs: mean is NaN, sum is 0", () => {
    for (const [, loss] of LOSSES) {
      expect(loss(torch.zeros([0]), torch.zeros([0])).item()).toBeNaN();
      expect(loss(torch.zeros([0, 3]), torch.zeros([0, 3]), { reduction: "sum" }).item()).toBe(0);
      expect(loss(torch.zeros([0]), torch.zeros([0]), { reduction: "none" }).shape).toEqual([0]);
    }
  });

  test("KL divergence batchmean of a 0-d input is the sum", () => {
    expect(F.klDiv(f32(-1), f32(0.5), { reduction: "batchmean" }).item()).toBeCloseTo(0.5 * (Math.log(0.5) + 1), 6);
  });

  test("the modules hold their settings and print as PyTorch's", () => {
    expect(new nn.MSELoss().toString()).toBe("MSELoss()");
    expect(new nn.HuberLoss({ delta: 0.5 }).toString()).toBe("HuberLoss()");
    const smooth = new nn.SmoothL1Loss({ beta: 0.5, reduction: "sum" });
    expect([smooth.beta, smooth.reduction]).toEqual([0.5, "sum"]);
    const kl = new nn.KLDivLoss({ reduction: "batchmean", logTarget: true });
    expect([kl.reduction, kl.logTarget]).toEqual(["batchmean", true]);
    expect(new nn.L1Loss().reduction).toBe("mean");
    expect(Object.keys(new nn.MSELoss().stateDict())).toEqual([]);
  });
});

// ---- finite differences ----------------------------------------------------------------------

/**
 * A float64 input and a target whose difference d stays at least 0.15 away from 0 and from ±1
 * (the kinks of L1, smooth L1 and Huber at beta = delta = 1), both requiring grad.
 */
function pairAwayFromKinks(rng: Rng, shape: number[]): [Tensor, Tensor] {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = rng.values(n, -2, 2);
  const d = rng.values(n, 0, 1).map((u) => (rng.next() < 0.5 ? -1 : 1) * (u < 0.5 ? 0.15 + u : 1.15 + u));
  const make = (v: number[]) => torch.tensor(v, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
  return [make(x), make(x.map((v, i) => v - d[i]))];
}

describe("gradcheck and gradgradcheck in float64, seeded random shapes", () => {
  const rng = new Rng(1307);
  const shapes = Array.from({ length: 4 }, () => rng.shape(rng.int(0, 3)));

  test.each(LOSSES.flatMap(([name, loss]) => REDUCTIONS.map((r) => [name, r, loss] as const)))("%s %s", (_, reduction, loss) => {
    for (const shape of shapes) {
      const [x, t] = pairAwayFromKinks(rng, shape);
      expect(autograd.gradcheck((a, b) => loss(a, b, { reduction }), [x, t])).toBe(true);
      expect(autograd.gradgradcheck((a, b) => loss(a, b, { reduction }), [x, t], { seed: rng.int(0, 1000) })).toBe(true);
    }
  });

  test("beta and delta other than 1, inside and outside", () => {
    const [x, t] = pairAwayFromKinks(rng, [3, 4]);
    const fns = [
      (a: Tensor, b: Tensor) => F.smoothL1Loss(a, b, { beta: 2.5 }),
      (a: Tensor, b: Tensor) => F.huberLoss(a, b, { delta: 0.05 }),
    ];
    for (const fn of fns) {
      expect(autograd.gradcheck(fn, [x, t])).toBe(true);
      expect(autograd.gradgradcheck(fn, [x, t])).toBe(true);
    }
  });

  test.each([false, true])("KL divergence (logTarget %s), every reduction", (logTarget) => {
    for (const shape of [[5], [2, 3], [2, 2, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const input = torch
        .tensor(rng.values(n, -3, -0.1), { dtype: "float64" })
        .reshape(shape)
        .detach()
        .requiresGrad_(true);
      const probs = rng.values(n, 0.05, 1);
      const target = torch
        .tensor(logTarget ? probs.map(Math.log) : probs, { dtype: "float64" })
        .reshape(shape)
        .detach()
        .requiresGrad_(true);
      for (const reduction of ["none", "sum", "batchmean"] as const) {
        const fn = (a: Tensor, b: Tensor) => F.klDiv(a, b, { reduction, logTarget });
        expect(autograd.gradcheck(fn, [input, target])).toBe(true);
        expect(autograd.gradgradcheck(fn, [input, target])).toBe(true);
      }
    }
  });

  test("broadcast targets get the summed gradient", () => {
    const x = torch
      .tensor(rng.values(6, -2, 2), { dtype: "float64" })
      .reshape(2, 3)
      .detach()
      .requiresGrad_(true);
    const t = torch.tensor([0.1, -3, 4], { dtype: "float64" }).detach().requiresGrad_(true);
    warningsOf(() => {
      for (const [, loss] of LOSSES) expect(autograd.gradcheck((a, b) => loss(a, b), [x, t])).toBe(true);
    });
  });
});
