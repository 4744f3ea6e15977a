/**
 * Gradients computed ahead or kept without a copy: BCEWithLogits stores the input's gradient for
 * an upstream of 1 during its forward pass, and a leaf keeps a backward's freshly allocated
 * gradient as its `.grad`. Neither may change a value or let two tensors share storage: checked
 * against the formula in float64 (rounded where torchlet rounds), with other upstreams, with
 * repeated backwards (retainGraph) and with hooks that keep the gradient they are shown.
 */
import * as torch from "torchlet";
import { setWasmElementThreshold, setWasmEnabled } from "../src/kernels/wasm";
import { Rng } from "./helpers/random-cases";

const F = torch.nn.functional;
const rng = new Rng(7);

function logistic(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** Runs `fn` on the TypeScript loops (wasm off) and on the wasm kernels (every size). */
function onEachKernel(fn: (kernel: "typescript" | "wasm") => void): void {
  const previous = setWasmEnabled(false);
  const threshold = setWasmElementThreshold(0);
  try {
    fn("typescript");
    setWasmEnabled(true);
    fn("wasm");
  } finally {
    setWasmEnabled(previous);
    setWasmElementThreshold(threshold);
  }
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, exact: boolean): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (exact) expect(actual[i]).toBe(expected[i]);
    else expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-7 + 2.5e-7 * Math.abs(expected[i]));
  }
}

describe("BCEWithLogits: the gradient stored during the forward pass", () => {
  const rows = 5;
  const cols = 7;
  const logits = Float32Array.from(rng.values(rows * cols, -6, 6));
  const targets = Float32Array.from({ length: rows * cols }, () => rng.pick([0, 1, 0.25]));
  const x = () => torch.Tensor.fromArray(logits.slice(), [rows, cols], "float32").requiresGrad_();
  const y = torch.Tensor.fromArray(targets, [rows, cols], "float32");
  /** round(scale * upstream * round(sigmoid(x) - y)), as torchlet's backward computes it. */
  const expected = (scale: number) => Array.from(logits, (v, i) => Math.fround(scale * Math.fround(logistic(v) - targets[i])));

  test.each(["mean", "sum"] as const)("reduction %s, upstream 1: round(scale * round(sigmoid(x) - y))", (reduction) => {
    onEachKernel((kernel) => {
      const input = x();
      F.binaryCrossEntropyWithLogits(input, y, { reduction }).backward();
      // The TypeScript loop uses the same sigmoid as this test; wasm's is within an ulp of it.
      expectClose(input.grad!.toArray(), expected(reduction === "mean" ? 1 / (rows * cols) : 1), kernel === "typescript");
    });
  });

  test.each(["mean", "sum", "none"] as const)("reduction %s, upstream 2.5: the gradient is recomputed and scaled", (reduction) => {
    onEachKernel(() => {
      const input = x();
      const loss = F.binaryCrossEntropyWithLogits(input, y, { reduction });
      (reduction === "none" ? loss.sum() : loss).mul(2.5).backward();
      const scale = reduction === "mean" ? 2.5 / (rows * cols) : 2.5;
      expectClose(input.grad!.toArray(), expected(scale), false);
    });
  });

  test("a backward run three times (retainGraph) adds the same gradient three times", () => {
    onEachKernel((kernel) => {
      const input = x();
      const loss = F.binaryCrossEntropyWithLogits(input, y);
      loss.backward(undefined, { retainGraph: true });
      const once = Float32Array.from(input.grad!.toArray());
      loss.backward(undefined, { retainGraph: true });
      loss.backward();
      const thrice = Array.from(once, (g) => Math.fround(Math.fround(g + g) + g));
      expectClose(input.grad!.toArray(), thrice, true);
      expectClose(once, expected(1 / (rows * cols)), kernel === "typescript");
    });
  });

  test("a target that requires grad gets -x times the upstream", () => {
    const input = x();
    const target = torch.Tensor.fromArray(targets.slice(), [rows, cols], "float32").requiresGrad_();
    F.binaryCrossEntropyWithLogits(input, target, { reduction: "sum" }).backward();
    expectClose(
      target.grad!.toArray(),
      Array.from(logits, (v) => -v),
      true,
    );
  });
});

