import * as fs from "fs";
import * as path from "path";
import { formatTensor, PrintDtype } from "../src/format";

interface PrintCase {
  id: string;
  input: { shape: number[]; dtype: PrintDtype; data: (number | string)[]; requiresGrad: boolean };
  steps: { op: string; args: number[] }[];
  printed: string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/pytorch/printing.json"), "utf8")) as { cases: PrintCase[] };

const parse = (v: number | string): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number));

// Reference ops in plain float64 (the fixtures' inputs are float32), enough to build the
// tensors PyTorch printed after one step; the result is rounded to float32 by formatTensor.
function logSoftmax(x: number[], shape: number[], dim: number): number[] {
  const d = dim < 0 ? dim + shape.length : dim;
  const size = shape[d];
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const out = new Array<number>(x.length);
  for (let base = 0; base < x.length; base += size * inner) {
    for (let j = 0; j < inner; j++) {
      const at = (i: number): number => base + i * inner + j;
      let max = -Infinity;
      for (let i = 0; i < size; i++) max = Math.max(max, x[at(i)]);
      let sum = 0;
      for (let i = 0; i < size; i++) sum += Math.exp(x[at(i)] - max);
      const lse = max + Math.log(sum);
      for (let i = 0; i < size; i++) out[at(i)] = x[at(i)] - lse;
    }
  }
  return out;
}

function applyStep(
  x: number[],
  shape: number[],
  step: { op: string; args: number[] },
): { values: number[]; shape: number[]; gradFn: string } {
  switch (step.op) {
    case "log_softmax":
      return { values: logSoftmax(x, shape, step.args[0]), shape, gradFn: "LogSoftmaxBackward0" };
    case "sigmoid":
      return { values: x.map((v) => 1 / (1 + Math.exp(-v))), shape, gradFn: "SigmoidBackward0" };
    case "sum":
      return { values: [x.reduce((a, b) => a + b, 0)], shape: [], gradFn: "SumBackward0" };
    default:
      throw new Error(`no reference for step ${step.op}`);
  }
}

describe("formatTensor matches PyTorch 1.13 printing fixtures", () => {
  it("has the fixture cases", () => expect(fixture.cases.length).toBe(23));

  for (const c of fixture.cases) {
    it(c.id, () => {
      const { shape, dtype, requiresGrad } = c.input;
      let values = c.input.data.map(parse);
      if (dtype === "float32") values = values.map(Math.fround);
      if (c.steps.length === 0) {
        expect(formatTensor(values, shape, dtype, { requiresGrad })).toBe(c.printed);
        return;
      }
      expect(c.steps.length).toBe(1);
      const out = applyStep(values, shape, c.steps[0]);
      expect(formatTensor(out.values, out.shape, dtype, { gradFn: out.gradFn })).toBe(c.printed);
    });
  }
});

const arange = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("formatTensor hand-made cases", () => {
  it("wraps long int64 rows at 80 columns", () => {
    // torch.arange(30): width 2, so floor((80 - 7) / 4) = 18 elements per line
    expect(formatTensor(arange(30), [30], "int64")).toBe(
      "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n" +
        "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])",
    );
  });

  it("summarises a long int64 vector with a width taken from the shown elements", () => {
    expect(formatTensor(arange(2000), [2000], "int64")).toBe("tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  });

  it("prints bools right-aligned", () => {
    expect(formatTensor([1, 0, 0, 1], [2, 2], "bool")).toBe("tensor([[ True, False],\n        [False,  True]])");
  });

  it("separates 3-D slices with a blank line", () => {
    expect(formatTensor(arange(8), [2, 2, 2], "float32")).toBe(
      "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
    );
  });

  it("summarises torch.arange(2000.).reshape(40, 50)", () => {
    // Shown values 0..1999 are integers, but max/min = 1999 > 1000, so scientific notation
    // (width 10): floor((80 - 8) / 12) = 6 per line, and the 7th item (" ..." counts) wraps.
    const expected = [
      "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,",
      "         4.9000e+01],",
      "        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,",
      "         9.9000e+01],",
      "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,",
      "         1.4900e+02],",
      "        ...,",
      "        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,",
      "         1.8990e+03],",
      "        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,",
      "         1.9490e+03],",
      "        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,",
      "         1.9990e+03]])",
    ].join("\n");
    expect(formatTensor(arange(2000), [40, 50], "float32")).toBe(expected);
  });

  it("uses scientific notation for float64, with 3-digit exponents when needed", () => {
    expect(formatTensor([1e-10, 1, 123456.789], [3], "float64")).toBe("tensor([1.0000e-10, 1.0000e+00, 1.2346e+05], dtype=torch.float64)");
    expect(formatTensor([1e-100, 1], [2], "float64")).toBe("tensor([1.0000e-100,  1.0000e+00], dtype=torch.float64)");
    // zero in sci mode, and integers whose range alone forces sci mode
    expect(formatTensor([0, 1, 2000], [3], "float32")).toBe("tensor([0.0000e+00, 1.0000e+00, 2.0000e+03])");
  });

  it("keeps the sign of negative zero", () => {
    // zeros do not count towards the shared width, so "-0.0000" sticks out by one column
    expect(formatTensor([-0, 0.5], [2], "float32")).toBe("tensor([-0.0000, 0.5000])");
    expect(formatTensor([0, -0], [2], "float32")).toBe("tensor([0., -0.])");
    expect(formatTensor([-0], [], "float32")).toBe("tensor(-0.)");
  });

  it("rounds ties half to even like Python", () => {
    // 0.03125 and 1.03125 are exact binary ties; JS's toFixed would give 0.0313
    expect(formatTensor([0.03125, 1], [2], "float32")).toBe("tensor([0.0312, 1.0000])");
    expect(formatTensor([1.03125, 1e-5], [2], "float32")).toBe("tensor([1.0312e+00, 1.0000e-05])");
    // rounding that carries into a new digit renormalises the exponent
    expect(formatTensor([9.99996, 1e-5], [2], "float64")).toBe("tensor([1.0000e+01, 1.0000e-05], dtype=torch.float64)");
  });

  it("prints non-finite values without a decimal point", () => {
    expect(formatTensor([NaN], [], "float32")).toBe("tensor(nan)");
    expect(formatTensor([Infinity, 2], [2], "float32")).toBe("tensor([inf, 2.])");
  });

  it("moves suffixes that would pass 80 columns to their own line", () => {
    expect(formatTensor(new Array(8).fill(-1.5), [8], "float64", { requiresGrad: true })).toBe(
      "tensor([-1.5000, -1.5000, -1.5000, -1.5000, -1.5000, -1.5000, -1.5000, -1.5000],\n" +
        "       dtype=torch.float64, requires_grad=True)",
    );
  });

  it("states size and dtype of empty tensors", () => {
    expect(formatTensor([], [0], "float32")).toBe("tensor([])");
    expect(formatTensor([], [0, 3], "float32")).toBe("tensor([], size=(0, 3))");
    expect(formatTensor([], [0], "int64")).toBe("tensor([], dtype=torch.int64)");
  });

  it("prefers grad_fn over requires_grad", () => {
    expect(formatTensor([3], [], "float32", { gradFn: "SumBackward0", requiresGrad: true })).toBe("tensor(3., grad_fn=<SumBackward0>)");
  });
});
