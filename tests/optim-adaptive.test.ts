/**
 * Adam, AdamW, RMSprop and Adagrad beyond the golden trajectories: the update given PyTorch's
 * own gradients (bit for bit), the state and state dicts, parameter groups, and the argument
 * errors in PyTorch's words.
 */
import * as torch from "torchlet";

const { nn, optim } = torch;
type Tensor = torch.Tensor;
type Optimizer = torch.optim.Optimizer;

const values = (t: Tensor): number[] => Array.from(t.toArray());
const f32 = (xs: number[]): number[] => xs.map(Math.fround);

/** Three steps on one parameter with these gradients, as in the PyTorch script below. */
const P0 = [0.5, -1.25, 2.0, 0.0, -0.001, 3.5];
const GRADS = [
  [0.1, -0.2, 0.0, 1.5, -3.0, 0.25],
  [0.3, 0.0, -0.7, 0.01, 2.0, -1.0],
  [-0.05, 0.4, 0.6, -2.5, 0.0, 0.125],
];

function run(make: (params: Tensor[]) => Optimizer, grads = GRADS): { p: Tensor; optimizer: Optimizer } {
  const p = new nn.Parameter(torch.tensor(P0));
  const optimizer = make([p]);
  for (const g of grads) {
    p.grad = torch.tensor(g);
    optimizer.step();
  }
  return { p, optimizer };
}

/**
 * PyTorch 1.13's results (float32), from:
 *   p = torch.tensor(P0, requires_grad=True); opt = torch.optim.NAME([p], **options)
 *   for g in GRADS: p.grad = torch.tensor(g); opt.step()
 */
const PYTORCH: Array<[string, (params: Tensor[]) => Optimizer, number[], Record<string, number[] | number>]> = [
  [
    "Adam lr 0.1",
    (ps) => new optim.Adam(ps, { lr: 0.1 }),
    [0.24813059, -1.1169976, 2.076493, -0.13953485, 0.12462354, 3.491191],
    {
      step: 3,
      expAvg: [0.030099997, 0.0238, -0.0029999977, -0.1276, -0.06300001, -0.057249997],
      expAvgSq: [0.00010239002, 0.00019992005, 0.00084951, 0.008495603, 0.012978009, 0.0010770002],
    },
  ],
  [
    "Adam with betas, weight decay, amsgrad and maximize",
    (ps) => new optim.Adam(ps, { lr: 0.05, betas: [0.8, 0.9], weightDecay: 0.1, amsgrad: true, maximize: true }),
    [0.60907316, -1.2458596, 1.8905709, 0.062471807, -0.058349308, 3.37561],
    {
      step: 3,
      expAvg: [-0.023725437, -0.11683829, 0.08691693, 0.30881518, 0.062064383, 0.27119067],
      expAvgSq: [0.0068009915, 0.029875245, 0.09209434, 0.81129676, 1.0907929, 0.16828586],
      maxExpAvgSq: [0.0068009915, 0.029875245, 0.09209434, 0.81129676, 1.2119887, 0.18180253],
    },
  ],
  [
    "Adam with a large eps, where each rounding of the denominator shows",
    (ps) => new optim.Adam(ps, { lr: 0.1, eps: 0.37, betas: [0.7, 0.95] }),
    [0.42498562, -1.2205647, 2.0417278, -0.085509, 0.0913682, 3.5248458],
    {
      step: 3,
      expAvg: [0.0627, 0.09060001, 0.033000015, -0.5274, -0.02099998, -0.13575],
      expAvgSq: [0.00485125, 0.009805, 0.041275002, 0.414036, 0.596125, 0.05110156],
    },
  ],
  [
    "AdamW with weight decay 0.5",
    (ps) => new optim.AdamW(ps, { lr: 0.1, weightDecay: 0.5 }),
    [0.19115698, -0.95181656, 1.7875222, -0.12640981, 0.11429356, 2.9989557],
    {
      step: 3,
      expAvg: [0.030099997, 0.0238, -0.0029999977, -0.1276, -0.06300001, -0.057249997],
      expAvgSq: [0.00010239002, 0.00019992005, 0.00084951, 0.008495603, 0.012978009, 0.0010770002],
    },
  ],
  [
    "RMSprop centered with momentum",
    (ps) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.9, centered: true }),
    [0.061635464, -1.0673499, 2.1256862, -0.18761621, 0.16556692, 3.400386],
    {
      step: 3,
      squareAvg: [0.00101401, 0.00199204, 0.008451, 0.084553234, 0.127809, 0.010668812],
      momentumBuffer: [15.172632, 0.83069324, -2.5182524, -0.40143585, -3.1293066, 0.5959439],
      gradAvg: [0.0034500998, 0.0020397997, -0.0009299996, -0.010199499, -0.009603, -0.00619975],
    },
  ],
  [
    "RMSprop with alpha, weight decay and eps",
    (ps) => new optim.RMSprop(ps, { lr: 0.01, alpha: 0.5, weightDecay: 0.2, eps: 1e-3 }),
    [0.4705992, -1.2339706, 1.9826553, -0.00068471674, 0.00342765, 3.479747],
    { step: 3, squareAvg: [0.045431975, 0.05252969, 0.5421666, 3.413379, 2.1277792, 0.4746792] },
  ],
  [
    "Adagrad with lrDecay, weight decay and an initial accumulator",
    (ps) => new optim.Adagrad(ps, { lr: 0.5, lrDecay: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0.2 }),
    [0.14131688, -1.1868315, 1.9681815, -0.121014625, 0.2398019, 3.406784],
    { step: 3, sum: [0.31890818, 0.39552703, 1.0844697, 8.819535, 13.299762, 1.1806315] },
  ],
  [
    "Adagrad maximizing",
    (ps) => new optim.Adagrad(ps, { lr: 0.5, maximize: true }),
    [1.3962548, -1.3027864, 1.8253957, 0.07458931, -0.22364989, 3.5751216],
    { step: 3, sum: [0.10250001, 0.2, 0.85, 8.5001, 13.0, 1.078125] },
  ],
];

