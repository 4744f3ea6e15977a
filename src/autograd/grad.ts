/** `autograd.grad`: gradients of outputs with respect to chosen inputs, leaving every `.grad` alone. */
import { allocate } from "../dtype";
import { formatSize, sameShape } from "../shape";
import { Tensor } from "../tensor-core";
import { runBackward } from "./engine";
import { checkOptions, optionKeys } from "../options";

export type OneOrMany = Tensor | readonly Tensor[];

export const list = (x: OneOrMany): Tensor[] => (x instanceof Tensor ? [x] : [...x]);

/** A tensor of `t`'s shape and dtype filled with `value`, outside any graph. */
export function filledLike(t: Tensor, value: number): Tensor {
  return Tensor.fromArray(allocate(t.dtype, t.numel()).fill(value), t.shape, t.dtype);
}

export interface GradOptions {
  gradOutputs?: OneOrMany;
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs`, without touching any `.grad`.
 * Scalar outputs need no `gradOutputs`; an input the outputs do not depend on is an error
 * unless `allowUnused`, and then its gradient is null.
 */
const GRAD_KEYS = optionKeys<GradOptions>({ gradOutputs: true, retainGraph: true, createGraph: true, allowUnused: true });

export function grad(outputs: OneOrMany, inputs: OneOrMany, options: GradOptions = {}): Array<Tensor | null> {
  checkOptions("grad", options, GRAD_KEYS);
  const outs = list(outputs);
  const ins = list(inputs);
  const seeds = options.gradOutputs
    ? list(options.gradOutputs)
    : outs.map((o) => {
        if (o.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
        return filledLike(o, 1);
      });
  outs.forEach((o, i) => {
    if (!o.requiresGrad) throw new Error(`element ${i} of tensors does not require grad and does not have a grad_fn`);
    if (!sameShape(o.shape, seeds[i].shape)) {
      throw new Error(
        `Mismatch in shape: grad_output[${i}] has a shape of ${formatSize(seeds[i].shape)} and output[${i}] has a shape of ${formatSize(o.shape)}.`,
      );
    }
  });
  const result = runBackward(outs, seeds, { retainGraph: options.retainGraph, createGraph: options.createGraph, captureFor: ins });
  if (!options.allowUnused && result.some((g) => g === null)) {
    throw new Error(
      "One of the differentiated Tensors appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.",
    );
  }
  return result;
}
