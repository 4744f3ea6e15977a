import { scalarTypeName } from "../dtype";
import { sameShape } from "../shape";
import { Tensor } from "../tensor-core";
import { add, toDtype } from "../ops/elementwise";
import { copyOf } from "../ops/shape";
import { enableGrad, noGrad } from "./grad-mode";
import { gradSlotOf } from "./grad-slot";
import { AccumulateGrad, type Grad, type GradHook, type Node, gradEdge, record } from "./node";
import { disown, freshGradient, withOwnership } from "./ownership";
import { RowSparseGrad, isCompact } from "./sparse";

export interface RunOptions {
  retainGraph?: boolean;
  /** Record the backward's own graph, so that the gradients can be differentiated again. */
  createGraph?: boolean;
  /** autograd.grad: return the gradients reaching these tensors instead of accumulating into leaves. */
  captureFor?: readonly Tensor[];
}

/**
 * Runs the graph backward from `roots`, seeded with `seeds`: each node once, in a topological
 * order (Kahn's algorithm over dependency counts, iterative, so chains of any length fit on the
 * stack), summing what reaches a node before applying it. Returns the captured gradients when
 * `captureFor` is given.
 */
export function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], options: RunOptions = {}): Array<Tensor | null> {
  const capture = new Map<Node, number>();
  options.captureFor?.forEach((t, i) => capture.set(gradEdge(t), i));
  const captured: Array<Tensor | null> = (options.captureFor ?? []).map(() => null);
  const capturing = options.captureFor !== undefined;
  const createGraph = options.createGraph ?? false;
  // As in PyTorch, a recorded backward keeps the graph it ran through unless told otherwise.
  const retainGraph = options.retainGraph ?? createGraph;

  const rootNodes = roots.map(gradEdge);
  const dependencies = countDependencies(rootNodes);
  const pending = new Map<Node, Grad>();
  const ready = [...new Set(rootNodes)].filter((n) => !dependencies.get(n));

  withOwnership(() =>
    (createGraph ? enableGrad : noGrad)(() => {
      rootNodes.forEach((node, i) => addInto(pending, node, seeds[i]));
      while (ready.length > 0) {
        const node = ready.pop()!;
        let grad = pending.get(node);
        pending.delete(node);
        let inputGrads: Array<Grad | null> = [];
        if (grad !== undefined) {
          if (node.tensorHooks.length > 0 || node.retainedTensor !== null || capture.has(node)) {
            grad = showToUser(node, grad);
            const at = capture.get(node);
            if (at !== undefined) captured[at] = grad;
          }
          inputGrads = applyNode(node, grad, capturing, createGraph);
          if (!retainGraph) node.release();
          disownShared(inputGrads);
        }
        node.nextFunctions.forEach(([next], i) => {
          if (next === null) return;
          const g = inputGrads[i];
          if (g) addInto(pending, next, g);
          const left = dependencies.get(next)! - 1;
          dependencies.set(next, left);
          if (left === 0) ready.push(next);
        });
      }
    }),
  );
  return captured;
}

/**
 * Runs a node's backward. Leaves are the exception twice over: autograd.grad leaves every `.grad`
 * alone, and a recorded backward (createGraph) gives a leaf a gradient that keeps its graph.
 */
function applyNode(node: Node, grad: Grad, capturing: boolean, createGraph: boolean): Array<Grad | null> {
  if (!(node instanceof AccumulateGrad)) return node.apply(grad);
  if (capturing) return [];
  if (!createGraph) return node.apply(grad);
  keepWithGraph(node.variable, asDense(grad));
  return [];
}

/**
 * PyTorch's AccumulateGrad under grad mode: the first gradient is copied (a node named
 * CopyBackwards), later ones are added out of place (AddBackward0), so `.grad` can be
 * differentiated.
 */
function keepWithGraph(leaf: Tensor, grad: Tensor): void {
  const slot = gradSlotOf(leaf);
  const current = slot.dense();
  const copied = grad.dtype === leaf.dtype ? grad : toDtype(grad, leaf.dtype);
  slot.set(
    current === null
      ? record("torch::autograd::CopyBackwards", copyOf(copied), [copied], (g) => [g], { savesTensors: false })
      : add(current, copied),
  );
}

/**
 * User code is about to see the gradient reaching `node` (its hooks, retainGrad, an autograd.grad
 * result): it sees the dense tensor, which the run no longer owns. Hooks may replace it.
 */
function showToUser(node: Node, grad: Grad): Tensor {
  let seen = isCompact(grad) ? grad.dense() : grad;
  disown(seen);
  for (const hook of node.tensorHooks) {
    const replaced: unknown = hook(seen);
    if (replaced !== undefined && replaced !== null) seen = checkedHookResult(hook, seen, replaced);
  }
  if (node.retainedTensor) gradSlotOf(node.retainedTensor).accumulate(seen);
  return seen;
}

/** A hook's replacement gradient must be a tensor of the gradient's dtype and shape (PyTorch's checks and words). */
function checkedHookResult(hook: GradHook, original: Tensor, result: unknown): Tensor {
  if (!(result instanceof Tensor)) throw new TypeError(`expected Variable, but hook returned '${pythonTypeName(result)}'`);
  const name = hook.name || "<lambda>"; // an anonymous JavaScript function is Python's lambda
  if (result.dtype !== original.dtype) {
    throw new Error(
      `hook '${name}' has changed the type of value (was torch.${scalarTypeName(original.dtype)}Tensor got torch.${scalarTypeName(result.dtype)}Tensor)`,
    );
  }
  if (!sameShape(result.shape, original.shape)) throw new Error(`hook '${name}' has changed the size of value`);
  return result;
}

/** What Python would call the type of a value a hook returned. */
function pythonTypeName(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "list";
  return typeof value === "object" ? "dict" : typeof value;
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

/** Sums the gradients reaching one node: row-sparse ones stay compact, anything else becomes dense. */
function addInto(pending: Map<Node, Grad>, node: Node, grad: Grad): void {
  const existing = pending.get(node);
  if (existing === undefined) pending.set(node, grad);
  else if (existing instanceof RowSparseGrad && grad instanceof RowSparseGrad && existing.dtype === grad.dtype)
    pending.set(node, existing.plus(grad));
  else pending.set(node, freshGradient(add(asDense(existing), asDense(grad))));
}

function asDense(g: Grad): Tensor {
  return isCompact(g) ? g.dense() : g;
}

/** A gradient returned for two inputs would be kept by both: the run owns it for neither. */
function disownShared(grads: ReadonlyArray<Grad | null>): void {
  if (grads.length < 2) return;
  grads.forEach((g, i) => {
    if (g instanceof Tensor && grads.indexOf(g) !== i) disown(g);
  });
}
