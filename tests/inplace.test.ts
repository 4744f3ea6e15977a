/**
 * In-place ops against PyTorch 1.13 (tests/fixtures/pytorch/inplace.json and the in-place error
 * cases of errors2.json): values, gradFn names as they change, gradients through the new
 * history, and the version-counter error at backward.
 */
import * as torch from "torchlet";
import { casesOf, replayCase } from "./helpers/replay";

const inplace = casesOf("inplace.json", () => true);
const errors = casesOf("errors2.json", (op) => op === "add_" || op === "zero_");

test("the fixtures hold the cases", () => {
  expect(inplace).toHaveLength(20);
  expect(errors).toHaveLength(2);
});

test.each([...inplace, ...errors].map((c) => [c.id, c] as const))("%s", (_, c) => replayCase(c));

test("a saved bool tensor changed in place is named as PyTorch names it (CPUBoolType)", () => {
  const mask = torch.tensor([true, false, true]);
  const x = torch.tensor([1, 2, 3], { requiresGrad: true });
  const y = torch.where(mask, x, x.mul(2));
  mask.fill_(false);
  expect(() => y.sum().backward()).toThrow(
    "one of the variables needed for gradient computation has been modified by an inplace operation: [CPUBoolType [3]] is at version 1; expected version 0 instead.",
  );
});
