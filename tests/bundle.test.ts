/**
 * torchlet as a bundler sees it after an install: under the `browser` condition,
 * `import * as torch from "torchlet"` is the ES modules of dist/esm, which import nothing from
 * Node, bundle with no shims, read no `process` when they load, carry the WebAssembly kernels
 * inside, and tree-shake without losing the Tensor methods. The ES modules are built into a
 * scratch install (scripts/build-esm.js); tests/browser.test.ts runs the same bundle in Chromium.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import * as esbuild from "esbuild";
import { KERNELS_WASM_BASE64 } from "../src/kernels/kernels-wasm";
import { LOGISTIC_REGRESSION, type TrainingResult, expectTrained } from "./helpers/bundle-programs";

const root = path.join(__dirname, "..");
const { installEsmPackage } = require("../scripts/build-esm.js") as { installEsmPackage: (dir: string) => Promise<string> };

let scratch: string;

beforeAll(async () => {
  // Outside the repository, so that nothing resolves from its node_modules by accident.
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-bundle-"));
  await installEsmPackage(scratch);
}, 60_000);

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Bundles `program` as a consumer in the scratch project would, for the browser. */
function bundle(program: string, options: esbuild.BuildOptions = {}) {
  return esbuild.build({
    stdin: { contents: program, resolveDir: scratch, sourcefile: "program.js" },
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    // Paths in the metafile relative to the consumer's project.
    absWorkingDir: scratch,
    ...options,
  });
}

test("the embedded kernels are kernels.wasm, byte for byte (npm run build:wasm writes both)", () => {
  const file = fs.readFileSync(path.join(root, "src", "kernels", "kernels.wasm"));
  expect(Buffer.from(KERNELS_WASM_BASE64, "base64").equals(file)).toBe(true);
});

test("`import * as torch from 'torchlet'` bundles for the browser: the ES modules, no Node module, no shim", async () => {
  const result = await bundle(LOGISTIC_REGRESSION);
  const inputs = Object.keys(result.metafile!.inputs);
  expect(inputs).toContain("node_modules/torchlet/dist/esm/browser.js");
  // Node's parts are not in the graph: files, the corpus loader, the command line.
  expect(inputs.filter((f) => /torchlet\/dist\/esm\/(node\/|cli\/|index\.js|io\/safetensors\.js|data\/spam-assassin\.js)/.test(f))).toEqual(
    [],
  );
  const code = result.outputFiles![0].text;
  expect(code).not.toMatch(/\brequire\(["'](node:)?(fs|path|os|crypto|util)["']\)/);
  expect(code).not.toMatch(/\bprocess\.env\b/);
});

test("the bundle loads without `process` and trains on the wasm kernels, compiled asynchronously", async () => {
  // An iife in a fresh context with a browser's globals and none of Node's: reading `process`
  // at load would throw, and with no `process` the loader takes the browser's asynchronous path.
  const result = await bundle(LOGISTIC_REGRESSION, { format: "iife" });
  const { WebAssembly } = globalThis as unknown as { WebAssembly: unknown }; // a value the tests' types do not declare
  const context = vm.createContext({ WebAssembly, atob, TextEncoder, TextDecoder, console });
  vm.runInContext(result.outputFiles![0].text, context);
  expect("process" in context).toBe(false);
  expectTrained(await (context.torchletResult as Promise<TrainingResult>));
});

describe("tree-shaking", () => {
  const SMALL = `import { tensor } from "torchlet";\nconsole.log(JSON.stringify(tensor([1, 2]).add(1).mul(2).tolist()));\n`;
  // Strings of modules this program does not import: torch.utils, torch.data, torch.text.
  const unused = ["digraph {", "SpamAssassin: unknown group", "n-gram buckets"];

  function runModule(file: string): string {
    return execFileSync(process.execPath, [file], { encoding: "utf8" });
  }

  test("esbuild keeps the Tensor methods and drops the namespaces a program does not use", async () => {
    const small = await bundle(SMALL, { minify: true });
    const full = await bundle(LOGISTIC_REGRESSION.replace("torch.backends", "torch.utils.toDot(y) && torch.backends"), { minify: true });
    const code = small.outputFiles![0].text;
    for (const text of unused) expect(code).not.toContain(text);
    expect(code.length).toBeLessThan(full.outputFiles![0].text.length * 0.9);
    const file = path.join(scratch, "small-esbuild.mjs");
    fs.writeFileSync(file, code);
    expect(runModule(file)).toBe("[4,6]\n");
  });

  test("Rolldown (Vite's bundler) keeps the Tensor methods too", () => {
    fs.writeFileSync(path.join(scratch, "small.js"), SMALL);
    // Vite is an ES module, which jest's CommonJS runtime cannot import: it runs in its own process.
    const viteBuild = `
      import { build } from "vite";
      await build({
        configFile: false,
        root: ${JSON.stringify(scratch)},
        logLevel: "silent",
        build: {
          lib: { entry: "small.js", formats: ["es"], fileName: "small-vite" },
          outDir: "vite-out",
          minify: true,
        },
      });
    `;
    execFileSync(process.execPath, ["--input-type=module", "-e", viteBuild], { cwd: root, stdio: "pipe" });
    const file = path.join(scratch, "vite-out", "small-vite.mjs"); // .mjs: the scratch project is not "type": "module"
    for (const text of unused) expect(fs.readFileSync(file, "utf8")).not.toContain(text);
    expect(runModule(file)).toBe("[4,6]\n");
  }, 60_000);
});
