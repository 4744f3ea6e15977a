/**
 * In-place ops against PyTorch 1.13 (tests/fixtures/pytorch/inplace.json and the in-place error
 * cases of errors2.json): values, gradFn names as they change, gradients through the new
 * history, and the version-counter error at backward.
 */
import { casesOf, replayCase } from "./helpers/replay";

const inplace = casesOf("inplace.json", () => true);
const errors = casesOf("errors2.json", (op) => op === "add_" || op === "zero_");

test("the fixtures hold the cases", () => {
  expect(inplace).toHaveLength(20);
  expect(errors).toHaveLength(2);
});

test.each([...inplace, ...errors].map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));
