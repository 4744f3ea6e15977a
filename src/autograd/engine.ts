import { Tensor, denseGrad } from "../tensor";
import { noGrad } from "./grad-mode";
import { AccumulateGrad, Node, freshGradient, takeFreshGradient } from "./node";
import { OneHotRowsGrad, RowSparseGrad } from "./sparse";

type Grad = Tensor | RowSparseGrad | OneHotRowsGrad;

export interface RunOptions {
  retainGraph?: boolean;
  /** autograd.grad: return the gradients reaching these tensors instead of accumulating into leaves. */
  captureFor?: readonly Tensor[];
}

/**
 * Runs the graph backward from `roots`, seeded with `seeds`. Nodes are visited once each, in a
 * topological order (Kahn's algorithm over dependency counts), iteratively so that chains of any
 * length fit on the stack. Returns the captured gradients when `captureFor` is given.
 */
export function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], options: RunOptions = {}): Array<Tensor | null> {
  const capture = new Map<Node, number>();
  options.captureFor?.forEach((t, i) => capture.set(t.gradEdge(), i));
  const captured: Array<Tensor | null> = (options.captureFor ?? []).map(() => null);

  const rootNodes = roots.map((t) => t.gradEdge());
  const dependencies = countDependencies(rootNodes);
  const pending = new Map<Node, Grad>();
  roots.forEach((_, i) => addInto(pending, rootNodes[i], seeds[i]));

  const ready: Node[] = [...new Set(rootNodes)].filter((n) => !dependencies.get(n));
  noGrad(() => {
    while (ready.length > 0) {
      const node = ready.pop()!;
      let grad: Grad | null = pending.get(node) ?? null;
      pending.delete(node);
      // Compact gradients go as they are only where nothing else can see them: a leaf's own
      // accumulation takes rows, a log-softmax backward one-hot rows; everything else gets them dense.
      const unseen = !options.captureFor && node.tensorHooks.length === 0 && node.retainedTensor === null;
      const compactOk = unseen && (grad instanceof RowSparseGrad ? node instanceof AccumulateGrad : node.takesOneHotRows());
      if ((grad instanceof RowSparseGrad || grad instanceof OneHotRowsGrad) && !compactOk) grad = freshGradient(denseGrad(grad));
      let inputGrads: Array<Grad | null> = [];
      if (grad instanceof RowSparseGrad) {
        (node as AccumulateGrad).variable.accumulateGrad(grad);
        grad = null;
      } else if (grad instanceof OneHotRowsGrad) {
        inputGrads = node.applyOneHot(grad);
        if (!options.retainGraph) node.release();
        grad = null;
      } else if (grad !== null) grad = applyHooks(node, grad);

      const slot = capture.get(node);
      if (slot !== undefined && grad !== null) captured[slot] = grad;

      if (grad !== null) {
        if (node instanceof AccumulateGrad) {
          if (!options.captureFor) node.variable.accumulateGrad(grad, takeFreshGradient(grad));
        } else {
          inputGrads = node.apply(grad);
          if (!options.retainGraph) node.release();
          forgetSharedFreshGradients(inputGrads);
        }
      }
      node.nextFunctions.forEach(([next, _], i) => {
        if (next === null) return;
        const g = inputGrads[i];
        if (g) addInto(pending, next, g);
        const left = dependencies.get(next)! - 1;
        dependencies.set(next, left);
        if (left === 0) ready.push(next);
      });
    }
  });
  return captured;
}

/** For each node reachable from the roots, how many edges point at it. */
function countDependencies(roots: readonly Node[]): Map<Node, number> {
  const counts = new Map<Node, number>();
  const stack = [...roots];
  for (const r of roots) if (!counts.has(r)) counts.set(r, 0);
  const seen = new Set<Node>(roots);
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const [next] of node.nextFunctions) {
      if (next === null) continue;
      counts.set(next, (counts.get(next) ?? 0) + 1);
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return counts;
}

function addInto(pending: Map<Node, Grad>, node: Node, grad: Grad): void {
  const existing = pending.get(node);
  pending.set(node, existing ? denseGrad(existing).add(denseGrad(grad)) : grad);
}

/** A fresh gradient returned for two inputs is owned by neither. */
function forgetSharedFreshGradients(grads: ReadonlyArray<Grad | null>): void {
  if (grads.length < 2) return;
  grads.forEach((g, i) => {
    if (!(g instanceof Tensor)) return;
    if (grads.indexOf(g) !== i) takeFreshGradient(g);
  });
}

/**
 * Tensor hooks may replace the gradient; retainGrad stores it on the non-leaf tensor. A hook may
 * also keep the gradient it is shown, so that gradient is no longer fresh (autograd/node.ts).
 */
function applyHooks(node: Node, grad: Tensor): Tensor {
  if (node.tensorHooks.length > 0) takeFreshGradient(grad);
  for (const hook of node.tensorHooks) {
    const replaced = hook(grad);
    if (replaced) grad = replaced;
  }
  if (node.retainedTensor) node.retainedTensor.accumulateGrad(grad);
  return grad;
}
