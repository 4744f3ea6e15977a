import type { Tensor } from "../tensor";
import { isGradEnabled } from "./grad-mode";
import type { OneHotRowsGrad, RowSparseGrad } from "./sparse";

/** An edge of the graph: the node that receives a gradient and which of its outputs it is (always 0 here). */
export type Edge = [Node | null, number];
/**
 * One gradient per input: a tensor, a compact form of one (rows of an embedding table, NLL's one
 * value per row; autograd/sparse.ts), or null for none.
 */
export type BackwardFn = (gradOutput: Tensor) => Array<Tensor | RowSparseGrad | OneHotRowsGrad | null>;
/** A backward that takes NLL's one-hot rows in place of the dense gradient they stand for. */
export type OneHotBackwardFn = (gradOutput: OneHotRowsGrad) => Array<Tensor | null>;
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

const FREED_MESSAGE =
  "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). " +
  "Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). " +
  "Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

/**
 * A backward function in the graph (PyTorch's `grad_fn`): it turns the gradient of the
 * tensor it made into gradients for that tensor's inputs, along `nextFunctions`.
 */
export class Node {
  /** Hooks registered on the tensor this node produced (`t.registerHook` on a non-leaf). */
  readonly tensorHooks: GradHook[] = [];
  /** Set by `retainGrad()`: the non-leaf tensor whose `.grad` receives this node's gradient. */
  retainedTensor: Tensor | null = null;

  constructor(
    readonly name: string,
    public nextFunctions: Edge[],
    private backwardFn: BackwardFn | null,
    /** Nodes that saved nothing (add, sum, views) can be run again after a backward, as in PyTorch. */
    private readonly savesTensors = true,
    private oneHotBackwardFn: OneHotBackwardFn | null = null,
  ) {}

  apply(gradOutput: Tensor): ReturnType<BackwardFn> {
    if (this.backwardFn === null) throw new Error(FREED_MESSAGE);
    return this.backwardFn(gradOutput);
  }

  /** Whether the engine may hand this node NLL's one-hot rows instead of their dense tensor. */
  takesOneHotRows(): boolean {
    return this.oneHotBackwardFn !== null;
  }

  applyOneHot(gradOutput: OneHotRowsGrad): Array<Tensor | null> {
    if (this.backwardFn === null || this.oneHotBackwardFn === null) throw new Error(FREED_MESSAGE);
    return this.oneHotBackwardFn(gradOutput);
  }

  /** Drops the closures and, with them, every tensor they saved. */
  release(): void {
    if (!this.savesTensors) return;
    this.backwardFn = null;
    this.oneHotBackwardFn = null;
  }

  toString(): string {
    return `<${this.name}>`;
  }
}

/** The sink for a leaf that requires grad: sums what arrives into `variable.grad`. */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super("AccumulateGrad", [], () => [], false);
  }
}

/**
 * Attaches a node to `out` when grad mode is on and any input requires a gradient. `backward`
 * receives the gradient of `out` and returns one gradient (or null) per input, in order.
 */
export function record(
  name: string,
  out: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
  options: { savesTensors?: boolean; oneHotBackward?: OneHotBackwardFn } = {},
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t?.requiresGrad)) return out;
  const edges: Edge[] = inputs.map((t) => (t?.requiresGrad ? [t.gradEdge(), 0] : [null, 0]));
  out.setGradFn(new Node(name, edges, backward, options.savesTensors ?? true, options.oneHotBackward ?? null));
  return out;
}

/**
 * Gradients that a backward function has just allocated and returns for one input only. The
 * engine may keep such a tensor as a leaf's `.grad` instead of copying it, as PyTorch keeps a
 * gradient nothing else references; JavaScript has no reference counts, so the op says so.
 */
const freshGradients = new WeakSet<Tensor>();

/** Marks `t` as a fresh gradient (see above) and returns it. */
export function freshGradient(t: Tensor): Tensor {
  freshGradients.add(t);
  return t;
}

/** Whether `t` was marked fresh and not handed out since; the mark is used up either way. */
export function takeFreshGradient(t: Tensor): boolean {
  return freshGradients.delete(t);
}
