/**
 * The fast paths stay correct under in-place ops: a leaf keeping a fresh gradient uncopied,
 * compact row gradients in the gradient slot, and log-softmax's output kept in WebAssembly
 * memory for its backward. Each is checked against the plain computation.
 */
import * as torch from "torchlet";
import { setWasmElementThreshold, wasmAvailable } from "../src/kernels/wasm";
import { visitedRows } from "./helpers/grad-rows";

type Tensor = torch.Tensor;
const values = (t: Tensor): number[] => Array.from(t.toArray());
const int64 = (v: number[]): Tensor => torch.tensor(v, { dtype: "int64" });

describe("a leaf keeping a fresh gradient", () => {
  test("changing .grad in place, then another backward, accumulates into the changed values", () => {
    const x = torch.tensor([0.5, -1, 2], { requiresGrad: true });
    x.sigmoid().sum().backward();
    const first = values(x.grad!);
    x.grad!.mul_(2);
    x.sigmoid().sum().backward();
    expect(values(x.grad!)).toEqual(first.map((g) => Math.fround(Math.fround(2 * g) + g)));
  });

  test("a gradient a hook kept, changed in place afterwards, leaves .grad alone", () => {
    const x = torch.tensor([0.5, -1, 2], { requiresGrad: true });
    const kept: Tensor[] = [];
    const y = x.mul(1);
    y.registerHook((g) => {
      kept.push(g);
    });
    y.sigmoid().sum().backward();
    const grad = values(x.grad!);
    kept[0].add_(100);
    expect(values(x.grad!)).toEqual(grad);
  });

  test("p.grad.zero_() zeroes the gradient in place and the next backward starts from zero", () => {
    const x = torch.tensor([0.5, -1, 2], { requiresGrad: true });
    x.mul(3).sum().backward();
    const grad = x.grad!;
    grad.zero_();
    expect(grad.version).toBe(1);
    x.mul(2).sum().backward();
    expect(x.grad).toBe(grad);
    expect(values(grad)).toEqual([2, 2, 2]);
  });
});

describe("compact row gradients", () => {
  /** An embedding bag's weight with its gradient from one backward: rows 1 and 3 touched. */
  function trained(): Tensor {
    const w = torch.arange(0, 10, { dtype: "float32" }).reshape([5, 2]).detach().requiresGrad_(true);
    torch
      .embeddingBag(w, int64([1, 3, 1]), int64([0, 2]), { mode: "sum" })
      .sum()
      .backward();
    return w;
  }

  test("after .grad was changed in place, SGD updates every row the change reached", () => {
    const w = trained();
    expect(visitedRows(w)).toEqual([1, 3]);
    w.grad!.add_(1); // now no row of the gradient is zero
    new torch.optim.SGD([w], { lr: 0.5 }).step();
    // Rows 1 (twice) and 3 (once) had gradients 2 and 1 per element, plus the 1 added to all.
    const grads = [1, 1, 3, 3, 1, 1, 2, 2, 1, 1];
    expect(values(w)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((v, i) => Math.fround(v - 0.5 * grads[i])));
  });

  test("zeroGrad({setToNone: false}) after an in-place change zeroes every row", () => {
    const w = trained();
    w.grad!.fill_(7);
    const optimizer = new torch.optim.SGD([w], { lr: 0.5 });
    optimizer.zeroGrad({ setToNone: false });
    expect(values(w.grad!)).toEqual(new Array(10).fill(0));
  });

  test("a weight changed in place after the forward fails at backward instead of using stale rows", () => {
    const w = torch.arange(0, 10, { dtype: "float32" }).reshape([5, 2]).detach().requiresGrad_(true);
    const psw = torch.tensor([1, 2, 3], { requiresGrad: true });
    const out = torch.embeddingBag(w, int64([1, 3, 1]), int64([0, 2]), { mode: "sum", perSampleWeights: psw });
    torch.noGrad(() => w.add_(1));
    expect(() => out.sum().backward()).toThrow("modified by an inplace operation");
  });
});

// With TORCHLET_NO_WASM=1 there is no wasm memory to keep anything in.
const describeWasm = process.env.TORCHLET_NO_WASM === "1" ? describe.skip : describe;

describeWasm("log-softmax's output kept in WebAssembly memory", () => {
  let previous = 0;
  beforeAll(() => {
    previous = setWasmElementThreshold(0); // every float32 row on the wasm kernel
  });
  afterAll(() => {
    setWasmElementThreshold(previous);
  });

  const logits = () =>
    torch.tensor(
      [
        [1, 2, 3, 4],
        [0.5, -1, 2, 0],
      ],
      { requiresGrad: true },
    );

  test("the wasm kernel is the one running", () => {
    expect(wasmAvailable()).toBe(true);
  });

  test("an output changed in place (even under noGrad) is refused at backward", () => {
    const y = logits().logSoftmax(1);
    torch.noGrad(() => y.add_(1));
    expect(() => y.sum().backward()).toThrow(
      "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [2, 4]], which is output 0 of LogSoftmaxBackward0, is at version 1; expected version 0 instead.",
    );
  });

  test("cross entropy through a log-softmax whose input was changed in place afterwards gives the unchanged gradient", () => {
    const x = logits();
    const target = int64([3, 2]);
    const reference = x.detach().clone().requiresGrad_(true);
    torch.nn.functional.crossEntropy(reference, target).backward();
    const loss = torch.nn.functional.nllLoss(x.logSoftmax(1), target);
    x.detach().fill_(0); // x's storage: log-softmax saved only its output, as in PyTorch
    loss.backward();
    expect(values(x.grad!)).toEqual(values(reference.grad!));
  });
});
