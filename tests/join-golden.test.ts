/**
 * Joining, comparing and selecting against PyTorch 1.13: every case of ops2.json for cat, stack,
 * flatten, flip, repeat, where, the comparisons and logic, the NaN tests, any/all,
 * maximum/minimum, min/argmin, topk, sort and argsort, and the matching errors of errors2.json.
 */
import { casesOf, replayCase } from "./helpers/replay";

const MINE = new Set([
  "torch.cat",
  "torch.stack",
  "flatten",
  "flip",
  "repeat",
  "torch.where",
  "eq",
  "ne",
  "gt",
  "ge",
  "lt",
  "le",
  "logicalNot",
  "logicalAnd",
  "logicalOr",
  "isnan",
  "isinf",
  "isfinite",
  "any",
  "all",
  "torch.maximum",
  "torch.minimum",
  "min",
  "argmin",
  "topk",
  "sort",
  "argsort",
]);

const cases = casesOf("ops2.json", (op) => MINE.has(op));
const errors = casesOf("errors2.json", (op) => MINE.has(op));

test("the fixtures hold every case of these ops", () => {
  expect(cases).toHaveLength(52);
  expect(errors.map((c) => c.op).sort()).toEqual(["topk", "torch.cat", "torch.stack", "torch.where"]);
});

test.each([...cases, ...errors].map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));
