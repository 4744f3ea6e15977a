/**
 * Every case of the second-round golden files, in one place: whatever the per-area test files
 * replay in detail, no case of PyTorch's may be left out. (errors2.json's optimizer cases are
 * replayed by tests/optim-golden.test.ts, which builds optimizers rather than calling ops.)
 */
import { casesOf, replayCase, replayGradGrad } from "./helpers/replay";

const all = () => true;
const files = {
  "ops2.json": casesOf("ops2.json", all),
  "losses2.json": casesOf("losses2.json", all),
  "inplace.json": casesOf("inplace.json", all),
  "errors2.json": casesOf("errors2.json", (op) => op !== "optim"),
};

test("the fixtures hold every case", () => {
  expect(files["ops2.json"]).toHaveLength(131);
  expect(files["losses2.json"]).toHaveLength(86);
  expect(files["inplace.json"]).toHaveLength(20);
  expect(files["errors2.json"]).toHaveLength(15);
  expect(casesOf("double_backward.json", all)).toHaveLength(25);
});

describe.each(Object.entries(files))("%s", (_, cases) => {
  test.each(cases.map((c) => [c.id, c] as const))("%s", (__, c) => replayCase(c));
});

describe("double_backward.json", () => {
  test.each(casesOf("double_backward.json", all).map((c) => [c.id, c] as const))("%s", (_, c) => replayGradGrad(c));
});
