/**
 * `npm run build:playground`: the page, its worker and a SpamAssassin sample into
 * dist/playground/, with relative URLs so that any static server can serve it.
 *
 * `torchlet` is the repository's portable entry (src/browser.ts), so the page builds from a
 * fresh clone without building the package first.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Plugin, defineConfig } from "vite";
import { loadSpamAssassin } from "../src/data/spam-assassin";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");

const SAMPLE = "virtual:spam-assassin-sample";
/** Mails per class; each keeps its first characters only. 600 x 300 is about 390 kB of JSON, and 10 epochs reach a test accuracy near 0.96. */
const MAILS_PER_CLASS = 600;
const CHARACTERS = 300;

/** The sample as a module the worker imports: read from the corpus package at build time. */
function spamAssassinSample(): Plugin {
  return {
    name: "spam-assassin-sample",
    resolveId: (id) => (id === SAMPLE ? `\0${SAMPLE}` : null),
    load(id) {
      if (id !== `\0${SAMPLE}`) return null;
      const corpus = loadSpamAssassin({ task: "binary", limit: MAILS_PER_CLASS });
      // Runs of white space (HTML indentation, blank lines) would take the characters kept.
      const examples = corpus.texts.map((text, i) => [corpus.labels[i], text.replace(/\s+/g, " ").trim().slice(0, CHARACTERS)]);
      const sample = JSON.stringify({ labels: corpus.labelNames, examples });
      // JSON.parse of a string literal is faster for the engine than the same object as code.
      return `export default JSON.parse(${JSON.stringify(sample)});`;
    },
  };
}

export default defineConfig({
  root: here,
  base: "./",
  resolve: { alias: { torchlet: path.join(root, "src", "browser.ts") } },
  worker: { format: "es", plugins: () => [spamAssassinSample()] },
  build: {
    outDir: path.join(root, "dist", "playground"),
    emptyOutDir: true,
    target: "es2022",
    // Graphviz (with its wasm inside) is one chunk of about 1.4 MB, loaded only for the graph.
    chunkSizeWarningLimit: 2000,
  },
  // The page has no favicon or public/ folder; nothing else to copy.
  publicDir: false,
});
