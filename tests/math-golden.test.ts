/**
 * More math against PyTorch 1.13: every ops2.json case of the unary functions, prod, std, var,
 * norm, cumsum, cumprod, amax, amin, linspace and logspace (values, gradFn names, gradients),
 * and the double-backward cases of norm and std.
 */
import { casesOf, replayCase, replayGradGrad } from "./helpers/replay";

const UNARY = [
  "sin",
  "cos",
  "tan",
  "log1p",
  "expm1",
  "log2",
  "log10",
  "square",
  "reciprocal",
  "rsqrt",
  "sign",
  "floor",
  "ceil",
  "round",
  "trunc",
  "erf",
];
const REDUCTIONS = ["prod", "std", "var", "norm", "cumsum", "cumprod", "amax", "amin"];
const MINE = new Set([...UNARY, ...REDUCTIONS, "torch.linspace", "torch.logspace"]);

const cases = casesOf("ops2.json", (op) => MINE.has(op));
const gradgrad = casesOf("double_backward.json", (op) => op === "norm" || op === "std");

test("the fixtures hold the cases", () => {
  expect(cases).toHaveLength(16 + 6 + 4 + 4 + 5 + 2 + 2 + 1 + 1 + 2);
  expect(new Set(cases.map((c) => c.op))).toEqual(MINE);
  expect(gradgrad.map((c) => c.id)).toEqual(["gradgrad/norm/175", "gradgrad/std/176"]);
});

test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));

test.each(gradgrad.map((c) => [c.id, c] as const))("%s", (_, c) => replayGradGrad(c));
