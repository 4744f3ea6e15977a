/**
 * Writing your own loss, two ways:
 *  (a) as an nn.Module built from differentiable ops (a focal loss): autograd derives the
 *      backward, gradcheck confirms it, and at gamma 0 it is exactly CrossEntropyLoss;
 *  (b) as an autograd.Function with a hand-written backward (binary cross entropy on logits):
 *      gradcheck confirms the backward, and it matches the built-in BCEWithLogitsLoss.
 *
 *   node dist/examples/custom-loss.js [--gamma 2]
 */
import { parseArgs } from "node:util";
import * as torch from "torchlet";

type Tensor = torch.Tensor;

// ---- (a) A focal loss as a Module ---------------------------------------------------------------

/**
 * Focal loss (Lin et al., 2017) for single-label classification:
 * `FL = mean_n (1 - p_n)^gamma * -log p_n`, with `p_n` the softmax probability of sample n's
 * target class. The weight `(1 - p)^gamma` shrinks the loss of samples the model already gets
 * right, so training focuses on the hard ones; at gamma 0 it is plain cross entropy.
 */
export class FocalLoss extends torch.nn.Module {
  constructor(readonly gamma = 2) {
    super();
  }

  forward(logits: Tensor, target: Tensor): Tensor {
    // log p of each sample's target class: (N, C) -> gather along the classes -> (N,)
    const logp = logits.logSoftmax(1).gather(1, target.unsqueeze(1)).squeeze(1);
    const p = logp.exp();
    const weight = torch.rsub(p, 1).pow(this.gamma); // (1 - p)^gamma, recorded as RsubBackward1 as in PyTorch
    return weight.mul(logp.neg()).mean();
  }

  override extraRepr(): string {
    return `gamma=${this.gamma}`;
  }
}

// ---- (b) Binary cross entropy on logits as an autograd.Function ----------------------------------

/**
 * `mean(max(x, 0) - x*y + log(1 + exp(-|x|)))`, the stable form of
 * `-mean(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))`. The backward is written by hand:
 * d/dx = (sigmoid(x) - y) / N and d/dy = -x / N, times the incoming gradient.
 */
export class MyBCEWithLogits extends torch.autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, logits: Tensor, target: Tensor): Tensor {
    ctx.saveForBackward(logits, target);
    const softplusOfMinusAbs = logits.abs().neg().exp().add(1).log();
    return logits.clamp(0).sub(logits.mul(target)).add(softplusOfMinusAbs).mean();
  }

  static override backward(ctx: torch.autograd.FunctionCtx, gradOutput: Tensor): Array<Tensor | null> {
    const [x, y] = ctx.savedTensors;
    const n = x.numel();
    const gradLogits = ctx.needsInputGrad[0] ? x.sigmoid().sub(y).mul(gradOutput).div(n) : null;
    const gradTarget = ctx.needsInputGrad[1] ? x.neg().mul(gradOutput).div(n) : null;
    return [gradLogits, gradTarget];
  }
}

/** The same op with a classic mistake in its backward: the 1/N of the mean is forgotten. */
class ForgotTheMean extends torch.autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, logits: Tensor, target: Tensor): Tensor {
    return MyBCEWithLogits.forward(ctx, logits, target);
  }

  static override backward(ctx: torch.autograd.FunctionCtx, gradOutput: Tensor): Array<Tensor | null> {
    const [x, y] = ctx.savedTensors;
    return [x.sigmoid().sub(y).mul(gradOutput), null];
  }
}

// ---- the walk-through ---------------------------------------------------------------------------

/** `gradcheck: passed`, or what gradcheck reported. */
function runGradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): { passed: boolean; message: string } {
  try {
    torch.autograd.gradcheck(fn, inputs);
    return { passed: true, message: "gradcheck: passed" };
  } catch (error) {
    return { passed: false, message: `gradcheck: FAILED: ${(error as Error).message}` };
  }
}

/** The backward graph below a tensor, one node per line (a node reached twice is shown once). */
function graphOf(t: Tensor): string {
  const lines: string[] = [];
  const seen = new Set<object>();
  const visit = (node: NonNullable<Tensor["gradFn"]>, depth: number) => {
    const again = seen.has(node);
    lines.push(`${"  ".repeat(depth)}${node.name}${again ? " (shown above)" : ""}`);
    if (again) return;
    seen.add(node);
    for (const [next] of node.nextFunctions) if (next) visit(next, depth + 1);
  };
  if (t.gradFn) visit(t.gradFn, 0);
  return lines.join("\n");
}

const values = (t: Tensor): number[] => Array.from(t.to("float64").toArray());
const largestDifference = (a: Tensor, b: Tensor): number => Math.max(...values(a).map((v, i) => Math.abs(v - values(b)[i])));
const small = (v: number): string => (v === 0 ? "0" : v.toExponential(1));

/** What a test can compare with the built-in losses. */
export interface CustomLossResult {
  focal: {
    gamma: number;
    loss: number;
    gradcheck: boolean;
    /** FocalLoss(gamma=0) and CrossEntropyLoss on the same logits and targets. */
    atGammaZero: { loss: number; grad: number[]; crossEntropy: number; crossEntropyGrad: number[]; gradFn: string };
  };
  function: {
    loss: number;
    gradFn: string;
    logitsGrad: number[];
    targetGrad: number[];
    builtin: number;
    builtinLogitsGrad: number[];
    builtinTargetGrad: number[];
    gradcheck: boolean;
    /** The deliberately wrong backward must fail gradcheck. */
    wrongBackwardCaught: boolean;
  };
}

