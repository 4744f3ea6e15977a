/**
 * Double backward: PyTorch 1.13's second derivatives (double_backward.json) replayed, and
 * `autograd.gradgradcheck` (finite differences of first derivatives, float64) on every activation,
 * loss (with every option), product, linear and indexing op, on inputs and shapes drawn from a
 * seeded generator. gradgradcheck also differentiates with respect to the upstream gradients, so
 * a backward that returned a tensor outside the graph would fail here.
 */
import * as torch from "torchlet";
import { loadCases } from "./helpers/golden";
import { Rng } from "./helpers/random-cases";
import { leaf64 } from "./helpers/twice";
import { type SecondRoundCase, replayGradGrad } from "./helpers/replay";
// nn.Linear's function (not part of the public API: users reach it through the module).
import { linear } from "../src/ops/linear";

type Tensor = torch.Tensor;
const { autograd } = torch;
const F = torch.nn.functional;

// ---- PyTorch's numbers --------------------------------------------------------------------

// Ops other engineers are adding (norm, std, F.softplus, F.gelu, nn.MSELoss): their cases are theirs.
const NOT_YET = new Set(["norm", "std", "F.softplus", "F.gelu", "nn.MSELoss"]);
const golden = loadCases<SecondRoundCase>("double_backward.json").filter((c) => !(c.steps ?? []).some((s) => NOT_YET.has(s.op)));

describe("double_backward.json (PyTorch 1.13)", () => {
  test("covers these cases", () => {
    expect(golden.map((c) => c.id)).toEqual([
      "gradgrad/tanh/163",
      "gradgrad/sigmoid/164",
      "gradgrad/exp/165",
      "gradgrad/log/166",
      "gradgrad/sqrt/167",
      "gradgrad/pow3/168",
      "gradgrad/div/169",
      "gradgrad/mul/170",
      "gradgrad/matmul/171",
      "gradgrad/softmax/172",
      "gradgrad/logSoftmax/173",
      "gradgrad/logsumexp/174",
      "gradgrad/mean+pow/179",
      "gradgrad/CrossEntropyLoss/180",
      "gradgrad/CrossEntropyLoss/weight+smoothing/181",
      "gradgrad/NLLLoss(logSoftmax)/182",
      "gradgrad/BCEWithLogitsLoss/183",
      "gradgrad/BCEWithLogitsLoss/posWeight/184",
      "gradgrad/BCELoss(sigmoid)/185",
      "gradgrad/gradientPenalty/187",
    ]);
  });

  test.each(golden.map((c) => [c.id, c] as const))("%s", (_, c) => replayGradGrad(c));
});

// ---- inputs -------------------------------------------------------------------------------

/** A float64 leaf requiring grad, uniform in [lo, hi). */
const leaf = leaf64;

/** Like `leaf`, every value at least `gap` away from zero (relu's kink). */
function awayFromZero(rng: Rng, shape: number[], gap = 0.1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = rng.values(n, gap, 2).map((v) => (rng.next() < 0.5 ? -v : v));
  return torch.tensor(values, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
}

function constant(rng: Rng, shape: number[], lo = 0.2, hi = 2): Tensor {
  return leaf(rng, shape, lo, hi).detach();
}

function int64(values: number[], shape: number[] = [values.length]): Tensor {
  return torch.tensor(values, { dtype: "int64" }).reshape(shape);
}

/** Class targets in [0, c), with some positions set to `ignore` when given. */
function targets(rng: Rng, shape: number[], c: number, ignore?: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (ignore !== undefined && i % 3 === 1 ? ignore : rng.int(0, c - 1)));
  return int64(values, shape);
}

/** The class count of an input (C) or (N, C, d1, ...), and class targets for it. */
function classTargets(rng: Rng, inputShape: readonly number[], ignore?: number): { c: number; t: Tensor } {
  const c = inputShape.length === 1 ? inputShape[0] : inputShape[1];
  const targetShape = inputShape.length === 1 ? [] : [inputShape[0], ...inputShape.slice(2)];
  return { c, t: targets(rng, targetShape, c, ignore) };
}

/** Rows of probabilities along dim 1 (or dim 0 for 1-D), requiring grad when asked. */
function probabilities(rng: Rng, shape: number[], requiresGrad: boolean): Tensor {
  const p = constant(rng, shape)
    .softmax(shape.length === 1 ? 0 : 1)
    .detach();
  return requiresGrad ? p.requiresGrad_(true) : p;
}

function gradgrad(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], seed = 0): void {
  expect(autograd.gradgradcheck(fn, inputs, { seed })).toBe(true);
}

const REDUCTIONS = ["none", "mean", "sum"] as const;

