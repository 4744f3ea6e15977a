/**
 * nn.functional's softplus, gelu, leakyRelu, elu, silu, logSigmoid and oneHot as PyTorch 1.13
 * behaves: stability at ±1000 (finite values, first and second derivatives), NaN and the
 * infinities, the nodes of their backwards, PyTorch's messages, and finite-difference checks in
 * float64 (first and second derivatives) on seeded random shapes. Expected values were printed
 * by PyTorch 1.13.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";

type Tensor = torch.Tensor;
type Fn = (x: Tensor) => Tensor;
const F = torch.nn.functional;

const ACTIVATIONS: Array<[string, Fn]> = [
  ["softplus", (x) => F.softplus(x)],
  ["gelu", (x) => F.gelu(x)],
  ["gelu tanh", (x) => F.gelu(x, { approximate: "tanh" })],
  ["leakyRelu", (x) => F.leakyRelu(x)],
  ["elu", (x) => F.elu(x)],
  ["silu", (x) => F.silu(x)],
  ["logSigmoid", (x) => F.logSigmoid(x)],
];

/** PyTorch's float32 tolerance, NaN equal to NaN and infinities only to themselves. */
function expectValues(t: Tensor | null, expected: number[]): void {
  const got = Array.from(t!.toArray());
  expect(got).toHaveLength(expected.length);
  got.forEach((a, i) => {
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) expect(a).toBe(e);
    else if (Math.abs(a - e) > 1e-5 + 1.3e-6 * Math.abs(e)) throw new Error(`element ${i}: got ${a}, PyTorch gives ${e}`);
  });
}

function leaf(values: number[], dtype: "float32" | "float64" = "float32"): Tensor {
  return torch.tensor(values, { dtype }).requiresGrad_(true);
}

describe("values and gradients at the extremes", () => {
  // x = [1000, -1000, 0, -10, NaN, inf, -inf]: output, then gradient of the sum.
  const pytorch: Record<string, [number[], number[]]> = {
    softplus: [
      [1000, 0, 0.6931471824645996, 4.5398901420412585e-5, NaN, Infinity, 0],
      [1, 0, 0.5, 4.539786823443137e-5, NaN, 1, 0],
    ],
    gelu: [
      [1000, 0, 0, 0, NaN, Infinity, NaN],
      [1, 0, 0.5, 0, NaN, NaN, NaN],
    ],
    "gelu tanh": [
      [1000, -0, 0, -0, NaN, Infinity, NaN],
      [1, 0, 0.5, 0, NaN, NaN, NaN],
    ],
    leakyRelu: [
      [1000, -10, 0, -0.09999999403953552, NaN, Infinity, -Infinity],
      [1, 0.009999999776482582, 0.009999999776482582, 0.009999999776482582, 0.009999999776482582, 1, 0.009999999776482582],
    ],
    elu: [
      [1000, -1, 0, -0.9999545812606812, NaN, Infinity, -1],
      [1, 0, 1, 4.539993096841499e-5, 1, 1, 0],
    ],
    silu: [
      [1000, -0, 0, -0.0004539787187241018, NaN, Infinity, NaN],
      [1, -0, 0.5, -0.00040856024133972824, NaN, NaN, NaN],
    ],
    logSigmoid: [
      [0, -1000, -0.6931471824645996, -10.000045776367188, NaN, 0, -Infinity],
      [0, 1, 0.5, 0.9999545812606812, NaN, 0, 1],
    ],
  };

  test.each(ACTIVATIONS)("%s", (name, fn) => {
    const x = leaf([1000, -1000, 0, -10, NaN, Infinity, -Infinity]);
    const y = fn(x);
    expectValues(y, pytorch[name][0]);
    y.sum().backward();
    expectValues(x.grad, pytorch[name][1]);
  });

  test.each(ACTIVATIONS)("%s: finite first and second derivatives at ±1000, in float32 and float64", (_, fn) => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = leaf([1000, -1000, 999.5, -999.5], dtype);
      const y = fn(x);
      expect(Array.from(y.toArray()).every(Number.isFinite)).toBe(true);
      const [g] = torch.autograd.grad([y.sum()], [x], { createGraph: true });
      expect(Array.from(g!.toArray()).every(Number.isFinite)).toBe(true);
      g!.sum().backward();
      expect(Array.from(x.grad!.toArray()).every(Number.isFinite)).toBe(true);
    }
  });

  test("softplus switches to the identity above the threshold (beta x > threshold)", () => {
    expectValues(F.softplus(torch.tensor([20, 20.01, -20])), [20, 20.010000228881836, 2.06115369216775e-9]);
    expectValues(F.softplus(torch.tensor([1000, -1000, 0]), 0.5, 1000), [Infinity, 0, 1.3862943649291992]);
    expectValues(F.softplus(torch.ones([2]), 0), [Infinity, Infinity]);
  });

  test("elu computes exp(x) - 1 as PyTorch's kernel does (not expm1): tiny inputs show it", () => {
    expectValues(F.elu(torch.tensor([-1e-5, -1e-3, 1e-5])), [-1.0013580322265625e-5, -0.0009995102882385254, 9.999999747378752e-6]);
    const double = F.elu(torch.tensor([-1e-5, -1e-3], { dtype: "float64" }));
    expect(Array.from(double.toArray())).toEqual([-9.999950000172397e-6, -0.000999500166624978]);
  });
});

