/**
 * The models and data of the golden training cases (training.json, optimizers.json), rebuilt
 * through the public API: a case's initial model, its batches of rows, and a training loop
 * that checks the loss before every step.
 */
import * as torch from "torchlet";
import { type JsonTensor, expectClose, toTensor } from "./golden";

const { nn } = torch;

/** Whole training runs accumulate rounding: the README's tolerance for them. */
export const RUN = { rtol: 1e-4, atol: 1e-5 };

export interface ModelSpec {
  type: "Linear" | "EmbeddingBag+bias";
  inFeatures?: number;
  outFeatures?: number;
  mode?: "mean" | "sum";
  numEmbeddings?: number;
  embeddingDim?: number;
  weight: JsonTensor;
  bias: JsonTensor;
}

export interface DataSpec {
  X?: JsonTensor;
  y: JsonTensor;
  docs?: number[][];
  tokens?: JsonTensor;
  offsets?: JsonTensor;
}

/** The case's `EmbeddingBag+bias` model: a bag layer and a separate bias, summed. */
class BagClassifier extends nn.Module {
  bag: InstanceType<typeof nn.EmbeddingBag>;
  bias: InstanceType<typeof nn.Parameter>;

  constructor(numEmbeddings: number, dim: number, mode: "mean" | "sum") {
    super();
    this.bag = new nn.EmbeddingBag(numEmbeddings, dim, { mode });
    this.bias = new nn.Parameter(torch.zeros([dim]));
  }

  forward(tokens: torch.Tensor, offsets: torch.Tensor): torch.Tensor {
    return this.bag.forward(tokens, offsets).add(this.bias);
  }
}

/** Rows `batch` of a 2-D golden tensor (or elements of a 1-D one), as a tensor of its dtype. */
export function rowsOf(t: JsonTensor, batch: number[]): torch.Tensor {
  const width = t.shape.length > 1 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const values = batch.flatMap((i) => t.data.slice(i * width, (i + 1) * width).map(Number));
  return torch.tensor(values, { dtype: t.dtype }).reshape([batch.length, ...t.shape.slice(1)]);
}

/** A float32 golden scalar, for comparing a loss. */
const scalar = (value: number): JsonTensor => ({ shape: [], dtype: "float32", data: [value] });

export interface Model {
  module: torch.nn.Module;
  weight: torch.Tensor;
  bias: torch.Tensor;
  forward(batch: number[]): torch.Tensor;
}

/** The case's model with its initial parameters, and its forward pass over a batch of row indices. */
export function buildModel(model: ModelSpec, data: DataSpec): Model {
  if (model.type === "Linear") {
    const [outFeatures, inFeatures] = model.weight.shape;
    const linear = new nn.Linear(inFeatures, outFeatures);
    linear.loadStateDict({ weight: toTensor(model.weight), bias: toTensor(model.bias) });
    return {
      module: linear,
      weight: linear.weight,
      bias: linear.bias!,
      forward: (batch) => linear.forward(rowsOf(data.X!, batch)),
    };
  }
  const [numEmbeddings, dim] = model.weight.shape;
  const bags = new BagClassifier(numEmbeddings, dim, model.mode!);
  bags.loadStateDict({ "bag.weight": toTensor(model.weight), bias: toTensor(model.bias) });
  return {
    module: bags,
    weight: bags.bag.weight,
    bias: bags.bias,
    forward: (batch) => {
      // The batch's documents concatenated in batch order; each offset is where its document starts.
      const tokens: number[] = [];
      const offsets: number[] = [];
      for (const i of batch) {
        offsets.push(tokens.length);
        tokens.push(...data.docs![i]);
      }
      return bags.forward(torch.tensor(tokens, { dtype: "int64" }), torch.tensor(offsets, { dtype: "int64" }));
    },
  };
}

export interface TrainingRun {
  model: Model;
  lossFn: torch.nn.Module;
  y: JsonTensor;
  batches: number[][];
  /** PyTorch's loss before each step's update. */
  losses: number[];
  optimizer: torch.optim.Optimizer;
  /** Runs after backward, before the update (e.g. to check the first gradients). */
  afterBackward?: (step: number) => void;
  /** Runs after the update (e.g. to step a scheduler). */
  afterStep?: (step: number) => void;
}

/** PyTorch's step per batch: zeroGrad, forward, the loss (checked), backward, `optimizer.step()`. */
export function trainSteps(run: TrainingRun): void {
  const { model, lossFn, y, batches, losses, optimizer } = run;
  expect(batches.length).toBe(losses.length);
  batches.forEach((batch, step) => {
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(batch), rowsOf(y, batch)) as torch.Tensor;
    expectClose(loss, scalar(losses[step]), `loss at step ${step}`, RUN);
    loss.backward();
    run.afterBackward?.(step);
    optimizer.step();
    run.afterStep?.(step);
  });
}