describe("updates given PyTorch's gradients", () => {
  test.each(PYTORCH)("%s: parameters and state bit for bit", (_name, make, final, state) => {
    const { p, optimizer } = run(make);
    expect(values(p)).toEqual(f32(final));
    const saved = optimizer.state.get(p)!;
    expect(Object.keys(saved).sort()).toEqual(Object.keys(state).sort());
    for (const [key, expected] of Object.entries(state)) {
      const actual = saved[key];
      if (typeof expected === "number") {
        // Adam and Adagrad count in a 0-d float32 tensor, as PyTorch does; RMSprop in a number.
        expect(typeof actual === "number" ? actual : (actual as Tensor).item()).toBe(expected);
      } else {
        expect(values(actual as Tensor)).toEqual(f32(expected));
      }
    }
  });

  test("the step counter is a 0-d float32 tensor for Adam and Adagrad, a number for RMSprop", () => {
    const adam = run((ps) => new optim.Adam(ps)).optimizer;
    const step = [...adam.state.values()][0].step as Tensor;
    expect([step.shape, step.dtype, step.item()]).toEqual([[], "float32", 3]);
    const rms = run((ps) => new optim.RMSprop(ps)).optimizer;
    expect([...rms.state.values()][0].step).toBe(3);
  });

  test("a parameter without a gradient is skipped and gets no state (Adagrad's is made up front)", () => {
    const a = new nn.Parameter(torch.tensor([1, 2]));
    const b = new nn.Parameter(torch.tensor([3]));
    a.grad = torch.tensor([0.5, -0.5]);
    for (const optimizer of [new optim.Adam([a, b]), new optim.AdamW([a, b]), new optim.RMSprop([a, b])]) {
      optimizer.step();
      expect(values(b)).toEqual([3]);
      expect(optimizer.state.has(b)).toBe(false);
    }
    const adagrad = new optim.Adagrad([a, b], { initialAccumulatorValue: 0.5 });
    expect(values(adagrad.state.get(b)!.sum as Tensor)).toEqual([0.5]);
    adagrad.step();
    expect(values(b)).toEqual([3]);
    expect((adagrad.state.get(b)!.step as Tensor).item()).toBe(0);
    expect((adagrad.state.get(a)!.step as Tensor).item()).toBe(1);
  });

  test("Adagrad with eps 0 and an empty accumulator gives NaN where the gradient is 0, as PyTorch's 0 / 0 does", () => {
    const p = new nn.Parameter(torch.tensor([1, 2, 3, 4]));
    const optimizer = new optim.Adagrad([p], { lr: 0.1, eps: 0 });
    p.grad = torch.tensor([0.5, -0.5, 0, 0]);
    optimizer.step();
    expect(values(p)).toEqual([Math.fround(0.9), Math.fround(2.1), NaN, NaN]);
  });

  test("float64 parameters are updated in double precision", () => {
    const p = new nn.Parameter(torch.tensor([1], { dtype: "float64" }));
    p.grad = torch.tensor([0.25], { dtype: "float64" });
    new optim.Adam([p], { lr: 0.1 }).step();
    // First step: m = 0.1 g, v = 0.001 g^2, so p = 1 - 0.1 * (0.1 g / 0.1) / (|g| + eps).
    expect(values(p)[0]).toBeCloseTo(1 - (0.1 * 0.25) / (0.25 + 1e-8), 14);
    expect(p.dtype).toBe("float64");
  });
});