// ---- activations --------------------------------------------------------------------------

describe("gradgradcheck: activations", () => {
  test("sigmoid, tanh and relu on random shapes (0-d to 3-d)", () => {
    const rng = new Rng(101);
    for (let run = 0; run < 8; run++) {
      const shape = rng.shape(rng.int(0, 3), 1, 3);
      gradgrad((x) => x.sigmoid(), [leaf(rng, shape)], run);
      gradgrad((x) => x.tanh(), [leaf(rng, shape)], run);
      gradgrad((x) => x.relu(), [awayFromZero(rng, shape)], run);
    }
  });

  test("softmax and logSoftmax along every dim, negative dims too", () => {
    const rng = new Rng(102);
    for (let run = 0; run < 8; run++) {
      const ndim = rng.int(0, 3);
      const shape = rng.shape(ndim, 1, 3);
      const dim = ndim === 0 ? rng.pick([0, -1]) : rng.int(-ndim, ndim - 1);
      gradgrad((x) => x.softmax(dim), [leaf(rng, shape)], run);
      gradgrad((x) => x.logSoftmax(dim), [leaf(rng, shape)], run);
    }
  });

  test("third derivatives: the backward's own backward is differentiable", () => {
    const rng = new Rng(103);
    for (const fn of [(x: Tensor) => x.sigmoid(), (x: Tensor) => x.tanh(), (x: Tensor) => x.softmax(1), (x: Tensor) => x.logSoftmax(0)]) {
      const x = leaf(rng, [2, 3]);
      // d/dx of the gradgrad function's first gradients: gradgradcheck of a first gradient.
      const firstGradient = (a: Tensor) => torch.enableGrad(() => autograd.grad([fn(a).pow(2).sum()], [a], { createGraph: true })[0]!);
      gradgrad(firstGradient, [x]);
    }
  });

  test("with createGraph the first gradient has PyTorch's backward nodes and the ordinary one's bits", () => {
    const x = torch.tensor(
      [
        [-1.5, 0.25, 2],
        [0.5, -0.75, 1],
      ],
      { requiresGrad: true },
    );
    const cases: Array<[(t: Tensor) => Tensor, string]> = [
      [(t) => t.sigmoid(), "SigmoidBackwardBackward0"],
      [(t) => t.tanh(), "TanhBackwardBackward0"],
      [(t) => t.relu(), "ThresholdBackwardBackward0"],
      [(t) => t.softmax(1), "SoftmaxBackwardDataBackward0"],
      [(t) => t.logSoftmax(1), "LogSoftmaxBackwardDataBackward0"],
    ];
    const upstream = torch.tensor(
      [
        [0.5, -1, 2],
        [1, 0.25, -0.5],
      ],
      { requiresGrad: true },
    );
    for (const [fn, name] of cases) {
      const [recorded] = autograd.grad([fn(x)], [x], { gradOutputs: [upstream], createGraph: true });
      const [plain] = autograd.grad([fn(x)], [x], { gradOutputs: [upstream.detach()] });
      expect(recorded!.gradFn?.name).toBe(name);
      expect(plain!.gradFn).toBeNull();
      expect(Array.from(recorded!.toArray())).toEqual(Array.from(plain!.toArray()));
    }
  });
});

// ---- losses -------------------------------------------------------------------------------

