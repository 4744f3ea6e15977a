/**
 * The schedulers beyond the golden schedules: LambdaLR, milestones listed twice, resuming a
 * cosine, OneCycleLR's momentum (Adam's betas[0]) and three phases, ReduceLROnPlateau's modes,
 * cooldown and floors, state dicts, and the errors in PyTorch's words. Expected rates are
 * PyTorch 1.13's (`torch.optim.lr_scheduler` driven the same way).
 */
import * as torch from "torchlet";

const { nn, optim } = torch;
const { LambdaLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR } = optim.lrScheduler;
type Optimizer = torch.optim.Optimizer;

/** SGD with momentum 0.9 over one parameter per rate given (one group each). */
function sgd(...lrs: number[]): Optimizer {
  const groups = (lrs.length ? lrs : [0.1]).map((lr) => ({ params: [new nn.Parameter(torch.zeros([1]))], lr }));
  return new optim.SGD(groups, { lr: 0.1, momentum: 0.9 });
}

/** getLastLr() after construction, then after each of `steps` steps. */
function trace(scheduler: { step(): void; getLastLr(): number[] }, steps: number): number[][] {
  const out = [scheduler.getLastLr()];
  for (let i = 0; i < steps; i++) {
    scheduler.step();
    out.push(scheduler.getLastLr());
  }
  return out;
}

/** Rates in doubles: PyTorch's formulas in PyTorch's order give PyTorch's doubles (up to the platform's cosine). */
function expectRates(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(1e-12 * Math.abs(expected[i])));
}

describe("LambdaLR", () => {
  test("one function per group: lr = initialLr * fn(epoch)", () => {
    const opt = sgd(0.1, 0.2);
    const s = new LambdaLR(opt, [(e) => 0.95 ** e, (e) => 1 / (e + 1)]);
    expect(trace(s, 4)).toEqual([
      [0.1, 0.2],
      [0.095, 0.1],
      [0.09025, 0.06666666666666667],
      [0.0857375, 0.05],
      [0.081450625, 0.04000000000000001],
    ]);
  });

  test("one function for every group; its state dict leaves the functions out", () => {
    const opt = sgd(1, 2);
    const s = new LambdaLR(opt, (e) => 1 / (e + 1));
    s.step();
    expect(s.getLastLr()).toEqual([0.5, 1]);
    const saved = s.stateDict();
    expect(saved.lrLambdas).toEqual([null, null]);
    expect(saved.lastEpoch).toBe(1);
    const restored = new LambdaLR(sgd(1, 2), (e) => 1 / (e + 1));
    restored.loadStateDict(JSON.parse(JSON.stringify(saved)));
    restored.step();
    expect(restored.getLastLr()).toEqual([1 / 3, 2 / 3]);
  });

  test("as many functions as groups", () => {
    expect(() => new LambdaLR(sgd(0.1, 0.2), [() => 1])).toThrow("Expected 2 lr_lambdas, but got 1");
  });
});

describe("MultiStepLR, ExponentialLR, CosineAnnealingLR", () => {
  test("MultiStepLR: a milestone listed twice decays twice; the order given does not matter", () => {
    const s = new MultiStepLR(sgd(1), { milestones: [3, 3, 1], gamma: 0.5 });
    expect(trace(s, 4).map((r) => r[0])).toEqual([1, 0.5, 0.5, 0.125, 0.125]);
    expect(s.milestones).toEqual([1, 3, 3]);
    expect(s.closedFormLr()).toEqual([0.125]);
  });

  test("MultiStepLR defaults to gamma 0.1", () => {
    const s = new MultiStepLR(sgd(1), { milestones: [1] });
    expectRates(trace(s, 1)[1], [0.1]);
  });

  test("ExponentialLR: the recursive rates agree with the closed form", () => {
    const s = new ExponentialLR(sgd(0.1), { gamma: 0.7 });
    trace(s, 5);
    expectRates(s.getLastLr(), s.closedFormLr());
    expectRates(s.getLastLr(), [0.016806999999999996]);
  });

  test("CosineAnnealingLR resumed at lastEpoch 3: the first step takes the closed form, later ones recurse", () => {
    const opt = sgd(0.05);
    opt.paramGroups[0].initialLr = 0.1;
    const s = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001, lastEpoch: 3 });
    expectRates(
      trace(s, 3).map((r) => r[0]),
      [0.0657963412215599, 0.0505, 0.03520365877844011, 0.02140463001152259],
    );
    expect(s.stepCount).toBe(4);
  });

  test("CosineAnnealingLR: the recursion follows the closed form over a whole period and back", () => {
    const s = new CosineAnnealingLR(sgd(0.1), { tMax: 4 });
    for (let i = 0; i < 8; i++) {
      s.step();
      expect(Math.abs(s.getLastLr()[0] - s.closedFormLr()[0])).toBeLessThan(1e-15);
    }
    expectRates(s.getLastLr(), [0.1]);
  });
});

