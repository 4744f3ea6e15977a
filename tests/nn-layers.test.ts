/**
 * LayerNorm, Embedding, dropout and the activation modules beyond the golden cases: PyTorch's
 * default initialisations and summaries, its errors, Embedding's in-place renormalisation,
 * padding row, frequency scaling and sparse gradient, and finite-difference checks in float64.
 */
import * as torch from "torchlet";
import { messageOf } from "./helpers/replay";
import { Rng } from "./helpers/random-cases";
import { leaf64 } from "./helpers/twice";

type Tensor = torch.Tensor;
const { nn, autograd } = torch;
const F = nn.functional;

const values = (t: Tensor): number[] => Array.from(t.toArray());
const f64 = (data: torch.NestedArray, requiresGrad = true) => torch.tensor(data, { dtype: "float64", requiresGrad });
const long = (data: torch.NestedArray) => torch.tensor(data, { dtype: "int64" });

describe("LayerNorm", () => {
  test("PyTorch's initialisation, parameters and summary", () => {
    const norm = new nn.LayerNorm([3, 4]);
    expect(values(norm.weight!)).toEqual(new Array(12).fill(1));
    expect(values(norm.bias!)).toEqual(new Array(12).fill(0));
    expect(norm.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
      ["weight", [3, 4]],
      ["bias", [3, 4]],
    ]);
    expect(norm.toString()).toBe("LayerNorm((3, 4), eps=1e-05, elementwise_affine=True)");
    const plain = new nn.LayerNorm(6, { eps: 0.001, elementwiseAffine: false });
    expect(plain.normalizedShape).toEqual([6]);
    expect([plain.weight, plain.bias]).toEqual([null, null]);
    expect(plain.toString()).toBe("LayerNorm((6,), eps=0.001, elementwise_affine=False)");
    expect(Object.keys(plain.stateDict())).toEqual([]);
    expect(new nn.LayerNorm(2, { dtype: "float64" }).weight!.dtype).toBe("float64");
  });

  test("float32 statistics are PyTorch's bit for bit (37-wide rows: vector chunks and a scalar tail)", () => {
    const rows = [
      Array.from({ length: 37 }, (_, i) => Math.sin(1.7 * i) * 3 + 0.25 * i),
      Array.from({ length: 37 }, (_, i) => Math.cos(0.9 * i) - 2),
    ];
    const weight = torch.tensor(Array.from({ length: 37 }, (_, i) => 1 + 0.1 * Math.sin(i)));
    const bias = torch.tensor(Array.from({ length: 37 }, (_, i) => 0.05 * i - 0.9));
    const y = F.layerNorm(torch.tensor(rows), [37], { weight, bias });
    // PyTorch 1.13: F.layer_norm(x, [37], w, b), first and last five values of each row, exactly.
    const got = values(y);
    expect(got.slice(0, 5)).toEqual([-2.2595555782318115, -1.2669943571090698, -2.3711097240448, -2.7502942085266113, -1.2630362510681152]);
    expect(got.slice(32, 42)).toEqual([
      1.0157184600830078, 1.5651603937149048, 2.9806227684020996, 2.244718074798584, 1.3107339143753052, 0.4420351982116699,
      0.0289052315056324, -1.2159059047698975, -2.1005146503448486, -1.9214433431625366,
    ]);
    expect(got.slice(70)).toEqual([0.4581972658634186, 1.7475907802581787, 2.129824161529541, 1.5442999601364136]);
  });

  test("the checks, in PyTorch's words", () => {
    const x = torch.zeros([3, 4]);
    expect(messageOf(() => F.layerNorm(x, [5]))).toBe(
      "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[3, 4]",
    );
    expect(messageOf(() => F.layerNorm(x, [2, 4]))).toBe(
      "Given normalized_shape=[2, 4], expected input with shape [*, 2, 4], but got input of size[3, 4]",
    );
    expect(messageOf(() => F.layerNorm(x, []))).toBe(
      "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []",
    );
    expect(messageOf(() => F.layerNorm(x, [4], { weight: torch.ones([5]) }))).toBe(
      "Expected weight to be of same shape as normalized_shape, but got weight of shape [5] and normalized_shape = [4]",
    );
    expect(messageOf(() => F.layerNorm(x, [4], { bias: torch.ones([1, 4]) }))).toBe(
      "Expected bias to be of same shape as normalized_shape, but got bias of shape [1, 4] and normalized_shape = [4]",
    );
    expect(messageOf(() => F.layerNorm(torch.zeros([2, 3], { dtype: "int64" }), [3]))).toBe(
      `"LayerNormKernelImpl" not implemented for 'Long'`,
    );
    expect(messageOf(() => F.layerNorm(x.double(), [4], { weight: torch.ones([4]) }))).toBe("expected scalar type Double but found Float");
    expect(messageOf(() => F.layerNorm(x, 4 as unknown as number[]))).toBe(
      "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not number",
    );
  });

  test("normalises each row to mean 0 and biased variance 1 / (1 + eps / var); no rows gives no output", () => {
    const y = F.layerNorm(f64([[1, 2, 3, 4]], false), [4], { eps: 0 });
    const v = values(y);
    expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    expect(v.reduce((a, b) => a + b * b, 0) / 4).toBeCloseTo(1, 12);
    expect(F.layerNorm(torch.zeros([0, 4]), [4]).shape).toEqual([0, 4]);
  });

  test("the bias is saved, as in PyTorch: changing it in place before backward is an error", () => {
    const x = torch.randn([2, 3], { requiresGrad: true });
    const norm = new nn.LayerNorm(3);
    const y = norm.forward(x);
    torch.noGrad(() => norm.bias!.add_(1));
    expect(messageOf(() => y.sum().backward())).toContain("[torch.FloatTensor [3]] is at version 1; expected version 0 instead");
  });

  test("gradcheck and gradgradcheck in float64 for input, weight and bias (seeded random shapes)", () => {
    const rng = new Rng(2024);
    for (let trial = 0; trial < 4; trial++) {
      const k = rng.int(1, 2);
      const normalized = rng.shape(k, 1, 4);
      const shape = [...rng.shape(rng.int(0, 2), 1, 3), ...normalized];
      const x = leaf64(rng, shape);
      const w = leaf64(rng, normalized);
      const b = leaf64(rng, normalized);
      const fn = (a: Tensor, c: Tensor, d: Tensor) => F.layerNorm(a, normalized, { weight: c, bias: d, eps: 1e-3 });
      expect(autograd.gradcheck(fn, [x, w, b])).toBe(true);
      expect(autograd.gradgradcheck(fn, [x, w, b], { seed: trial })).toBe(true);
      expect(autograd.gradcheck((a) => F.layerNorm(a, normalized), [x])).toBe(true);
      expect(autograd.gradgradcheck((a) => F.layerNorm(a, normalized), [x])).toBe(true);
    }
  });
});