describe("gradgradcheck: NLL and cross entropy with class indices", () => {
  // (N, C), (C) and K-dim inputs (N, C, d1, ...): 3-d and 5-d go through PyTorch's view back.
  const SHAPES = [[4, 3], [3], [2, 3, 2], [2, 3, 2, 2], [2, 2, 1, 2, 1]];

  test.each(SHAPES.map((s) => [s.join("x"), s] as const))("nllLoss %s: every reduction, weight, ignoreIndex", (_, shape) => {
    const rng = new Rng(200 + shape.length);
    for (const reduction of REDUCTIONS) {
      for (const weighted of [false, true]) {
        // ignoreIndex -1 on every third position (never the first: with all ignored, "mean" is 0/0).
        for (const ignoreIndex of [undefined, -1]) {
          const { c, t } = classTargets(rng, shape, ignoreIndex);
          const weight = weighted ? constant(rng, [c]) : null;
          const options = { reduction, weight, ...(ignoreIndex === undefined ? {} : { ignoreIndex }) };
          gradgrad((x) => F.nllLoss(x, t, options), [leaf(rng, shape)]);
          gradgrad((x) => F.crossEntropy(x, t, options), [leaf(rng, shape)]);
        }
      }
    }
  });

  test.each(SHAPES.map((s) => [s.join("x"), s] as const))("crossEntropy %s with label smoothing", (_, shape) => {
    const rng = new Rng(210 + shape.length);
    for (const reduction of REDUCTIONS) {
      for (const weighted of [false, true]) {
        const { c, t } = classTargets(rng, shape, -1);
        const weight = weighted ? constant(rng, [c]) : null;
        const options = { reduction, weight, ignoreIndex: -1, labelSmoothing: rng.pick([0.1, 0.35, 1]) };
        gradgrad((x) => F.crossEntropy(x, t, options), [leaf(rng, shape)]);
      }
    }
  });

  test("every target ignored with mean: gradient 0, and NaN for its derivative in the upstream, as PyTorch", () => {
    const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
    const upstream = torch.tensor(1, { dtype: "float64", requiresGrad: true });
    const [g] = autograd.grad([F.nllLoss(x, int64([1], []), { ignoreIndex: 1 })], [x], { gradOutputs: [upstream], createGraph: true });
    expect(g!.tolist()).toEqual([0, 0, 0]);
    expect(g!.gradFn?.name).toBe("NllLossBackwardBackward0");
    expect(autograd.grad([g!.sum()], [upstream])[0]!.item()).toBeNaN();
  });

  test("the first gradient of cross entropy is a graph of PyTorch's nodes, not compact rows", () => {
    const x = torch.tensor(
      [
        [0.5, -1, 2],
        [1, 0.25, -0.5],
      ],
      { requiresGrad: true },
    );
    const t = int64([2, 0]);
    const [g] = autograd.grad([F.crossEntropy(x, t)], [x], { createGraph: true });
    expect(g!.gradFn?.name).toBe("LogSoftmaxBackwardDataBackward0");
    const [plain] = autograd.grad([F.crossEntropy(x, t)], [x]);
    expect(g!.tolist()).toEqual(plain!.tolist());
    const nll = F.nllLoss(x.logSoftmax(1), t, { reduction: "sum" });
    const upstream = torch.tensor(2, { requiresGrad: true });
    const [gn] = autograd.grad([nll], [x], { gradOutputs: [upstream], createGraph: true });
    const [, d] = autograd.grad([gn!.sum()], [x, upstream]);
    // Every row of the gradient sums to 0 (log-softmax), so d/d upstream of its sum is 0.
    expect(Math.abs(d!.item())).toBeLessThan(1e-6);
  });

  test("K-dim NLL: the gradient's node is NllLoss2DBackwardBackward0", () => {
    const x = torch
      .tensor(
        [
          [
            [0.5, 1],
            [-1, 2],
          ],
        ],
        { requiresGrad: true },
      )
      .reshape([1, 2, 2, 1])
      .detach()
      .requiresGrad_(true);
    const t = int64([1, 0], [1, 2, 1]);
    const upstream = torch.tensor(1, { requiresGrad: true });
    const [g] = autograd.grad([F.nllLoss(x, t)], [x], { gradOutputs: [upstream], createGraph: true });
    expect(g!.gradFn?.name).toBe("NllLoss2DBackwardBackward0");
  });
});

describe("gradgradcheck: cross entropy with class probabilities", () => {
  test.each([[[4, 3]], [[3]], [[2, 3, 2]]] as const)("%j: reductions, weight, smoothing, target requiring grad", (shape) => {
    const rng = new Rng(220 + shape.length);
    const c = shape.length === 1 ? shape[0] : shape[1];
    for (const reduction of REDUCTIONS) {
      for (const weighted of [false, true]) {
        for (const labelSmoothing of [0, 0.2]) {
          const weight = weighted ? constant(rng, [c]) : null;
          const options = { reduction, weight, labelSmoothing };
          gradgrad((x, p) => F.crossEntropy(x, p, options), [leaf(rng, [...shape]), probabilities(rng, [...shape], true)]);
          const fixed = probabilities(rng, [...shape], false);
          gradgrad((x) => F.crossEntropy(x, fixed, options), [leaf(rng, [...shape])]);
        }
      }
    }
  });
});

