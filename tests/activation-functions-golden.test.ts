/**
 * nn.functional's softplus, gelu, leakyRelu, elu, silu, logSigmoid and oneHot against PyTorch
 * 1.13: the ops2.json cases (values, gradFn names, gradients), errors2.json's oneHot case, and the
 * double-backward cases of softplus and gelu.
 */
import { casesOf, replayCase, replayGradGrad } from "./helpers/replay";

const MINE = new Set(["F.oneHot", "F.softplus", "F.gelu", "F.leakyRelu", "F.elu", "F.silu", "F.logSigmoid"]);

const cases = casesOf("ops2.json", (op) => MINE.has(op));
const errors = casesOf("errors2.json", (op) => MINE.has(op));
const gradgrad = casesOf("double_backward.json", (op) => MINE.has(op));

test("the fixtures hold the cases", () => {
  expect(cases).toHaveLength(10);
  expect(new Set(cases.map((c) => c.op))).toEqual(MINE);
  expect(errors.map((c) => c.id)).toEqual(["oneHot/classTooLarge/140"]);
  expect(gradgrad.map((c) => c.id)).toEqual(["gradgrad/softplus/177", "gradgrad/gelu/178"]);
});

test.each([...cases, ...errors].map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));

test.each(gradgrad.map((c) => [c.id, c] as const))("%s", (_, c) => replayGradGrad(c));