describe("OneCycleLR", () => {
  test("with Adam, three phases: the rate and betas[0] as PyTorch sets them; the groups keep the bounds", () => {
    const opt = new optim.Adam([new nn.Parameter(torch.zeros([1]))], { lr: 1, betas: [0.9, 0.99] });
    const s = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10, threePhase: true, divFactor: 10, finalDivFactor: 100 });
    const lrs = [s.getLastLr()[0]];
    const beta1 = [(opt.paramGroups[0].betas as number[])[0]];
    for (let i = 0; i < 9; i++) {
      s.step();
      lrs.push(s.getLastLr()[0]);
      beta1.push((opt.paramGroups[0].betas as number[])[0]);
    }
    expectRates(
      lrs,
      [
        0.0009999999999999992, 0.0055, 0.01, 0.0055000000000000005, 0.001, 0.000905463412215599, 0.000657963412215599,
        0.0003520365877844011, 0.00010453658778440107, 1e-5,
      ],
    );
    expectRates(beta1, [0.95, 0.8999999999999999, 0.85, 0.8999999999999999, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]);
    const { params: _params, ...group } = opt.paramGroups[0];
    expect(group).toEqual({
      lr: 1e-5,
      betas: [0.95, 0.99],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      initialLr: 0.001,
      maxLr: 0.01,
      minLr: 1e-5,
      maxMomentum: 0.95,
      baseMomentum: 0.85,
    });
  });

  test("with SGD: the momentum cycles between maxMomentum and baseMomentum", () => {
    const opt = sgd();
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 12 });
    const momentum = [opt.paramGroups[0].momentum as number];
    for (let i = 0; i < 11; i++) {
      s.step();
      momentum.push(opt.paramGroups[0].momentum as number);
    }
    expectRates(
      momentum,
      [
        0.95, 0.9177302443521267, 0.8625744625914449, 0.8505584586887436, 0.856698729810778, 0.8688255099070633, 0.8852622412794547,
        0.9037365046793212, 0.9216941869558779, 0.9366525935914912, 0.9465436874322102, 0.95,
      ],
    );
  });

  test("epochs * stepsPerEpoch is the same cycle as totalSteps; cycleMomentum false leaves the momentum", () => {
    const a = new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 12 });
    const opt = sgd();
    const b = new OneCycleLR(opt, { maxLr: 1, epochs: 3, stepsPerEpoch: 4, cycleMomentum: false });
    expect(trace(b, 11)).toEqual(trace(a, 11));
    expect(opt.paramGroups[0].momentum).toBe(0.9);
  });

  test("stepping past the cycle fails in PyTorch's words", () => {
    const s = new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow("Tried to step 5 times. The specified number of total steps is 3");
  });

  test.each([
    [{ maxLr: 1 }, "You must define either totalSteps OR (epochs AND stepsPerEpoch)"],
    [{ maxLr: 1, totalSteps: 0 }, "Expected positive integer totalSteps, but got 0"],
    [{ maxLr: 1, epochs: 2, stepsPerEpoch: 0 }, "Expected positive integer stepsPerEpoch, but got 0"],
    [{ maxLr: 1, totalSteps: 5, pctStart: 1.5 }, "Expected float between 0 and 1 pct_start, but got 1.5"],
    [{ maxLr: 1, totalSteps: 5, annealStrategy: "exp" }, "anneal_strategy must by one of 'cos' or 'linear', instead got exp"],
    [{ maxLr: [1, 2], totalSteps: 5 }, "expected 1 values for maxLr, got 2"],
    [{ totalSteps: 5 }, "OneCycleLR: maxLr is required"],
  ])("%j is rejected", (options, message) => {
    expect(() => new OneCycleLR(sgd(), options as never)).toThrow(message);
  });

  test("an optimizer without momentum cannot cycle it", () => {
    const adagrad = new optim.Adagrad([new nn.Parameter(torch.zeros([1]))]);
    expect(() => new OneCycleLR(adagrad, { maxLr: 1, totalSteps: 5 })).toThrow(
      "optimizer must support momentum with `cycleMomentum` option enabled",
    );
    expect(new OneCycleLR(adagrad, { maxLr: 1, totalSteps: 5, cycleMomentum: false }).getLastLr()).toEqual([0.040000000000000036]); // PyTorch's too
  });
});

