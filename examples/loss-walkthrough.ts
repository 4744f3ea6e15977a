/**
 * A walk through PyTorch's cross-entropy losses, following the study note torchlet is built
 * from: every example of the note, in order, printed exactly as PyTorch prints it (grad_fn
 * included), each with a sentence on what it shows, and the note's advice at the end.
 *
 *   node dist/examples/loss-walkthrough.js [--seed 0]
 */
import { parseArgs } from "node:util";
import * as torch from "torchlet";

/** What the walkthrough computed, by the note's names, for a test to check. */
export interface Walkthrough {
  logOfSoftmax: torch.Tensor;
  logSoftmax: torch.Tensor;
  nllOfLogSoftmax: torch.Tensor;
  crossEntropyNone: torch.Tensor;
  sigmoid: torch.Tensor;
  bceOfSigmoid: torch.Tensor;
  bceWithLogitsNone: torch.Tensor;
  crossEntropyMean: torch.Tensor;
  crossEntropyPerSample: torch.Tensor;
  bceWithLogitsOneHot: torch.Tensor;
  bceWithLogitsOneHotNone: torch.Tensor;
  multiLabelTarget: torch.Tensor;
  multiLabelLoss: torch.Tensor;
  binaryCrossEntropy: torch.Tensor;
  binaryBceWithLogits: torch.Tensor;
}

let stepNumber = 0;

/** Prints one titled step: the expression, what it printed, and a sentence about it. */
function step(expression: string, value: torch.Tensor, explanation: string): torch.Tensor {
  stepNumber += 1;
  console.log(`\n${stepNumber}. ${expression}`);
  console.log(value.toString());
  console.log(`   ${explanation}`);
  return value;
}

function section(title: string, setup: string[]): void {
  console.log(`\n=== ${title} ===`);
  for (const line of setup) console.log(line);
}

