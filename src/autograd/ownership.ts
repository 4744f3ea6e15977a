/**
 * Which gradients a backward run may hand to a leaf without copying them.
 *
 * PyTorch moves a gradient into `.grad` when nothing else references it. JavaScript has no
 * reference counts, so an op's backward says when it returns a tensor it has just allocated
 * (`freshGradient`), and the engine withdraws that claim (`disown`) as soon as user code could
 * hold the tensor: a hook's argument, an `autograd.grad` result, the input of a custom Function's
 * backward, a gradient returned for two inputs at once.
 *
 * The claims belong to one backward run: each run has a number of its own (`withOwnership`), a
 * claim is the tensor stamped with it (`ownedByRun`, a field rather than a set: a scalar graph
 * makes thousands of fresh gradients a step), and a stamp is trusted only while its run is the
 * one running, so a mark made in one run, or outside any run, is never trusted in another.
 */
import type { Tensor } from "../tensor-core";

/** The running backward's number, 0 outside any run. */
let current = 0;
let runs = 0;

/** Runs one backward pass under a run number of its own: no tensor is owned by it yet. */
export function withOwnership<T>(run: () => T): T {
  const outer = current;
  current = ++runs;
  try {
    return run();
  } finally {
    current = outer;
  }
}

/** Marks `t` as a gradient the running backward has just allocated and nobody else holds; returns it. */
export function freshGradient(t: Tensor): Tensor {
  t.ownedByRun = current;
  return t;
}

/** Whether the running backward owns `t` (a leaf may then keep it as `.grad` without a copy). */
export function isOwned(t: Tensor): boolean {
  return current !== 0 && t.ownedByRun === current;
}

/** User code has seen `t`, or two receivers share it: from now on it is copied before it is kept. */
export function disown(t: Tensor): void {
  t.ownedByRun = 0;
}