describe("gradgradcheck: binary cross entropy", () => {
  test("BCELoss: reductions, weights broadcast, input and target requiring grad", () => {
    const rng = new Rng(230);
    for (const reduction of REDUCTIONS) {
      for (const weightShape of [null, [3], [2, 3], [1, 3]]) {
        const weight = weightShape ? constant(rng, weightShape) : null;
        const input = leaf(rng, [2, 3], 0.1, 0.9);
        gradgrad((x, y) => F.binaryCrossEntropy(x, y, { reduction, weight }), [input, leaf(rng, [2, 3], 0, 1)]);
        const target = constant(rng, [2, 3], 0, 1);
        gradgrad((x) => F.binaryCrossEntropy(x.sigmoid(), target, { reduction, weight }), [leaf(rng, [2, 3])]);
      }
    }
  });

  test("BCEWithLogitsLoss: reductions, weight, posWeight, input and target requiring grad", () => {
    const rng = new Rng(231);
    for (const reduction of REDUCTIONS) {
      for (const weightShape of [null, [3], [2, 3]]) {
        for (const posShape of [null, [3], [1, 3]]) {
          const options = {
            reduction,
            weight: weightShape ? constant(rng, weightShape) : null,
            posWeight: posShape ? constant(rng, posShape) : null,
          };
          gradgrad((x, y) => F.binaryCrossEntropyWithLogits(x, y, options), [leaf(rng, [2, 3], -3, 3), leaf(rng, [2, 3], 0, 1)]);
          const y = constant(rng, [2, 3], 0, 1);
          gradgrad((x) => F.binaryCrossEntropyWithLogits(x, y, options), [leaf(rng, [2, 3], -3, 3)]);
        }
      }
    }
  });

  test("BCEWithLogits keeps its fast first gradient and gives the same values with createGraph", () => {
    const x = torch.tensor(
      [
        [0.5, -2, 3],
        [1, -0.25, 0],
      ],
      { requiresGrad: true },
    );
    const y = torch.tensor([
      [1, 0, 0.5],
      [0, 1, 1],
    ]);
    const loss = () => F.binaryCrossEntropyWithLogits(x, y);
    const [recorded] = autograd.grad([loss()], [x], { createGraph: true });
    const [plain] = autograd.grad([loss()], [x]);
    expect(recorded!.requiresGrad).toBe(true);
    recorded!.toArray().forEach((v, i) => expect(Math.abs(v - plain!.toArray()[i])).toBeLessThanOrEqual(1e-7));
  });
});

// ---- products -----------------------------------------------------------------------------

describe("gradgradcheck: matrix products", () => {
  // Operand shapes of every matmul case: vectors, matrices, batches broadcasting.
  const PAIRS: Array<[number[], number[]]> = [
    [[3], [3]],
    [[2, 3], [3]],
    [[3], [3, 2]],
    [
      [2, 3],
      [3, 4],
    ],
    [
      [2, 2, 3],
      [3, 2],
    ],
    [[2, 2, 3], [3]],
    [[3], [2, 3, 2]],
    [
      [2, 3],
      [2, 3, 2],
    ],
    [
      [2, 1, 2, 3],
      [3, 3, 2],
    ],
  ];

  test.each(PAIRS.map(([a, b]) => [`${a.join("x")} @ ${b.join("x")}`, a, b] as const))("matmul %s", (_, a, b) => {
    const rng = new Rng(300 + a.length * 10 + b.length);
    gradgrad((p, q) => p.matmul(q), [leaf(rng, a), leaf(rng, b)]);
    // One operand constant: the other's gradient alone.
    const fixed = constant(rng, b);
    gradgrad((p) => p.matmul(fixed), [leaf(rng, a)]);
  });

  test("mm, mv, dot, bmm; a transposed (strided) operand", () => {
    const rng = new Rng(310);
    gradgrad((p, q) => torch.mm(p, q), [leaf(rng, [2, 3]), leaf(rng, [3, 2])]);
    gradgrad((p, q) => torch.mm(p.t(), q), [leaf(rng, [3, 2]), leaf(rng, [3, 4])]);
    gradgrad((p, q) => torch.mv(p, q), [leaf(rng, [2, 3]), leaf(rng, [3])]);
    gradgrad((p, q) => torch.dot(p, q), [leaf(rng, [4]), leaf(rng, [4])]);
    gradgrad((p, q) => torch.bmm(p, q), [leaf(rng, [2, 2, 3]), leaf(rng, [2, 3, 2])]);
  });

  test("linear: with and without bias, a one-value bias, 1-d and 3-d inputs, a 1-d weight", () => {
    const rng = new Rng(320);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [3, 4]), leaf(rng, [2, 4]), leaf(rng, [2])]);
    gradgrad((x, w) => linear(x, w), [leaf(rng, [3, 4]), leaf(rng, [2, 4])]);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [3, 4]), leaf(rng, [2, 4]), leaf(rng, [1])]);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [3, 4]), leaf(rng, [2, 4]), leaf(rng, [])]);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [4]), leaf(rng, [2, 4]), leaf(rng, [2])]);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [2, 2, 4]), leaf(rng, [3, 4]), leaf(rng, [3])]);
    gradgrad((x, w, b) => linear(x, w, b), [leaf(rng, [3, 4]), leaf(rng, [4]), leaf(rng, [])]);
    // Through a nonlinearity, so that the second derivative with respect to the weight is not 0.
    gradgrad((x, w, b) => linear(x, w, b).tanh(), [leaf(rng, [3, 4]), leaf(rng, [2, 4]), leaf(rng, [2])]);
  });

  test("nn.Linear under createGraph: the weight's gradient is differentiated again", () => {
    const layer = new torch.nn.Linear(3, 2);
    const x = torch.tensor([[0.5, -1, 2]]);
    const [gw] = autograd.grad([layer.forward(x).tanh().sum()], [layer.weight], { createGraph: true });
    expect(gw!.gradFn?.name).toBe("MmBackward0");
    const [second] = autograd.grad([gw!.sum()], [layer.weight]);
    // d/dW sum_o x * (1 - tanh(W x + b)^2) = x * -2 tanh(z) (1 - tanh(z)^2) * x, per output row.
    const z = layer.forward(x).detach().toArray();
    const xs = [0.5, -1, 2];
    const sumX = xs.reduce((a, b) => a + b);
    second!.toArray().forEach((v, k) => {
      const th = Math.tanh(z[Math.floor(k / 3)]);
      expect(v).toBeCloseTo(-2 * th * (1 - th * th) * xs[k % 3] * sumX, 5);
    });
  });
});