export function main(argv: string[]): Walkthrough {
  const { values: args } = parseArgs({ args: argv, options: { seed: { type: "string", default: "0" } } });
  stepNumber = 0;
  const { nn } = torch;

  // ---- Multi-class: softmax over a row, then the negative log-likelihood of the target. ----
  const logits = torch.tensor(
    [
      [0.3, 0.4, 0.3],
      [0.7, 0.1, 0.2],
    ],
    { requiresGrad: true },
  );
  const target = torch.tensor([0, 2], { dtype: "int64" });
  section("Several classes, one label per sample", [`logits = ${logits.toString()}`, `target = ${target.toString()}`]);
  const logOfSoftmax = step(
    "torch.log(new nn.Softmax(1).forward(logits))",
    torch.log(new nn.Softmax(1).forward(logits)),
    "Softmax makes each row a probability distribution and log turns it into log-probabilities; the last op recorded is the log, hence LogBackward0.",
  );
  const logSoftmax = step(
    "new nn.LogSoftmax(1).forward(logits)",
    new nn.LogSoftmax(1).forward(logits),
    "LogSoftmax computes the same values in one stable op (x - logsumexp(x)), so it never takes the log of a tiny probability.",
  );
  const nllOfLogSoftmax = step(
    'new nn.NLLLoss({ reduction: "none" }).forward(new nn.LogSoftmax(1).forward(logits), target)',
    new nn.NLLLoss({ reduction: "none" }).forward(new nn.LogSoftmax(1).forward(logits), target),
    "NLLLoss only picks -logp[n, target[n]] from each row (l_n = -w_{y_n} x_{n,y_n}): 1.1331 for class 0 of row 0, 1.2679 for class 2 of row 1.",
  );
  const crossEntropyNone = step(
    'new nn.CrossEntropyLoss({ reduction: "none" }).forward(logits, target)',
    new nn.CrossEntropyLoss({ reduction: "none" }).forward(logits, target),
    "CrossEntropyLoss is LogSoftmax followed by NLLLoss, fused: it takes the raw logits and gives the same numbers, with the same NllLossBackward0 on top.",
  );

  // ---- Binary / multi-label: one sigmoid per logit, one yes/no question each. ----
  const binaryLogits = torch.tensor(
    [
      [0.8, 0.2],
      [0.1, 0.9],
      [0.6, 0.4],
    ],
    { requiresGrad: true },
  );
  const binaryTarget = torch.tensor([
    [0.9, 0.1],
    [0.2, 0.8],
    [0.5, 0.5],
  ]);
  section("Yes/no questions, one per logit", [`binary_logits = ${binaryLogits.toString()}`, `binary_target = ${binaryTarget.toString()}`]);
  const sigmoid = step(
    "new nn.Sigmoid().forward(binary_logits)",
    new nn.Sigmoid().forward(binaryLogits),
    "Sigmoid squashes every logit on its own into a probability in (0, 1); the rows do not sum to 1 and need not.",
  );
  const bceOfSigmoid = step(
    'new nn.BCELoss({ reduction: "none" }).forward(new nn.Sigmoid().forward(binary_logits), binary_target)',
    new nn.BCELoss({ reduction: "none" }).forward(new nn.Sigmoid().forward(binaryLogits), binaryTarget),
    "BCELoss scores each probability against its float target in [0, 1]: l = -[y log p + (1 - y) log(1 - p)], element by element.",
  );
  const bceWithLogitsNone = step(
    'new nn.BCEWithLogitsLoss({ reduction: "none" }).forward(binary_logits, binary_target)',
    new nn.BCEWithLogitsLoss({ reduction: "none" }).forward(binaryLogits, binaryTarget),
    "BCEWithLogitsLoss is Sigmoid followed by BCELoss, fused and computed stably from the logits: the same values.",
  );

  // ---- The same one-hot task with both losses. ----
  const logits2 = torch.tensor(
    [
      [0.1, 0.2, 0.7],
      [0.4, 0.5, 0.1],
    ],
    { requiresGrad: true },
  );
  const target2 = torch.tensor([2, 1], { dtype: "int64" });
  const oneHot = torch.tensor([
    [0, 0, 1],
    [0, 1, 0],
  ]);
  section("One task, two losses", [`logits = ${logits2.toString()}`, `target = ${target2.toString()}`, `one_hot = ${oneHot.toString()}`]);
  const crossEntropyMean = step(
    "new nn.CrossEntropyLoss().forward(logits, target)",
    new nn.CrossEntropyLoss().forward(logits2, target2),
    "The default reduction is the mean over the batch: (0.7679 + 0.9459) / 2 = 0.8569.",
  );
  const crossEntropyPerSample = step(
    'new nn.CrossEntropyLoss({ reduction: "none" }).forward(logits, target)',
    new nn.CrossEntropyLoss({ reduction: "none" }).forward(logits2, target2),
    "Per sample, each number is -log softmax(row)[target]: only the target's share of the row's probability counts.",
  );
  const bceWithLogitsOneHot = step(
    "new nn.BCEWithLogitsLoss().forward(logits, one_hot)",
    new nn.BCEWithLogitsLoss().forward(logits2, oneHot),
    "The same targets as one-hot floats give a different number: the mean of six independent yes/no losses, not of two distributions.",
  );
  const bceWithLogitsOneHotNone = step(
    'new nn.BCEWithLogitsLoss({ reduction: "none" }).forward(logits, one_hot)',
    new nn.BCEWithLogitsLoss({ reduction: "none" }).forward(logits2, oneHot),
    "Every logit is scored on its own, the zeros included (0.7444 for 'not class 0' in row 0), which is why the two losses answer different questions.",
  );

  // ---- Multi-label targets: several 1s per row. ----
  const seed = Number(args.seed);
  torch.manualSeed(seed);
  const idx = torch.randint(0, 4, [2, 2]);
  const multiLabelTarget = torch.scatter(torch.zeros([2, 4]), 1, idx, { value: 1.0 });
  const multiLabelLogits = torch.randn([2, 4], { requiresGrad: true });
  section("Several labels per sample", [
    `torch.manualSeed(${seed})`,
    `idx = torch.randint(0, 4, [2, 2]) -> ${idx.toString()}`,
    "Random numbers come from torchlet's own seeded generator, not PyTorch's, so from here on the numbers differ from what PyTorch prints for the same seed (they are reproducible across runs).",
  ]);
  step(
    "target = torch.scatter(torch.zeros([2, 4]), 1, idx, { value: 1.0 })",
    multiLabelTarget,
    "scatter writes a 1 at each drawn class of each row: a multi-hot target with one or two labels per sample (a repeated index gives only one).",
  );
  step(
    "logits = torch.randn([2, 4], { requiresGrad: true })",
    multiLabelLogits,
    "Random logits standing in for a model's output, one per (sample, class).",
  );
  const multiLabelLoss = step(
    "new nn.BCEWithLogitsLoss().forward(logits, target)",
    new nn.BCEWithLogitsLoss().forward(multiLabelLogits, multiLabelTarget),
    "With several labels per sample, BCEWithLogitsLoss is the right loss: each class is its own yes/no question, so any number of them can be yes (torchlet's random numbers, not PyTorch's).",
  );

  // ---- Two classes, both ways. ----
  const twoClassLogits = torch.tensor(
    [
      [0.6, 0.4],
      [0.3, 0.7],
    ],
    { requiresGrad: true },
  );
  const twoClassTarget = torch.tensor([0, 1], { dtype: "int64" });
  const singleLogit = torch.tensor([0.6, 0.3], { requiresGrad: true });
  const floatTarget = torch.tensor([0, 1]);
  section("Two classes", [
    `logits = ${twoClassLogits.toString()}, target = ${twoClassTarget.toString()}`,
    `logit = ${singleLogit.toString()}, float target = ${floatTarget.toString()}`,
  ]);
  const binaryCrossEntropy = step(
    "new nn.CrossEntropyLoss().forward(logits, target)",
    new nn.CrossEntropyLoss().forward(twoClassLogits, twoClassTarget),
    "Two classes as a two-way softmax: two logits per sample, a class index as the target.",
  );
  const binaryBceWithLogits = step(
    "new nn.BCEWithLogitsLoss().forward(logit, float_target)",
    new nn.BCEWithLogitsLoss().forward(singleLogit, floatTarget),
    "Two classes as one yes/no question: a single logit per sample and a float target, the usual choice.",
  );

  // ---- The advice. ----
  console.log(`
=== Which loss for which task ===
- Several classes, one label per sample: CrossEntropyLoss, with class indices as targets.
- Several classes, several labels per sample: BCEWithLogitsLoss, with multi-hot float targets.
- Two classes: either; BCEWithLogitsLoss on a single logit is the usual choice.
- A language model's next-token loss is several classes, one label: flatten the logits to
  (batch*seq, vocab) and the targets to (batch*seq), then CrossEntropyLoss.
- LogSoftmax + NLLLoss equals CrossEntropyLoss, and Sigmoid + BCELoss equals BCEWithLogitsLoss:
  use the fused ones, which take raw logits and stay stable for large ones.

Why ${crossEntropyMean.item().toFixed(4)} and ${bceWithLogitsOneHot.item().toFixed(4)} on the same one-hot task? Both take raw logits, but they read them
differently. CrossEntropyLoss applies a softmax across each row: the row is ONE distribution over
the classes, and the loss is -log of the probability it gives the target class. BCEWithLogitsLoss
applies a sigmoid to each logit: every logit is its own INDEPENDENT yes/no question, and the loss
averages all of them, the "no" answers for the other classes included. Different questions,
different numbers; neither is wrong, but only one matches your task.`);

  return {
    logOfSoftmax,
    logSoftmax,
    nllOfLogSoftmax,
    crossEntropyNone,
    sigmoid,
    bceOfSigmoid,
    bceWithLogitsNone,
    crossEntropyMean,
    crossEntropyPerSample,
    bceWithLogitsOneHot,
    bceWithLogitsOneHotNone,
    multiLabelTarget,
    multiLabelLoss,
    binaryCrossEntropy,
    binaryBceWithLogits,
  };
}

if (require.main === module) main(process.argv.slice(2));
