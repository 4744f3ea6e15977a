/**
 * Gradients of gradients, for what people use them for:
 *
 * 1. A gradient penalty ("double backprop"): a small classifier on two noisy blobs is trained with
 *    cross entropy plus lambda * mean ||d logit / d x||^2, which keeps the decision function
 *    smooth around the data. The penalty's gradient needs the gradient of a gradient:
 *    `autograd.grad(..., {createGraph: true})`.
 * 2. A Hessian-vector product of the trained loss with respect to the weights, checked against
 *    a finite difference of gradients, as one would before trusting it in an optimizer.
 *
 *   node dist/examples/gradient-penalty.js [--epochs 200] [--lambda 0.1] [--seed 0]
 */
import { parseArgs } from "node:util";
import * as torch from "torchlet";

type Tensor = torch.Tensor;
const F = torch.nn.functional;

/** Two Gaussian blobs in 2-D, labels 0 and 1. */
function blobs(n: number): { x: Tensor; y: Tensor } {
  const centres = torch.tensor([
    [-1, -1],
    [1, 1],
  ]);
  const y = torch.randint(0, 2, [n]);
  const x = centres.index(y).add(torch.randn([n, 2]).mul(0.7));
  return { x, y };
}

export function main(argv: string[] = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: "string", default: "200" },
      lambda: { type: "string", default: "0.1" },
      seed: { type: "string", default: "0" },
    },
  });
  torch.manualSeed(Number(values.seed));
  const lambda = Number(values.lambda);
  const { x, y } = blobs(200);
  const net = new torch.nn.Sequential(new torch.nn.Linear(2, 16), new torch.nn.Tanh(), new torch.nn.Linear(16, 2));
  const optimizer = new torch.optim.Adam(net.parameters(), { lr: 0.05 });

  const epochs = Number(values.epochs);
  let last = { loss: 0, penalty: 0 };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    optimizer.zeroGrad();
    const inputs = x.detach().requiresGrad_(true);
    const logits = net.forward(inputs);
    const loss = F.crossEntropy(logits, y);
    // d (sum of the margin logit) / d inputs, kept in the graph so the penalty can be differentiated.
    const margin = logits.select(1, 1).sub(logits.select(1, 0)).sum();
    const [dx] = torch.autograd.grad([margin], [inputs], { createGraph: true });
    const penalty = dx!.square().sum(1).mean();
    loss.add(penalty.mul(lambda)).backward();
    optimizer.step();
    last = { loss: loss.item(), penalty: penalty.item() };
    if (epoch === 1 || epoch % Math.max(1, Math.floor(epochs / 5)) === 0) {
      console.log(`epoch ${epoch}/${epochs}  cross entropy ${last.loss.toFixed(4)}  gradient penalty ${last.penalty.toFixed(4)}`);
    }
  }
  const accuracy = torch.noGrad(() => net.forward(x).argmax(1).eq(y).float().mean().item());
  console.log(`training accuracy ${accuracy.toFixed(3)}`);

  // Hessian-vector product of the cross entropy with respect to the first layer's weight.
  const weight = net.parameters()[0];
  const lossOf = () => F.crossEntropy(net.forward(x), y);
  const v = torch.randn(weight.shape);
  const [g] = torch.autograd.grad([lossOf()], [weight], { createGraph: true });
  const [hv] = torch.autograd.grad([g!.mul(v).sum()], [weight]);
  // The same product by a central difference of gradients: (g(w + eps v) - g(w - eps v)) / 2 eps.
  const eps = 1e-2;
  const gradientAt = (sign: number): Tensor => {
    torch.noGrad(() => weight.add_(v.mul(sign * eps)));
    const [gs] = torch.autograd.grad([lossOf()], [weight]);
    torch.noGrad(() => weight.sub_(v.mul(sign * eps)));
    return gs!;
  };
  const finite = gradientAt(1)
    .sub(gradientAt(-1))
    .div(2 * eps);
  const largest = hv!.sub(finite).abs().max().item();
  const scale = finite.abs().max().item();
  console.log(
    `Hessian-vector product: largest difference from finite differences ${largest.toExponential(2)} (entries up to ${scale.toFixed(3)})`,
  );
  return { ...last, accuracy, hvpError: largest, hvpScale: scale };
}

if (require.main === module) main();
