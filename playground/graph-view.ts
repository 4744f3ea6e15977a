/**
 * The gradFn graph as a picture: torchlet's DOT rendered by Graphviz compiled to WebAssembly
 * (@viz-js/viz, whose wasm is inside its JavaScript, so nothing is fetched). Leaves are clickable
 * and show their gradient.
 */
import type { LeafGradient } from "./messages";

/** Loaded on first use: Graphviz is the largest part of the page, and only this view needs it. */
let graphviz: Promise<import("@viz-js/viz").Viz> | null = null;

function renderer() {
  graphviz ??= import("@viz-js/viz").then((viz) => viz.instance());
  return graphviz;
}

const round = (v: number) => Number(v.toPrecision(4));

function describe(leaf: LeafGradient): string {
  const lines = [
    `${leaf.name}.grad  shape (${leaf.shape.join(", ")})  norm ${leaf.norm.toPrecision(4)}`,
    `${leaf.nonzeroRows} of ${leaf.rows} ${leaf.shape.length > 1 ? "rows" : "entries"} nonzero` +
      (leaf.name === "embedding.weight" ? " (only the words and bigrams of the batch get a gradient)" : ""),
    "",
  ];
  for (const { row, meaning, values } of leaf.preview) {
    const shown = values.slice(0, 6).map(round).join(", ");
    lines.push(`[${row}] ${meaning}: ${values.length > 1 ? `[${shown}${values.length > 6 ? ", ..." : ""}]` : shown}`);
  }
  if (leaf.nonzeroRows > leaf.preview.length) lines.push("...");
  return lines.join("\n");
}

/** Draws `dot` into `container`; a click on a leaf writes its gradient into `details`. */
export async function showGraph(container: HTMLElement, details: HTMLElement, dot: string, leaves: LeafGradient[]): Promise<void> {
  const viz = await renderer();
  const svg = viz.renderSVGElement(dot);
  container.replaceChildren(svg);
  details.textContent = "";
  const byId = new Map(leaves.map((leaf) => [leaf.id, leaf]));
  for (const node of svg.querySelectorAll<SVGGElement>("g.node")) {
    // Graphviz writes each DOT node's name into the <title> of its SVG group.
    const leaf = byId.get(node.querySelector("title")?.textContent ?? "");
    if (!leaf) continue;
    node.classList.add("leaf");
    node.addEventListener("click", () => {
      svg.querySelectorAll(".leaf.selected").forEach((n) => n.classList.remove("selected"));
      node.classList.add("selected");
      details.textContent = describe(leaf);
    });
  }
}
