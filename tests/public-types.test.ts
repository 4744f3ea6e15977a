/**
 * The published type declarations, as a strict TypeScript user sees them: no Node types, no DOM,
 * `skipLibCheck: false`, so any declaration that names `Buffer`, `node:*` or `NodeJS.*`, or that
 * points at a type `stripInternal` removed, is a compile error in the user's project.
 *
 * The declarations are built here, with tsconfig.build.json, into a scratch `node_modules/torchlet`
 * beside the package's real package.json and its dependencies, so resolution goes through the
 * package's `exports`/`types` as after an install. Not `npm pack` plus `npm install`: pack runs the
 * full "prepare" build into this checkout's dist/ (tests/package.test.ts already covers that path)
 * and install needs the network or a warm cache; this takes a few seconds and only needs tsc.
 * The scratch directory sits outside the repository so that no `@types/node` is reachable from it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { consumerOptions } from "./helpers/consumer";

const root = path.join(__dirname, "..");
const tscBin = require.resolve("typescript/bin/tsc", { paths: [root] });

/** Runs tsc on a project; file names in its messages are relative to the project's directory. */
function tsc(project: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [tscBin, "-p", project, "--pretty", "false"], {
    cwd: path.dirname(project),
    encoding: "utf8",
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

// Each line must fail with the error beside it, and nothing else in the file may fail.
const mustFail: Array<[code: string, expected: string]> = [
  ["const s: string = new torch.nn.Linear(3, 2).forward(x);", "error TS2322: Type 'Tensor' is not assignable to type 'string'."],
  [
    "const t: string = new torch.nn.Sequential(new torch.nn.ReLU()).forward(x);",
    "error TS2322: Type 'Tensor' is not assignable to type 'string'.",
  ],
  ["const u: string = new Net().forward(x);", "error TS2322: Type 'Tensor' is not assignable to type 'string'."],
  ["const v: string = module.forward(x);", "error TS2322: Type 'unknown' is not assignable to type 'string'."],
];
const preamble = [
  'import * as torch from "torchlet";',
  "const x = torch.randn([1, 3]);",
  "class Net extends torch.nn.Module {",
  "  forward(input: torch.Tensor): torch.Tensor {",
  "    return input;",
  "  }",
  "}",
  "const module: torch.nn.Module = new Net();",
];

describe("the published declarations", () => {
  let scratch: string;
  let build: { status: number | null; output: string };
  let declarations: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-types-"));
    const installed = path.join(scratch, "node_modules", "torchlet");
    fs.mkdirSync(installed, { recursive: true });
    declarations = path.join(installed, "dist");

    writeJson(path.join(scratch, "tsconfig.build.json"), {
      extends: path.join(root, "tsconfig.build.json"),
      compilerOptions: {
        outDir: declarations,
        declaration: true,
        emitDeclarationOnly: true,
        sourceMap: false,
        // The build's own "types" (node) are looked up from the repository, not from the scratch dir.
        typeRoots: [path.join(root, "node_modules", "@types")],
      },
      // Only what the package ships (dist/src); examples and bench are not published.
      include: [path.join(root, "src")],
      exclude: [path.join(root, "src/**/*.as.ts")],
    });
    build = tsc(path.join(scratch, "tsconfig.build.json"));

    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    fs.copyFileSync(path.join(root, "package.json"), path.join(installed, "package.json"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      fs.cpSync(path.join(root, "node_modules", dep), path.join(scratch, "node_modules", dep), { recursive: true });
    }

    fs.copyFileSync(path.join(__dirname, "consumer", "app.ts"), path.join(scratch, "app.ts"));
    writeJson(path.join(scratch, "tsconfig.json"), { compilerOptions: consumerOptions, files: ["app.ts"] });
    fs.writeFileSync(path.join(scratch, "fails.ts"), [...preamble, ...mustFail.map(([code]) => code), ""].join("\n"));
    writeJson(path.join(scratch, "tsconfig.fails.json"), { compilerOptions: consumerOptions, files: ["fails.ts"] });
  }, 60_000);

  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test("build without errors", () => {
    expect(build.output).toBe("");
    expect(build.status).toBe(0);
    expect(fs.existsSync(path.join(declarations, "src", "index.d.ts"))).toBe(true);
  });

  test("leave out @internal members", () => {
    const files = (fs.readdirSync(declarations, { recursive: true }) as string[]).filter((f) => f.endsWith(".d.ts"));
    expect(files.length).toBeGreaterThan(10);
    const leaking = files.filter((f) => fs.readFileSync(path.join(declarations, f), "utf8").includes("@internal"));
    expect(leaking).toEqual([]);
  });

  test("type-check a strict consumer with no Node or DOM types", () => {
    const check = tsc(path.join(scratch, "tsconfig.json"));
    expect(check.output).toBe("");
    expect(check.status).toBe(0);
  }, 30_000);

  test("give forward's declared result type, not any, at the call site", () => {
    const check = tsc(path.join(scratch, "tsconfig.fails.json"));
    const errors = check.output.split("\n").filter((line) => line.includes("error TS"));
    const expected = mustFail.map(([, message], i) => `fails.ts(${preamble.length + i + 1},7): ${message}`);
    expect(errors).toEqual(expected);
    expect(check.status).not.toBe(0);
  }, 30_000);
});
