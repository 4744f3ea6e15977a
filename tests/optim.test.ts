import * as torch from "torchlet";

const { nn, optim } = torch;
const { StepLR, LinearLR } = optim.lrScheduler;

const f32 = Math.fround;

/** A float32 parameter with a given gradient. */
function param(values: number[], grad?: number[]): torch.Tensor {
  const p = new nn.Parameter(torch.tensor(values));
  if (grad) p.grad = torch.tensor(grad);
  return p;
}

const values = (t: torch.Tensor): number[] => Array.from(t.toArray());

describe("SGD options", () => {
  const p = () => [param([1, 2])];

  test.each([
    [{ lr: -1 }, "Invalid learning rate: -1.0"],
    [{ lr: -0.5 }, "Invalid learning rate: -0.5"],
    [{ lr: NaN }, "Invalid learning rate: nan"],
    [{ lr: 0.1, momentum: -0.1 }, "Invalid momentum value: -0.1"],
    [{ lr: 0.1, weightDecay: -1 }, "Invalid weight_decay value: -1.0"],
    [{ lr: 0.1, nesterov: true }, "Nesterov momentum requires a momentum and zero dampening"],
    [{ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, "Nesterov momentum requires a momentum and zero dampening"],
  ])("%j is rejected", (options, message) => {
    expect(() => new optim.SGD(p(), options as torch.optim.SGDOptions)).toThrow(message);
  });

  test("lr is required, as in PyTorch 1.13", () => {
    expect(() => new optim.SGD(p(), {} as torch.optim.SGDOptions)).toThrow(
      "parameter group didn't specify a value of required optimization parameter lr",
    );
    // A group may supply it instead of the defaults.
    const opt = new optim.SGD([{ params: p(), lr: 0.3 }], {} as torch.optim.SGDOptions);
    expect(opt.paramGroups[0].lr).toBe(0.3);
  });

  test("the parameters must be an iterable of leaf tensors", () => {
    expect(() => new optim.SGD(param([1]) as never, { lr: 1 })).toThrow(
      "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor",
    );
    expect(() => new optim.SGD([], { lr: 1 })).toThrow("optimizer got an empty parameter list");
    expect(() => new optim.SGD([1 as never], { lr: 1 })).toThrow("optimizer can only optimize Tensors, but one of the params is number");
    const leaf = torch.tensor([1, 2], { requiresGrad: true });
    expect(() => new optim.SGD([leaf.mul(2)], { lr: 1 })).toThrow("can't optimize a non-leaf Tensor");
    expect(() => new optim.SGD([{ params: new Set([leaf]) as never }], { lr: 1 })).toThrow(/ordering of tensors in sets/);
    expect(() => new optim.SGD([{ params: [leaf] }, { params: [leaf] }], { lr: 1 })).toThrow(
      "some parameters appear in more than one parameter group",
    );
  });

  test("groups fill in the defaults and are validated", () => {
    const a = param([1]);
    const b = param([2]);
    const opt = new optim.SGD([{ params: [a] }, { params: b, lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum, g.dampening, g.weightDecay, g.nesterov, g.maximize])).toEqual([
      [0.1, 0, 0, 0, false, false],
      [0.5, 0.9, 0, 0, false, false],
    ]);
    expect(opt.paramGroups[1].params).toEqual([b]);
    expect(() => opt.addParamGroup({ params: [param([3])], lr: -2 })).toThrow("Invalid learning rate: -2.0");
  });
});

describe("SGD updates", () => {
  test("plain SGD: p - lr * g, rounded to float32", () => {
    const p = param([1, -2, 0.5], [0.5, -1, 3]);
    new optim.SGD([p], { lr: 0.1 }).step();
    expect(values(p)).toEqual([f32(1 - f32(0.1) * 0.5), f32(-2 + f32(0.1) * 1), f32(0.5 - f32(0.1) * 3)]);
  });

  test("momentum: the first buffer is the gradient itself, later ones m*buf + (1-dampening)*g", () => {
    const p = param([1], [1]);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    opt.step(); // buf = 1 (no dampening on the first step)
    expect(values(p)[0]).toBeCloseTo(0.9, 6);
    p.grad = torch.tensor([2]);
    opt.step(); // buf = 0.9 * 1 + 0.5 * 2 = 1.9
    expect(values(p)[0]).toBeCloseTo(0.9 - 0.19, 6);
    expect(values(opt.state.get(p)!.momentumBuffer as torch.Tensor)[0]).toBeCloseTo(1.9, 6);
  });

  test("nesterov uses g + m * buf", () => {
    const p = param([0], [1]);
    const opt = new optim.SGD([p], { lr: 1, momentum: 0.5, nesterov: true });
    opt.step(); // buf = 1, d = 1 + 0.5 = 1.5
    expect(values(p)[0]).toBeCloseTo(-1.5, 6);
    opt.step(); // buf = 0.5 + 1 = 1.5, d = 1 + 0.75 = 1.75
    expect(values(p)[0]).toBeCloseTo(-3.25, 6);
  });

  test("weight decay adds wd * p to the gradient, before momentum", () => {
    const p = param([2], [1]);
    const opt = new optim.SGD([p], { lr: 0.5, weightDecay: 0.1, momentum: 0.9 });
    opt.step(); // d = 1 + 0.2 = 1.2 -> p = 2 - 0.6
    expect(values(p)[0]).toBeCloseTo(1.4, 6);
    opt.step(); // d = 1 + 0.14 = 1.14, buf = 0.9 * 1.2 + 1.14 = 2.22 -> p = 1.4 - 1.11
    expect(values(p)[0]).toBeCloseTo(0.29, 5);
  });

  test("maximize climbs the gradient", () => {
    const p = param([1], [2]);
    new optim.SGD([p], { lr: 0.25, maximize: true }).step();
    expect(values(p)).toEqual([1.5]);
  });

  test("float64 parameters are updated in double precision", () => {
    const p = new nn.Parameter(torch.tensor([1], { dtype: "float64" }));
    p.grad = torch.tensor([1 / 3], { dtype: "float64" });
    new optim.SGD([p], { lr: 0.1 }).step();
    expect(values(p)[0]).toBe(1 - 0.1 * (1 / 3));
  });

  test("parameters without a gradient are skipped; each group uses its own lr", () => {
    const a = param([1], [1]);
    const b = param([1], [1]);
    const c = param([1]);
    new optim.SGD([{ params: [a] }, { params: [b, c], lr: 1 }], { lr: 0.5 }).step();
    expect([values(a)[0], values(b)[0], values(c)[0]]).toEqual([0.5, 0, 1]);
  });

  test("the update is in place: the parameter keeps its storage", () => {
    const p = param([1, 2], [1, 1]);
    const storage = p.nd.data;
    new optim.SGD([p], { lr: 1 }).step();
    expect(p.nd.data).toBe(storage);
  });

  test("step(closure) evaluates the loss with grad mode on and returns it", () => {
    const w = new nn.Parameter(torch.tensor([3]));
    const opt = new optim.SGD([w], { lr: 0.1 });
    const loss = torch.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.mul(w).sum();
        l.backward();
        return l;
      }),
    ) as torch.Tensor;
    expect(loss.item()).toBe(9);
    expect(values(w)[0]).toBeCloseTo(3 - 0.6, 6);
  });

  test("a Linear model fits a line", () => {
    torch.manualSeed(0);
    const model = new nn.Linear(1, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = torch.tensor([[0], [1], [2], [3]]);
    const y = torch.tensor([[1], [3], [5], [7]]);
    for (let i = 0; i < 300; i++) {
      opt.zeroGrad();
      const loss = model.forward(x).sub(y).pow(2).mean();
      loss.backward();
      opt.step();
    }
    expect(model.weight.item()).toBeCloseTo(2, 3);
    expect(model.bias!.item()).toBeCloseTo(1, 3);
  });
});

