/**
 * The package as a user gets it: `npm pack` (whose "prepare" script builds), install the tarball
 * into a scratch project and use it from both `require` and `import`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { consumerOptions } from "./helpers/consumer";

const root = path.join(__dirname, "..");
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the packed package", () => {
  let scratch: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-pack-"));
    const tarball = run("npm", ["pack", "--silent", "--pack-destination", scratch], root).trim().split("\n").pop()!;
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    // A real install of the tarball and its runtime dependencies (from npm's cache when it has them).
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--silent", path.join(scratch, tarball)], scratch);
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
});
