// `npm start` runs this before the example: it rebuilds (npm run build) only when a source file
// is newer than the build, since tsc alone takes about 10 s on a small machine and the training
// it precedes takes less. Inputs: everything under src/, examples/, bench/ and scripts/, the
// package and tsconfig files; outputs: the files the build writes last.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execSync } = require("node:child_process");

const root = path.join(__dirname, "..");
const inputs = ["src", "examples", "bench", "scripts", "package.json", "tsconfig.json", "tsconfig.build.json"];
const outputs = ["dist/examples/train-text-classifier.js", "dist/src/index.mjs", "dist/esm/browser.js"];
if (fs.existsSync(path.join(root, "src/kernels/assembly/kernels.as.ts"))) outputs.push("dist/src/kernels/kernels.wasm");

/** The latest modification time of a file, or of any file below a directory (0 if absent). */
function newest(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const name of fs.readdirSync(p)) latest = Math.max(latest, newest(path.join(p, name)));
  return latest;
}

let built = Infinity;
for (const out of outputs) {
  const p = path.join(root, out);
  built = Math.min(built, fs.existsSync(p) ? fs.statSync(p).mtimeMs : 0);
}
const changed = Math.max(...inputs.map((p) => newest(path.join(root, p))));
if (changed > built) execSync("npm run build --silent", { cwd: root, stdio: "inherit" });
