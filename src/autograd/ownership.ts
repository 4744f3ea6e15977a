/**
 * Which gradients a backward run may hand to a leaf without copying them.
 *
 * PyTorch moves a gradient into `.grad` when nothing else references it. JavaScript has no
 * reference counts, so an op's backward says when it returns a tensor it has just allocated
 * (`freshGradient`), and the engine withdraws that claim (`disown`) as soon as user code could
 * hold the tensor: a hook's argument, an `autograd.grad` result, the input of a custom Function's
 * backward, a gradient returned for two inputs at once.
 *
 * The claims belong to one backward run: they live in a set that the run creates and drops
 * (`withOwnership`), so a mark made in one run, or outside any run, is never trusted in another.
 */
import type { Tensor } from "../tensor-core";

let current: Set<Tensor> | null = null;

/** Runs one backward pass with its own, initially empty, set of owned gradients. */
export function withOwnership<T>(run: () => T): T {
  const outer = current;
  current = new Set();
  try {
    return run();
  } finally {
    current = outer;
  }
}

/** Marks `t` as a gradient the running backward has just allocated and nobody else holds; returns it. */
export function freshGradient(t: Tensor): Tensor {
  current?.add(t);
  return t;
}

/** Whether the running backward owns `t` (a leaf may then keep it as `.grad` without a copy). */
export function isOwned(t: Tensor): boolean {
  return current !== null && current.has(t);
}

/** User code has seen `t`, or two receivers share it: from now on it is copied before it is kept. */
export function disown(t: Tensor): void {
  current?.delete(t);
}