describe("a leaf keeps a fresh gradient without a copy, and nothing else shares it", () => {
  const values = Float32Array.from(rng.values(3 * 4, -3, 3));
  const leaf = () => torch.Tensor.fromArray(values.slice(), [3, 4], "float32").requiresGrad_();

  test("a hook that keeps the gradient it is shown still holds the first one after a second backward", () => {
    const x = leaf();
    const seen: torch.Tensor[] = [];
    x.registerHook((g) => {
      seen.push(g);
    });
    const loss = F.logSoftmax(x, 1)
      .mul(torch.tensor([1, 2, 3, 4]))
      .sum();
    loss.backward(undefined, { retainGraph: true });
    const first = Float32Array.from(x.grad!.toArray());
    loss.backward();
    expect(Array.from(seen[0].toArray())).toEqual(Array.from(first));
    expect(Array.from(x.grad!.toArray())).toEqual(Array.from(first, (g) => Math.fround(g + g)));
  });

  test("the gradients of two backwards add up in .grad, and .grad is not the storage of any earlier result", () => {
    const x = leaf();
    const loss = F.logSoftmax(x, 1)
      .mul(torch.tensor([4, 3, 2, 1]))
      .sum();
    loss.backward(undefined, { retainGraph: true });
    const held = x.grad!;
    const first = Float32Array.from(held.toArray());
    loss.backward();
    expect(x.grad).toBe(held); // accumulated in place, as PyTorch does
    expect(Array.from(x.grad!.toArray())).toEqual(Array.from(first, (g) => Math.fround(g + g)));
  });

  test("two leaves fed by the same graph get separate storage", () => {
    const a = leaf();
    const b = leaf();
    const loss = F.logSoftmax(a.add(b), 1)
      .mul(torch.tensor([1, -1, 2, -2]))
      .sum();
    loss.backward();
    expect(a.grad!.toArray()).not.toBe(b.grad!.toArray());
    a.grad!.toArray()[0] += 1;
    expect(b.grad!.toArray()[0]).not.toBe(a.grad!.toArray()[0]);
  });

  test.each([true, false])(
    "a gradient passed to two inputs is owned by neither: a hook on the other branch keeps its own copy (leaf first: %s)",
    (leafFirst) => {
      const a = leaf();
      const b = leaf();
      const h = b.mul(1);
      const seen: torch.Tensor[] = [];
      h.registerHook((g) => {
        seen.push(g);
      });
      const loss = F.logSoftmax(leafFirst ? a.add(h) : h.add(a), 1)
        .mul(torch.tensor([1, -1, 2, -2]))
        .sum();
      loss.backward(undefined, { retainGraph: true });
      const first = Array.from(seen[0].toArray());
      loss.backward();
      expect(Array.from(seen[0].toArray())).toEqual(first);
      expect(Array.from(a.grad!.toArray())).toEqual(first.map((g) => Math.fround(g + g)));
    },
  );
});

describe("NLL's one value per row reaches a log-softmax backward as it is, and anyone else densely", () => {
  const [rows, cols] = [4, 6];
  const values = Float32Array.from(rng.values(rows * cols, -4, 4));
  const targets = torch.tensor([2, 0, -100, 5], { dtype: "int64" });
  const leaf = () => torch.Tensor.fromArray(values.slice(), [rows, cols], "float32").requiresGrad_();
  /** NLL's dense gradient for "mean": -1 / (kept rows) at each kept row's target. */
  const nllGradient = () => {
    const out = new Array<number>(rows * cols).fill(0);
    [2, 0, -1, 5].forEach((k, r) => {
      if (k >= 0) out[r * cols + k] = Math.fround(-1 / 3);
    });
    return out;
  };
  const crossEntropyGrad = () => {
    const x = leaf();
    F.crossEntropy(x, targets).backward();
    return Array.from(x.grad!.toArray());
  };

  test("a hook on the log-probabilities sees the dense gradient, and the result is cross entropy's", () => {
    onEachKernel(() => {
      const x = leaf();
      const logp = F.logSoftmax(x, 1);
      const seen: number[][] = [];
      logp.registerHook((g) => {
        seen.push(Array.from(g.toArray()));
      });
      F.nllLoss(logp, targets).backward();
      expect(seen).toEqual([nllGradient()]);
      expect(Array.from(x.grad!.toArray())).toEqual(crossEntropyGrad());
    });
  });

  test("retainGrad and autograd.grad get the dense gradient", () => {
    const logits = F.logSoftmax(leaf(), 1);
    const [viaGrad] = torch.autograd.grad(F.nllLoss(logits, targets), [logits]);
    expect(Array.from(viaGrad!.toArray())).toEqual(nllGradient());

    const x = leaf();
    const logp = F.logSoftmax(x, 1).retainGrad();
    F.nllLoss(logp, targets).backward();
    expect(Array.from(logp.grad!.toArray())).toEqual(nllGradient());
    expect(Array.from(x.grad!.toArray())).toEqual(crossEntropyGrad());
  });

  test("NLL on a leaf, on a (N, C, 1) input and beside another use of the log-probabilities", () => {
    const p = leaf();
    F.nllLoss(p, targets).backward();
    expect(Array.from(p.grad!.toArray())).toEqual(nllGradient());

    const q = torch.Tensor.fromArray(values.slice(), [rows, cols, 1], "float32").requiresGrad_();
    F.nllLoss(q, targets.reshape([rows, 1])).backward();
    expect(Array.from(q.grad!.toArray())).toEqual(nllGradient());

    const x = leaf();
    const logp = F.logSoftmax(x, 1);
    F.nllLoss(logp, targets).add(logp.sum().mul(0)).backward();
    const alone = crossEntropyGrad();
    Array.from(x.grad!.toArray()).forEach((g, i) => expect(Math.abs(g - alone[i])).toBeLessThanOrEqual(1e-7));
  });
});
