/**
 * Replays every case of tests/fixtures/pytorch/optimizers.json and optim_errors.json through
 * the public API: Adam, AdamW, RMSprop and Adagrad training a Linear classifier (the loss before
 * every step and the final weights, at the tolerance of whole runs), the rate each scheduler
 * sets along the way, schedules on their own, and PyTorch's errors for bad options.
 */
import * as torch from "torchlet";
import { type JsonTensor, expectClose, loadCases } from "./helpers/golden";
import { type DataSpec, type ModelSpec, RUN, buildModel, trainSteps } from "./helpers/training-replay";

const { nn, optim } = torch;

interface Spec {
  type: string;
  options: Record<string, unknown>;
}

interface TrainCase {
  id: string;
  op: "train";
  model: ModelSpec;
  data: DataSpec;
  loss: { op: "nn.CrossEntropyLoss"; options: Record<string, never> };
  optim: Spec;
  scheduler?: Spec;
  batches: number[][];
  losses: number[];
  lrs?: number[];
  final: { weight: JsonTensor; bias: JsonTensor };
}

interface ScheduleCase {
  id: string;
  op: "schedule";
  optim: Spec;
  scheduler: Spec;
  metrics: number[] | null;
  lrs: number[];
}

interface ErrorCase {
  id: string;
  op: "optim";
  optim: Spec;
  error: { pytorchMessage: string; type: string };
}

const cases = loadCases<TrainCase | ScheduleCase>("optimizers.json");
const trainCases = cases.filter((c): c is TrainCase => c.op === "train");
const scheduleCases = cases.filter((c): c is ScheduleCase => c.op === "schedule");
const errorCases = loadCases<ErrorCase>("optim_errors.json");

/** `new optim.TYPE(params, options)`. */
function makeOptimizer(spec: Spec, params: Iterable<torch.Tensor>): torch.optim.Optimizer {
  const Type = (optim as unknown as Record<string, unknown>)[spec.type];
  if (typeof Type !== "function") throw new Error(`replay: no optimizer ${spec.type}`);
  return new (Type as new (p: Iterable<torch.Tensor>, options: unknown) => torch.optim.Optimizer)(params, spec.options);
}

interface Scheduler {
  step(metric?: number): void;
  getLastLr(): number[];
}

/** `new optim.lrScheduler.TYPE(optimizer, options)`. */
function makeScheduler(spec: Spec, optimizer: torch.optim.Optimizer): Scheduler {
  const Type = (optim.lrScheduler as unknown as Record<string, unknown>)[spec.type];
  if (typeof Type !== "function") throw new Error(`replay: no scheduler ${spec.type}`);
  return new (Type as new (o: torch.optim.Optimizer, options: unknown) => Scheduler)(optimizer, spec.options);
}

/**
 * A rate PyTorch computed in doubles. The same formulas in the same order give the same double
 * up to the last bits of the platform's cosine, so the tolerance is far below any real error.
 */
function expectLr(actual: number, expected: number, label: string): void {
  if (!(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected) + 1e-18)) {
    throw new Error(`${label}: rate ${actual}, PyTorch gives ${expected}`);
  }
}

describe("optimizers.json", () => {
  test("the fixture holds every optimizer, scheduler and schedule", () => {
    expect(trainCases).toHaveLength(14);
    expect(scheduleCases).toHaveLength(8);
    expect(new Set(trainCases.map((c) => c.optim.type))).toEqual(new Set(["Adam", "AdamW", "RMSprop", "Adagrad"]));
    expect(scheduleCases.map((c) => c.scheduler.type).sort()).toEqual(
      ["CosineAnnealingLR", "ExponentialLR", "LinearLR", "MultiStepLR", "OneCycleLR", "OneCycleLR", "ReduceLROnPlateau", "StepLR"].sort(),
    );
  });

  test.each(trainCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const model = buildModel(c.model, c.data);
    const optimizer = makeOptimizer(c.optim, model.module.parameters());
    const scheduler = c.scheduler ? makeScheduler(c.scheduler, optimizer) : null;
    const afterStep = (step: number): void => {
      if (scheduler === null) return;
      scheduler.step();
      expectLr(scheduler.getLastLr()[0], c.lrs![step], `rate after step ${step}`);
    };
    trainSteps({ model, lossFn: new nn.CrossEntropyLoss(), y: c.data.y, batches: c.batches, losses: c.losses, optimizer, afterStep });
    expectClose(model.weight, c.final.weight, "final weight", RUN);
    expectClose(model.bias, c.final.bias, "final bias", RUN);
  });

  test.each(scheduleCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const optimizer = makeOptimizer(c.optim, [new nn.Parameter(torch.zeros([2]))]);
    const scheduler = makeScheduler(c.scheduler, optimizer);
    c.lrs.forEach((expected, k) => {
      optimizer.step(); // no gradient: nothing moves
      if (c.metrics === null) {
        scheduler.step();
        expectLr(scheduler.getLastLr()[0], expected, `rate after step ${k}`);
      } else {
        scheduler.step(c.metrics[k]);
        expectLr(optimizer.paramGroups[0].lr, expected, `rate after step ${k}`);
      }
    });
  });
});

describe("optim_errors.json", () => {
  test.each(errorCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    expect(c.error.type).toBe("ValueError");
    let message: string | null = null;
    try {
      makeOptimizer(c.optim, [new nn.Parameter(torch.zeros([2]))]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(c.error.pytorchMessage);
  });
});
