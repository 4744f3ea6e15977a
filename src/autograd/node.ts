import type { Tensor } from "../tensor-core";
import { isGradEnabled } from "./grad-mode";
import { gradSlotOf } from "./grad-slot";
import { freshGradient, isOwned } from "./ownership";
import { type CompactGrad, type CompactKind, type OneHotRowsGrad, isCompact } from "./sparse";

export { freshGradient } from "./ownership";

/** A gradient as it travels the graph: a tensor, or a compact form of one (autograd/sparse.ts). */
export type Grad = Tensor | CompactGrad;
/** An edge of the graph: the node that receives a gradient and which of its outputs it is (always 0 here). */
export type Edge = [Node | null, number];
/** One gradient per input: a tensor, a compact form of one, or null for none. */
export type BackwardFn = (gradOutput: Tensor) => Array<Grad | null>;
/** A backward that takes NLL's one-hot rows in place of the dense gradient they stand for. */
export type OneHotBackwardFn = (gradOutput: OneHotRowsGrad) => Array<Grad | null>;
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

/** The compact gradients a node takes as they are, and the backward that reads them. */
interface CompactBackward {
  kind: CompactKind;
  backward: (gradOutput: CompactGrad) => Array<Grad | null>;
}

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
    private compact: CompactBackward | null = null,
  ) {}

  /** Whether this node takes `grad` as it is; the engine gives it the dense tensor otherwise. */
  accepts(grad: CompactGrad): boolean {
    return this.compact !== null && this.compact.kind === grad.kind;
  }

  apply(gradOutput: Grad): Array<Grad | null> {
    if (this.backwardFn === null) throw new Error(FREED_MESSAGE);
    if (!isCompact(gradOutput)) return this.backwardFn(gradOutput);
    if (!this.accepts(gradOutput)) return this.backwardFn(freshGradient(gradOutput.dense()));
    return this.compact!.backward(gradOutput);
  }

  /** Drops the closures and, with them, every tensor they saved. */
  release(): void {
    if (!this.savesTensors) return;
    this.backwardFn = null;
    this.compact = null;
  }

  toString(): string {
    return `<${this.name}>`;
  }
}

/**
 * The sink for a leaf that requires grad: adds what arrives into the leaf's gradient slot, which
 * keeps row-sparse gradients compact, and keeps a gradient the run owns without copying it.
 */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super("AccumulateGrad", [], (g) => accumulate(variable, g, isOwned(g)), false, {
      kind: "rowSparse",
      backward: (g) => accumulate(variable, g, true),
    });
  }
}

function accumulate(variable: Tensor, grad: Grad, owned: boolean): [] {
  gradSlotOf(variable).accumulate(grad, owned);
  return [];
}

/** The node that receives `t`'s gradient: its gradFn, or for a leaf its AccumulateGrad. */
export function gradEdge(t: Tensor): Node {
  if (t.gradFn) return t.gradFn;
  if (!t.requiresGrad) throw new Error("One of the differentiated Tensors does not require grad");
  return (t.accumulator ??= new AccumulateGrad(t));
}

/**
 * Attaches a node to `out` when grad mode is on and any input requires a gradient. `backward`
 * receives the gradient of `out` and returns one gradient (or null) per input, in order.
 * `oneHotBackward`, when given, takes NLL's one-hot rows instead of their dense tensor.
 */
export function record(
  name: string,
  out: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
  options: { savesTensors?: boolean; oneHotBackward?: OneHotBackwardFn } = {},
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t?.requiresGrad)) return out;
  const edges: Edge[] = inputs.map((t) => (t?.requiresGrad ? [gradEdge(t), 0] : [null, 0]));
  const oneHot = options.oneHotBackward;
  const compact: CompactBackward | null = oneHot ? { kind: "oneHotRows", backward: (g) => oneHot(g as OneHotRowsGrad) } : null;
  out.setGradFn(new Node(name, edges, backward, options.savesTensors ?? true, compact));
  return out;
}
