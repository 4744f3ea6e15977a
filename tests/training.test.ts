/**
 * Replays every SGD training trajectory in tests/fixtures/pytorch/training.json through the
 * public API: the loss before every step, the gradients after the first backward, and the
 * final weights, all within the tolerance PyTorch's whole-run cases allow.
 */
import * as torch from "torchlet";
import { type JsonTensor, decodeOptions, expectClose, loadCases } from "./helpers/golden";
import { type DataSpec, type ModelSpec, RUN, buildModel, trainSteps } from "./helpers/training-replay";

const { nn, optim } = torch;

interface TrainingCase {
  id: string;
  op: "train";
  model: ModelSpec;
  data: DataSpec;
  loss: { op: string; options: Record<string, unknown> };
  optim: { type: "SGD"; lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number };
  batches: number[][];
  losses: number[];
  firstGrads: { weight: JsonTensor; bias: JsonTensor };
  final: { weight: JsonTensor; bias: JsonTensor };
}

const cases = loadCases<TrainingCase>("training.json");

function buildLoss(c: TrainingCase): torch.nn.Module {
  const name = c.loss.op.replace(/^nn\./, "") as "CrossEntropyLoss" | "BCEWithLogitsLoss";
  const LossClass = nn[name] as unknown as new (options: Record<string, unknown>) => torch.nn.Module;
  return new LossClass(decodeOptions(c.loss.options));
}

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
    const model = buildModel(c.model, c.data);
    const { lr, momentum, dampening, nesterov, weightDecay } = c.optim;
    const optimizer = new optim.SGD(model.module.parameters(), { lr, momentum, dampening, nesterov, weightDecay });
    // SGD is given both parameters, so weight decay applies to the bias too.
    expect(optimizer.paramGroups[0].params.length).toBe(2);
    expect(optimizer.paramGroups[0].params).toContain(model.weight);
    expect(optimizer.paramGroups[0].params).toContain(model.bias);

    const afterBackward = (step: number): void => {
      if (step !== 0) return;
      expectClose(model.weight.grad!, c.firstGrads.weight, "first weight gradient", RUN);
      expectClose(model.bias.grad!, c.firstGrads.bias, "first bias gradient", RUN);
    };
    trainSteps({ model, lossFn: buildLoss(c), y: c.data.y, batches: c.batches, losses: c.losses, optimizer, afterBackward });
    expectClose(model.weight, c.final.weight, "final weight", RUN);
    expectClose(model.bias, c.final.bias, "final bias", RUN);
  });
});