describe("Embedding", () => {
  test("N(0, 1) from the seeded generator, the padding row zeroed, PyTorch's summary", () => {
    torch.manualSeed(7);
    const a = new nn.Embedding(5, 3, { paddingIdx: -2 });
    torch.manualSeed(7);
    const b = new nn.Embedding(5, 3);
    expect(a.paddingIdx).toBe(3);
    expect(values(a.weight.index(3))).toEqual([0, 0, 0]);
    expect(values(a.weight.index(0))).toEqual(values(b.weight.index(0)));
    expect(a.weight.requiresGrad).toBe(true);
    expect(new nn.Embedding(4, 2, { paddingIdx: 1, maxNorm: 1.5, normType: 1, scaleGradByFreq: true, sparse: true }).toString()).toBe(
      "Embedding(4, 2, padding_idx=1, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True, sparse=True)",
    );
    expect(new nn.Embedding(4, 2, { maxNorm: 1 }).toString()).toBe("Embedding(4, 2, max_norm=1)");
  });

  test("looks rows up for indices of any shape", () => {
    const table = nn.Embedding.fromPretrained(
      torch.tensor([
        [0, 1],
        [2, 3],
        [4, 5],
      ]),
    );
    expect(
      table
        .forward(
          long([
            [2, 0],
            [1, 1],
          ]),
        )
        .tolist(),
    ).toEqual([
      [
        [4, 5],
        [0, 1],
      ],
      [
        [2, 3],
        [2, 3],
      ],
    ]);
    expect(table.forward(long(1)).tolist()).toEqual([2, 3]);
    expect(table.forward(long([[2, 0]])).gradFn).toBeNull(); // frozen
  });

  test("fromPretrained: frozen unless freeze is false; the table's storage is shared; the padding row is kept", () => {
    const given = torch.tensor([
      [1, 2],
      [3, 4],
    ]);
    const frozen = nn.Embedding.fromPretrained(given, { paddingIdx: 0 });
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(values(frozen.weight)).toEqual([1, 2, 3, 4]);
    expect(frozen.weight.nd.data).toBe(given.nd.data);
    expect(nn.Embedding.fromPretrained(given, { freeze: false }).weight.requiresGrad).toBe(true);
  });

  test("the checks, in PyTorch's words", () => {
    expect(messageOf(() => new nn.Embedding(4, 2, { paddingIdx: 4 }))).toBe("Padding_idx must be within num_embeddings");
    expect(messageOf(() => new nn.Embedding(4, 2, { paddingIdx: -5 }))).toBe("Padding_idx must be within num_embeddings");
    expect(messageOf(() => new nn.Embedding(4, 2, { weight: torch.ones([3, 2]) }))).toBe(
      "Shape of weight does not match num_embeddings and embedding_dim",
    );
    expect(messageOf(() => nn.Embedding.fromPretrained(torch.ones([3])))).toBe("Embeddings parameter is expected to be 2-dimensional");
    const w = torch.randn([4, 2]);
    expect(messageOf(() => F.embedding(long([1, 4]), w))).toBe("index out of range in self");
    expect(messageOf(() => F.embedding(long([-1]), w))).toBe("index out of range in self");
    expect(messageOf(() => F.embedding(torch.tensor([1, 2]), w))).toBe(
      "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding)",
    );
    expect(messageOf(() => F.embedding(long([1]), torch.ones([4])))).toBe("'weight' must be 2-D");
    expect(messageOf(() => F.embedding(long([1]), w, { paddingIdx: 4 }))).toBe("Padding_idx must be within num_embeddings");
    expect(messageOf(() => F.embedding([0, 1] as unknown as Tensor, w))).toBe(
      "embedding(): argument 'indices' (position 2) must be Tensor, not Array",
    );
    expect(messageOf(() => F.embedding(long([0, 5]), w, { maxNorm: 1 }))).toBe(
      "select(): index 5 out of range for tensor of size [4, 2] at dimension 0",
    );
    expect(messageOf(() => F.embedding(torch.tensor([0, 1]), w, { maxNorm: 1 }))).toBe(
      "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding_renorm_)",
    );
  });

  test("maxNorm renormalises the looked-up rows in place, once per forward (PyTorch's numbers)", () => {
    const weight = torch.tensor([
      [3, 4],
      [0.3, 0.4],
      [1, 1],
    ]);
    weight.requiresGrad_(true);
    const out = F.embedding(
      long([
        [0, 0],
        [2, 1],
      ]),
      weight,
      { maxNorm: 1 },
    );
    // PyTorch 1.13 leaves these values in the table, and its version at 1.
    expect(values(weight)).toEqual([
      0.6000000238418579, 0.800000011920929, 0.30000001192092896, 0.4000000059604645, 0.7071067690849304, 0.7071067690849304,
    ]);
    expect(weight.version).toBe(1);
    expect(values(out)).toEqual([
      0.6000000238418579, 0.800000011920929, 0.6000000238418579, 0.800000011920929, 0.7071067690849304, 0.7071067690849304,
      0.30000001192092896, 0.4000000059604645,
    ]);
    out.sum().backward();
    expect(weight.grad!.tolist()).toEqual([
      [2, 2],
      [1, 1],
      [1, 1],
    ]);
    // Through the module, every forward is one more in-place change, rows changed or not.
    const table = nn.Embedding.fromPretrained(weight.detach(), { maxNorm: 5, normType: 1 });
    const before = table.weight.version;
    table.forward(long([1]));
    expect(table.weight.version).toBe(before + 1);
    expect(values(table.weight.index(1))).toEqual([0.30000001192092896, 0.4000000059604645]);
  });

  test("the padding row is looked up as it is but gets no gradient; scaleGradByFreq divides by the count", () => {
    const weight = torch.tensor([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    weight.requiresGrad_(true);
    const idx = long([0, 2, 2, 1, 2]);
    const upstream = torch.arange(10).float().reshape(5, 2);
    const out = F.embedding(idx, weight, { paddingIdx: 1, scaleGradByFreq: true });
    expect(values(out.index(3))).toEqual([2, 2]);
    out.backward(upstream);
    // Row 0 once: [0, 1]; row 2 three times: [2, 3] / 3 + [4, 5] / 3 + [8, 9] / 3, each term and sum in
    // float32 as PyTorch adds them; row 1 is the padding row. PyTorch 1.13's values:
    expect(values(weight.grad!)).toEqual([0, 1, 0, 0, 4.6666669845581055, 5.6666669845581055]);
  });

  test("sparse: the same gradient, kept as the rows the lookup used", () => {
    torch.manualSeed(3);
    const dense = new nn.Embedding(1000, 4, { paddingIdx: 5 });
    const sparse = new nn.Embedding(1000, 4, { paddingIdx: 5, sparse: true, weight: dense.weight.detach().clone() });
    const idx = long([
      [3, 5, 999],
      [3, 0, 3],
    ]);
    const upstream = torch.randn([2, 3, 4]);
    dense.forward(idx).backward(upstream);
    sparse.forward(idx).backward(upstream);
    expect(values(sparse.weight.grad!)).toEqual(values(dense.weight.grad!));
    expect(values(dense.weight.grad!.index(5))).toEqual([0, 0, 0, 0]);
  });

  test("gradcheck and gradgradcheck in float64", () => {
    const rng = new Rng(99);
    const weight = leaf64(rng, [6, 3]);
    const idx = long([
      [0, 5, 2],
      [2, 2, 4],
    ]);
    const fn = (w: Tensor) => F.embedding(idx, w).pow(2);
    expect(autograd.gradcheck(fn, [weight])).toBe(true);
    expect(autograd.gradgradcheck(fn, [weight])).toBe(true);
    // The padding row's zero gradient is a convention, not the derivative (PyTorch's gradcheck fails
    // there too), but the second derivative is consistent with it.
    expect(autograd.gradgradcheck((w: Tensor) => F.embedding(idx, w, { paddingIdx: 2 }).pow(2), [weight])).toBe(true);
    expect(messageOf(() => autograd.gradcheck((w: Tensor) => F.embedding(idx, w, { paddingIdx: 2 }), [weight]))).toContain(
      "Jacobian mismatch",
    );
  });

  test("the second backward ignores scaleGradByFreq, as PyTorch 1.13's, and zeroes the padding row", () => {
    const weight = f64([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const upstream = f64([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const out = F.embedding(long([0, 0, 2]), weight, { paddingIdx: 2, scaleGradByFreq: true });
    const [gw] = autograd.grad([out], [weight], { gradOutputs: [upstream], createGraph: true });
    expect(values(gw!)).toEqual([1, 1, 0, 0, 0, 0]);
    gw!
      .mul(
        f64(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          false,
        ),
      )
      .sum()
      .backward();
    expect(values(upstream.grad!)).toEqual([1, 2, 1, 2, 0, 0]);
  });
});

describe("dropout", () => {
  test("returns the input itself when p = 0 or not training; p = 1 multiplies by zeros", () => {
    const x = torch.ones([3], { requiresGrad: true });
    expect(F.dropout(x, { p: 0 })).toBe(x);
    expect(F.dropout(x, { training: false })).toBe(x);
    const zeroed = F.dropout(x, { p: 1 });
    expect([values(zeroed), zeroed.gradFn?.name]).toEqual([[0, 0, 0], "MulBackward0"]);
    expect(values(F.dropout(long([1, 2]), { p: 1 }))).toEqual([0, 0]);
  });

  test("keeps each element with probability 1 - p, scaled by 1/(1-p) in the dtype, from the seeded generator", () => {
    const x = torch.ones([20000], { requiresGrad: true });
    torch.manualSeed(11);
    const y = F.dropout(x, { p: 0.1 });
    torch.manualSeed(11);
    expect(values(F.dropout(x, { p: 0.1 }))).toEqual(values(y));
    const kept = values(y).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([1.1111111640930176])); // PyTorch: 1 / float32(0.9)
    expect(Math.abs(kept.length / 20000 - 0.9)).toBeLessThan(0.01);
    expect(y.gradFn?.name).toBe("MulBackward0");
    y.sum().backward();
    expect(values(x.grad!)).toEqual(values(y));
    expect(values(F.dropout(torch.ones([4], { dtype: "float64" }), { p: 0.5 })).every((v) => v === 0 || v === 2)).toBe(true);
  });

  test("gradcheck and gradgradcheck in float64 (the same seed, so the same mask, at every evaluation)", () => {
    const x = leaf64(new Rng(5), [3, 4]);
    const fn = (a: Tensor) => {
      torch.manualSeed(21);
      return F.dropout(a, { p: 0.3 }).pow(2);
    };
    expect(autograd.gradcheck(fn, [x])).toBe(true);
    expect(autograd.gradgradcheck(fn, [x])).toBe(true);
  });

  test("the checks, in PyTorch's words; the module", () => {
    expect(messageOf(() => F.dropout(torch.ones([2]), { p: 1.5 }))).toBe("dropout probability has to be between 0 and 1, but got 1.5");
    expect(messageOf(() => F.dropout(long([1, 2]), { p: 0.5 }))).toBe("result type Float can't be cast to the desired output type Long");
    expect(messageOf(() => new nn.Dropout(-0.1))).toBe("dropout probability has to be between 0 and 1, but got -0.1");
    const drop = new nn.Dropout(0.2);
    expect(drop.toString()).toBe("Dropout(p=0.2, inplace=False)");
    expect(new nn.Dropout(1).toString()).toBe("Dropout(p=1.0, inplace=False)");
    const x = torch.ones([5]);
    expect(drop.eval().forward(x)).toBe(x);
  });
});

describe("activation modules and the simple layers", () => {
  test("summaries as PyTorch prints them", () => {
    expect(
      [
        new nn.GELU(),
        new nn.GELU({ approximate: "tanh" }),
        new nn.LeakyReLU(),
        new nn.LeakyReLU(0.05),
        new nn.ELU(),
        new nn.ELU({ alpha: 0.5 }),
        new nn.SiLU(),
        new nn.Softplus(),
        new nn.Softplus({ beta: 2, threshold: 10 }),
        new nn.Tanh(),
        new nn.Identity(),
        new nn.Flatten(),
      ].map(String),
    ).toEqual([
      "GELU(approximate='none')",
      "GELU(approximate='tanh')",
      "LeakyReLU(negative_slope=0.01)",
      "LeakyReLU(negative_slope=0.05)",
      "ELU(alpha=1.0)",
      "ELU(alpha=0.5)",
      "SiLU()",
      "Softplus(beta=1, threshold=20)",
      "Softplus(beta=2, threshold=10)",
      "Tanh()",
      "Identity()",
      "Flatten(start_dim=1, end_dim=-1)",
    ]);
  });

  test("each module computes its functional form with its settings", () => {
    const x = torch.tensor([-30, -1.5, -0.2, 0, 0.3, 2, 40]);
    const same = (a: Tensor, b: Tensor) => expect(values(a)).toEqual(values(b));
    same(new nn.GELU({ approximate: "tanh" }).forward(x), F.gelu(x, { approximate: "tanh" }));
    same(new nn.LeakyReLU(0.2).forward(x), F.leakyRelu(x, 0.2));
    same(new nn.ELU({ alpha: 0.7 }).forward(x), F.elu(x, 0.7));
    same(new nn.SiLU().forward(x), F.silu(x));
    same(new nn.Softplus({ beta: 2, threshold: 5 }).forward(x), F.softplus(x, 2, 5));
    const id = new nn.Identity();
    expect(id.forward(x)).toBe(x);
  });
});