// ---- indexing -----------------------------------------------------------------------------

describe("gradgradcheck: indexing ops", () => {
  test("gather, scatter (a tensor, a larger one, a value), scatterAdd", () => {
    const rng = new Rng(400);
    const index = int64([0, 2, 1, 1, 3, 0], [3, 2]);
    gradgrad((x) => x.gather(1, index), [leaf(rng, [3, 4])]);
    gradgrad((x) => x.gather(0, int64([2, 0, 1, 1], [1, 4])).pow(2), [leaf(rng, [3, 4])]);
    const distinct = int64([0, 2, 1, 3, 3, 0], [3, 2]);
    gradgrad((x, s) => x.scatter(1, distinct, s), [leaf(rng, [3, 4]), leaf(rng, [3, 2])]);
    gradgrad((x, s) => x.scatter(1, distinct, s), [leaf(rng, [3, 4]), leaf(rng, [4, 3])]);
    gradgrad((x) => x.scatter(1, distinct, 0.5).pow(2), [leaf(rng, [3, 4])]);
    gradgrad((x, s) => torch.scatterAdd(x, 1, index, s), [leaf(rng, [3, 4]), leaf(rng, [3, 2])]);
    gradgrad((x, s) => torch.scatterAdd(x, 1, index, s).pow(2), [leaf(rng, [3, 4]), leaf(rng, [3, 3])]);
  });

  test("indexSelect and indexAdd (with alpha, repeated rows, a 0-d tensor)", () => {
    const rng = new Rng(410);
    const rows = int64([2, 0, 2]);
    gradgrad((x) => x.indexSelect(0, rows), [leaf(rng, [3, 2])]);
    gradgrad((x) => x.indexSelect(1, rows).pow(2), [leaf(rng, [2, 3])]);
    gradgrad((x) => x.indexSelect(0, int64([0], [])), [leaf(rng, [])]);
    gradgrad((x, s) => torch.indexAdd(x, 0, rows, s), [leaf(rng, [3, 2]), leaf(rng, [3, 2])]);
    gradgrad((x, s) => torch.indexAdd(x, 1, rows, s, { alpha: -2.5 }).pow(2), [leaf(rng, [2, 3]), leaf(rng, [2, 3])]);
  });

  test("embeddingBag: sum, mean, max; per-sample weights; padding; empty bags; 2-d indices", () => {
    const rng = new Rng(420);
    const indices = int64([0, 2, 4, 2, 1, 3]);
    const offsets = int64([0, 2, 2, 5]); // bag 1 is empty
    for (const mode of ["sum", "mean", "max"] as const) {
      gradgrad((w) => torch.embeddingBag(w, indices, offsets, { mode }).pow(2), [leaf(rng, [5, 3])]);
      gradgrad((w) => torch.embeddingBag(w, indices, offsets, { mode, paddingIdx: 2 }).pow(2), [leaf(rng, [5, 3])]);
      gradgrad((w) => torch.embeddingBag(w, int64([0, 1, 3, 3, 4, 0], [3, 2]), null, { mode }).pow(2), [leaf(rng, [5, 3])]);
    }
    const psw = leaf(rng, [6]);
    gradgrad((w, p) => torch.embeddingBag(w, indices, offsets, { mode: "sum", perSampleWeights: p }), [leaf(rng, [5, 3]), psw]);
    gradgrad(
      (w, p) => torch.embeddingBag(w, indices, offsets, { mode: "sum", perSampleWeights: p, paddingIdx: 4, includeLastOffset: true }),
      [leaf(rng, [5, 3]), leaf(rng, [6])],
    );
    const table = constant(rng, [5, 3]);
    gradgrad((p) => torch.embeddingBag(table, indices, offsets, { mode: "sum", perSampleWeights: p }).pow(2), [psw]);
  });

  test("embeddingBag under createGraph: a dense weight gradient in the graph; compact rows otherwise", () => {
    const rng = new Rng(430);
    const weight = leaf(rng, [6, 2]);
    const bag = () => torch.embeddingBag(weight, int64([1, 4, 4]), int64([0, 1]), { mode: "sum" });
    bag().pow(2).sum().backward();
    const plain = weight.grad!.clone();
    weight.grad = null;
    bag().pow(2).sum().backward(undefined, { createGraph: true });
    const recorded = weight.grad!;
    expect(recorded.gradFn).not.toBeNull();
    expect(recorded.tolist()).toEqual(plain.tolist());
    // grad = 2 * (bag rows summed) at rows 1 and 4 (row 4 twice: 2 * 2 * w4); its square's gradient is 8 * grad-ish:
    // d/dw sum(grad^2) = 2 * grad * d grad / dw, with d grad[1] / dw1 = 2 and d grad[4] / dw4 = 2 * 2 * 2 (two uses, bag of two).
    weight.grad = null;
    recorded.pow(2).sum().backward();
    const g = recorded.toArray();
    const second = weight.grad!.toArray();
    [0, 1].forEach((j) => {
      expect(second[2 + j]).toBeCloseTo(2 * g[2 + j] * 2, 12);
      expect(second[8 + j]).toBeCloseTo(2 * g[8 + j] * 8, 12);
    });
  });
});

