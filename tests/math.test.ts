/**
 * More math as PyTorch 1.13 behaves, beyond the golden cases: dtype promotion, NaN and the
 * infinities, round half to even, the zero-gradient ops, and the awkward points of the reductions
 * (zeros for prod and cumprod, ties for amax/amin, the norm at zero, one-element std). Every
 * expected value here was printed by PyTorch 1.13.
 */
import * as torch from "torchlet";

type Tensor = torch.Tensor;

function f32(values: number[], shape?: number[]): Tensor {
  const t = torch.tensor(values);
  return shape ? t.reshape(shape) : t;
}

function leaf(values: number[], shape?: number[]): Tensor {
  return f32(values, shape).detach().requiresGrad_(true);
}

function valuesOf(t: Tensor | null): number[] {
  if (t === null) throw new Error("no tensor");
  return Array.from(t.toArray());
}

/** PyTorch's float32 tolerance, NaN equal to NaN and infinities only to themselves. */
function expectValues(t: Tensor | null, expected: number[]): void {
  const got = valuesOf(t);
  expect(got).toHaveLength(expected.length);
  got.forEach((a, i) => {
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) expect(a).toBe(e);
    else if (Math.abs(a - e) > 1e-5 + 1.3e-6 * Math.abs(e)) throw new Error(`element ${i}: got ${a}, PyTorch gives ${e}`);
  });
}

/** Runs `fn` on a fresh leaf of `values`, backward with ones, and returns the leaf's gradient. */
function gradOf(values: number[], fn: (x: Tensor) => Tensor, shape?: number[]): Tensor | null {
  const x = leaf(values, shape);
  const y = fn(x);
  y.backward(torch.onesLike(y));
  return x.grad;
}

