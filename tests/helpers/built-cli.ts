import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..");

/**
 * The `torchlet` command built into a folder of its own (another test may be building dist/
 * meanwhile), with the package's node_modules and package.json beside it as in an install.
 * Returns the folder and the path of the built bin.
 */
export function buildCli(prefix: string): { out: string; bin: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const tsc = require.resolve("typescript/bin/tsc");
  const args = [
    "-p",
    "tsconfig.build.json",
    "--outDir",
    path.join(out, "dist"),
    "--noCheck",
    "--declaration",
    "false",
    "--sourceMap",
    "false",
  ];
  execFileSync(process.execPath, [tsc, ...args], { cwd: root, stdio: "pipe" });
  fs.symlinkSync(path.join(root, "node_modules"), path.join(out, "node_modules"), "dir");
  fs.copyFileSync(path.join(root, "package.json"), path.join(out, "package.json"));
  const bin = path.join(out, JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).bin.torchlet);
  return { out, bin };
}
