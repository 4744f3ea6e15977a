// Draws docs/cross-entropy-graph.svg, the picture in README's "Inspect gradients in tests": the
// README's cross entropy through torch.utils.toDot, rendered by Graphviz (@viz-js/viz).
// Run after `npm run build`; tests/to-dot.test.ts fails when the picture no longer matches.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const torch = require("../dist/src/index.js");

async function main() {
  const logits = torch.tensor(
    [
      [0.1, 0.2, 0.7],
      [0.4, 0.5, 0.1],
    ],
    { requiresGrad: true },
  );
  const loss = new torch.nn.CrossEntropyLoss().forward(logits, torch.tensor([2, 1], { dtype: "int64" }));
  const viz = await require("@viz-js/viz").instance();
  const svg = viz.renderString(torch.utils.toDot(loss, { params: { logits } }), { format: "svg" });
  const out = path.join(__dirname, "..", "docs", "cross-entropy-graph.svg");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, svg);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
