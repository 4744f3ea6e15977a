// This file mirrors the README's "Inspect gradients in tests" section: below this comment it is
// that section's code block verbatim (tests/examples-losses.test.ts checks they stay identical).

import * as torch from "torchlet";

/** The study note's example: two samples, three classes, targets 2 and 1. */
function crossEntropyBackward() {
  const logits = torch.tensor([[0.1, 0.2, 0.7], [0.4, 0.5, 0.1]], { requiresGrad: true });
  const target = torch.tensor([2, 1], { dtype: "int64" });
  const loss = new torch.nn.CrossEntropyLoss().forward(logits, target);
  loss.backward();
  return { logits, loss };
}

test("the loss and the gradient reaching the logits are PyTorch's", () => {
  const { logits, loss } = crossEntropyBackward();
  expect(loss.item()).toBeCloseTo(0.85693, 5);
  const expected = [
    [0.12731, 0.1407, -0.26802],
    [0.17569, -0.30584, 0.13015],
  ];
  const grad = logits.grad!.tolist() as number[][];
  grad.forEach((row, i) => row.forEach((g, j) => expect(g).toBeCloseTo(expected[i][j], 5)));
  // softmax(row) - one_hot(target), over N = 2: each row of the gradient sums to 0
  grad.forEach((row) => expect(row[0] + row[1] + row[2]).toBeCloseTo(0, 6));
});

test("the graph: NllLossBackward0 -> LogSoftmaxBackward0 -> AccumulateGrad (the leaf)", () => {
  const { logits, loss } = crossEntropyBackward();
  expect(logits.isLeaf).toBe(true);
  expect(logits.gradFn).toBeNull();
  expect(loss.gradFn!.name).toBe("NllLossBackward0");
  const [[logSoftmax]] = loss.gradFn!.nextFunctions;
  expect(logSoftmax!.name).toBe("LogSoftmaxBackward0");
  expect(logSoftmax!.nextFunctions.map(([node]) => node?.name)).toEqual(["AccumulateGrad"]);
});