// ---- custom functions ---------------------------------------------------------------------

/** exp as a custom Function that saves its output (as PyTorch's documentation's example). */
class Exp extends autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, x: Tensor): Tensor {
    const result = x.exp();
    ctx.saveForBackward(result);
    return result;
  }
  static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
    const [result] = ctx.savedTensors;
    return g.mul(result);
  }
}

/** x^3 * y with the backward written in ops over the saved inputs. */
class CubeTimes extends autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, x: Tensor, y: Tensor): Tensor {
    ctx.saveForBackward(x, y);
    return x.pow(3).mul(y);
  }
  static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor[] {
    const [x, y] = ctx.savedTensors;
    return [g.mul(x.pow(2)).mul(y).mul(3), g.mul(x.pow(3))];
  }
}

describe("autograd.Function under createGraph", () => {
  test("a backward in ops is differentiated again, through a saved output too", () => {
    const rng = new Rng(500);
    gradgrad((x) => Exp.apply(x), [leaf(rng, [2, 3])]);
    gradgrad((x, y) => CubeTimes.apply(x, y), [leaf(rng, [3]), leaf(rng, [3])]);
  });

  test("the second derivative of a saved-output Function is PyTorch's (exp: e^x)", () => {
    const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
    const [g] = autograd.grad([Exp.apply(x).sum()], [x], { createGraph: true });
    expect(g!.gradFn?.name).toBe("MulBackward0");
    g!.sum().backward();
    x.grad!.toArray().forEach((v, i) => expect(v).toBeCloseTo(Math.exp([0.5, -1, 2][i]), 12));
  });

  test("a saved tensor changed in place is PyTorch's version error", () => {
    const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
    const y = Exp.apply(x);
    torch.noGrad(() => y.add_(1));
    expect(() => y.sum().backward()).toThrow(
      "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.DoubleTensor [3]], which is output 0 of ExpBackward, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
    );
  });
});

// ---- gradgradcheck itself ----------------------------------------------------------------

/** x^2 with a backward computed outside the graph: right first derivatives, second ones lost. */
class DetachedSquare extends autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.pow(2);
  }
  static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return torch.noGrad(() => g.mul(x).mul(2));
  }
}