describe("the nodes of the backwards", () => {
  test("gradFn names, and second derivatives as PyTorch's double backwards give them", () => {
    const names: Record<string, [string, string, number[]]> = {
      softplus: ["SoftplusBackward0", "SoftplusBackwardBackward0", [0.2445, 0.1779]],
      gelu: ["GeluBackward0", "GeluBackwardBackward0", [0.7285, 0.1087]],
      "gelu tanh": ["GeluBackward0", "GeluBackwardBackward0", [0.7281, 0.1098]],
      leakyRelu: ["LeakyReluBackward0", "LeakyReluBackwardBackward0", [0, 0]],
      elu: ["EluBackward0", "EluBackwardBackward0", [0, 0.3012]],
      silu: ["SiluBackward0", "MulBackward0", [0.478, 0.2411]],
      logSigmoid: ["LogSigmoidBackward0", "LogSigmoidBackwardBackward0", [-0.2445, -0.1779]],
    };
    for (const [name, fn] of ACTIVATIONS) {
      const x = leaf([0.3, -1.2]);
      const y = fn(x);
      const [g] = torch.autograd.grad([y.sum()], [x], { createGraph: true });
      g!.sum().backward();
      const [forward, backward, second] = names[name];
      expect([y.gradFn?.name, g!.gradFn?.name]).toEqual([forward, backward]);
      // PyTorch prints four digits; leakyRelu's second derivative is a zero tensor, not None.
      Array.from(x.grad!.toArray()).forEach((v, i) => expect(v).toBeCloseTo(second[i], 4));
    }
  });

  test("an ordinary backward records nothing, and frees its node", () => {
    for (const [, fn] of ACTIVATIONS) {
      const x = leaf([0.3, -1.2]);
      const y = fn(x).sum();
      y.backward();
      expect(x.grad!.gradFn).toBeNull();
      expect(() => y.backward()).toThrow("Trying to backward through the graph a second time");
    }
  });
});

describe("PyTorch's messages", () => {
  test("integer and bool inputs name PyTorch's kernel", () => {
    const ints = torch.tensor([1, 2], { dtype: "int64" });
    expect(() => F.softplus(ints)).toThrow(`"softplus_cpu" not implemented for 'Long'`);
    expect(() => F.gelu(ints)).toThrow(`"GeluKernelImpl" not implemented for 'Long'`);
    expect(() => F.elu(ints)).toThrow(`"elu_cpu" not implemented for 'Long'`);
    expect(() => F.silu(ints)).toThrow(`"silu_cpu" not implemented for 'Long'`);
    expect(() => F.logSigmoid(ints)).toThrow(`"log_sigmoid_cpu" not implemented for 'Long'`);
    expect(() => F.leakyRelu(ints, 0.5)).toThrow(`"leaky_relu_cpu" not implemented for 'Long'`);
    expect(() => F.leakyRelu(torch.tensor([true]))).toThrow(`"leaky_relu_cpu" not implemented for 'Bool'`);
  });

  test("gelu's approximate is none or tanh, and it has no other option", () => {
    const gelu = F.gelu as unknown as (x: Tensor, o: object) => Tensor;
    expect(() => gelu(torch.ones([2]), { approximate: "foo" })).toThrow("approximate argument must be either none or tanh.");
    expect(() => gelu(torch.ones([2]), { approx: "tanh" })).toThrow(
      new TypeError("gelu(): unexpected option 'approx' (did you mean 'approximate'?)"),
    );
  });

  test("a non-tensor input", () => {
    const any = F as unknown as Record<string, (x: unknown) => Tensor>;
    expect(() => any.softplus(3)).toThrow(new TypeError("softplus(): argument 'input' (position 1) must be Tensor, not number"));
    expect(() => any.leakyRelu(0.5)).toThrow(new TypeError("leaky_relu(): argument 'input' (position 1) must be Tensor, not number"));
    expect(() => any.logSigmoid(undefined)).toThrow(
      new TypeError("log_sigmoid(): argument 'input' (position 1) must be Tensor, not undefined"),
    );
    expect(() => any.oneHot(3)).toThrow(new TypeError("one_hot(): argument 'input' (position 1) must be Tensor, not number"));
  });
});

