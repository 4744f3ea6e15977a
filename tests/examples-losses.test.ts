/**
 * The loss examples run as a user would run them. Expectations come from the study note
 * (NOTES.md, the loss notes this project grew from) and PyTorch's values in tests/fixtures/pytorch/seed.json, never from
 * the examples' own output.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as torch from "torchlet";
import { captured } from "./helpers/console";
import seed from "./fixtures/pytorch/seed.json";

interface SeedCase {
  id: string;
  output: { shape: number[]; data: number[] };
  gradFn: string;
  grads: Array<{ data: number[] } | null>;
}
const cases = new Map((seed.cases as SeedCase[]).map((c) => [c.id, c]));

/** Checks a tensor against PyTorch's recorded output and grad_fn name for the case `id`. */
function expectPyTorch(t: torch.Tensor, id: string): void {
  const expected = cases.get(id);
  if (!expected) throw new Error(`no seed case ${id}`);
  expect(t.shape).toEqual(expected.output.shape);
  const actual = Array.from(t.to("float64").toArray());
  expected.output.data.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 6));
  expect(t.gradFn?.name).toBe(expected.gradFn);
}

describe("examples/loss-walkthrough.ts", () => {
  let printed = "";
  let result: import("../examples/loss-walkthrough").Walkthrough;

  beforeAll(async () => {
    const { main } = await import("../examples/loss-walkthrough");
    ({ result, output: printed } = captured(() => main([])));
  });

  test("prints the multi-class examples as PyTorch prints them", () => {
    expect(printed).toContain("tensor([[-1.1331, -1.0331, -1.1331],\n        [-0.7679, -1.3679, -1.2679]], grad_fn=<LogBackward0>)");
    expect(printed).toContain("tensor([[-1.1331, -1.0331, -1.1331],\n        [-0.7679, -1.3679, -1.2679]], grad_fn=<LogSoftmaxBackward0>)");
    // NLLLoss after LogSoftmax, then CrossEntropyLoss: the same line twice.
    expect(printed.split("tensor([1.1331, 1.2679], grad_fn=<NllLossBackward0>)").length - 1).toBe(2);
  });

  test("prints the binary examples as PyTorch prints them", () => {
    expect(printed).toContain(
      "tensor([[0.6900, 0.5498],\n        [0.5250, 0.7109],\n        [0.6457, 0.5987]], grad_fn=<SigmoidBackward0>)",
    );
    expect(printed).toContain(
      "tensor([[0.4511, 0.7781],\n        [0.7244, 0.5212],\n        [0.7375, 0.7130]], grad_fn=<BinaryCrossEntropyBackward0>)",
    );
    expect(printed).toContain(
      "tensor([[0.4511, 0.7781],\n        [0.7244, 0.5212],\n        [0.7375, 0.7130]], grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)",
    );
  });

  test("prints the one-hot task with both losses: 0.8569 and 0.6795", () => {
    expect(printed).toContain("tensor(0.8569, grad_fn=<NllLossBackward0>)");
    expect(printed).toContain("tensor([0.7679, 0.9459], grad_fn=<NllLossBackward0>)");
    expect(printed).toContain("tensor(0.6795, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)");
    // 34 + 48 characters exceed PyTorch's line width of 80, so grad_fn goes on its own line.
    expect(printed).toContain(
      "tensor([[0.7444, 0.7981, 0.4032],\n        [0.9130, 0.4741, 0.7444]],\n       grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)",
    );
  });

  test("prints the two-class examples: 0.5556 and 0.7959", () => {
    expect(printed).toContain("tensor(0.5556, grad_fn=<NllLossBackward0>)");
    expect(printed).toContain("tensor(0.7959, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)");
  });

  test("prints the examples in the note's order", () => {
    const order = [
      "grad_fn=<LogBackward0>",
      "grad_fn=<LogSoftmaxBackward0>",
      "grad_fn=<SigmoidBackward0>",
      "grad_fn=<BinaryCrossEntropyBackward0>",
      "tensor(0.8569",
      "tensor(0.6795",
      "torch.manualSeed(",
      "tensor(0.5556",
      "tensor(0.7959",
      "Which loss for which task",
    ].map((s) => printed.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test("every note example carries PyTorch's values and grad_fn", () => {
    expectPyTorch(result.logOfSoftmax, "seed/logits/log(softmax)");
    expectPyTorch(result.logSoftmax, "seed/logits/LogSoftmax(dim=1)");
    expectPyTorch(result.nllOfLogSoftmax, "seed/logits/LogSoftmax+NLLLoss(none)");
    expectPyTorch(result.crossEntropyNone, "seed/logits/CrossEntropyLoss(none)");
    expectPyTorch(result.sigmoid, "seed/binary_logits/Sigmoid");
    expectPyTorch(result.bceOfSigmoid, "seed/binary_logits/Sigmoid+BCELoss(none)");
    expectPyTorch(result.bceWithLogitsNone, "seed/binary_logits/BCEWithLogitsLoss(none)");
    expectPyTorch(result.crossEntropyMean, "seed/logits2/CrossEntropyLoss()");
    expectPyTorch(result.crossEntropyPerSample, "seed/logits2/CrossEntropyLoss(none)");
    expectPyTorch(result.bceWithLogitsOneHot, "seed/logits2/one-hot/BCEWithLogitsLoss()");
    expectPyTorch(result.bceWithLogitsOneHotNone, "seed/logits2/one-hot/BCEWithLogitsLoss(none)");
    expectPyTorch(result.binaryCrossEntropy, "seed/binary2/CrossEntropyLoss()");
    expectPyTorch(result.binaryBceWithLogits, "seed/1d/BCEWithLogitsLoss()");
  });

  test("the multi-label example builds multi-hot targets, reproducibly, and says its numbers are not PyTorch's", async () => {
    const target = result.multiLabelTarget;
    expect(target.shape).toEqual([2, 4]);
    const rows = target.tolist() as number[][];
    for (const row of rows) {
      expect(row.every((v) => v === 0 || v === 1)).toBe(true);
      const ones = row.reduce((a, b) => a + b, 0);
      expect(ones).toBeGreaterThanOrEqual(1);
      expect(ones).toBeLessThanOrEqual(2);
    }
    expect(result.multiLabelLoss.shape).toEqual([]);
    expect(Number.isFinite(result.multiLabelLoss.item())).toBe(true);
    expect(result.multiLabelLoss.item()).toBeGreaterThan(0);
    expect(result.multiLabelLoss.gradFn?.name).toBe("BinaryCrossEntropyWithLogitsBackward0");
    expect(printed).toMatch(/not PyTorch's/);

    const { main } = await import("../examples/loss-walkthrough");
    const again = captured(() => main([]));
    expect(again.output).toBe(printed);
    const other = captured(() => main(["--seed", "1"]));
    expect(other.output).not.toBe(printed);
  });

  test("ends with the note's advice", () => {
    const advice = printed.slice(printed.indexOf("Which loss for which task"));
    expect(advice).toMatch(/one label per sample: CrossEntropyLoss/);
    expect(advice).toMatch(/several labels per sample: BCEWithLogitsLoss/);
    expect(advice).toMatch(/Two classes: either; BCEWithLogitsLoss on a single logit/);
    expect(advice).toMatch(/Why 0\.8569 and 0\.6795/);
    expect(advice).toMatch(/softmax across each row/);
    expect(advice).toMatch(/sigmoid to each logit/);
  });
});

describe("examples/custom-loss.ts", () => {
  let printed = "";
  let result: import("../examples/custom-loss").CustomLossResult;

  beforeAll(async () => {
    const { main } = await import("../examples/custom-loss");
    ({ result, output: printed } = captured(() => main([])));
  });

  const noteLogits = [
    [0.1, 0.2, 0.7],
    [0.4, 0.5, 0.1],
  ];
  const noteTarget = [2, 1];

  /** The built-in CrossEntropyLoss on the note's example: value and logits gradient. */
  function crossEntropy(): { loss: number; grad: number[] } {
    const logits = torch.tensor(noteLogits, { requiresGrad: true });
    const loss = new torch.nn.CrossEntropyLoss().forward(logits, torch.tensor(noteTarget, { dtype: "int64" }));
    loss.backward();
    return { loss: loss.item(), grad: Array.from(logits.grad!.toArray()) };
  }

  test("the focal loss at gamma 0 equals CrossEntropyLoss, value and gradient", () => {
    const ce = crossEntropy();
    const { atGammaZero } = result.focal;
    expect(atGammaZero.crossEntropy).toBeCloseTo(ce.loss, 7);
    expect(atGammaZero.loss).toBeCloseTo(ce.loss, 6);
    atGammaZero.grad.forEach((g, i) => expect(g).toBeCloseTo(ce.grad[i], 6));
    atGammaZero.crossEntropyGrad.forEach((g, i) => expect(g).toBeCloseTo(ce.grad[i], 7));
    // and both are PyTorch's numbers for this example
    const golden = cases.get("seed/logits2/CrossEntropyLoss()")!;
    expect(atGammaZero.loss).toBeCloseTo(golden.output.data[0], 6);
    atGammaZero.grad.forEach((g, i) => expect(g).toBeCloseTo(golden.grads[0]!.data[i], 6));
    expect(atGammaZero.gradFn).toBe("MeanBackward0");
  });

  test("the focal loss at gamma 2 follows its formula and passes gradcheck", () => {
    // mean_n (1 - p_n)^2 * -log p_n with p_n = softmax(row n)[target n], in float64
    const expected =
      noteLogits
        .map((row, n) => {
          const logp = row[noteTarget[n]] - Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
          return (1 - Math.exp(logp)) ** 2 * -logp;
        })
        .reduce((a, b) => a + b, 0) / noteLogits.length;
    expect(result.focal.gamma).toBe(2);
    expect(result.focal.loss).toBeCloseTo(expected, 6);
    expect(result.focal.gradcheck).toBe(true);
  });

  test("the autograd.Function matches BCEWithLogitsLoss and passes gradcheck; a wrong backward does not", () => {
    const logits = torch.tensor(
      [
        [0.8, 0.2],
        [0.1, 0.9],
        [0.6, 0.4],
      ],
      { requiresGrad: true },
    );
    const target = torch.tensor(
      [
        [0.9, 0.1],
        [0.2, 0.8],
        [0.5, 0.5],
      ],
      { requiresGrad: true },
    );
    const builtin = new torch.nn.BCEWithLogitsLoss().forward(logits, target);
    builtin.backward();
    const fn = result.function;
    // the note's per-element values [0.4511, 0.7781, 0.7244, 0.5212, 0.7375, 0.7130], averaged
    const golden = cases.get("seed/binary_logits/BCEWithLogitsLoss(none)")!.output.data;
    expect(fn.loss).toBeCloseTo(golden.reduce((a, b) => a + b, 0) / golden.length, 6);
    expect(fn.loss).toBeCloseTo(builtin.item(), 6);
    fn.logitsGrad.forEach((g, i) => expect(g).toBeCloseTo(logits.grad!.toArray()[i], 6));
    fn.targetGrad.forEach((g, i) => expect(g).toBeCloseTo(target.grad!.toArray()[i], 6));
    expect(fn.gradFn).toBe("MyBCEWithLogitsBackward");
    expect(fn.gradcheck).toBe(true);
    expect(fn.wrongBackwardCaught).toBe(true);
  });

  test("prints values, grad_fn names and gradcheck results", () => {
    expect(printed).toContain("FocalLoss(gamma=2)");
    expect(printed).toMatch(/focal loss: tensor\(0\.\d{4}, grad_fn=<MeanBackward0>\)/);
    expect(printed).toMatch(/MeanBackward0\n\s+MulBackward0\n\s+PowBackward0/);
    expect(printed).toMatch(/GatherBackward0\n\s+LogSoftmaxBackward0\n\s+AccumulateGrad/);
    expect(printed).toContain("FocalLoss(gamma=0): tensor(0.8569, grad_fn=<MeanBackward0>)");
    expect(printed).toContain("CrossEntropyLoss(): tensor(0.8569, grad_fn=<NllLossBackward0>)");
    // PyTorch's gradient for this example, as the README prints it
    expect(printed).toContain("tensor([[ 0.1273,  0.1407, -0.2680],\n        [ 0.1757, -0.3058,  0.1302]])");
    expect(printed).toContain("grad_fn=<MyBCEWithLogitsBackward>");
    expect(printed).toContain("grad_fn=<BinaryCrossEntropyWithLogitsBackward0>");
    expect(printed.split("gradcheck: passed").length - 1).toBe(2);
    expect(printed).toMatch(/forgets the 1\/N of the mean:\ngradcheck: FAILED: Jacobian mismatch/);
  });

  test("--gamma chooses the focal loss's gamma", async () => {
    const { main } = await import("../examples/custom-loss");
    const { result: zero, output } = captured(() => main(["--gamma", "0"]));
    expect(zero.focal.gamma).toBe(0);
    expect(zero.focal.loss).toBeCloseTo(crossEntropy().loss, 6);
    expect(output).toContain("focal loss: tensor(0.8569, grad_fn=<MeanBackward0>)");
  });
});

describe("README: Inspect gradients in tests", () => {
  test("the README's jest test is tests/readme-gradients.test.ts verbatim, after its header comment", () => {
    const root = path.join(__dirname, "..");
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Inspect gradients in tests"));
    const block = /```ts\n([\s\S]*?)```/.exec(section)![1];
    const file = fs.readFileSync(path.join(root, "tests/readme-gradients.test.ts"), "utf8");
    const body = file.slice(file.indexOf("import "));
    expect(block).toBe(body);
  });
});
