import * as torch from "torchlet";

const { nn, optim, autograd } = torch;
const { init } = nn;

const values = (t: torch.Tensor): number[] => Array.from(t.toArray());
const f64 = (data: torch.NestedArray, requiresGrad = true) => torch.tensor(data, { dtype: "float64", requiresGrad });

/** Replaces a module's parameter field by any tensor, so that gradcheck can differentiate through it. */
function setField(module: torch.nn.Module, name: string, value: torch.Tensor | null): void {
  (module as unknown as Record<string, unknown>)[name] = value;
}

class Net extends nn.Module {
  encoder = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
  drop = new nn.Dropout(0.5);
  head = new nn.Linear(2, 1);
  scale = new nn.Parameter(torch.ones([1]));

  forward(x: torch.Tensor): torch.Tensor {
    return this.head.forward(this.drop.forward(this.encoder.forward(x))).mul(this.scale);
  }
}

describe("Module features on nested models", () => {
  test("namedParameters: dotted names, a module's own parameters before its children's, as PyTorch lists them", () => {
    const net = new Net();
    expect(net.namedParameters().map(([name]) => name)).toEqual([
      "scale",
      "encoder.0.weight",
      "encoder.0.bias",
      "encoder.2.weight",
      "encoder.2.bias",
      "head.weight",
      "head.bias",
    ]);
    expect(net.parameters().map((p) => p.shape)).toEqual([[1], [3, 4], [3], [2, 3], [2], [1, 2], [1]]);
    expect(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf)).toBe(true);
  });

  test("stateDict keys in PyTorch's order: each module's parameters, then its buffers, then its children's", () => {
    const net = new Net();
    net.registerBuffer("steps", torch.zeros([1]));
    // PyTorch 1.13 lists the same module's keys as: scale, steps, encoder.0.weight, ... head.bias.
    expect(Object.keys(net.stateDict())).toEqual([
      "scale",
      "steps",
      "encoder.0.weight",
      "encoder.0.bias",
      "encoder.2.weight",
      "encoder.2.bias",
      "head.weight",
      "head.bias",
    ]);
  });

  test("children and namedChildren are the direct sub-modules", () => {
    const net = new Net();
    expect(net.namedChildren().map(([name]) => name)).toEqual(["encoder", "drop", "head"]);
    expect(net.children()[0]).toBe(net.encoder);
    expect(net.encoder.namedChildren().map(([name]) => name)).toEqual(["0", "1", "2"]);
  });

  test("train() and eval() reach every module below", () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().length).toBe(7);
    expect(net.modules().some((m) => m.training)).toBe(false);
    expect(net.drop.training).toBe(false);
    net.train();
    expect(net.encoder.at(2).training).toBe(true);
  });

  test("zeroGrad clears every parameter's gradient", () => {
    torch.manualSeed(0);
    const net = new Net();
    net.eval();
    net
      .forward(torch.randn([5, 4]))
      .sum()
      .backward();
    expect(net.parameters().filter((p) => p.grad !== null).length).toBe(7);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test("zeroGrad({ setToNone: false }) zeroes in place, as PyTorch's zero_(): +0 everywhere, the same tensor kept", () => {
    const net = new Net();
    const weight = net.head.weight;
    const grad = torch.tensor([[-3, Number.NaN]]);
    weight.grad = grad;
    net.zeroGrad({ setToNone: false });
    expect(weight.grad).toBe(grad);
    expect(Array.from(grad.toArray()).map((v) => Object.is(v, 0))).toEqual([true, true]);
    weight.grad = torch.tensor([[Number.NEGATIVE_INFINITY, -0]]);
    new optim.SGD([weight], { lr: 1 }).zeroGrad({ setToNone: false });
    expect(Array.from(weight.grad!.toArray()).map((v) => Object.is(v, 0))).toEqual([true, true]);
  });

  test("stateDict shares storage with the parameters", () => {
    const net = new Net();
    const sd = net.stateDict();
    expect(Object.keys(sd)).toEqual(net.namedParameters().map(([n]) => n));
    expect(sd["head.weight"].nd.data).toBe(net.head.weight.nd.data);
    net.head.weight.grad = torch.ones([1, 2]);
    new optim.SGD([net.head.weight], { lr: 1 }).step();
    expect(values(sd["head.weight"])).toEqual(values(net.head.weight));
    expect(sd["head.weight"].requiresGrad).toBe(false);
  });

  test("loadStateDict copies values in place and round-trips between models", () => {
    torch.manualSeed(1);
    const a = new Net();
    torch.manualSeed(2);
    const b = new Net();
    const storage = b.head.weight.nd.data;
    b.loadStateDict(a.stateDict());
    expect(b.head.weight.nd.data).toBe(storage);
    for (const [name, p] of b.namedParameters()) expect(values(p)).toEqual(values(a.stateDict()[name]));
  });

  test("loadStateDict names missing, unexpected and wrongly shaped keys, and copies nothing", () => {
    const net = new Net();
    const before = values(net.scale);
    const sd = net.stateDict();
    delete sd["head.bias"];
    sd["extra.weight"] = torch.zeros([2]);
    sd["head.weight"] = torch.zeros([1, 3]);
    sd.scale = torch.full([1], 7);
    let message = "";
    try {
      net.loadStateDict(sd);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("Error(s) in loading state_dict for Net");
    expect(message).toContain('Missing key(s) in state_dict: "head.bias"');
    expect(message).toContain('Unexpected key(s) in state_dict: "extra.weight"');
    expect(message).toContain(
      "size mismatch for head.weight: copying a param with shape torch.Size([1, 3]) from checkpoint, the shape in current model is torch.Size([1, 2]).",
    );
    expect(values(net.scale)).toEqual(before);
    // strict: false skips missing and unexpected keys but still copies the rest.
    delete sd["head.weight"];
    net.loadStateDict(sd, { strict: false });
    expect(values(net.scale)).toEqual([7]);
  });

  test("toString prints the tree as PyTorch does", () => {
    expect(new Net().toString()).toBe(
      [
        "Net(",
        "  (encoder): Sequential(",
        "    (0): Linear(in_features=4, out_features=3, bias=True)",
        "    (1): ReLU()",
        "    (2): Linear(in_features=3, out_features=2, bias=True)",
        "  )",
        "  (drop): Dropout(p=0.5, inplace=False)",
        "  (head): Linear(in_features=2, out_features=1, bias=True)",
        ")",
      ].join("\n"),
    );
    expect(new nn.Linear(3, 2, { bias: false }).toString()).toBe("Linear(in_features=3, out_features=2, bias=False)");
    expect(new nn.EmbeddingBag(10, 3).toString()).toBe("EmbeddingBag(10, 3, mode=mean)");
    expect(new nn.EmbeddingBag(10, 3, { mode: "sum" }).extraRepr()).toBe("10, 3, mode=sum");
    expect(new nn.Flatten().toString()).toBe("Flatten(start_dim=1, end_dim=-1)");
  });
});

describe("Linear", () => {
  test("y = x W^T + b as one AddmmBackward0 node, with PyTorch's gradients", () => {
    const lin = new nn.Linear(3, 2);
    lin.loadStateDict({
      weight: torch.tensor([
        [1, 2, 3],
        [-1, 0, 1],
      ]),
      bias: torch.tensor([0.5, -0.5]),
    });
    const x = torch.tensor(
      [
        [1, 0, 2],
        [0, 1, -1],
      ],
      { requiresGrad: true },
    );
    const y = lin.forward(x);
    expect(y.tolist()).toEqual([
      [7.5, 0.5],
      [-0.5, -1.5],
    ]);
    expect(y.gradFn!.name).toBe("AddmmBackward0");
    y.sum().backward();
    expect(lin.weight.grad!.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(lin.bias!.grad!.tolist()).toEqual([2, 2]);
    expect(x.grad!.tolist()).toEqual([
      [0, 2, 4],
      [0, 2, 4],
    ]);
  });

  test("without a bias the node is MmBackward0 and there is no bias parameter", () => {
    const lin = new nn.Linear(3, 2, { bias: false });
    expect(lin.bias).toBeNull();
    expect(lin.namedParameters().map(([n]) => n)).toEqual(["weight"]);
    expect(lin.forward(torch.ones([4, 3])).gradFn!.name).toBe("MmBackward0");
  });

  test("any leading dims: (..., in) -> (..., out), and a 1-D input", () => {
    const lin = new nn.Linear(3, 2);
    expect(lin.forward(torch.ones([2, 5, 3])).shape).toEqual([2, 5, 2]);
    expect(lin.forward(torch.ones([3])).shape).toEqual([2]);
    const [r0] = lin.forward(torch.tensor([[1, 2, 3]])).tolist() as number[][];
    expect(lin.forward(torch.tensor([1, 2, 3])).tolist()).toEqual(r0);
  });

  test("bad inputs fail in PyTorch's words", () => {
    const lin = new nn.Linear(3, 2);
    expect(() => lin.forward(torch.ones([4, 5]))).toThrow("mat1 and mat2 shapes cannot be multiplied (4x5 and 3x2)");
    expect(() => lin.forward(torch.ones([4, 3], { dtype: "float64" }))).toThrow(
      "mat1 and mat2 must have the same dtype, but got Double and Float",
    );
    expect(() => lin.forward(torch.ones([4, 3], { dtype: "int64" }))).toThrow(/mat1 and mat2 must have the same dtype/);
    expect(() => new nn.Linear(-1, 2)).toThrow(/in_features/);
  });

  test("mostly-zero inputs take a sparse path with the dense path's results; Inf/NaN weights still propagate", () => {
    torch.manualSeed(8);
    const lin = new nn.Linear(40, 3);
    const xs = new Array(3 * 40).fill(0);
    xs[0 * 40 + 0] = 2; // row 0 uses column 0
    xs[1 * 40 + 5] = 1;
    xs[2 * 40 + 39] = 4;
    xs[2 * 40 + 7] = -3;
    const x = torch.tensor(xs).reshape([3, 40]).requiresGrad_(true);
    const y = lin.forward(x);
    const w = values(lin.weight);
    const b = values(lin.bias!);
    const expected = [0, 1, 2].flatMap((r) =>
      [0, 1, 2].map((o) => {
        // Float32 sums over k in order, as the dense product and PyTorch's sgemm sum.
        let acc = 0;
        for (let i = 0; i < 40; i++) acc = Math.fround(acc + Math.fround(xs[r * 40 + i] * w[o * 40 + i]));
        return Math.fround(b[o] + acc);
      }),
    );
    expect(values(y)).toEqual(expected);
    y.sum().backward();
    const gw = values(lin.weight.grad!);
    for (let o = 0; o < 3; o++) for (let i = 0; i < 40; i++) expect(gw[o * 40 + i]).toBe(xs[i] + xs[40 + i] + xs[80 + i]);
    // 0 * Inf is NaN in PyTorch's dense product: a zero input does not hide an infinite weight.
    const bad = new nn.Linear(40, 2);
    bad.loadStateDict({ weight: torch.zeros([2, 40]).add(torch.tensor([Infinity, ...new Array(39).fill(0)])), bias: torch.zeros([2]) });
    // Row 0 has 2 * Inf = Inf; rows 1 and 2 have 0 * Inf = NaN.
    expect(values(bad.forward(torch.tensor(xs).reshape([3, 40])))).toEqual([Infinity, Infinity, NaN, NaN, NaN, NaN]);
  });

  test("a float64 Linear passes gradcheck (2-D, 3-D and 1-D inputs, with and without bias)", () => {
    torch.manualSeed(3);
    const lin = new nn.Linear(3, 2, { dtype: "float64" });
    expect(lin.weight.dtype).toBe("float64");
    const run = (x: torch.Tensor, w: torch.Tensor, b?: torch.Tensor) => {
      setField(lin, "weight", w);
      setField(lin, "bias", b ?? null);
      return lin.forward(x);
    };
    const w = torch.randn([2, 3], { dtype: "float64", requiresGrad: true });
    const b = torch.randn([2], { dtype: "float64", requiresGrad: true });
    // Counts with zeros, as bag-of-words inputs are.
    const x2 = f64([
      [1, 0, 2],
      [0, 0, 0],
      [3, 1, 0],
      [0.5, -1, 0],
    ]);
    expect(autograd.gradcheck(run, [x2, w, b])).toBe(true);
    expect(autograd.gradcheck((x, ww) => run(x, ww), [x2, w])).toBe(true);
    expect(autograd.gradcheck(run, [torch.randn([2, 2, 3], { dtype: "float64", requiresGrad: true }), w, b])).toBe(true);
    expect(autograd.gradcheck(run, [torch.randn([3], { dtype: "float64", requiresGrad: true }), w, b])).toBe(true);
  });
});

describe("default initialisation", () => {
  test("Linear: weight and bias uniform within 1/sqrt(inFeatures)", () => {
    torch.manualSeed(0);
    const lin = new nn.Linear(100, 50);
    const w = values(lin.weight);
    const b = values(lin.bias!);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(0.1);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(variance).toBeGreaterThan(0.9 * (0.01 / 3));
    expect(variance).toBeLessThan(1.1 * (0.01 / 3));
    // The draws fill the range: some close to each end.
    expect(Math.max(...w)).toBeGreaterThan(0.099);
    expect(Math.min(...w)).toBeLessThan(-0.099);
  });

  test("the weight is drawn first, then the bias, from the default generator", () => {
    torch.manualSeed(5);
    const lin = new nn.Linear(4, 2);
    torch.manualSeed(5);
    const w = init.uniform_(torch.zeros([2, 4]), -0.5, 0.5);
    const b = init.uniform_(torch.zeros([2]), -0.5, 0.5);
    expect(values(lin.weight)).toEqual(values(w));
    expect(values(lin.bias!)).toEqual(values(b));
  });

  test("manualSeed makes models reproducible; other seeds differ", () => {
    const make = (seed: number) => {
      torch.manualSeed(seed);
      return [new nn.Linear(6, 3), new nn.EmbeddingBag(20, 4)] as const;
    };
    const [l1, e1] = make(42);
    const [l2, e2] = make(42);
    const [l3] = make(43);
    expect(values(l1.weight)).toEqual(values(l2.weight));
    expect(values(e1.weight)).toEqual(values(e2.weight));
    expect(values(l1.weight)).not.toEqual(values(l3.weight));
  });

  test("EmbeddingBag: N(0, 1), the same numbers as randn", () => {
    torch.manualSeed(9);
    const bag = new nn.EmbeddingBag(2000, 8);
    const w = values(bag.weight);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
    torch.manualSeed(9);
    expect(values(torch.randn([2000, 8]))).toEqual(w);
  });

  test("nn.init helpers", () => {
    expect(init.calculateFanInAndFanOut(torch.zeros([5, 3, 2, 2]))).toEqual([12, 20]);
    expect(() => init.calculateFanInAndFanOut(torch.zeros([5]))).toThrow(
      "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
    );
    expect(init.calculateGain("relu")).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain("leaky_relu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    torch.manualSeed(0);
    const t = init.kaimingUniform_(torch.zeros([300, 12]), { nonlinearity: "relu" });
    const bound = Math.SQRT2 * Math.sqrt(3 / 12);
    expect(Math.max(...values(t).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values(t).map(Math.abs))).toBeGreaterThan(0.98 * bound);
    expect(values(init.constant_(torch.zeros([3]), 2.5))).toEqual([2.5, 2.5, 2.5]);
    expect(values(init.ones_(torch.zeros([2])))).toEqual([1, 1]);
    // A strided view is filled through its own layout.
    const base = torch.zeros([2, 3]);
    init.constant_(base.t(), 4);
    expect(values(base)).toEqual([4, 4, 4, 4, 4, 4]);
  });
});

describe("Dropout", () => {
  test("zeroes about p of the elements and scales the rest by 1/(1-p)", () => {
    torch.manualSeed(11);
    const drop = new nn.Dropout(0.25);
    const out = values(drop.forward(torch.ones([10000])));
    const zeros = out.filter((v) => v === 0).length;
    expect(zeros / out.length).toBeGreaterThan(0.23);
    expect(zeros / out.length).toBeLessThan(0.27);
    expect(out.every((v) => v === 0 || v === Math.fround(1 / 0.75))).toBe(true);
  });

  test("the mask is reproducible under manualSeed, and the gradient is the same mask", () => {
    const drop = new nn.Dropout(0.5);
    const x = torch.randn([6, 7], { requiresGrad: true });
    torch.manualSeed(4);
    const a = drop.forward(x);
    torch.manualSeed(4);
    const b = drop.forward(x);
    expect(values(a)).toEqual(values(b));
    expect(a.gradFn!.name).toBe("MulBackward0");
    a.sum().backward();
    const xs = values(x);
    values(x.grad!).forEach((g, i) => {
      expect(g === 0 || g === 2).toBe(true);
      // Dropped elements are (signed) zeros, as in PyTorch.
      expect(values(a)[i] === (g === 0 ? 0 : Math.fround(xs[i] * 2))).toBe(true);
    });
  });

  test("identity in eval mode and for p = 0; all zeros for p = 1", () => {
    const x = torch.randn([3, 4]);
    const drop = new nn.Dropout(0.5);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(new nn.Dropout(0).forward(x)).toBe(x);
    expect(values(new nn.Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
  });

  test("p outside [0, 1] is rejected in PyTorch's words", () => {
    expect(() => new nn.Dropout(1.5)).toThrow("dropout probability has to be between 0 and 1, but got 1.5");
    expect(() => new nn.Dropout(-0.1)).toThrow("dropout probability has to be between 0 and 1, but got -0.1");
  });
});

describe("Sequential and Flatten", () => {
  test("forward chains the modules; append, length, at and iteration", () => {
    torch.manualSeed(0);
    const seq = new nn.Sequential(new nn.Flatten(), new nn.Linear(6, 4));
    seq.append(new nn.ReLU());
    expect(seq.length).toBe(3);
    expect(seq.at(-1)).toBeInstanceOf(nn.ReLU);
    expect([...seq].length).toBe(3);
    const x = torch.randn([5, 2, 3]);
    const y = seq.forward(x) as torch.Tensor;
    expect(y.shape).toEqual([5, 4]);
    const manual = (seq.at(1) as InstanceType<typeof nn.Linear>).forward(x.reshape([5, 6])).relu();
    expect(values(y)).toEqual(values(manual));
    expect(seq.namedParameters().map(([n]) => n)).toEqual(["1.weight", "1.bias"]);
  });

  test("named children from an object", () => {
    const seq = new nn.Sequential({ fc: new nn.Linear(2, 2), act: new nn.ReLU() });
    expect(seq.namedChildren().map(([n]) => n)).toEqual(["fc", "act"]);
    expect(seq.stateDict()).toHaveProperty(["fc.weight"]);
    expect(() => new nn.Sequential({ training: new nn.ReLU() })).toThrow("attribute 'training' already exists");
  });
});

describe("EmbeddingBag", () => {
  const weight = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ];

  function bagOf(mode: "sum" | "mean"): InstanceType<typeof nn.EmbeddingBag> {
    const bag = new nn.EmbeddingBag(4, 2, { mode });
    bag.loadStateDict({ weight: torch.tensor(weight) });
    return bag;
  }

  const idx = torch.tensor([0, 2, 2, 3, 1], { dtype: "int64" });
  const offsets = torch.tensor([0, 3, 3], { dtype: "int64" }); // bags [0,2,2], [], [3,1]

  test("sum and mean over each bag; an empty bag gives zeros", () => {
    expect(bagOf("sum").forward(idx, offsets).tolist()).toEqual([
      [11, 14],
      [0, 0],
      [10, 12],
    ]);
    const mean = bagOf("mean").forward(idx, offsets).tolist() as number[][];
    [
      [11 / 3, 14 / 3],
      [0, 0],
      [5, 6],
    ].forEach((row, i) => row.forEach((v, j) => expect(mean[i][j]).toBeCloseTo(v, 5)));
  });

  test("a 2-D input is a batch of fixed-length bags", () => {
    const bag = bagOf("sum");
    const twoD = torch.tensor(
      [
        [0, 1],
        [2, 3],
      ],
      { dtype: "int64" },
    );
    expect(bag.forward(twoD).tolist()).toEqual([
      [4, 6],
      [12, 14],
    ]);
    expect(() => bag.forward(twoD, torch.tensor([0], { dtype: "int64" }))).toThrow(/if input is 2D, then offsets has to be None/);
  });

  test("bad inputs fail in PyTorch's words", () => {
    const bag = bagOf("mean");
    expect(() => bag.forward(idx)).toThrow("offsets has to be a 1D Tensor but got None");
    expect(() => bag.forward(torch.zeros([1, 1, 1], { dtype: "int64" }))).toThrow(
      "input has to be 1D or 2D Tensor, but got Tensor of dimension 3",
    );
    expect(() => bag.forward(idx, offsets, torch.ones([5]))).toThrow(/per_sample_weights is only supported for mode='sum'/);
    expect(() => new nn.EmbeddingBag(4, 2, { mode: "median" as never })).toThrow("mode has to be one of sum, mean or max");
  });

  test("paddingIdx: a zero row left out of its bags; includeLastOffset; fromPretrained", () => {
    torch.manualSeed(0);
    const padded = new nn.EmbeddingBag(4, 2, { mode: "mean", paddingIdx: -1 });
    expect(padded.paddingIdx).toBe(3);
    expect(padded.weight.tolist()).toContainEqual([0, 0]);
    expect((padded.weight.tolist() as number[][])[3]).toEqual([0, 0]);
    expect(padded.toString()).toBe("EmbeddingBag(4, 2, mode=mean, padding_idx=3)");
    expect(() => new nn.EmbeddingBag(4, 2, { paddingIdx: 4 })).toThrow("Padding_idx must be within num_embeddings");

    const frozen = nn.EmbeddingBag.fromPretrained(torch.tensor(weight), { mode: "mean", paddingIdx: 3 });
    expect(frozen.weight.requiresGrad).toBe(false);
    // Bag [0, 3]: row 3 is padding, so the mean is over row 0 alone.
    expect(frozen.forward(torch.tensor([0, 3], { dtype: "int64" }), torch.tensor([0], { dtype: "int64" })).tolist()).toEqual([[1, 2]]);
    expect(nn.EmbeddingBag.fromPretrained(torch.tensor(weight), { freeze: false }).weight.requiresGrad).toBe(true);

    const csr = new nn.EmbeddingBag(4, 2, { mode: "sum", includeLastOffset: true });
    csr.loadStateDict({ weight: torch.tensor(weight) });
    expect(csr.forward(idx, torch.tensor([0, 3, 5], { dtype: "int64" })).tolist()).toEqual([
      [11, 14],
      [10, 12],
    ]);
  });

  test.each(["sum", "mean"] as const)("gradcheck in float64, mode %s", (mode) => {
    torch.manualSeed(2);
    const bag = new nn.EmbeddingBag(5, 3, { mode, dtype: "float64" });
    const w = torch.randn([5, 3], { dtype: "float64", requiresGrad: true });
    const indices = torch.tensor([4, 0, 0, 2, 1, 4, 3], { dtype: "int64" });
    const offs = torch.tensor([0, 2, 2, 5], { dtype: "int64" });
    expect(
      autograd.gradcheck(
        (weightT) => {
          setField(bag, "weight", weightT);
          return bag.forward(indices, offs);
        },
        [w],
      ),
    ).toBe(true);
  });

  test("gradcheck with per-sample weights (mode sum)", () => {
    const bag = new nn.EmbeddingBag(5, 3, { mode: "sum", dtype: "float64" });
    const w = torch.randn([5, 3], { dtype: "float64", requiresGrad: true });
    const psw = torch.randn([4], { dtype: "float64", requiresGrad: true });
    const indices = torch.tensor([1, 3, 3, 0], { dtype: "int64" });
    const offs = torch.tensor([0, 1], { dtype: "int64" });
    expect(
      autograd.gradcheck(
        (weightT, perSample) => {
          setField(bag, "weight", weightT);
          return bag.forward(indices, offs, perSample);
        },
        [w, psw],
      ),
    ).toBe(true);
  });
});

describe("row-sparse embedding gradients", () => {
  /** Trains a bag + linear model for a few steps; `dense` swaps the table for a plain Parameter. */
  function train(dense: boolean, options: { momentum?: number; setToNone?: boolean; accumulate?: boolean } = {}) {
    torch.manualSeed(21);
    const bag = new nn.EmbeddingBag(50, 4, { mode: "mean" });
    const head = new nn.Linear(4, 3);
    if (dense) bag.weight = new nn.Parameter(bag.weight.detach().clone());
    const params = [...bag.parameters(), ...head.parameters()];
    const opt = new optim.SGD(params, { lr: 0.5, momentum: options.momentum ?? 0 });
    const lossFn = new nn.CrossEntropyLoss();
    const batches = [
      [[3, 7, 7], [9], [1, 2, 3, 4]],
      [
        [7, 8],
        [40, 41, 3],
      ],
      [[3], [3, 3], [12, 9, 7]],
    ];
    batches.forEach((docs, step) => {
      opt.zeroGrad({ setToNone: options.setToNone ?? true });
      const passes = options.accumulate ? 2 : 1;
      for (let k = 0; k < passes; k++) {
        const offsets: number[] = [];
        const tokens: number[] = [];
        for (const d of docs) {
          offsets.push(tokens.length);
          tokens.push(...d);
        }
        const logits = head.forward(bag.forward(torch.tensor(tokens, { dtype: "int64" }), torch.tensor(offsets, { dtype: "int64" })));
        const target = torch.tensor(
          docs.map((_, i) => (i + step) % 3),
          { dtype: "int64" },
        );
        lossFn.forward(logits, target).backward();
      }
      opt.step();
    });
    return { weight: values(bag.weight), head: values(head.weight) };
  }

  test("the embedding weight keeps a row-sparse gradient; only used rows are non-zero", () => {
    const bag = new nn.EmbeddingBag(10, 2, { mode: "sum" });
    expect(bag.weight).toBeInstanceOf(nn.Parameter);
    bag
      .forward(torch.tensor([2, 5, 2], { dtype: "int64" }), torch.tensor([0, 1], { dtype: "int64" }))
      .sum()
      .backward();
    const g = bag.weight.grad!.tolist() as number[][];
    g.forEach((row, r) => expect(row).toEqual(r === 2 ? [2, 2] : r === 5 ? [1, 1] : [0, 0]));
  });

  test("SGD on the touched rows gives exactly the dense result", () => {
    const sparse = train(false);
    const dense = train(true);
    expect(sparse.weight).toEqual(dense.weight);
    expect(sparse.head).toEqual(dense.head);
  });

  test("the same holds with momentum, with in-place zeroGrad, and with gradients accumulated over two backwards", () => {
    expect(train(false, { momentum: 0.9 })).toEqual(train(true, { momentum: 0.9 }));
    expect(train(false, { setToNone: false })).toEqual(train(true, { setToNone: false }));
    expect(train(false, { accumulate: true })).toEqual(train(true, { accumulate: true }));
    expect(train(false, { accumulate: true, setToNone: false })).toEqual(train(true, { accumulate: true, setToNone: false }));
  });

  test("rows no batch used never change", () => {
    torch.manualSeed(1);
    const bag = new nn.EmbeddingBag(1000, 8, { mode: "mean" });
    const before = values(bag.weight);
    const opt = new optim.SGD(bag.parameters(), { lr: 1 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad({ setToNone: i % 2 === 0 });
      bag
        .forward(torch.tensor([5, 17, 999], { dtype: "int64" }), torch.tensor([0, 2], { dtype: "int64" }))
        .pow(2)
        .sum()
        .backward();
      opt.step();
    }
    const after = values(bag.weight);
    for (let r = 0; r < 1000; r++) {
      const changed = after.slice(r * 8, r * 8 + 8).some((v, j) => v !== before[r * 8 + j]);
      expect(changed).toBe([5, 17, 999].includes(r));
    }
  });
});