describe("oneHot", () => {
  const long = (values: number[]) => torch.tensor(values, { dtype: "int64" });

  test("int64 rows, the class count inferred or given, any shape", () => {
    const inferred = F.oneHot(long([0, 2, 1]));
    expect([inferred.dtype, inferred.tolist()]).toEqual([
      "int64",
      [
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
      ],
    ]);
    expect(F.oneHot(long([0, 2, 1]), 5).shape).toEqual([3, 5]);
    expect(F.oneHot(long([2]).reshape([]), 4).tolist()).toEqual([0, 0, 1, 0]);
    expect(F.oneHot(long([2, 0]).reshape([1, 2]), 4).tolist()).toEqual([
      [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
      ],
    ]);
    const empty = F.oneHot(long([]), 3);
    expect([empty.shape, empty.dtype]).toEqual([[0, 3], "int64"]);
  });

  test("bad input in PyTorch's words", () => {
    expect(() => F.oneHot(long([0, 2, 1]), 2)).toThrow("Class values must be smaller than num_classes.");
    expect(() => F.oneHot(long([1]), -2)).toThrow("Class values must be smaller than num_classes.");
    expect(() => F.oneHot(long([0, -2, 1]), 3)).toThrow("Class values must be non-negative.");
    expect(() => F.oneHot(long([0, -2, 1]))).toThrow("Class values must be non-negative.");
    expect(() => F.oneHot(torch.tensor([0, 2, 1]), 3)).toThrow("one_hot is only applicable to index tensor.");
    expect(() => F.oneHot(torch.tensor([true]), 3)).toThrow("one_hot is only applicable to index tensor.");
    expect(() => F.oneHot(long([]))).toThrow("Can not infer total number of classes from empty tensor.");
    expect(() => F.oneHot(long([]), 0)).toThrow("Can not infer total number of classes from empty tensor.");
  });
});

describe("gradcheck (float64), first and second derivatives, seeded random shapes", () => {
  /** Values in [-4, 4), at least 0.05 away from `kink` (where a derivative jumps). */
  function sample(rng: Rng, kink: number | null): Tensor {
    const shape = rng.shape(rng.int(0, 3));
    const values = rng.values(
      shape.reduce((a, b) => a * b, 1),
      -4,
      4,
    );
    const away = values.map((v) => (kink !== null && Math.abs(v - kink) < 0.05 ? kink + 0.05 * Math.sign(v - kink || 1) : v));
    return torch.tensor(away, { dtype: "float64" }).reshape(shape).requiresGrad_(true);
  }

  const cases: Array<[string, Fn, number | null]> = [
    ...ACTIVATIONS.map(([name, fn]): [string, Fn, number | null] => [name, fn, name === "leakyRelu" || name === "elu" ? 0 : null]),
    ["softplus beta 2 threshold 3", (x) => F.softplus(x, 2, 3), 1.5],
    ["leakyRelu slope 0.2", (x) => F.leakyRelu(x, 0.2), 0],
    ["elu alpha 0.5", (x) => F.elu(x, 0.5), 0],
  ];

  test.each(cases)("%s", (name, fn, kink) => {
    const rng = new Rng(name.length * 7919);
    for (let run = 0; run < 20; run++) {
      const x = sample(rng, kink);
      expect(torch.autograd.gradcheck(fn, [x])).toBe(true);
      const w = torch.tensor(rng.values(x.numel(), -1, 1), { dtype: "float64" }).reshape(x.shape);
      const gradient = (p: Tensor): Tensor =>
        torch.enableGrad(() => torch.autograd.grad([fn(p).mul(w).sum()], [p], { createGraph: true })[0]!);
      expect(torch.autograd.gradcheck(gradient, [x])).toBe(true);
    }
  });
});
