/**
 * `torch.nn.utils`: gradient clipping, with PyTorch 1.13's arithmetic. Both work on the gradients
 * the parameters hold (`p.grad`), in place, and skip parameters without one.
 */
import { type DType, promoteTypes, rounderFor } from "../dtype";
import { noGrad } from "../autograd/grad-mode";
import { Tensor } from "../tensor";
import { scalarTensor } from "../ops/elementwise";
import { vectorNorm } from "../ops/normalization";
import { pyFloat } from "./repr";
import { checkOptions, isOptionsObject } from "../options";

export interface ClipGradNormOptions {
  /** Throw, rather than scale every gradient by a NaN or infinite factor, when the total norm is not finite. */
  errorIfNonfinite?: boolean;
}

function gradientsOf(parameters: Tensor | Iterable<Tensor>): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : [...parameters];
  return list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/**
 * Scales the gradients so that their joint `normType`-norm (the norm of the per-parameter norms)
 * is at most `maxNorm`, and returns that norm, before clipping, as a 0-d tensor. As PyTorch: the
 * factor is min(maxNorm / (total + 1e-6), 1), computed in the gradients' dtype, and every
 * gradient is multiplied by it in place (`mul_`: its version rises, even when the factor is 1).
 */
export function clipGradNorm_(
  parameters: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType: number | ClipGradNormOptions = 2,
  options: ClipGradNormOptions = {},
): Tensor {
  // clipGradNorm_(params, 1, {errorIfNonfinite: true}): the options may take normType's place.
  if (isOptionsObject(normType)) [normType, options] = [2, normType];
  checkOptions("clipGradNorm_", options, ["errorIfNonfinite"]);
  const grads = gradientsOf(parameters);
  if (grads.length === 0) return scalarTensor(0, "float32");
  const dtype = grads.map((g) => g.dtype).reduce(promoteTypes);
  const norms = grads.map((g) => rounderFor(g.dtype)(vectorNorm(g.toArray(), normType)));
  const total = rounderFor(dtype)(vectorNorm(norms, normType));
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `The total norm of order ${pyFloat(normType)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
        "To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`",
    );
  }
  const factor = clipFactor(total, maxNorm, dtype);
  noGrad(() => {
    for (const g of grads) g.detach().mul_(factor);
  });
  return scalarTensor(total, dtype);
}

/** PyTorch's `clamp(max_norm / (total + 1e-6), max=1)`, where `number / tensor` is `tensor.reciprocal() * number`. */
function clipFactor(total: number, maxNorm: number, dtype: DType): number {
  const r = rounderFor(dtype);
  const factor = r(r(1 / r(total + r(1e-6))) * r(maxNorm));
  return factor > 1 ? 1 : factor;
}

/**
 * Clamps every gradient into [-clipValue, clipValue], in place. Like PyTorch, which clamps
 * `p.grad.data`, this leaves the gradients' version counters as they were.
 */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  noGrad(() => {
    for (const g of gradientsOf(parameters)) g.data.clamp_(-clipValue, clipValue);
  });
}