describe("ReduceLROnPlateau", () => {
  test("mode max, an absolute threshold, cooldown, per-group floors and eps", () => {
    const opt = sgd(0.1, 0.04);
    const s = new ReduceLROnPlateau(opt, {
      mode: "max",
      factor: 0.5,
      patience: 0,
      threshold: 0.1,
      thresholdMode: "abs",
      cooldown: 2,
      minLr: [0.02, 0],
      eps: 1e-3,
    });
    const metrics = [0.5, 0.55, 0.7, 0.75, 0.79, 0.8, 0.95, 0.9, 0.9, 0.9, 0.9];
    const rates = metrics.map((m) => {
      s.step(m);
      return opt.paramGroups.map((g) => g.lr);
    });
    // The last reduction of group 1 (0.005 -> 0.0025) is more than eps; group 0 stops at its floor.
    expect(rates).toEqual([
      [0.1, 0.04],
      [0.05, 0.02],
      [0.05, 0.02],
      [0.05, 0.02],
      [0.025, 0.01],
      [0.025, 0.01],
      [0.025, 0.01],
      [0.02, 0.005],
      [0.02, 0.005],
      [0.02, 0.005],
      [0.02, 0.0025],
    ]);
    expect(s.getLastLr()).toEqual([0.02, 0.0025]);
    expect([s.best, s.numBadEpochs, s.cooldownCounter, s.lastEpoch]).toEqual([0.95, 0, 2, 11]);
  });

  test("a 0-d tensor is a metric too; a reduction smaller than eps is skipped", () => {
    const opt = sgd(1e-8);
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(torch.tensor(1));
    s.step(torch.tensor(1));
    expect(opt.paramGroups[0].lr).toBe(1e-8); // 1e-8 - 1e-9 is not more than eps = 1e-8
    expect(s.numBadEpochs).toBe(0);
  });

  test("its state dict resumes the same, through JSON too (where infinity, 'no best yet', becomes null)", () => {
    const make = () => new ReduceLROnPlateau(sgd(1), { factor: 0.5, patience: 1 });
    const metrics = [3, 2, 2, 2, 2, 1, 1, 1];
    const whole = make();
    metrics.forEach((m) => whole.step(m));
    const first = make();
    metrics.slice(0, 4).forEach((m) => first.step(m));
    const resumed = make();
    resumed.optimizer.loadStateDict(first.optimizer.stateDict());
    resumed.loadStateDict(JSON.parse(JSON.stringify(first.stateDict())));
    metrics.slice(4).forEach((m) => resumed.step(m));
    expect(resumed.stateDict()).toEqual(whole.stateDict());
    expect(resumed.getLastLr()).toEqual([0.25]);

    const unstarted = make();
    unstarted.loadStateDict(JSON.parse(JSON.stringify(make().stateDict())));
    expect(unstarted.best).toBe(Infinity);
  });

  test.each([
    [{ factor: 1 }, "Factor should be < 1.0."],
    [{ mode: "avg" }, "mode avg is unknown!"],
    [{ thresholdMode: "pct" }, "threshold mode pct is unknown!"],
    [{ minLr: [0.1, 0.2] }, "expected 1 min_lrs, got 2"],
  ])("%j is rejected", (options, message) => {
    expect(() => new ReduceLROnPlateau(sgd(), options as never)).toThrow(message);
  });
});

describe("scheduler state dicts", () => {
  test("a schedule resumed from a state dict continues exactly", () => {
    const makers = [
      (o: Optimizer) => new CosineAnnealingLR(o, { tMax: 5, etaMin: 0.01 }),
      (o: Optimizer) => new OneCycleLR(o, { maxLr: 1, totalSteps: 10 }),
      (o: Optimizer) => new MultiStepLR(o, { milestones: [2, 4], gamma: 0.5 }),
      (o: Optimizer) => new StepLR(o, { stepSize: 2 }),
    ];
    for (const make of makers) {
      const whole = trace(make(sgd(0.1)), 8);
      const firstOpt = sgd(0.1);
      const first = make(firstOpt);
      const head = trace(first, 3);
      // The optimizer's groups (rates, bounds, momentum) travel with the optimizer's state dict.
      const opt = sgd(0.1);
      opt.loadStateDict(firstOpt.stateDict());
      const resumed = make(opt);
      resumed.loadStateDict(first.stateDict());
      expect([...head, ...trace(resumed, 5).slice(1)]).toEqual(whole);
    }
  });
});
