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
  const tasks = countDependencies(rootNodes);
  const ready = [...new Set(rootNodes)].filter((n) => tasks.get(n)!.dependencies === 0);

  withOwnership(() =>
    (createGraph ? enableGrad : noGrad)(() => {
      rootNodes.forEach((node, i) => addInto(tasks.get(node)!, seeds[i]));
      while (ready.length > 0) {
        const node = ready.pop()!;
        const task = tasks.get(node)!;
        let grad = task.grad;
        task.grad = undefined;
        let inputGrads: Array<Grad | null> = NO_GRADS;
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
        const edges = node.nextFunctions;
        for (let i = 0; i < edges.length; i++) {
          const next = edges[i][0];
          if (next === null) continue;
          const nextTask = tasks.get(next)!;
          const g = inputGrads[i];
          if (g) addInto(nextTask, g);
          if (--nextTask.dependencies === 0) ready.push(next);
        }
      }
    }),
  );
  return captured;
}

/** What the run knows of one node: how many edges into it are still to be run, and the sum of the gradients that reached it. */
interface Task {
  dependencies: number;
  grad: Grad | undefined;
}

const NO_GRADS: Array<Grad | null> = [];

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

/**
 * A task for each node reachable from the roots, with how many edges point at it: one map, read
 * once per edge here and once per edge by the run (a small op's backward is cheaper than a few
 * more map operations).
 */
function countDependencies(roots: readonly Node[]): Map<Node, Task> {
  const tasks = new Map<Node, Task>();
  const stack: Node[] = [];
  for (const r of roots) {
    if (tasks.has(r)) continue;
    tasks.set(r, { dependencies: 0, grad: undefined });
    stack.push(r);
  }
  while (stack.length > 0) {
    const edges = stack.pop()!.nextFunctions;
    for (let i = 0; i < edges.length; i++) {
      const next = edges[i][0];
      if (next === null) continue;
      const task = tasks.get(next);
      if (task !== undefined) {
        task.dependencies++;
      } else {
        tasks.set(next, { dependencies: 1, grad: undefined });
        stack.push(next);
      }
    }
  }
  return tasks;
}

/** Sums the gradients reaching one node: row-sparse ones stay compact, anything else becomes dense. */
function addInto(task: Task, grad: Grad): void {
  const existing = task.grad;
  if (existing === undefined) task.grad = grad;
  else if (existing instanceof RowSparseGrad && grad instanceof RowSparseGrad && existing.dtype === grad.dtype)
    task.grad = existing.plus(grad);
  else task.grad = freshGradient(add(asDense(existing), asDense(grad)));
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
