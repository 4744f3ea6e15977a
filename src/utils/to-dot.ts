/**
 * The graph of `gradFn` nodes behind a tensor, as data and as Graphviz DOT: what torchviz's
 * `make_dot` draws for PyTorch. Boxes from the inputs down to the output: each leaf that requires
 * grad (light blue, its name and shape), the `AccumulateGrad` node that receives its gradient, the
 * backward nodes with PyTorch's names (`NllLossBackward0`, ...), and the output tensor (green).
 * Arrows point the way the forward ran, from inputs to outputs.
 */
import type { Tensor } from "../tensor-core";
import { AccumulateGrad, type Node } from "../autograd/node";
import { checkOptions } from "../options";

export interface ToDotOptions {
  /**
   * Names to show above shapes, as torchviz's `params`: `model.namedParameters()`, or an object
   * from names to tensors. Tensors not named here show their shape alone.
   */
  params?: Iterable<readonly [string, Tensor]> | Readonly<Record<string, Tensor>>;
}

/** A box of the picture: an output tensor, a backward node, or a leaf tensor (a variable). */
export interface GradGraphNode {
  /** The node's name in the DOT text (`n0`, `n1`, ...): Graphviz puts it in each SVG node's `<title>`. */
  id: string;
  kind: "output" | "function" | "leaf";
  /** The text in the box: the node's name, or the tensor's name (if given) and shape. */
  label: string;
  /** The tensor of an output or a leaf. */
  tensor?: Tensor;
  /** The backward node of a function. */
  fn?: Node;
}

export interface GradGraph {
  nodes: GradGraphNode[];
  /** [from, to] by id, in the forward's direction (an input to the node that used it). */
  edges: Array<[string, string]>;
}

/** A size as torchviz writes it: `(2, 3)`; `(5)` for one dim, `()` for a scalar. */
function sizeText(shape: readonly number[]): string {
  return `(${shape.join(", ")})`;
}

function nameMap(params: ToDotOptions["params"]): Map<Tensor, string> {
  const names = new Map<Tensor, string>();
  if (!params) return names;
  const entries = Symbol.iterator in params ? [...(params as Iterable<readonly [string, Tensor]>)] : Object.entries(params);
  for (const [name, t] of entries) names.set(t, name);
  return names;
}

/**
 * The graph behind `outputs` (one tensor or several, as in torchviz). Nodes come in the order a
 * depth-first walk from the outputs meets them; the walk is iterative, so a chain of 100,000 ops
 * is fine.
 */
export function gradGraph(outputs: Tensor | readonly Tensor[], options: ToDotOptions = {}): GradGraph {
  checkOptions("gradGraph", options, ["params"]);
  const names = nameMap(options.params);
  const nodes: GradGraphNode[] = [];
  const edges: Array<[string, string]> = [];
  const ids = new Map<Tensor | Node, string>();
  const tensorLabel = (t: Tensor) => (names.has(t) ? `${names.get(t)}\n${sizeText(t.shape)}` : sizeText(t.shape));

  /** The id of `key`, adding its node the first time; `fresh` says whether it was new. */
  const visit = (key: Tensor | Node, make: (id: string) => GradGraphNode): { id: string; fresh: boolean } => {
    const known = ids.get(key);
    if (known !== undefined) return { id: known, fresh: false };
    const id = `n${ids.size}`;
    ids.set(key, id);
    nodes.push(make(id));
    return { id, fresh: true };
  };
  const functionNode = (fn: Node) => visit(fn, (id) => ({ id, kind: "function", label: fn.name, fn }));

  const pending: Node[] = [];
  for (const out of Array.isArray(outputs) ? outputs : [outputs as Tensor]) {
    const { id, fresh } = visit(out, (id) => ({ id, kind: "output", label: tensorLabel(out), tensor: out }));
    const fn = out.gradFn;
    if (!fresh || !fn) continue;
    const node = functionNode(fn);
    edges.push([node.id, id]);
    if (node.fresh) pending.push(fn);
    // Depth first, as torchviz recurses: the last pushed is walked next.
    while (pending.length > 0) {
      const current = pending.pop()!;
      const currentId = ids.get(current)!;
      if (current instanceof AccumulateGrad) {
        const v = current.variable;
        const leaf = visit(v, (leafId) => ({ id: leafId, kind: "leaf", label: tensorLabel(v), tensor: v }));
        edges.push([leaf.id, currentId]);
      }
      const next = current.nextFunctions.map(([n]) => n).filter((n): n is Node => n !== null);
      const unseen: Node[] = [];
      for (const n of next) {
        const child = functionNode(n);
        edges.push([child.id, currentId]);
        if (child.fresh) unseen.push(n);
      }
      for (let i = unseen.length - 1; i >= 0; i--) pending.push(unseen[i]);
    }
  }
  return { nodes, edges };
}

/** A DOT string literal: quotes and backslashes escaped, line breaks as Graphviz's `\n`. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

const FILL: Record<GradGraphNode["kind"], string | null> = { output: "darkolivegreen1", leaf: "lightblue", function: null };

/**
 * Graphviz DOT of the `gradFn` graph behind `outputs`, drawn as torchviz's `make_dot` draws it:
 * the same boxes, colours and sizes, in Courier where torchviz asks for "monospace", since
 * Graphviz knows Courier's character widths and so makes the boxes wide enough for the names.
 * Render it with any Graphviz: `dot -Tsvg`, or in a page with a Graphviz compiled to
 * WebAssembly, as the playground does.
 */
export function toDot(outputs: Tensor | readonly Tensor[], options: ToDotOptions = {}): string {
  checkOptions("toDot", options, ["params"]);
  const { nodes, edges } = gradGraph(outputs, options);
  const lines = [
    "digraph {",
    '\tgraph [size="12,12"]',
    "\tnode [align=left fontname=Courier fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]",
  ];
  for (const node of nodes) {
    const fill = FILL[node.kind];
    lines.push(`\t${node.id} [label=${quote(node.label)}${fill ? ` fillcolor=${fill}` : ""}]`);
  }
  for (const [from, to] of edges) lines.push(`\t${from} -> ${to}`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