export function main(argv: string[]): CustomLossResult {
  const { values: args } = parseArgs({ args: argv, options: { gamma: { type: "string", default: "2" } } });
  const gamma = Number(args.gamma);
  const { nn } = torch;

  // (a) The focal loss on the study note's example: logits [[0.1, 0.2, 0.7], [0.4, 0.5, 0.1]], target [2, 1].
  console.log("=== (a) A focal loss, written as an nn.Module ===");
  const data = [
    [0.1, 0.2, 0.7],
    [0.4, 0.5, 0.1],
  ];
  const target = torch.tensor([2, 1], { dtype: "int64" });
  const focal = new FocalLoss(gamma);
  const logits = torch.tensor(data, { requiresGrad: true });
  console.log(`${focal.toString()}\nlogits = ${logits.toString()}\ntarget = ${target.toString()}`);
  const loss = focal.forward(logits, target);
  console.log(`\nfocal loss: ${loss.toString()}`);
  console.log(`the graph autograd recorded (loss.gradFn and its nextFunctions):\n${graphOf(loss)}`);
  loss.backward();
  console.log(`logits.grad:\n${logits.grad!.toString()}`);

  // gradcheck compares that backward with finite differences, in float64.
  const checkTarget = torch.tensor([0, 3, 1, 3, 2], { dtype: "int64" });
  torch.manualSeed(0);
  const checkLogits = torch.randn([5, 4], { dtype: "float64", requiresGrad: true });
  const focalCheck = runGradcheck((x) => focal.forward(x, checkTarget), [checkLogits]);
  console.log(`\ngradcheck of ${focal.toString()} on random (5, 4) float64 logits:\n${focalCheck.message}`);

  // At gamma 0 the weight (1 - p)^0 is 1: the focal loss is cross entropy, value and gradient.
  const plain = new FocalLoss(0);
  const a = torch.tensor(data, { requiresGrad: true });
  const focal0 = plain.forward(a, target);
  focal0.backward();
  const b = torch.tensor(data, { requiresGrad: true });
  const ce = new nn.CrossEntropyLoss().forward(b, target);
  ce.backward();
  console.log("\nAt gamma 0 the weight (1 - p)^0 is 1, so the focal loss is cross entropy:");
  console.log(`${plain.toString()}: ${focal0.toString()}`);
  console.log(`CrossEntropyLoss(): ${ce.toString()}`);
  console.log(`gradient of FocalLoss(gamma=0):\n${a.grad!.toString()}`);
  console.log(`gradient of CrossEntropyLoss():\n${b.grad!.toString()}`);
  console.log(
    `largest difference: ${small(Math.abs(focal0.item() - ce.item()))} in the value, ${small(largestDifference(a.grad!, b.grad!))} in the gradient ` +
      "(different graphs, a chain of ops under MeanBackward0 against the fused NllLossBackward0, same numbers)",
  );

  // (b) Binary cross entropy on logits, with a hand-written backward, on the note's binary example.
  console.log("\n=== (b) Binary cross entropy on logits, written as an autograd.Function ===");
  const binaryData = [
    [0.8, 0.2],
    [0.1, 0.9],
    [0.6, 0.4],
  ];
  const softTargets = [
    [0.9, 0.1],
    [0.2, 0.8],
    [0.5, 0.5],
  ];
  const x = torch.tensor(binaryData, { requiresGrad: true });
  const y = torch.tensor(softTargets, { requiresGrad: true });
  console.log(`logits = ${x.toString()}\ntarget = ${y.toString()}`);
  const mine = MyBCEWithLogits.apply(x, y);
  mine.backward();
  const bx = torch.tensor(binaryData, { requiresGrad: true });
  const by = torch.tensor(softTargets, { requiresGrad: true });
  const builtin = new nn.BCEWithLogitsLoss().forward(bx, by);
  builtin.backward();
  console.log(`\nMyBCEWithLogits.apply(logits, target):               ${mine.toString()}`);
  console.log(`new nn.BCEWithLogitsLoss().forward(logits, target): ${builtin.toString()}`);
  console.log("(a custom Function's node is named after its class: MyBCEWithLogitsBackward)");
  console.log(`logits.grad, hand-written backward:\n${x.grad!.toString()}`);
  console.log(`logits.grad, built-in:\n${bx.grad!.toString()}`);
  console.log(`target.grad, hand-written backward:\n${y.grad!.toString()}`);
  console.log(`target.grad, built-in:\n${by.grad!.toString()}`);

  const checkX = torch.randn([3, 4], { dtype: "float64", requiresGrad: true });
  const checkY = torch.rand([3, 4], { dtype: "float64", requiresGrad: true });
  const functionCheck = runGradcheck((u, v) => MyBCEWithLogits.apply(u, v), [checkX, checkY]);
  console.log(`\ngradcheck of MyBCEWithLogits (logits and target, random (3, 4) float64):\n${functionCheck.message}`);
  const wrong = runGradcheck((u) => ForgotTheMean.apply(u, checkY.detach()), [checkX]);
  console.log(`\nThe same forward with a backward that forgets the 1/N of the mean:\n${wrong.message}`);

  return {
    focal: {
      gamma,
      loss: loss.item(),
      gradcheck: focalCheck.passed,
      atGammaZero: {
        loss: focal0.item(),
        grad: values(a.grad!),
        crossEntropy: ce.item(),
        crossEntropyGrad: values(b.grad!),
        gradFn: focal0.gradFn!.name,
      },
    },
    function: {
      loss: mine.item(),
      gradFn: mine.gradFn!.name,
      logitsGrad: values(x.grad!),
      targetGrad: values(y.grad!),
      builtin: builtin.item(),
      builtinLogitsGrad: values(bx.grad!),
      builtinTargetGrad: values(by.grad!),
      gradcheck: functionCheck.passed,
      wrongBackwardCaught: !wrong.passed,
    },
  };
}

if (require.main === module) main(process.argv.slice(2));