const UNARY = ["sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "square", "reciprocal", "rsqrt", "erf"] as const;
type Unary = (typeof UNARY)[number];
const call = (name: string, x: Tensor): Tensor => (torch as unknown as Record<string, (x: Tensor) => Tensor>)[name](x);

describe("unary functions", () => {
  test("integer and bool inputs give float32, except square, sign and the rounding ops", () => {
    const ints = torch.tensor([1, -2, 0, 3], { dtype: "int64" });
    const bools = torch.tensor([true, false]);
    for (const name of ["sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "reciprocal", "rsqrt", "erf"]) {
      expect([call(name, ints).dtype, call(name, bools).dtype]).toEqual(["float32", "float32"]);
    }
    expect([ints.square().dtype, bools.square().dtype]).toEqual(["int64", "int64"]);
    expect(ints.square().tolist()).toEqual([1, 4, 0, 9]);
    expect([ints.sign().dtype, bools.sign().dtype]).toEqual(["int64", "bool"]);
    expect(ints.sign().tolist()).toEqual([1, -1, 0, 1]);
    for (const name of ["floor", "ceil", "round", "trunc"]) {
      const out = call(name, ints);
      expect([out.dtype, out.tolist()]).toEqual(["int64", [1, -2, 0, 3]]);
      expect(() => call(name, bools)).toThrow(`"${name}_vml_cpu" not implemented for 'Bool'`);
    }
    expect(torch.sin(ints).toArray()[1]).toBeCloseTo(-0.9092974, 6);
  });

  test("NaN, the infinities and signed zeros", () => {
    const x = f32([NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -1, -3.7]);
    const pytorch: Record<Unary | "sign" | "floor" | "ceil" | "round" | "trunc", number[]> = {
      sin: [
        NaN,
        NaN,
        NaN,
        0,
        -0,
        0.4794255495071411,
        0.9974949955940247,
        0.5984721183776855,
        -0.4794255495071411,
        -0.9974949955940247,
        -0.5984721183776855,
        -0.8414709568023682,
        0.5298361778259277,
      ],
      cos: [
        NaN,
        NaN,
        NaN,
        1,
        1,
        0.8775825500488281,
        0.07073719799518585,
        -0.8011435866355896,
        0.8775825500488281,
        0.07073719799518585,
        -0.8011435866355896,
        0.5403023362159729,
        -0.8481000065803528,
      ],
      tan: [
        NaN,
        NaN,
        NaN,
        0,
        -0,
        0.5463024973869324,
        14.101420402526855,
        -0.7470223307609558,
        -0.5463024973869324,
        -14.101420402526855,
        0.7470223307609558,
        -1.5574077367782593,
        -0.6247331500053406,
      ],
      log1p: [
        NaN,
        Infinity,
        NaN,
        0,
        -0,
        0.40546509623527527,
        0.9162907600402832,
        1.2527629137039185,
        -0.6931471824645996,
        NaN,
        NaN,
        -Infinity,
        NaN,
      ],
      expm1: [
        NaN,
        Infinity,
        -1,
        0,
        -0,
        0.6487212777137756,
        3.481688976287842,
        11.182494163513184,
        -0.39346933364868164,
        -0.7768698334693909,
        -0.9179149866104126,
        -0.6321205496788025,
        -0.9752764701843262,
      ],
      log2: [NaN, Infinity, NaN, -Infinity, -Infinity, -1, 0.5849624872207642, 1.3219281435012817, NaN, NaN, NaN, NaN, NaN],
      log10: [
        NaN,
        Infinity,
        NaN,
        -Infinity,
        -Infinity,
        -0.3010300099849701,
        0.1760912537574768,
        0.3979400098323822,
        NaN,
        NaN,
        NaN,
        NaN,
        NaN,
      ],
      square: [NaN, Infinity, Infinity, 0, 0, 0.25, 2.25, 6.25, 0.25, 2.25, 6.25, 1, 13.690000534057617],
      reciprocal: [
        NaN,
        0,
        -0,
        Infinity,
        -Infinity,
        2,
        0.6666666865348816,
        0.4000000059604645,
        -2,
        -0.6666666865348816,
        -0.4000000059604645,
        -1,
        -0.2702702581882477,
      ],
      rsqrt: [NaN, 0, NaN, Infinity, -Infinity, 1.4142135381698608, 0.8164965510368347, 0.6324555277824402, NaN, NaN, NaN, NaN, NaN],
      erf: [
        NaN,
        1,
        -1,
        0,
        -0,
        0.5204998850822449,
        0.9661051630973816,
        0.9995930194854736,
        -0.5204998850822449,
        -0.9661051630973816,
        -0.9995930194854736,
        -0.8427007794380188,
        -0.9999998211860657,
      ],
      sign: [0, 1, -1, 0, 0, 1, 1, 1, -1, -1, -1, -1, -1],
      floor: [NaN, Infinity, -Infinity, 0, -0, 0, 1, 2, -1, -2, -3, -1, -4],
      ceil: [NaN, Infinity, -Infinity, 0, -0, 1, 2, 3, -0, -1, -2, -1, -3],
      // Half to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0.
      round: [NaN, Infinity, -Infinity, 0, -0, 0, 2, 2, -0, -2, -2, -1, -4],
      trunc: [NaN, Infinity, -Infinity, 0, -0, 0, 1, 2, -0, -1, -2, -1, -3],
    };
    for (const [name, expected] of Object.entries(pytorch)) {
      const out = call(name, x);
      expect(out.dtype).toBe("float32");
      expectValues(out, expected);
      // Signed zeros as PyTorch prints them (sign of 0 and -0 is +0).
      expected.forEach((e, i) => {
        if (e === 0) expect(Object.is(out.toArray()[i], e)).toBe(true);
      });
    }
  });

  test("gradients at zero, one, the infinities and NaN", () => {
    const points = [0, -0, 1, -1, Infinity, NaN];
    const pytorch: Record<Unary, number[]> = {
      sin: [1, 1, 0.5403023362159729, 0.5403023362159729, NaN, NaN],
      cos: [-0, 0, -0.8414709568023682, 0.8414709568023682, NaN, NaN],
      tan: [1, 1, 3.425518751144409, 3.425518751144409, NaN, NaN],
      log1p: [1, 1, 0.5, Infinity, 0, NaN],
      expm1: [1, 1, 2.7182817459106445, 0.3678794503211975, Infinity, NaN],
      log2: [Infinity, -Infinity, 1.4426950216293335, -1.4426950216293335, 0, NaN],
      log10: [Infinity, -Infinity, 0.4342944622039795, -0.4342944622039795, 0, NaN],
      square: [0, -0, 2, -2, Infinity, NaN],
      reciprocal: [-Infinity, -Infinity, -1, -1, -0, NaN],
      rsqrt: [-Infinity, Infinity, -0.5, NaN, -0, NaN],
      erf: [1.128379225730896, 1.128379225730896, 0.41510751843452454, 0.41510751843452454, 0, NaN],
    };
    for (const name of UNARY)
      expectValues(
        gradOf(points, (x) => call(name, x)),
        pytorch[name],
      );
  });

  test("sign and the rounding ops: a zero gradient from a node that holds no tensor", () => {
    for (const [name, node] of [
      ["sign", "SignBackward0"],
      ["floor", "FloorBackward0"],
      ["ceil", "CeilBackward0"],
      ["round", "RoundBackward0"],
      ["trunc", "TruncBackward0"],
    ]) {
      const x = leaf([1.5, -2, 0.25]);
      const y = call(name, x).mul(3).sum();
      expect(call(name, x).gradFn?.name).toBe(node);
      y.backward();
      y.backward(); // no saved tensor: a second backward needs no retainGraph, as in PyTorch
      expect(valuesOf(x.grad)).toEqual([0, 0, 0]);
      // Under createGraph the gradient is a constant, as PyTorch's zeros_like(grad).
      const [g] = torch.autograd.grad([call(name, x).sum()], [x], { createGraph: true });
      expect([valuesOf(g), g!.requiresGrad]).toEqual([[0, 0, 0], false]);
    }
  });

  test("the other unary ops keep their saved tensors: a second backward fails in PyTorch's words", () => {
    const x = leaf([0.5, 1.5]);
    const y = x.sin().sum();
    y.backward();
    expect(() => y.backward()).toThrow("Trying to backward through the graph a second time");
  });

  test("a non-tensor argument is refused in PyTorch's words", () => {
    const sin = torch.sin as unknown as (x: unknown) => Tensor;
    expect(() => sin(3)).toThrow(new TypeError("sin(): argument 'input' (position 1) must be Tensor, not number"));
    const sign = torch.sign as unknown as (x: unknown) => Tensor;
    expect(() => sign(null)).toThrow(new TypeError("sign(): argument 'input' (position 1) must be Tensor, not null"));
  });
});

describe("prod", () => {
  test("integers and bools multiply into int64; a 0-d tensor is its own product", () => {
    const ints = torch.tensor([1, 2, 3, 4], { dtype: "int64" }).reshape([2, 2]);
    expect([ints.prod().dtype, ints.prod().item(), ints.prod(1).tolist()]).toEqual(["int64", 24, [2, 12]]);
    expect(torch.tensor([true, false]).prod().dtype).toBe("int64");
    const scalar = leaf([3]).reshape([]);
    expect([scalar.prod().item(), scalar.prod(0).item(), scalar.prod(-1, true).shape]).toEqual([3, 3, []]);
    expect(gradOf([3], (x) => x.reshape([]).prod(0))!.tolist()).toEqual([1]);
  });

  test("one zero: the gradient at the zero is the product of the others; two zeros: all zero", () => {
    expect(gradOf([1, 0, 3, 2, 2, 2], (x) => x.prod(), [2, 3])!.tolist()).toEqual([
      [0, 24, 0],
      [0, 0, 0],
    ]);
    expect(gradOf([1, 0, 3, 2, 0, 2], (x) => x.prod(), [2, 3])!.tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(gradOf([1, 0, 3, 0, 0, 2], (x) => x.prod(1), [2, 3])!.tolist()).toEqual([
      [0, 3, 0],
      [0, 0, 0],
    ]);
  });

  test("second derivatives through the zeros, as PyTorch 1.13 computes them", () => {
    // One zero: the gradient at 0 is 2*3*1 = 6, and it depends on the other values.
    const x = leaf([2, 0, 3, 1]);
    const [g] = torch.autograd.grad([x.prod()], [x], { createGraph: true });
    expect(valuesOf(g)).toEqual([0, 6, 0, 0]);
    g!
      .mul(f32([0, 1, 0, 0]))
      .sum()
      .backward();
    expect(valuesOf(x.grad)).toEqual([3, 0, 2, 6]);
    // Along a dim, two zeros in a lane: zero gradient, but its derivative is not zero.
    const y = leaf([2, 0, 3, 0, 1, 2, 3, 4], [2, 4]);
    const [gy] = torch.autograd.grad([y.prod(1).sum()], [y], { createGraph: true });
    expect(gy!.tolist()).toEqual([
      [0, 0, 0, 0],
      [24, 12, 8, 6],
    ]);
    gy!
      .mul(f32([0, 1, 0, 0, 1, 0, 0, 0], [2, 4]))
      .sum()
      .backward();
    expect(y.grad!.tolist()).toEqual([
      [0, 0, 0, 6],
      [0, 12, 8, 6],
    ]);
    // Over everything with two zeros PyTorch 1.13 returns constant zeros, even under createGraph.
    const z = leaf([2, 0, 3, 0]);
    const [gz] = torch.autograd.grad([z.prod()], [z], { createGraph: true });
    expect([valuesOf(gz), gz!.requiresGrad]).toEqual([[0, 0, 0, 0], false]);
  });

  test("dim must be one integer", () => {
    const prod = torch.prod as unknown as (x: Tensor, dim: unknown) => Tensor;
    expect(() => prod(f32([1, 2]), [0])).toThrow(new TypeError("prod(): argument 'dim' (position 1) must be int, not Array"));
    expect(() => f32([1, 2]).prod(1)).toThrow("Dimension out of range (expected to be in range of [-1, 0], but got 1)");
  });
});

describe("std and var", () => {
  test("unbiased by default; std(false) is the biased one over every dim; keepdim", () => {
    const x = f32([1, 2, 3, 4]);
    expectValues(x.var(), [1.6666666269302368]);
    expectValues(x.std(), [1.29099440574646]);
    expectValues(x.var(false), [1.25]);
    expectValues(x.std(false), [1.1180340051651]);
    const m = f32([1, 5, 2, 7, 1, 1], [2, 3]);
    expectValues(m.std(0), [4.242640495300293, 2.8284270763397217, 0.7071067690849304]);
    const v = m.var(1, false, true);
    expect(v.shape).toEqual([2, 1]);
    expectValues(v, [2.8888888359069824, 8]);
  });

  test("one value: NaN, with a NaN gradient", () => {
    expectValues(f32([3]).std(), [NaN]);
    expectValues(
      gradOf([3], (x) => x.std(0)),
      [NaN],
    );
    expectValues(
      gradOf([3, 4], (x) => x.var(0), [1, 2]),
      [NaN, NaN],
    );
    // PyTorch 1.13 fails here on a shape check of its own; torchlet gives the gradient it meant.
    expectValues(
      gradOf([3], (x) => x.std()),
      [NaN],
    );
  });

  test("a constant lane has std 0 and a zero gradient", () => {
    expectValues(
      gradOf([3, 3], (x) => x.std()),
      [0, 0],
    );
    expectValues(
      gradOf([3, 3, 1, 2], (x) => x.std(1), [2, 2]),
      [0, 0, -0.7071067690849304, 0.7071067690849304],
    );
  });

  test("integer input is refused", () => {
    const ints = torch.tensor([1, 2], { dtype: "int64" });
    expect(() => ints.std()).toThrow("std and var only support floating point and complex dtypes");
    expect(() => ints.var(0)).toThrow("std and var only support floating point and complex dtypes");
  });
});

describe("norm", () => {
  const rows = [0, 0, 0, 1, -2, 2];
  const cases: Array<[number, number[], number[]]> = [
    [2, [0, 3], [0, 0, 0, 0.3333333432674408, -0.6666666865348816, 0.6666666865348816]],
    [1, [0, 5], [0, 0, 0, 1, -1, 1]],
    [Infinity, [0, 2], [0, 0, 0, 0, -0.5, 0.5]],
    [-Infinity, [0, 1], [0, 0, 0, 1, -0, 0]],
    [0.5, [0, 14.656855583190918], [0, 0, 0, 3.828427314758301, -2.707106828689575, 2.707106828689575]],
    [1.5, [0, 3.5387187004089355], [0, 0, 0, 0.5315902233123779, -0.7517821192741394, 0.7517821192741394]],
    [3, [0, 2.571281671524048], [0, 0, 0, 0.15125185251235962, -0.6050074100494385, 0.6050074100494385]],
    [-1, [0, 0.5], [0, 0, 0, 0.25, -0.0625, 0.0625]],
  ];

  test.each(cases)("p = %p: values, and a zero gradient where the norm is zero", (p, values, grads) => {
    expectValues(f32(rows, [2, 3]).norm(p, 1), values);
    expectValues(
      gradOf(rows, (x) => x.norm(p, 1), [2, 3]),
      grads,
    );
    expectValues(
      gradOf([0, 0, 0, 0], (x) => x.norm(p)),
      [0, 0, 0, 0],
    );
  });

  test("p = 0 counts the non-zeros and has no gradient", () => {
    expectValues(f32(rows, [2, 3]).norm(0, 1), [0, 3]);
    expect(gradOf(rows, (x) => x.norm(0), [2, 3])).toBeNull();
  });

  test("p = ±inf shares the gradient among the ties", () => {
    const x = [1, -3, 3, 2, 2, -1];
    expectValues(
      gradOf(x, (t) => t.norm(Infinity, 1), [2, 3]),
      [0, -0.5, 0.5, 0.5, 0.5, -0],
    );
    expectValues(
      gradOf(x, (t) => t.norm(-Infinity, 1), [2, 3]),
      [1, -0, 0, 0, 0, -1],
    );
  });

  test(`"fro" is the 2-norm over at most two dims; other strings in PyTorch's words`, () => {
    const x = f32([1, -2, 2, 4, 0, 0, 1, 1], [2, 2, 2]);
    expectValues(x.norm("fro"), [5.196152210235596]);
    expectValues(x.norm("fro", [1, 2]), [5, 1.4142135381698608]);
    expect(() => x.norm("fro", [0, 1, 2])).toThrow("Expected at most 2 dimensions, but got 3 dimensions instead.");
    const norm = torch.norm as unknown as (x: Tensor, p: unknown) => Tensor;
    expect(() => norm(x, "foo")).toThrow("only valid string values are 'fro' and 'nuc', found foo");
  });

  test("NormBackward1 for every form; integer input refused", () => {
    const x = leaf([3, 4]);
    for (const y of [x.norm(), x.norm(1), x.norm(Infinity, 0), x.norm(3, [0], true)]) expect(y.gradFn?.name).toBe("NormBackward1");
    expect(() => torch.tensor([1, 2], { dtype: "int64" }).norm()).toThrow(
      "norm(): input dtype should be either floating point or complex. Got Long instead.",
    );
  });
});

describe("cumsum and cumprod", () => {
  test("integers and bools accumulate into int64", () => {
    const ints = torch.tensor([1, 2, 3, 4], { dtype: "int64" }).reshape([2, 2]);
    expect([ints.cumsum(0).dtype, ints.cumsum(0).tolist()]).toEqual([
      "int64",
      [
        [1, 2],
        [4, 6],
      ],
    ]);
    expect(ints.cumprod(0).tolist()).toEqual([
      [1, 2],
      [3, 8],
    ]);
    expect(torch.tensor([true, true]).cumsum(0).tolist()).toEqual([1, 2]);
    expect(torch.tensor([true, true]).cumprod(0).dtype).toBe("int64");
  });

  test("cumsum's gradient sums from each position to the end", () => {
    expectValues(
      gradOf([1, 2, 3], (x) => x.cumsum(0)),
      [3, 2, 1],
    );
    expectValues(
      gradOf([1, 2, 3, 4, 5, 6], (x) => x.cumsum(0), [2, 3]),
      [2, 2, 2, 1, 1, 1],
    );
  });

  test("cumprod's gradient with zeros, in an ordinary backward and under createGraph", () => {
    const values = [1, 0, 3, 4, 0, 2, 0, 2, 2, 3, 4, 5];
    const expected = [1, 16, 0, 0, 3, 0, 0, 0, 76, 50, 36, 24];
    expectValues(
      gradOf(values, (x) => x.cumprod(1), [3, 4]),
      expected,
    );
    const x = leaf(values, [3, 4]);
    const [g] = torch.autograd.grad([x.cumprod(1)], [x], { gradOutputs: [torch.ones([3, 4])], createGraph: true });
    expectValues(g, expected);
    g!
      .mul(f32([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1], [3, 4]))
      .sum()
      .backward();
    expectValues(x.grad, [16, 16, 5, 3, 0, 1, 6, 0, 12, 8, 6, 0]);
  });

  test("dim is required", () => {
    const cumsum = torch.cumsum as unknown as (x: Tensor) => Tensor;
    expect(() => cumsum(f32([1, 2]))).toThrow(new TypeError("cumsum(): argument 'dim' (position 1) must be int, not undefined"));
    expect(() => f32([1, 2, 3, 4], [2, 2]).cumprod(2)).toThrow("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  });
});

describe("amax and amin", () => {
  test("the gradient is shared evenly among ties; a NaN lane gives NaN", () => {
    expectValues(
      gradOf([1, 3, 3, 2, 2, 2], (x) => x.amax(1), [2, 3]),
      [0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3],
    );
    expectValues(
      gradOf([1, 3, 1, 2, 1, 2], (x) => x.amin([0, 1]), [2, 3]),
      [1 / 3, 0, 1 / 3, 0, 1 / 3, 0],
    );
    const withNaN = f32([1, NaN, 3, 2, 2, 2], [2, 3]);
    expectValues(withNaN.amax(1), [NaN, 2]);
    expectValues(
      gradOf([1, NaN, 3, 2, 2, 2], (x) => x.amax(1), [2, 3]),
      [NaN, NaN, NaN, 1 / 3, 1 / 3, 1 / 3],
    );
  });

  test("dtypes are kept; keepdim; every dim by default", () => {
    const ints = torch.tensor([1, 5, 2, 7, 1, 1], { dtype: "int64" }).reshape([2, 3]);
    expect([ints.amax(0).dtype, ints.amax(0).tolist(), ints.amin().item()]).toEqual(["int64", [7, 5, 2], 1]);
    expect(torch.tensor([true, false]).amax(0).tolist()).toBe(true);
    expect(f32([1, 5, 2, 7, 1, 1], [2, 3]).amin(-1, true).tolist()).toEqual([[1], [1]]);
  });

  test("empty inputs in PyTorch's words", () => {
    expect(() => torch.zeros([0, 3]).amax()).toThrow(
      "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
    );
    expect(() => torch.zeros([2, 0, 3]).amin(1)).toThrow("amin(): Expected reduction dim 1 to have non-zero size.");
    expect(torch.zeros([2, 0, 3]).amax([0, 2]).shape).toEqual([0]);
    expect(torch.zeros([0, 3]).amax(1).shape).toEqual([0]);
  });
});

describe("saved tensors, views and the other ops' graphs", () => {
  const modified = (producer: string): string =>
    "one of the variables needed for gradient computation has been modified by an inplace operation: " +
    `[torch.FloatTensor [3]], which is output 0 of ${producer}, is at version 1; expected version 0 instead.`;

  test("changing a saved input or output in place fails at backward, as in PyTorch", () => {
    const x = leaf([1, 2, 3]);
    const cases: Array<[(y: Tensor) => Tensor, boolean, string]> = [
      [(y) => y.sin(), false, "AddBackward0"],
      [(y) => y.std(), false, "AddBackward0"],
      [(y) => y.cumprod(0), false, "AddBackward0"],
      [(y) => torch.nn.functional.softplus(y), false, "AddBackward0"],
      [(y) => y.tan(), true, "TanBackward0"],
    ];
    for (const [op, changeOutput, producer] of cases) {
      const y = x.mul(1);
      const z = op(y);
      (changeOutput ? z : y).add_(1);
      expect(() => z.sum().backward()).toThrow(modified(producer));
    }
    // cumsum keeps no tensor: its input may change.
    const y = x.mul(1);
    const z = y.cumsum(0);
    y.mul_(2);
    z.sum().backward();
    expect(valuesOf(x.grad)).toEqual([3, 2, 1]);
  });

  test("non-contiguous inputs (transposed, expanded) give the values and gradients of their copies", () => {
    const base = leaf([1, -2, 0.5, 3, -1, 2], [2, 3]);
    const ops: Array<(t: Tensor) => Tensor> = [
      (t) => t.cumsum(0),
      (t) => t.cumprod(1),
      (t) => t.prod(0),
      (t) => t.norm(3, 1),
      (t) => t.std(0),
      (t) => t.amax(1),
      (t) => t.erf(),
      (t) => torch.nn.functional.gelu(t),
    ];
    for (const op of ops) {
      for (const view of [(t: Tensor) => t.t(), (t: Tensor) => t.unsqueeze(0).expand([2, 2, 3]).reshape([4, 3]).t()]) {
        const copy = base.detach().requiresGrad_(true);
        const viewed = op(view(base));
        const copied = op(view(copy).contiguous());
        expect(viewed.tolist()).toEqual(copied.tolist());
        viewed.sum().backward();
        copied.sum().backward();
        expect(base.grad!.tolist()).toEqual(copy.grad!.tolist());
        base.grad = null;
      }
    }
  });
});
