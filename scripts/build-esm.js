// Writes dist/esm/: the portable entry (src/browser.ts) and every module it imports, one ES
// module per source file, which is what a bundler tree-shakes best (a namespace such as
// `torch.nn` stays an `export * as` it can see through). package.json's `browser` and `default`
// conditions point here; Node keeps the CommonJS build in dist/src.
//
// On the way it checks that the graph is browser-safe: an import of a Node module (fs,
// node:path, ...) anywhere below src/browser.ts fails the build, naming the importing file.
//
// Usage: node scripts/build-esm.js [outDir]   (default dist/esm); the tests use installEsmPackage.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { builtinModules } = require("node:module");
const esbuild = require("esbuild");

const root = path.join(__dirname, "..");
const src = path.join(root, "src");
const entry = path.join(src, "browser.ts");

const nodeModules = new Set(builtinModules);
const isNodeModule = (spec) => spec.startsWith("node:") || nodeModules.has(spec.split("/")[0]);

/** The source file a relative import names: `./x` is x.ts or x/index.ts, as TypeScript resolves it. */
function sourceFile(importer, spec) {
  const base = path.resolve(path.dirname(importer), spec);
  for (const file of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(file)) return file;
  throw new Error(`${path.relative(root, importer)}: cannot find ${spec}`);
}

/** The specifier of `file` from `importer` in the output: relative, ending in .js, as ES modules need. */
function outputSpecifier(importer, file) {
  const rel = path.relative(path.dirname(importer), file).replace(/\.ts$/, ".js").split(path.sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Packages stay imports; a Node module is an error. */
const packagesOnly = {
  name: "packages-only",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (isNodeModule(args.path)) {
        return { errors: [{ text: `${path.relative(root, args.importer)} imports the Node module "${args.path}", which browsers lack` }] };
      }
      return { path: args.path, external: true };
    });
  },
};

/** Every relative import becomes an import of the other output file, so no module is inlined into another. */
const oneFilePerModule = {
  name: "one-file-per-module",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === "entry-point") return undefined;
      return { path: outputSpecifier(args.importer, sourceFile(args.importer, args.path)), external: true };
    });
  },
};

/** Builds the ES modules into `outDir`; resolves to how many modules there are. */
async function buildEsm(outDir) {
  // First pass: the module graph below the entry, with the Node-module check.
  const graph = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "browser",
    format: "esm",
    logLevel: "silent",
    plugins: [packagesOnly],
  });
  const modules = Object.keys(graph.metafile.inputs).map((file) => path.join(root, file));

  // Second pass: each module on its own.
  fs.rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: modules,
    outbase: src,
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    sourcemap: true,
    // The maps name ../../src/*.ts, which the package ships: no need to copy sources into them.
    sourcesContent: false,
    logLevel: "warning",
    plugins: [packagesOnly, oneFilePerModule],
  });
  // "type": "module" makes every tool read these .js files as ES modules.
  fs.writeFileSync(
    path.join(outDir, "package.json"),
    `${JSON.stringify({ type: "module", sideEffects: ["./tensor.js", "./tensor-core.js"] }, null, 2)}\n`,
  );
  return modules.length;
}

/**
 * Lays out torchlet in `dir`/node_modules/torchlet as a bundler sees it after an install: this
 * package.json and the ES modules, with the runtime dependencies linked from this repository.
 * The bundle and browser tests build consumers against it.
 */
async function installEsmPackage(dir) {
  const pkgDir = path.join(dir, "node_modules", "torchlet");
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(root, "package.json"), path.join(pkgDir, "package.json"));
  const { dependencies = {} } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  for (const dep of Object.keys(dependencies)) {
    const link = path.join(dir, "node_modules", dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, "node_modules", dep), link, "dir");
  }
  await buildEsm(path.join(pkgDir, "dist", "esm"));
  return pkgDir;
}

module.exports = { buildEsm, installEsmPackage };

if (require.main === module) {
  buildEsm(path.resolve(process.argv[2] ?? path.join(root, "dist", "esm"))).then(
    (count) => console.log(`dist/esm: ${count} modules`),
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