describe("defaults and parameter groups", () => {
  test("the defaults of PyTorch 1.13, in the groups and the state dict", () => {
    const p = () => [new nn.Parameter(torch.zeros([1]))];
    const groups = (o: Optimizer) => {
      const { params, ...options } = o.stateDict().paramGroups[0];
      expect(params).toEqual([0]);
      return options;
    };
    const adam = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
    expect(groups(new optim.Adam(p()))).toEqual(adam);
    expect(groups(new optim.AdamW(p()))).toEqual({ ...adam, weightDecay: 1e-2 });
    expect(groups(new optim.RMSprop(p()))).toEqual({
      lr: 1e-2,
      momentum: 0,
      alpha: 0.99,
      eps: 1e-8,
      centered: false,
      weightDecay: 0,
      maximize: false,
    });
    expect(groups(new optim.Adagrad(p()))).toEqual({
      lr: 1e-2,
      lrDecay: 0,
      eps: 1e-10,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      maximize: false,
    });
  });

  test("each group updates with its own options, exactly as if it had its own optimizer", () => {
    const makers: Array<(groups: Array<{ params: Tensor[] } & Record<string, unknown>>) => Optimizer> = [
      (g) => new optim.Adam(g, { lr: 0.1 }),
      (g) => new optim.AdamW(g, { lr: 0.1 }),
      (g) => new optim.RMSprop(g, { lr: 0.1 }),
      (g) => new optim.Adagrad(g, { lr: 0.1 }),
    ];
    const second = { lr: 0.03, betas: [0.5, 0.6], amsgrad: true, weightDecay: 0.2, momentum: 0.7, centered: true, lrDecay: 0.5 };
    for (const make of makers) {
      const a = new nn.Parameter(torch.tensor(P0));
      const b = new nn.Parameter(torch.tensor(P0));
      const together = make([{ params: [a] }, { params: [b], ...second }]);
      const aloneA = run((ps) => make([{ params: ps }])).p;
      const aloneB = run((ps) => make([{ params: ps, ...second }])).p;
      for (const g of GRADS) {
        a.grad = torch.tensor(g);
        b.grad = torch.tensor(g);
        together.step();
      }
      expect(values(a)).toEqual(values(aloneA));
      expect(values(b)).toEqual(values(aloneB));
      expect(values(a)).not.toEqual(values(b));
    }
  });

  test("a group's options are checked when it is added", () => {
    const adam = new optim.Adam([new nn.Parameter(torch.zeros([1]))]);
    expect(() => adam.addParamGroup({ params: [new nn.Parameter(torch.zeros([1]))], betas: [0.9, 1] })).toThrow(
      "Invalid beta parameter at index 1: 1.0",
    );
    expect(adam.paramGroups).toHaveLength(1);
  });

  test("a group added to Adagrad later gets its state at once, with its own initial accumulator", () => {
    const adagrad = new optim.Adagrad([new nn.Parameter(torch.zeros([1]))], { initialAccumulatorValue: 0.1 });
    const q = new nn.Parameter(torch.zeros([2]));
    adagrad.addParamGroup({ params: [q], initialAccumulatorValue: 0.25 });
    expect(values(adagrad.state.get(q)!.sum as Tensor)).toEqual([0.25, 0.25]);
  });
});

