/**
 * Indexing against PyTorch 1.13: every ops2.json case of `index`, `select`, `narrow`,
 * `maskedFill`, `maskedSelect` and `take` (values, gradFn, gradients), and their errors2.json cases.
 */
import { casesOf, replayCase } from "./helpers/replay";

const OPS = new Set(["index", "select", "narrow", "maskedFill", "maskedSelect", "take"]);
const ops = casesOf("ops2.json", (op) => OPS.has(op));
const errors = casesOf("errors2.json", (op) => OPS.has(op));

test("the fixtures hold the cases", () => {
  expect(ops).toHaveLength(26);
  expect(errors).toHaveLength(4);
});

test.each([...ops, ...errors].map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));
