/** printing.json replayed through the public API: tensors built by torch.tensor and real ops. */
import { inspect } from "node:util";
import * as torch from "torchlet";
import { type JsonTensor, loadCases, toTensor } from "./helpers/golden";

interface PrintCase {
  id: string;
  input: JsonTensor;
  steps: Array<{ op: string; args: number[] }>;
  printed: string;
}

function applyStep(x: torch.Tensor, step: { op: string; args: number[] }): torch.Tensor {
  switch (step.op) {
    case "log_softmax":
      return x.logSoftmax(step.args[0]);
    case "sigmoid":
      return x.sigmoid();
    case "sum":
      return x.sum();
    default:
      throw new Error(`unknown step ${step.op}`);
  }
}

describe("printing.json through the public API", () => {
  for (const c of loadCases<PrintCase>("printing.json")) {
    test(c.id, () => {
      const t = c.steps.reduce(applyStep, toTensor(c.input));
      expect(t.toString()).toBe(c.printed);
      expect(inspect(t)).toBe(c.printed);
      expect(`${t}`).toBe(c.printed);
    });
  }
});

describe("printing what the issue shows", () => {
  test("log(softmax) prints with its grad_fn", () => {
    const x = torch.tensor(
      [
        [0.3, 0.4, 0.3],
        [0.7, 0.1, 0.2],
      ],
      { requiresGrad: true },
    );
    expect(x.softmax(1).log().toString()).toBe(
      "tensor([[-1.1331, -1.0331, -1.1331],\n        [-0.7679, -1.3679, -1.2679]], grad_fn=<LogBackward0>)",
    );
  });

  test("integer and float64 tensors", () => {
    expect(torch.arange(5).toString()).toBe("tensor([0, 1, 2, 3, 4])");
    expect(torch.tensor([1.5, 2], { dtype: "float64" }).toString()).toBe("tensor([1.5000, 2.0000], dtype=torch.float64)");
    expect(torch.tensor([true, false]).toString()).toBe("tensor([ True, False])");
  });
});
