// `npm run build` after the wasm step: the package as npm ships it.
//   dist/src   CommonJS for Node (tsc, tsconfig.build.json), with declarations, kernels.wasm
//              beside kernels/wasm.js and index.mjs, the `import` face of the CommonJS build
//   dist/esm   ES modules of the portable entry, for bundlers and browsers (build-esm.js)
// Both are emptied first, so that a module deleted from src/ is not shipped from an old build.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.join(__dirname, "..");
const dist = path.join(root, "dist");
const node = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });

for (const dir of ["src", "esm"]) fs.rmSync(path.join(dist, dir), { recursive: true, force: true });
// Declaration maps let an editor go from a declaration to its TypeScript source in the package.
node([require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--declarationMap"]);
fs.copyFileSync(path.join(root, "src/kernels/kernels.wasm"), path.join(dist, "src/kernels/kernels.wasm"));
node([path.join(__dirname, "write-esm-entry.js")]);
node([path.join(__dirname, "build-esm.js")]);
