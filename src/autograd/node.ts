import { tensorTypeName } from "../dtype";
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

export interface RecordOptions {
  /**
   * The tensors the backward reads (inputs or the output itself): changing one in place before
   * the backward runs is an error, as in PyTorch, since the backward would read the new values.
   */
  saved?: ReadonlyArray<Tensor | null | undefined>;
  /** false when the backward holds no tensor (add, sum, views): the node can then run again after a backward, as in PyTorch. */
  savesTensors?: boolean;
  /** Takes NLL's one-hot rows as they are (cross entropy's log-softmax), when nothing else looks. */
  oneHotBackward?: OneHotBackwardFn;
}

/** The compact gradients a node takes as they are, and the backward that reads them. */
interface CompactBackward {
  kind: CompactKind;
  backward: (gradOutput: CompactGrad) => Array<Grad | null>;
}

const FREED_MESSAGE =
  "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). " +
  "Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). " +
  "Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

/** A tensor a backward reads, with the version it had when saved (PyTorch's SavedVariable). */
class SavedTensor {
  constructor(
    public tensor: Tensor,
    public version: number,
    /** For the saving node's own output: that node. For an input: null (its current gradFn is named). */
    public producer: Node | null,
  ) {}

  check(): void {
    const now = this.tensor.version;
    if (now === this.version) return;
    // PyTorch names the node that made an output, and an input's history as it is now.
    const producer = this.producer ?? this.tensor.gradFn;
    const which = producer ? `, which is output 0 of ${producer.name},` : "";
    throw new Error(
      "one of the variables needed for gradient computation has been modified by an inplace operation: " +
        `[${tensorTypeName(this.tensor.dtype)} [${this.tensor.shape.join(", ")}]]${which} is at version ${now}; ` +
        `expected version ${this.version} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, ` +
        "with torch.autograd.set_detect_anomaly(True).",
    );
  }
}

/**
 * A backward function in the graph (PyTorch's `grad_fn`): it turns the gradient of the
 * tensor it made into gradients for that tensor's inputs, along `nextFunctions`.
 */
export class Node {
  /** Hooks registered on the tensor this node produced (`t.registerHook` on a non-leaf). */
  readonly tensorHooks: GradHook[] = [];
  /** Set by `retainGrad()`: the non-leaf tensor whose `.grad` receives this node's gradient. */
  retainedTensor: Tensor | null = null;
  /** Null until the backward saves a tensor (most small ops save none). */
  private saved: SavedTensor[] | null = null;

  constructor(
    readonly name: string,
    public nextFunctions: Edge[],
    private backwardFn: BackwardFn | null,
    private readonly savesTensors = true,
    private compact: CompactBackward | null = null,
  ) {}

  /** Whether this node takes `grad` as it is; the engine gives it the dense tensor otherwise. */
  accepts(grad: CompactGrad): boolean {
    return this.compact !== null && this.compact.kind === grad.kind;
  }

  apply(gradOutput: Grad): Array<Grad | null> {
    if (this.backwardFn === null) throw new Error(FREED_MESSAGE);
    if (this.saved !== null) for (const s of this.saved) s.check();
    if (!isCompact(gradOutput)) return this.backwardFn(gradOutput);
    if (!this.accepts(gradOutput)) return this.backwardFn(freshGradient(gradOutput.dense()));
    return this.compact!.backward(gradOutput);
  }

  /** Drops the closures and, with them, every tensor they saved. */
  release(): void {
    if (!this.savesTensors) return;
    this.backwardFn = null;
    this.compact = null;
    this.saved = null;
  }

  /** @internal Remembers the tensors the backward reads, at their current versions. */
  save(tensors: ReadonlyArray<Tensor | null | undefined>, output: Tensor): void {
    for (const t of tensors) {
      if (t) (this.saved ??= []).push(new SavedTensor(t, t.version, t === output ? this : null));
    }
  }

  /**
   * @internal An in-place op computed `from` and wrote it into `into`: the backward now reads
   * `into` (same values), which later in-place changes must not touch, as in PyTorch.
   */
  resaveAs(from: Tensor, into: Tensor): void {
    for (const s of this.saved ?? []) {
      if (s.tensor !== from) continue;
      s.tensor = into;
      s.version = into.version;
    }
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
 * receives the gradient of `out` and returns one gradient (or null) per input, in order. It is
 * written in ops, so that a backward recorded with `createGraph` can be differentiated again.
 */
export function record(
  name: string,
  out: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  backward: BackwardFn,
  options: RecordOptions = {},
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t?.requiresGrad)) return out;
  const edges: Edge[] = inputs.map((t) => (t?.requiresGrad ? [gradEdge(t), 0] : [null, 0]));
  const oneHot = options.oneHotBackward;
  const compact: CompactBackward | null = oneHot ? { kind: "oneHotRows", backward: (g) => oneHot(g as OneHotRowsGrad) } : null;
  const node = new Node(name, edges, backward, options.savesTensors ?? true, compact);
  if (options.saved) node.save(options.saved, out);
  out.setGradFn(node);
  return out;
}
