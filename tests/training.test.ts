/**
 * Replays every SGD training trajectory in tests/fixtures/pytorch/training.json through the
 * public API: the loss before every step, the gradients after the first backward, and the
 * final weights, all within the tolerance PyTorch's whole-run cases allow.
 */
import * as torch from "torchlet";
import { type JsonTensor, decodeOptions, expectClose, loadCases, toTensor } from "./helpers/golden";

const { nn, optim } = torch;

interface TrainingCase {
  id: string;
  op: "train";
  model: {
    type: "Linear" | "EmbeddingBag+bias";
    inFeatures?: number;
    outFeatures?: number;
    mode?: "mean" | "sum";
    numEmbeddings?: number;
    embeddingDim?: number;
    weight: JsonTensor;
    bias: JsonTensor;
  };
  data: { X?: JsonTensor; y: JsonTensor; docs?: number[][]; tokens?: JsonTensor; offsets?: JsonTensor };
  loss: { op: string; options: Record<string, unknown> };
  optim: { type: "SGD"; lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number };
  batches: number[][];
  losses: number[];
  firstGrads: { weight: JsonTensor; bias: JsonTensor };
  final: { weight: JsonTensor; bias: JsonTensor };
}

const RUN = { rtol: 1e-4, atol: 1e-5 };
const cases = loadCases<TrainingCase>("training.json");

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
function rowsOf(t: JsonTensor, batch: number[]): torch.Tensor {
  const width = t.shape.length > 1 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const values = batch.flatMap((i) => t.data.slice(i * width, (i + 1) * width).map(Number));
  return torch.tensor(values, { dtype: t.dtype }).reshape([batch.length, ...t.shape.slice(1)]);
}

interface Model {
  module: torch.nn.Module;
  weight: torch.Tensor;
  bias: torch.Tensor;
  forward(batch: number[]): torch.Tensor;
}

function buildModel(c: TrainingCase): Model {
  if (c.model.type === "Linear") {
    const [outFeatures, inFeatures] = c.model.weight.shape;
    const linear = new nn.Linear(inFeatures, outFeatures);
    linear.loadStateDict({ weight: toTensor(c.model.weight), bias: toTensor(c.model.bias) });
    return {
      module: linear,
      weight: linear.weight,
      bias: linear.bias!,
      forward: (batch) => linear.forward(rowsOf(c.data.X!, batch)),
    };
  }
  const [numEmbeddings, dim] = c.model.weight.shape;
  const model = new BagClassifier(numEmbeddings, dim, c.model.mode!);
  model.loadStateDict({ "bag.weight": toTensor(c.model.weight), bias: toTensor(c.model.bias) });
  return {
    module: model,
    weight: model.bag.weight,
    bias: model.bias,
    forward: (batch) => {
      // The batch's documents concatenated in batch order; each offset is where its document starts.
      const tokens: number[] = [];
      const offsets: number[] = [];
      for (const i of batch) {
        offsets.push(tokens.length);
        tokens.push(...c.data.docs![i]);
      }
      return model.forward(torch.tensor(tokens, { dtype: "int64" }), torch.tensor(offsets, { dtype: "int64" }));
    },
  };
}

function buildLoss(c: TrainingCase): torch.nn.Module {
  const name = c.loss.op.replace(/^nn\./, "") as "CrossEntropyLoss" | "BCEWithLogitsLoss";
  const LossClass = nn[name] as unknown as new (options: Record<string, unknown>) => torch.nn.Module;
  return new LossClass(decodeOptions(c.loss.options));
}

const scalar = (value: number): JsonTensor => ({ shape: [], dtype: "float32", data: [value] });

describe("training.json: SGD trajectories replayed", () => {
  test("the fixture holds every model, loss and optimizer setting", () => {
    expect(cases.length).toBe(30);
    const families = new Set(cases.map((c) => c.id.split("/")[1]));
    expect([...families].sort()).toEqual([
      "binary-BCEWithLogits",
      "embeddingBag-mean-CE",
      "embeddingBag-sum-CE",
      "multiclass-CE",
      "multilabel-BCEWithLogits+posWeight",
    ]);
    const settings = new Set(cases.map((c) => c.id.split("/")[2]));
    expect(settings.size).toBe(6);
  });

  test.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const model = buildModel(c);
    const lossFn = buildLoss(c);
    const { lr, momentum, dampening, nesterov, weightDecay } = c.optim;
    const opt = new optim.SGD(model.module.parameters(), { lr, momentum, dampening, nesterov, weightDecay });
    // SGD is given both parameters, so weight decay applies to the bias too.
    expect(opt.paramGroups[0].params.length).toBe(2);
    expect(opt.paramGroups[0].params).toContain(model.weight);
    expect(opt.paramGroups[0].params).toContain(model.bias);

    c.batches.forEach((batch, step) => {
      opt.zeroGrad();
      const output = model.forward(batch);
      const loss = lossFn.forward(output, rowsOf(c.data.y, batch)) as torch.Tensor;
      expectClose(loss, scalar(c.losses[step]), `loss at step ${step}`, RUN);
      loss.backward();
      if (step === 0) {
        expectClose(model.weight.grad!, c.firstGrads.weight, "first weight gradient", RUN);
        expectClose(model.bias.grad!, c.firstGrads.bias, "first bias gradient", RUN);
      }
      opt.step();
    });
    expect(c.batches.length).toBe(c.losses.length);
    expectClose(model.weight, c.final.weight, "final weight", RUN);
    expectClose(model.bias, c.final.bias, "final bias", RUN);
  });
});
