/**
 * What the adaptive optimizers keep per parameter and read from it: state buffers shaped like
 * the parameter, PyTorch's step counter, and the storage that their element loops update in place.
 */
import type { GradSlot } from "../autograd/grad-slot";
import { type TypedArray, allocate } from "../dtype";
import { Tensor } from "../tensor";

/** A fresh buffer of `p`'s shape and dtype filled with `value` (PyTorch's `zeros_like` / `full_like`). */
export function bufferLike(p: Tensor, value = 0): Tensor {
  const data = allocate(p.dtype, p.numel());
  if (value !== 0) data.fill(value);
  return Tensor.fromArray(data, p.shape, p.dtype);
}

/**
 * The values of `t` as its own storage, for an update in place. The loops index parameters and
 * buffers alike from 0, so each must be contiguous (a copy would silently drop the update).
 */
export function storageOf(t: Tensor, what: string): TypedArray {
  if (!t.isContiguous()) throw new Error(`${what} must be contiguous to be updated in place`);
  return t.toArray();
}

/**
 * PyTorch counts Adam's and Adagrad's steps in a 0-d float32 tensor (`torch.tensor(0.)`), so
 * the count is a float32 value, as the bias corrections read it.
 */
export function stepCounter(): Tensor {
  return Tensor.fromArray(new Float32Array(1), [], "float32");
}

/** `step_t += 1` on the counter (in float32); returns the new count. */
export function advance(counter: Tensor): number {
  const value = storageOf(counter, "the step counter");
  value[0] = Math.fround(value[0] + 1);
  return value[0];
}

/** The dense gradient of `p`, in `p`'s dtype, as a flat array (read only). */
export function denseGrad(p: Tensor, slot: GradSlot): TypedArray {
  const grad = slot.dense()!;
  const values = (grad.dtype === p.dtype ? grad : grad.to(p.dtype)).toArray();
  if (values.length !== p.numel()) throw new Error(`gradient of shape [${grad.shape}] for a parameter of shape [${p.shape}]`);
  return values;
}
