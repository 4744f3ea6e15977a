/**
 * Finite-difference checks of first and second derivatives in float64, on leaves drawn from a
 * seeded generator: the second check differentiates a gradient taken with createGraph, so it
 * fails for any backward not written in differentiable ops.
 */
import * as torch from "torchlet";
import type { Rng } from "./random-cases";

type Tensor = torch.Tensor;
const { autograd } = torch;

/** A float64 leaf requiring grad, uniform in [lo, hi): continuous values, so no two are equal. */
export function leaf64(rng: Rng, shape: number[], lo = -2, hi = 2): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch
    .tensor(rng.values(n, lo, hi), { dtype: "float64" })
    .reshape(shape)
    .detach()
    .requiresGrad_(true);
}

/** The sum of the cubes of every output: a scalar whose second derivative is not constant. */
function cubed(out: Tensor | Tensor[]): Tensor {
  const outs = Array.isArray(out) ? out : [out];
  return outs.map((o) => o.pow(3).sum()).reduce((a, b) => a.add(b));
}

/**
 * gradcheck of `fn`, then gradcheck of the gradient of sum(fn(...)^3) with respect to the
 * inputs that require grad, taken with createGraph (gradcheck evaluates under noGrad, so the
 * gradient is taken with grad mode on explicitly).
 */
export function checkTwice(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[]): void {
  expect(autograd.gradcheck(fn, inputs)).toBe(true);
  const firstGradients = (...xs: Tensor[]) =>
    torch.enableGrad(() => {
      const wrt = xs.filter((x) => x.requiresGrad);
      return autograd.grad([cubed(fn(...xs))], wrt, { createGraph: true }) as Tensor[];
    });
  expect(autograd.gradcheck(firstGradients, inputs)).toBe(true);
}
