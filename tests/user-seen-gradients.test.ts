/**
 * A gradient may become a leaf's `.grad` without a copy only if no user code has seen it during
 * the backward run that produced it (autograd/ownership.ts). Each path by which user code can see
 * a gradient is checked the same way: keep the tensor user code was given, run further backwards,
 * and the kept tensor must still hold its values, and share no storage with any `.grad`.
 */
import * as torch from "torchlet";

type Tensor = torch.Tensor;
const values = (t: Tensor): number[] => Array.from(t.toArray());
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** d sigmoid(v) / dv in float32, as the backward rounds it. */
const sigmoidGrad = (v: number) => Math.fround(Math.fround(sigmoid(v)) * (1 - Math.fround(sigmoid(v))));
const input = [0.5, -1, 2];

function expectNoSharedStorage(a: Tensor, b: Tensor): void {
  expect(a.nd.data).not.toBe(b.nd.data);
}

test("an autograd.grad result passed back in as a gradient is copied, not adopted (the reported case)", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  const [gx] = torch.autograd.grad([x.sigmoid().sum()], [x]);
  const before = values(gx!);
  x.add(1).backward(gx!);
  expectNoSharedStorage(x.grad!, gx!);
  x.mul(2).sum().backward();
  expect(values(gx!)).toEqual(before);
  expect(values(x.grad!)).toEqual(before.map((g) => Math.fround(g + 2)));
});

test("a custom Function whose backward returns its input: the leaf gets a copy", () => {
  const seen: Tensor[] = [];
  class Identity extends torch.autograd.Function {
    static override forward(_ctx: torch.autograd.FunctionCtx, a: Tensor): Tensor {
      return a.clone();
    }
    static override backward(_ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
      seen.push(g);
      return g;
    }
  }
  const x = torch.tensor(input, { requiresGrad: true });
  // sigmoid's backward allocates the gradient Identity's backward is shown.
  Identity.apply(x).sigmoid().sum().backward();
  const kept = seen[0];
  const first = values(kept);
  expect(first).toEqual(input.map((v) => sigmoidGrad(v)));
  expectNoSharedStorage(x.grad!, kept);
  x.mul(3).sum().backward();
  expect(values(kept)).toEqual(first);
  expect(values(x.grad!)).toEqual(first.map((g) => Math.fround(g + 3)));
});

test.each([
  ["a leaf", (x: Tensor) => x],
  ["a non-leaf passed straight through to the leaf", (x: Tensor) => x.add(0)],
])("a hook on %s that keeps its argument: later backwards leave it alone", (_, through) => {
  const kept: Tensor[] = [];
  const x = torch.tensor(input, { requiresGrad: true });
  const y = through(x);
  y.registerHook((g) => {
    kept.push(g);
  });
  y.sigmoid().sum().backward();
  const first = values(kept[0]);
  expectNoSharedStorage(x.grad!, kept[0]);
  x.mul(2).sum().backward();
  expect(values(kept[0])).toEqual(first);
  expect(values(x.grad!)).toEqual(first.map((g) => Math.fround(g + 2)));
});

test("retainGrad: the non-leaf's .grad and the leaf's .grad are separate tensors that accumulate separately", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  const y = x.add(1).retainGrad(); // AddBackward0 hands y's gradient on to x unchanged
  const loss = y.sigmoid().sum();
  loss.backward(undefined, { retainGraph: true });
  const expected = input.map((v) => sigmoidGrad(v + 1));
  expect(values(y.grad!)).toEqual(expected);
  expect(values(x.grad!)).toEqual(expected);
  expectNoSharedStorage(x.grad!, y.grad!);
  loss.backward(undefined, { retainGraph: true });
  expect(values(y.grad!)).toEqual(expected.map((g) => Math.fround(g + g)));
  x.mul(5).sum().backward();
  expect(values(y.grad!)).toEqual(expected.map((g) => Math.fround(g + g)));
  expect(values(x.grad!)).toEqual(expected.map((g) => Math.fround(Math.fround(g + g) + 5)));
});

test("marks live for one backward run: a gradient made outside any run is never adopted", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  const s = x.sigmoid();
  // A node applied by hand, outside backward: its result is the caller's.
  const [g] = s.gradFn!.apply(torch.ones([3])) as Tensor[];
  const before = values(g);
  x.add(0).backward(g);
  expectNoSharedStorage(x.grad!, g);
  x.mul(2).sum().backward();
  expect(values(g)).toEqual(before);
});

test("later backwards accumulate into the same .grad tensor in place, as in PyTorch", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  x.sigmoid().sum().backward();
  const fromBackward = x.grad;
  expect(values(fromBackward!)).toEqual(input.map((v) => sigmoidGrad(v)));
  x.sigmoid().sum().backward();
  expect(x.grad).toBe(fromBackward);
  expect(values(x.grad!)).toEqual(input.map((v) => Math.fround(2 * sigmoidGrad(v))));
});

test("accumulating into .grad and zeroing it in place raise its version, as PyTorch's += and zero_() do", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  x.mul(2).sum().backward();
  const grad = x.grad!;
  expect(grad.version).toBe(0);
  x.mul(3).sum().backward();
  expect(x.grad).toBe(grad);
  expect(grad.version).toBe(1);
  new torch.optim.SGD([x], { lr: 0.1 }).zeroGrad({ setToNone: false });
  expect(values(grad)).toEqual([0, 0, 0]);
  expect(grad.version).toBe(2);
});

test("backward's options may come first, without a gradient: loss.backward({retainGraph: true})", () => {
  const x = torch.tensor(input, { requiresGrad: true });
  const loss = x.sigmoid().sum();
  loss.backward({ retainGraph: true });
  loss.backward();
  expect(values(x.grad!)).toEqual(input.map((v) => Math.fround(2 * sigmoidGrad(v))));
  expect(() => loss.backward()).toThrow("Trying to backward through the graph a second time");
});