describe("state dicts", () => {
  const makers: Array<[string, (params: Tensor[]) => Optimizer]> = [
    ["Adam amsgrad", (ps) => new optim.Adam(ps, { lr: 0.05, amsgrad: true })],
    ["AdamW", (ps) => new optim.AdamW(ps, { lr: 0.05 })],
    ["RMSprop centered with momentum", (ps) => new optim.RMSprop(ps, { momentum: 0.5, centered: true })],
    ["Adagrad with lrDecay", (ps) => new optim.Adagrad(ps, { lr: 0.3, lrDecay: 0.2 })],
  ];

  test.each(makers)("%s: a run resumed from the state dict ends bit for bit where the whole run does", (_name, make) => {
    const whole = run(make, [...GRADS, ...GRADS]).p;
    const { p, optimizer } = run(make);
    const saved = optimizer.stateDict();
    const tensorsOf = (state: Record<string, unknown>): number[][] =>
      Object.values(state).flatMap((v) => (v instanceof torch.Tensor ? [values(v)] : []));
    const before = tensorsOf(saved.state[0]);
    const resumed = new nn.Parameter(p.detach().clone());
    // A fresh optimizer with other options: the loaded groups bring the saved ones back.
    const other = make([resumed]);
    other.paramGroups[0].lr = 99;
    other.loadStateDict(saved);
    expect(other.paramGroups[0].lr).toBe(optimizer.paramGroups[0].lr);
    for (const g of GRADS) {
      resumed.grad = torch.tensor(g);
      other.step();
    }
    expect(values(resumed)).toEqual(values(whole));
    // The loaded state is a copy: the saved tensors did not move with the resumed run.
    expect(tensorsOf(saved.state[0])).toEqual(before);
  });

  test("the state dict holds PyTorch's per-parameter entries under camelCase names", () => {
    const keys = (make: (ps: Tensor[]) => Optimizer): string[] => Object.keys(run(make).optimizer.stateDict().state[0]);
    expect(keys((ps) => new optim.Adam(ps))).toEqual(["step", "expAvg", "expAvgSq"]);
    expect(keys((ps) => new optim.Adam(ps, { amsgrad: true }))).toEqual(["step", "expAvg", "expAvgSq", "maxExpAvgSq"]);
    expect(keys((ps) => new optim.RMSprop(ps))).toEqual(["step", "squareAvg"]);
    expect(keys((ps) => new optim.RMSprop(ps, { momentum: 0.9, centered: true }))).toEqual([
      "step",
      "squareAvg",
      "momentumBuffer",
      "gradAvg",
    ]);
    expect(keys((ps) => new optim.Adagrad(ps))).toEqual(["step", "sum"]);
  });

  test("loading casts buffers to a float64 parameter's dtype but keeps the float32 step counter", () => {
    const { optimizer } = run((ps) => new optim.Adam(ps));
    const p64 = new nn.Parameter(torch.tensor(P0, { dtype: "float64" }));
    const other = new optim.Adam([p64]);
    other.loadStateDict(optimizer.stateDict());
    const state = other.state.get(p64)!;
    expect((state.expAvg as Tensor).dtype).toBe("float64");
    expect((state.step as Tensor).dtype).toBe("float32");
    p64.grad = torch.tensor(GRADS[0], { dtype: "float64" });
    other.step();
    expect((state.step as Tensor).item()).toBe(4);
  });
});

describe("argument errors in PyTorch's words", () => {
  const p = () => [new nn.Parameter(torch.zeros([2]))];

  test.each([
    ["Adam", { lr: -1 }, "Invalid learning rate: -1.0"],
    ["Adam", { eps: -1e-8 }, "Invalid epsilon value: -1e-08"],
    ["Adam", { betas: [-0.5, 0.9] }, "Invalid beta parameter at index 0: -0.5"],
    ["Adam", { betas: [0.9, 1] }, "Invalid beta parameter at index 1: 1.0"],
    ["Adam", { weightDecay: -0.1 }, "Invalid weight_decay value: -0.1"],
    ["AdamW", { lr: NaN }, "Invalid learning rate: nan"],
    ["AdamW", { betas: [1.5, 0.9] }, "Invalid beta parameter at index 0: 1.5"],
    ["AdamW", { weightDecay: -1e16 }, "Invalid weight_decay value: -1e+16"],
    ["RMSprop", { lr: -1e-5 }, "Invalid learning rate: -1e-05"],
    ["RMSprop", { eps: -0.0001 }, "Invalid epsilon value: -0.0001"],
    ["RMSprop", { momentum: -0.9 }, "Invalid momentum value: -0.9"],
    ["RMSprop", { weightDecay: -123.5 }, "Invalid weight_decay value: -123.5"],
    ["RMSprop", { alpha: -Infinity }, "Invalid alpha value: -inf"],
    ["Adagrad", { lr: -1234567890123456 }, "Invalid learning rate: -1234567890123456.0"],
    ["Adagrad", { lrDecay: -2 }, "Invalid lr_decay value: -2.0"],
    ["Adagrad", { weightDecay: -0.25 }, "Invalid weight_decay value: -0.25"],
    ["Adagrad", { initialAccumulatorValue: -1 }, "Invalid initial_accumulator_value value: -1.0"],
    ["Adagrad", { eps: -1e-10 }, "Invalid epsilon value: -1e-10"],
  ])("%s %j", (type, options, message) => {
    const Type = optim[type as "Adam"] as unknown as new (ps: Tensor[], o: unknown) => Optimizer;
    let thrown: unknown = null;
    try {
      new Type(p(), options);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).toBe(message);
  });

  test("the first bad option in PyTorch's order is the one reported", () => {
    expect(() => new optim.Adam(p(), { lr: -1, eps: -1 })).toThrow("Invalid learning rate: -1.0");
    expect(() => new optim.RMSprop(p(), { alpha: -1, momentum: -1 })).toThrow("Invalid momentum value: -1.0");
    expect(() => new optim.Adagrad(p(), { eps: -1, initialAccumulatorValue: -1 })).toThrow("Invalid initial_accumulator_value value: -1.0");
  });
});