describe("autograd.gradgradcheck", () => {
  test("fails on a backward whose result is outside the graph, which gradcheck accepts", () => {
    const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
    expect(autograd.gradcheck((a) => DetachedSquare.apply(a), [x])).toBe(true);
    const ones = torch.ones([3], { dtype: "float64", requiresGrad: true });
    // d (2 g x) / dx = 2 g = 2 for an upstream of ones; the detached backward says 0.
    expect(() => autograd.gradgradcheck((a) => DetachedSquare.apply(a), [x], { gradOutputs: ones })).toThrow(
      /^Jacobian mismatch for output 0 with respect to input 0: d out\[0\] \/ d in\[0\] is 0 analytically but (1\.99999|2\.00000)\d* numerically$/,
    );
  });

  test("given gradOutputs, or drawn from the seed (the same draw for the same seed)", () => {
    const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
    const fn = (a: Tensor) => a.tanh();
    expect(autograd.gradgradcheck(fn, [x], { gradOutputs: [torch.tensor([1, -2, 0.5], { dtype: "float64", requiresGrad: true })] })).toBe(
      true,
    );
    // An upstream that does not require grad is not differentiated, as in PyTorch.
    expect(autograd.gradgradcheck(fn, [x], { gradOutputs: torch.tensor([1, -2, 0.5], { dtype: "float64" }) })).toBe(true);
    expect(autograd.gradgradcheck(fn, [x], { seed: 7 })).toBe(true);
  });

  test("needs an input that requires grad, as gradcheck", () => {
    expect(() => autograd.gradgradcheck((a) => a.tanh(), [torch.tensor([1, 2], { dtype: "float64" })])).toThrow(
      "gradcheck expects at least one input tensor to require gradient",
    );
  });
});

// ---- saved tensors ------------------------------------------------------------------------

/** PyTorch's message for a saved tensor changed in place (a leaf's, or one that is no op's output). */
function versionError(what: string): string {
  return (
    `one of the variables needed for gradient computation has been modified by an inplace operation: [${what}] is at version 1; ` +
    "expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, " +
    "with torch.autograd.set_detect_anomaly(True)."
  );
}

describe("saved tensors: changing what a backward reads raises PyTorch's error at backward", () => {
  const touch = (t: Tensor) => torch.noGrad(() => t.add_(0));

  test("the index of gather, scatter, scatterAdd, indexSelect, indexAdd", () => {
    const x = torch.ones([3, 4], { requiresGrad: true });
    const ops: Array<(index: Tensor) => Tensor> = [
      (i) => x.gather(1, i),
      (i) => x.scatter(1, i, 2),
      (i) => torch.scatterAdd(x, 1, i, torch.ones([3, 2])),
    ];
    for (const op of ops) {
      const index = int64([0, 1, 2, 3, 1, 0], [3, 2]);
      const y = op(index);
      touch(index);
      expect(() => y.sum().backward()).toThrow(versionError("torch.LongTensor [3, 2]"));
    }
    for (const op of [
      (i: Tensor) => x.indexSelect(0, i),
      (i: Tensor) => torch.indexAdd(x, 0, i, torch.ones([2, 4], { requiresGrad: true })),
    ]) {
      const index = int64([2, 0]);
      const y = op(index);
      touch(index);
      expect(() => y.sum().backward()).toThrow(versionError("torch.LongTensor [2]"));
    }
  });

  test("the input of gather and the source of indexAdd, as PyTorch saves them", () => {
    const x = torch.ones([3, 4], { dtype: "float64", requiresGrad: true });
    const y = x.gather(1, int64([0, 1], [1, 2]));
    touch(x);
    expect(() => y.sum().backward()).toThrow(versionError("torch.DoubleTensor [3, 4]"));
    const source = torch.ones([1, 4], { requiresGrad: true });
    const z = torch.indexAdd(torch.zeros([3, 4]), 0, int64([1]), source);
    touch(source);
    expect(() => z.sum().backward()).toThrow(versionError("torch.FloatTensor [1, 4]"));
  });

  test("each operand of a product when the other needs its gradient, and only then", () => {
    const a = torch.ones([2, 3], { requiresGrad: true });
    const b = torch.ones([3, 2], { requiresGrad: true });
    const y = a.matmul(b);
    touch(b);
    expect(() => y.sum().backward()).toThrow(versionError("torch.FloatTensor [3, 2]"));
    // A constant operand is read for the other's gradient; the other is read for nothing.
    const c = torch.ones([2, 3]);
    const z = c.matmul(b);
    touch(b);
    expect(() => z.sum().backward()).not.toThrow();
    const z2 = c.matmul(b);
    touch(c);
    expect(() => z2.sum().backward()).toThrow(versionError("torch.FloatTensor [2, 3]"));
    const x = torch.ones([2, 3]);
    const w = torch.ones([4, 3], { requiresGrad: true });
    const out = linear(x, w, torch.zeros([4]));
    touch(w);
    expect(() => out.sum().backward()).not.toThrow();
    const out2 = linear(x, w);
    touch(x);
    expect(() => out2.sum().backward()).toThrow(versionError("torch.FloatTensor [2, 3]"));
  });

  test("the targets and weights of the losses", () => {
    const x = torch.ones([3, 4], { requiresGrad: true });
    const t = int64([0, 1, 3]);
    const ce = F.crossEntropy(x, t);
    touch(t);
    expect(() => ce.backward()).toThrow(versionError("torch.LongTensor [3]"));
    const weight = torch.ones([4]);
    const nll = F.nllLoss(x, int64([0, 1, 3]), { weight });
    touch(weight);
    expect(() => nll.backward()).toThrow(versionError("torch.FloatTensor [4]"));
    const p = torch.full([3, 4], 0.5);
    const bce = F.binaryCrossEntropy(x.sigmoid(), p);
    touch(p);
    expect(() => bce.backward()).toThrow(versionError("torch.FloatTensor [3, 4]"));
    const pos = torch.ones([4]);
    const logits = F.binaryCrossEntropyWithLogits(x, torch.full([3, 4], 0.5), { posWeight: pos });
    touch(pos);
    expect(() => logits.backward()).toThrow(versionError("torch.FloatTensor [4]"));
  });

  test("embeddingBag's indices and offsets", () => {
    const weight = torch.ones([5, 2], { requiresGrad: true });
    const indices = int64([0, 2, 4, 1]);
    const out = torch.embeddingBag(weight, indices, int64([0, 2]));
    touch(indices);
    expect(() => out.sum().backward()).toThrow(versionError("torch.LongTensor [4]"));
  });
});