describe("Optimizer.zeroGrad and state dicts", () => {
  test("zeroGrad sets gradients to null by default, or zeroes them in place", () => {
    const p = param([1, 2], [3, 4]);
    const opt = new optim.SGD([p], { lr: 1 });
    const grad = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(grad);
    expect(values(grad)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  test("stateDict numbers the parameters and keeps camelCase options", () => {
    const a = param([1], [1]);
    const b = param([2, 3], [1, 1]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const sd = opt.stateDict();
    expect(sd.paramGroups).toEqual([
      { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, params: [0] },
      { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, params: [1] },
    ]);
    expect(Object.keys(sd.state)).toEqual(["0", "1"]);
    expect(values(sd.state[1].momentumBuffer as torch.Tensor)).toEqual([1, 1]);
  });

  test("without momentum the state holds a null buffer, as PyTorch's does", () => {
    const p = param([1], [1]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    opt.step();
    expect(opt.stateDict().state).toEqual({ 0: { momentumBuffer: null } });
  });

  test("loadStateDict resumes a run exactly", () => {
    const run = (resume: boolean): number[] => {
      const p = param([1, -1]);
      let opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true });
      for (let i = 0; i < 6; i++) {
        if (resume && i === 3) {
          const saved = JSON.parse(JSON.stringify({ paramGroups: opt.stateDict().paramGroups }));
          const state = opt.stateDict().state;
          opt = new optim.SGD([p], { lr: 99 });
          opt.loadStateDict({ paramGroups: saved.paramGroups, state });
        }
        p.grad = torch.tensor([Math.sin(i), Math.cos(i)]);
        opt.step();
      }
      return values(p);
    };
    expect(run(true)).toEqual(run(false));
  });

  test("loadStateDict copies the saved buffers and rejects mismatched groups", () => {
    const p = param([1], [1]);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const sd = opt.stateDict();
    const other = new optim.SGD([param([1])], { lr: 0.1, momentum: 0.9 });
    other.loadStateDict(sd);
    const [[, state]] = [...other.state];
    expect(state.momentumBuffer).not.toBe(sd.state[0].momentumBuffer);
    expect(() => new optim.SGD([param([1]), param([2])], { lr: 1 }).loadStateDict(sd)).toThrow(
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
    );
    expect(() => new optim.SGD([{ params: [param([1])] }, { params: [param([2])] }], { lr: 1 }).loadStateDict(sd)).toThrow(
      "loaded state dict has a different number of parameter groups",
    );
  });
});

describe("learning-rate schedulers", () => {
  const sgd = (lr = 1) => new optim.SGD([param([1])], { lr });

  /** getLastLr after construction, then after each of `steps` steps. */
  function trace(scheduler: { step(): void; getLastLr(): number[] }, steps: number): number[] {
    const out = [scheduler.getLastLr()[0]];
    for (let i = 0; i < steps; i++) {
      scheduler.step();
      out.push(scheduler.getLastLr()[0]);
    }
    return out;
  }

  test("StepLR multiplies by gamma every stepSize epochs", () => {
    const opt = sgd(1);
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    expect(trace(s, 6)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]);
    expect(opt.paramGroups[0].lr).toBe(0.125);
    expect(opt.paramGroups[0].initialLr).toBe(1);
    expect(s.lastEpoch).toBe(6);
  });

  test("StepLR defaults to gamma 0.1 and rejects a bad stepSize", () => {
    const s = new StepLR(sgd(0.5), { stepSize: 1 });
    const lrs = trace(s, 2);
    expect(lrs[0]).toBe(0.5);
    expect(lrs[1]).toBeCloseTo(0.05, 12);
    expect(lrs[2]).toBeCloseTo(0.005, 12);
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow(/stepSize/);
  });

  test("LinearLR ramps from startFactor to endFactor over totalIters, then holds", () => {
    const s = new LinearLR(sgd(1), { startFactor: 0.5, endFactor: 1, totalIters: 4 });
    const lrs = trace(s, 6);
    [0.5, 0.625, 0.75, 0.875, 1, 1, 1].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 12));
  });

  test("LinearLR defaults: a third of the rate rising to all of it over 5 steps", () => {
    const s = new LinearLR(sgd(0.3));
    const lrs = trace(s, 7);
    const expected = [0, 1, 2, 3, 4, 5, 5, 5].map((k) => 0.3 * (1 / 3 + ((2 / 3) * k) / 5));
    expected.forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 12));
    expect(s.closedFormLr()[0]).toBeCloseTo(0.3, 12);
  });

  test("LinearLR can decay to zero, as the text classifier uses it", () => {
    const s = new LinearLR(sgd(0.5), { startFactor: 1, endFactor: 0, totalIters: 4 });
    const lrs = trace(s, 5);
    [0.5, 0.375, 0.25, 0.125, 0, 0].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 12));
  });

  test("LinearLR validates its factors in PyTorch's words", () => {
    expect(() => new LinearLR(sgd(), { startFactor: 0 })).toThrow(
      "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.",
    );
    expect(() => new LinearLR(sgd(), { startFactor: 1.5 })).toThrow(/Starting multiplicative factor/);
    expect(() => new LinearLR(sgd(), { endFactor: 2 })).toThrow("Ending multiplicative factor expected to be between 0 and 1.");
  });

  test("schedulers chain: each one scales the rate the other left", () => {
    const opt = sgd(1);
    const warm = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    const decay = new StepLR(opt, { stepSize: 3, gamma: 0.1 });
    const lrs: number[] = [opt.paramGroups[0].lr];
    for (let i = 0; i < 4; i++) {
      warm.step();
      decay.step();
      lrs.push(opt.paramGroups[0].lr);
    }
    [0.5, 0.75, 1, 0.1, 0.1].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 12));
  });

  test("resuming needs initialLr in every group", () => {
    expect(() => new StepLR(sgd(), { stepSize: 1, lastEpoch: 3 })).toThrow(
      "param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer",
    );
  });

  test("SGD follows the scheduled rate", () => {
    const p = param([0]);
    const opt = new optim.SGD([p], { lr: 1 });
    const s = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    for (let i = 0; i < 3; i++) {
      p.grad = torch.tensor([1]);
      opt.step();
      s.step();
    }
    expect(values(p)[0]).toBeCloseTo(-(1 + 0.5 + 0.25), 6);
  });
});

test("a step changes the parameters in place: their version rises, and a graph that saved them fails at backward", () => {
  const w = torch.tensor([1, 2, 3], { requiresGrad: true });
  const optimizer = new torch.optim.SGD([w], { lr: 0.1 });
  const loss = w.mul(w).sum(); // MulBackward0 saves w
  loss.backward(undefined, { retainGraph: true });
  optimizer.step();
  expect(w.version).toBe(1);
  expect(() => loss.backward(undefined, { retainGraph: true })).toThrow(
    "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]] is at version 1; expected version 0 instead.",
  );
});
