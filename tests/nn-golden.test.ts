/**
 * PyTorch 1.13's numbers for the second-round nn surface: every case of losses2.json (regression
 * losses, KL divergence, layer norm, embedding, activation modules), the nn cases of errors2.json,
 * and the MSELoss case of double_backward.json, replayed through the public API.
 */
import { casesOf, replayCase, replayGradGrad } from "./helpers/replay";

const ERROR_OPS = new Set(["nn.MSELoss", "nn.KLDivLoss", "F.layerNorm", "F.embedding"]);
const losses = casesOf("losses2.json", () => true);
const errors = casesOf("errors2.json", (op) => ERROR_OPS.has(op));
const gradgrad = casesOf("double_backward.json", (op) => op === "nn.MSELoss");

// The golden calls warn as PyTorch does (sizes, KL's "mean"); nn-losses.test.ts checks the warnings.
let quiet: jest.SpyInstance;
beforeAll(() => {
  quiet = jest.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterAll(() => quiet.mockRestore());

test("the fixtures hold the cases", () => {
  expect(losses).toHaveLength(86);
  expect(errors).toHaveLength(4);
  expect(gradgrad).toHaveLength(1);
});

describe("losses2.json", () => {
  test.each(losses.map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));
});

describe("errors2.json", () => {
  test.each(errors.map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));
});

describe("double_backward.json", () => {
  test.each(gradgrad.map((c) => [c.id, c] as const))("%s", (_, c) => replayGradGrad(c));
});
