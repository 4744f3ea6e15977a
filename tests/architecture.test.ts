/**
 * The module graph of src/ points one way: no import cycle (type-only imports do not count, as
 * they vanish at run time), and the core Tensor imports no op and no part of the engine.
 */
import * as path from "path";
import madge from "madge";

const src = path.join(__dirname, "..", "src");

async function graph() {
  return madge(src, {
    fileExtensions: ["ts"],
    tsConfig: path.join(__dirname, "..", "tsconfig.json"),
    detectiveOptions: { ts: { skipTypeImports: true }, es6: { skipTypeImports: true } },
  });
}

test("src/ has no import cycle", async () => {
  const result = await graph();
  expect(result.circular()).toEqual([]);
  // The check sees the whole tree: a graph this small would mean files were skipped.
  expect(Object.keys(result.obj()).length).toBeGreaterThan(50);
});

test("the core Tensor depends on no op, no kernel and no engine code", async () => {
  const deps = (await graph()).obj();
  const reachable = new Set<string>();
  const visit = (file: string) => {
    for (const dep of deps[file] ?? []) {
      if (!reachable.has(dep)) {
        reachable.add(dep);
        visit(dep);
      }
    }
  };
  visit("tensor-core.ts");
  expect([...reachable].filter((f) => /^(ops|kernels|nn|optim)\/|autograd\/(engine|node|grad-slot)\.ts$/.test(f))).toEqual([]);
  // options.ts imports nothing: shape.ts names a wrong size's type with its typeName.
  expect([...reachable].sort()).toEqual(["dtype.ts", "format.ts", "ndview.ts", "options.ts", "shape.ts"]);
});
