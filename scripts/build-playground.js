// `npm run build:playground`: builds playground/ with Vite into dist/playground/, or into the
// folder given as the first argument (the browser tests build into a scratch folder).
"use strict";
const path = require("node:path");

// playground/vite.config.ts imports the repository's TypeScript sources (the SpamAssassin
// loader), which package.json makes CommonJS: Vite loads them so, as intended, but would warn
// on every build that a future loader will not.
process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = "true";

async function buildPlayground(outDir) {
  const { build } = await import("vite");
  const root = path.join(__dirname, "..");
  await build({
    configFile: path.join(root, "playground", "vite.config.ts"),
    logLevel: "warn",
    ...(outDir ? { build: { outDir: path.resolve(outDir) } } : {}),
  });
}

module.exports = { buildPlayground };

if (require.main === module) {
  buildPlayground(process.argv[2]).then(
    () => console.log(`playground built into ${process.argv[2] ?? "dist/playground"}`),
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