// ---- what people do with it ---------------------------------------------------------------

/** A two-layer classifier's loss as a function of its parameters, in float64. */
function classifierLoss(x: Tensor, t: Tensor, [w1, b1, w2, b2]: Tensor[]): Tensor {
  return F.crossEntropy(linear(linear(x, w1, b1).tanh(), w2, b2), t, { labelSmoothing: 0.1 });
}

/** Central differences of `f` along `v`, each parameter moved by eps * v in place. */
function alongDirection<T>(params: Tensor[], v: Tensor[], eps: number, f: () => T): [T, T] {
  const move = (s: number) => torch.noGrad(() => params.forEach((p, i) => p.add_(v[i].mul(s))));
  move(eps);
  const plus = f();
  move(-2 * eps);
  const minus = f();
  move(eps);
  return [plus, minus];
}

describe("uses of createGraph, checked by finite differences", () => {
  const rng = new Rng(600);
  const x = constant(rng, [5, 3], -1, 1);
  const t = targets(rng, [5], 4);
  const params = [leaf(rng, [6, 3], -1, 1), leaf(rng, [6], -1, 1), leaf(rng, [4, 6], -1, 1), leaf(rng, [4], -1, 1)];
  const v = params.map((p) => constant(rng, p.shape, -1, 1));

  test("a Hessian-vector product of a classifier's loss", () => {
    const grads = autograd.grad([classifierLoss(x, t, params)], params, { createGraph: true }) as Tensor[];
    const dot = grads.map((g, i) => g.mul(v[i]).sum()).reduce((a, b) => a.add(b));
    const hv = autograd.grad([dot], params) as Tensor[];
    const eps = 1e-6;
    const [plus, minus] = alongDirection(params, v, eps, () => autograd.grad([classifierLoss(x, t, params)], params) as Tensor[]);
    hv.forEach((h, i) => {
      const numerical = plus[i]
        .sub(minus[i])
        .div(2 * eps)
        .toArray();
      h.toArray().forEach((a, j) => expect(Math.abs(a - numerical[j])).toBeLessThan(1e-6 + 1e-4 * Math.abs(numerical[j])));
    });
    const [, functional] = autograd.functional.hvp((...ps: Tensor[]) => classifierLoss(x, t, ps), params, v);
    (functional as Tensor[]).forEach((h, i) => h.toArray().forEach((a, j) => expect(a).toBeCloseTo(hv[i].toArray()[j], 10)));
  });

  test("a gradient penalty: the parameters' gradient of |d score / d input|^2", () => {
    const [w1, b1, w2] = params;
    const input = leaf(rng, [5, 3], -1, 1);
    const penalty = () => {
      const score = linear(linear(input, w1, b1).sigmoid(), w2)
        .logSoftmax(1)
        .sum();
      const [dx] = autograd.grad([score], [input], { createGraph: true });
      return dx!.pow(2).sum(1).sub(1).pow(2).mean();
    };
    const value = penalty();
    const analytic = autograd.grad([value], [w1, b1, w2]) as Tensor[];
    const eps = 1e-6;
    const [plus, minus] = alongDirection([w1, b1, w2], v.slice(0, 3), eps, () => penalty().item());
    const directional = analytic.map((g, i) => g.mul(v[i]).sum().item()).reduce((a, b) => a + b);
    expect(directional).toBeCloseTo((plus - minus) / (2 * eps), 6);
    expect(Math.abs(directional)).toBeGreaterThan(1e-3);
  });
});
