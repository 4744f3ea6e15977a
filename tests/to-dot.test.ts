/**
 * torch.utils.toDot and gradGraph: the gradFn graph as torchviz's make_dot draws it, checked as
 * DOT text, as a graph, and rendered by Graphviz (@viz-js/viz, the playground's renderer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as torch from "torchlet";

/** The README's example: cross entropy over two rows of three logits. */
function crossEntropy() {
  const logits = torch.tensor(
    [
      [0.1, 0.2, 0.7],
      [0.4, 0.5, 0.1],
    ],
    { requiresGrad: true },
  );
  const loss = new torch.nn.CrossEntropyLoss().forward(logits, torch.tensor([2, 1], { dtype: "int64" }));
  return { logits, loss };
}

async function renderSvg(dot: string): Promise<string> {
  const viz = await (require("@viz-js/viz") as typeof import("@viz-js/viz")).instance();
  return viz.renderString(dot, { format: "svg" });
}

describe("toDot", () => {
  test("draws the README's cross entropy as torchviz does: leaf, AccumulateGrad, the backward nodes, the output", () => {
    const { logits, loss } = crossEntropy();
    expect(torch.utils.toDot(loss, { params: { logits } })).toBe(
      [
        "digraph {",
        '\tgraph [size="12,12"]',
        "\tnode [align=left fontname=Courier fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]",
        '\tn0 [label="()" fillcolor=darkolivegreen1]',
        '\tn1 [label="NllLossBackward0"]',
        '\tn2 [label="LogSoftmaxBackward0"]',
        '\tn3 [label="AccumulateGrad"]',
        '\tn4 [label="logits\\n(2, 3)" fillcolor=lightblue]',
        "\tn1 -> n0",
        "\tn2 -> n1",
        "\tn3 -> n2",
        "\tn4 -> n3",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("names parameters from namedParameters(), and shows an unnamed leaf by its shape", () => {
    const linear = new torch.nn.Linear(3, 2);
    const x = torch.randn([4, 3], { requiresGrad: true });
    const dot = torch.utils.toDot(linear.forward(x).sum(), { params: linear.namedParameters() });
    expect(dot).toContain('[label="weight\\n(2, 3)" fillcolor=lightblue]');
    expect(dot).toContain('[label="bias\\n(2)" fillcolor=lightblue]');
    expect(dot).toContain('[label="(4, 3)" fillcolor=lightblue]');
    expect(dot).toContain('[label="SumBackward0"]');
  });

  test("a tensor that needs no gradient is one box", () => {
    const dot = torch.utils.toDot(torch.ones([2, 2]));
    expect(dot.split("\n").filter((line) => line.includes("label="))).toEqual(['\tn0 [label="(2, 2)" fillcolor=darkolivegreen1]']);
  });

  test("escapes quotes, backslashes and line breaks in names", () => {
    const w = torch.ones([1], { requiresGrad: true });
    const dot = torch.utils.toDot(w.mul(2), { params: { 'say "hi"\\\nnow': w } });
    expect(dot).toContain('[label="say \\"hi\\"\\\\\\nnow\\n(1)" fillcolor=lightblue]');
  });
});

describe("gradGraph", () => {
  test("visits a shared node once: a leaf used twice has one AccumulateGrad and an edge per use", () => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).sum();
    const graph = torch.utils.gradGraph(y, { params: { x } });
    expect(graph.nodes.map((n) => n.label)).toEqual(["()", "SumBackward0", "MulBackward0", "AccumulateGrad", "x\n(3)"]);
    expect(graph.edges).toEqual([
      ["n1", "n0"],
      ["n2", "n1"],
      ["n3", "n2"],
      ["n3", "n2"],
      ["n4", "n3"],
    ]);
    const leaf = graph.nodes.find((n) => n.kind === "leaf")!;
    expect(leaf.tensor).toBe(x);
    expect(graph.nodes[2].fn).toBe(y.gradFn!.nextFunctions[0][0]);
  });

  test("several outputs share the nodes they have in common", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const h = x.exp();
    const graph = torch.utils.gradGraph([h.sum(), h.mean()]);
    expect(graph.nodes.filter((n) => n.label === "ExpBackward0")).toHaveLength(1);
    expect(graph.nodes.filter((n) => n.kind === "output")).toHaveLength(2);
  });

  test("walks a chain of 50,000 ops without running out of stack", () => {
    let y = torch.ones([1], { requiresGrad: true });
    for (let i = 0; i < 50_000; i++) y = y.add(1);
    const graph = torch.utils.gradGraph(y);
    expect(graph.nodes).toHaveLength(50_003);
  });

  test("its ids are toDot's node names", () => {
    const { logits, loss } = crossEntropy();
    const dot = torch.utils.toDot(loss, { params: { logits } });
    for (const node of torch.utils.gradGraph(loss, { params: { logits } }).nodes) expect(dot).toContain(`\t${node.id} [label=`);
  });
});

describe("rendered by Graphviz", () => {
  test("the DOT is valid: every node is a box in the SVG, titled with its DOT name", async () => {
    const { logits, loss } = crossEntropy();
    const svg = await renderSvg(torch.utils.toDot(loss, { params: { logits } }));
    for (const text of ["NllLossBackward0", "LogSoftmaxBackward0", "AccumulateGrad", "logits", "(2, 3)"])
      expect(svg).toContain(`>${text}</text>`);
    expect(svg.match(/<g id="node\d+" class="node">/g)).toHaveLength(5);
    expect(svg).toContain("<title>n4</title>");
  });

  test("the README's picture is this graph, as Graphviz draws it (node scripts/readme-graph.js redraws it)", async () => {
    const { logits, loss } = crossEntropy();
    const picture = fs.readFileSync(path.join(__dirname, "..", "docs", "cross-entropy-graph.svg"), "utf8");
    expect(picture).toBe(await renderSvg(torch.utils.toDot(loss, { params: { logits } })));
  });
});
