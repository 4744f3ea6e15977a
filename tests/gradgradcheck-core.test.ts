/**
 * Second derivatives of the core ops (elementwise, reductions, views, in-place ops) by finite
 * differences of first derivatives in float64, on seeded random shapes: double backward works
 * because their backwards are written in ops.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";
import { leaf64 } from "./helpers/twice";

type Tensor = torch.Tensor;
const rng = new Rng(12);

/** A float64 leaf of a random shape of `dims` dims, values in [lo, hi). */
function leaf(dims: number, lo = -2, hi = 2): Tensor {
  return leaf64(rng, rng.shape(dims, 1, 3), lo, hi);
}

const unary: Array<[string, (x: Tensor) => Tensor, number, number]> = [
  ["exp", (x) => x.exp(), -2, 2],
  ["log", (x) => x.log(), 0.5, 3],
  ["sqrt", (x) => x.sqrt(), 0.5, 3],
  ["pow 3", (x) => x.pow(3), -2, 2],
  ["pow -1.5", (x) => x.pow(-1.5), 0.5, 3],
  ["div by a number", (x) => x.div(3), -2, 2],
  ["reciprocal via div", (x) => torch.ones(x.shape, { dtype: "float64" }).div(x), 0.5, 3],
  ["sigmoid * x", (x) => x.sigmoid().mul(x), -3, 3],
  ["tanh", (x) => x.tanh(), -2, 2],
  ["softmax", (x) => x.softmax(-1), -2, 2],
  ["logSoftmax", (x) => x.logSoftmax(-1), -2, 2],
  ["sum of squares", (x) => x.mul(x).sum(), -2, 2],
  ["mean over dim 0", (x) => x.mul(x).mean(0), -2, 2],
  ["logsumexp", (x) => x.logsumexp(-1), -2, 2],
  ["max (distinct values)", (x) => x.mul(x).max(), -2, 2],
  [
    "transpose and expand",
    (x) =>
      x
        .unsqueeze(0)
        .expand([2, ...x.shape])
        .mul(x)
        .transpose(0, -1),
    -2,
    2,
  ],
  ["in place: clone, mul_, add_", (x) => x.clone().mul_(x).add_(x), -2, 2],
  [
    "in place on a view",
    (x) => {
      const y = x.mul(1);
      y.unsqueeze(0).mul_(2);
      return y.mul(x);
    },
    -2,
    2,
  ],
];

test.each(unary)("%s", (_, fn, lo, hi) => {
  for (const dims of [1, 2, 3]) {
    const x = leaf(dims, lo, hi);
    expect(torch.autograd.gradgradcheck(fn, [x])).toBe(true);
  }
});

test.each([
  ["add", (a: Tensor, b: Tensor) => a.add(b).mul(a)],
  ["sub with alpha", (a: Tensor, b: Tensor) => a.sub(b, 2).mul(b)],
  ["mul", (a: Tensor, b: Tensor) => a.mul(b)],
  ["div", (a: Tensor, b: Tensor) => a.div(b.abs().add(0.5))],
  ["pow", (a: Tensor, b: Tensor) => a.abs().add(0.5).pow(b)],
  ["matmul", (a: Tensor, b: Tensor) => a.matmul(b.transpose(0, 1)).tanh()],
] as const)("%s of two inputs, with broadcasting", (_, fn) => {
  const a = leaf(2);
  const b = torch
    .tensor(rng.values(a.shape[1], -2, 2), { dtype: "float64" })
    .reshape([1, a.shape[1]])
    .detach()
    .requiresGrad_(true);
  expect(torch.autograd.gradgradcheck(fn as (...t: Tensor[]) => Tensor, [a, b])).toBe(true);
});

test("a wrong second derivative is caught (the check can fail)", () => {
  // A custom op whose backward is right but not differentiable correctly: it multiplies by a
  // detached copy of x, so the second derivative misses a term.
  class Square extends torch.autograd.Function {
    static override forward(ctx: torch.autograd.FunctionCtx, x: Tensor): Tensor {
      ctx.saveForBackward(x);
      return x.mul(x);
    }
    static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
      const [x] = ctx.savedTensors;
      return g.mul(x.detach()).mul(2);
    }
  }
  const x = leaf(1, 0.5, 2);
  expect(torch.autograd.gradcheck((t) => Square.apply(t), [x])).toBe(true);
  expect(() => torch.autograd.gradgradcheck((t) => Square.apply(t), [x])).toThrow();
});
