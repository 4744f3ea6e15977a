/**
 * Comparisons, logic, NaN tests, any/all, maximum/minimum, min/argmin (and max/argmax, which
 * share their code): PyTorch 1.13's values, dtypes, tie and NaN rules, gradients and messages
 * (each expectation checked against /usr/bin/python3's torch), then finite-difference checks of
 * first and second derivatives in float64 over seeded random shapes.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";
import { messageOf } from "./helpers/replay";
import { checkTwice, leaf64 } from "./helpers/twice";

type Tensor = torch.Tensor;
const f64 = (values: number[]) => torch.tensor(values, { dtype: "float64" });
const i64 = (values: number[]) => torch.tensor(values, { dtype: "int64" });

// ---- comparisons ----------------------------------------------------------------------------------

describe("comparisons", () => {
  const a = torch.tensor([1, 2, NaN, 4]);
  const b = torch.tensor([1, 3, NaN, 0]);

  test("each of eq ne gt ge lt le, against a tensor and a number; NaN compares unequal", () => {
    expect(a.eq(b).tolist()).toEqual([true, false, false, false]);
    expect(a.ne(b).tolist()).toEqual([false, true, true, true]);
    expect(a.gt(b).tolist()).toEqual([false, false, false, true]);
    expect(a.ge(b).tolist()).toEqual([true, false, false, true]);
    expect(a.lt(b).tolist()).toEqual([false, true, false, false]);
    expect(a.le(b).tolist()).toEqual([true, true, false, false]);
    expect(torch.gt(a, 1.5).tolist()).toEqual([false, true, false, true]);
    expect(torch.le(a, 2).tolist()).toEqual([true, true, false, false]);
    expect(torch.ne(a, NaN).tolist()).toEqual([true, true, true, true]);
  });

  test("bool results without a gradFn, even from inputs that require grad", () => {
    const x = torch.tensor([1, 2]).requiresGrad_(true);
    const out = x.gt(1);
    expect([out.dtype, out.gradFn, out.requiresGrad]).toEqual(["bool", null, false]);
  });

  test("broadcasting, and PyTorch's message when shapes do not", () => {
    const m = torch.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(m.ge(torch.tensor([2, 2])).tolist()).toEqual([
      [false, true],
      [true, true],
    ]);
    expect(messageOf(() => m.eq(torch.zeros([3])))).toBe(
      "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1",
    );
  });

  test("operands meet in PyTorch's common dtype first", () => {
    // 0.1 is rounded to float32 before it is compared with a float32 tensor.
    expect(torch.tensor([0.1]).eq(0.1).tolist()).toEqual([true]);
    expect(f64([0.1]).eq(0.1).tolist()).toEqual([true]);
    expect(torch.tensor([0.1]).double().eq(0.1).tolist()).toEqual([false]);
    // A 0-d float64 tensor is cast to the float32 of the dimensioned tensor.
    expect(
      torch
        .tensor([0.1])
        .eq(torch.tensor(0.1, { dtype: "float64" }))
        .tolist(),
    ).toEqual([true]);
    // int64 against float32 compares in float32, where 16777217 rounds to 16777216.
    expect(
      i64([16777217])
        .eq(torch.tensor([16777216]))
        .tolist(),
    ).toEqual([true]);
    expect(
      i64([16777217])
        .eq(f64([16777216]))
        .tolist(),
    ).toEqual([false]);
    expect(i64([1, 2, 3]).lt(1.5).tolist()).toEqual([true, false, false]);
    expect(
      i64([1, 2])
        .lt(torch.tensor(1.5, { dtype: "float64" }))
        .tolist(),
    ).toEqual([true, false]);
    expect(torch.tensor([true, false]).eq(1).tolist()).toEqual([true, false]);
    expect(torch.tensor([true, false]).lt(0.5).tolist()).toEqual([false, true]);
    expect(torch.tensor([0.5, 1.5]).gt(true).tolist()).toEqual([false, true]);
  });

  test("a non-tensor, non-number operand: PyTorch's message", () => {
    expect(messageOf(() => torch.zeros([2]).eq(null as unknown as number))).toBe(
      "eq() received an invalid combination of arguments - got (null), but expected one of:\n" +
        " * (Tensor other)\n      didn't match because some of the arguments have invalid types: (!null!)\n" +
        " * (Number other)\n      didn't match because some of the arguments have invalid types: (!null!)\n",
    );
    expect(messageOf(() => torch.zeros([2]).gt([1] as unknown as number))).toMatch(
      /^gt\(\) received an invalid combination of arguments - got \(Array\)/,
    );
  });
});

// ---- logic and NaN tests ---------------------------------------------------------------------------

describe("logic and NaN tests", () => {
  test("logicalNot/And/Or read any dtype as truth (NaN is true)", () => {
    expect(torch.tensor([0, NaN, -1]).logicalNot().tolist()).toEqual([true, false, false]);
    expect(i64([0, 3]).logicalNot().tolist()).toEqual([true, false]);
    const c = torch.tensor([
      [true, false, true],
      [false, true, false],
    ]);
    expect(torch.logicalAnd(c, i64([1, 2, 0])).tolist()).toEqual([
      [true, false, false],
      [false, true, false],
    ]);
    expect(c.logicalOr(torch.tensor([true, false, false])).tolist()).toEqual([
      [true, false, true],
      [true, true, false],
    ]);
    expect(torch.logicalAnd(torch.tensor([0.5, 0]), torch.tensor([NaN, NaN])).tolist()).toEqual([true, false]);
  });

  test("logical ops take only tensors, as PyTorch's signature says", () => {
    const c = torch.tensor([true]);
    expect(messageOf(() => torch.logicalAnd(c, 1 as unknown as Tensor))).toBe(
      "logical_and(): argument 'other' (position 2) must be Tensor, not number",
    );
    expect(messageOf(() => torch.logicalOr(c, 0.5 as unknown as Tensor))).toBe(
      "logical_or(): argument 'other' (position 2) must be Tensor, not number",
    );
    expect(messageOf(() => torch.logicalAnd(torch.tensor([true, false, true]), torch.zeros([2])))).toBe(
      "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0",
    );
  });

  test("a non-tensor input: PyTorch's message", () => {
    const notTensor = 2 as unknown as Tensor;
    expect(messageOf(() => torch.isnan(notTensor))).toBe("isnan(): argument 'input' (position 1) must be Tensor, not number");
    expect(messageOf(() => torch.logicalNot(notTensor))).toBe("logical_not(): argument 'input' (position 1) must be Tensor, not number");
    expect(messageOf(() => torch.logicalAnd(notTensor, torch.zeros([1])))).toBe(
      "logical_and(): argument 'input' (position 1) must be Tensor, not number",
    );
    expect(messageOf(() => torch.maximum(notTensor, torch.zeros([1])))).toBe(
      "maximum(): argument 'input' (position 1) must be Tensor, not number",
    );
    expect(messageOf(() => torch.gt(notTensor, torch.zeros([1])))).toBe("gt(): argument 'input' (position 1) must be Tensor, not number");
  });

  test("isnan, isinf, isfinite on floats and integers", () => {
    const x = torch.tensor([1, NaN, Infinity, -Infinity, 0, -2.5]);
    expect(x.isnan().tolist()).toEqual([false, true, false, false, false, false]);
    expect(x.isinf().tolist()).toEqual([false, false, true, true, false, false]);
    expect(x.isfinite().tolist()).toEqual([true, false, false, false, true, true]);
    expect(torch.isfinite(i64([1, 2])).tolist()).toEqual([true, true]);
    expect(torch.isnan(torch.tensor([true])).tolist()).toEqual([false]);
  });
});

// ---- any / all -----------------------------------------------------------------------------------

describe("any and all", () => {
  const x = torch.tensor([
    [0, NaN],
    [0, 0],
  ]);

  test("over everything and along a dim, NaN counting as true", () => {
    expect(x.any().tolist()).toBe(true);
    expect(x.all().tolist()).toBe(false);
    expect(x.all(1).tolist()).toEqual([false, false]);
    expect(x.any(0).tolist()).toEqual([false, true]);
    expect(x.any(1, true).tolist()).toEqual([[true], [false]]);
    expect(torch.all(torch.tensor([NaN])).tolist()).toBe(true);
    expect(torch.any(i64([0, 0, 2])).dtype).toBe("bool");
  });

  test("empty inputs: any is false, all is true; a 0-d input takes dim 0", () => {
    expect(torch.zeros([0]).any().tolist()).toBe(false);
    expect(torch.zeros([0]).all().tolist()).toBe(true);
    expect(torch.zeros([0, 3]).all(0).tolist()).toEqual([true, true, true]);
    expect(torch.tensor(1).any(0).tolist()).toBe(true);
    expect(messageOf(() => x.any(2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  });
});

// ---- maximum / minimum -----------------------------------------------------------------------------

describe("maximum and minimum", () => {
  test("element-wise, NaN if either is, std::max's choice between -0 and 0", () => {
    expect(torch.maximum(torch.tensor([1, NaN, 3]), torch.tensor([2, 0, NaN])).tolist()).toEqual([2, NaN, NaN]);
    expect(torch.minimum(torch.tensor([1, NaN, 3]), torch.tensor([2, 0, NaN])).tolist()).toEqual([1, NaN, NaN]);
    expect(Object.is(torch.maximum(torch.tensor([-0]), torch.tensor([0])).item(), -0)).toBe(true);
    expect(Object.is(torch.maximum(torch.tensor([0]), torch.tensor([-0])).item(), 0)).toBe(true);
    expect(Object.is(torch.minimum(torch.tensor([-0]), torch.tensor([0])).item(), -0)).toBe(true);
    expect(Object.is(torch.minimum(torch.tensor([0]), torch.tensor([-0])).item(), 0)).toBe(true);
  });

  test("dtype promotion as PyTorch's result_type", () => {
    const ints = i64([1, 5]);
    expect(torch.maximum(ints, torch.tensor([true, false])).tolist()).toEqual([1, 5]);
    expect(torch.maximum(ints, torch.tensor([true, false])).dtype).toBe("int64");
    expect(torch.maximum(torch.zeros([2]), ints).dtype).toBe("float32");
    expect(torch.maximum(torch.zeros([2]), torch.tensor(2, { dtype: "float64" })).dtype).toBe("float32");
    expect(torch.minimum(torch.tensor([true, false]), torch.tensor([true, true])).tolist()).toEqual([true, false]);
  });

  test("ties split the gradient in half; NaN gives both sides all of it (PyTorch's numbers)", () => {
    const a = torch.tensor([1, 2, 2, NaN, 3]).requiresGrad_(true);
    const b = torch.tensor([2, 2, 1, 1, NaN]).requiresGrad_(true);
    const g = torch.tensor([1, 2, 3, 4, 5]);
    const hi = torch.maximum(a, b);
    expect(hi.gradFn?.name).toBe("MaximumBackward0");
    hi.backward(g);
    expect([a.grad!.tolist(), b.grad!.tolist()]).toEqual([
      [0, 1, 3, 4, 5],
      [1, 1, 0, 4, 5],
    ]);
    a.grad = null;
    b.grad = null;
    const lo = torch.minimum(a, b);
    expect(lo.gradFn?.name).toBe("MinimumBackward0");
    lo.backward(g);
    expect([a.grad!.tolist(), b.grad!.tolist()]).toEqual([
      [1, 1, 0, 4, 5],
      [0, 1, 3, 4, 5],
    ]);
  });

  test("a broadcast side's gradient is summed back to its shape", () => {
    const x = torch
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .requiresGrad_(true);
    const y = torch.tensor([2, 2]).requiresGrad_(true);
    torch.maximum(x, y).backward(
      torch.tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(x.grad!.tolist()).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(y.grad!.tolist()).toEqual([1, 1]);
  });

  test("PyTorch's messages", () => {
    const x = torch.zeros([2, 3]);
    expect(messageOf(() => torch.maximum(x, 1.5 as unknown as Tensor))).toBe(
      "maximum(): argument 'other' (position 2) must be Tensor, not number",
    );
    expect(messageOf(() => torch.minimum(x, torch.zeros([2, 2])))).toBe(
      "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
    );
  });
});

// ---- min / max / argmin / argmax ---------------------------------------------------------------------

describe("min, max, argmin, argmax", () => {
  test("min() shares its gradient among ties, or among the NaNs (PyTorch's numbers)", () => {
    const y = torch
      .tensor([
        [1, 3, 3, 1],
        [2, 2, 0, 0],
      ])
      .requiresGrad_(true);
    const m = y.min();
    expect([m.item(), m.gradFn?.name]).toEqual([0, "MinBackward1"]);
    m.backward();
    expect(y.grad!.tolist()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0.5, 0.5],
    ]);
    const x = torch.tensor([1, 3, NaN, 3, NaN]).requiresGrad_(true);
    const n = torch.min(x);
    expect(n.item()).toBeNaN();
    n.backward();
    expect(x.grad!.tolist()).toEqual([0, 0, 0.5, 0, 0.5]);
    x.grad = null;
    x.max().backward();
    expect(x.grad!.tolist()).toEqual([0, 0, 0.5, 0, 0.5]);
  });

  test("the value of everything keeps the later of -0 and 0, as PyTorch's kernel", () => {
    expect(Object.is(torch.tensor([0, -0]).max().item(), -0)).toBe(true);
    expect(Object.is(torch.tensor([-0, 0]).max().item(), 0)).toBe(true);
    expect(Object.is(torch.tensor([0, -0]).min().item(), -0)).toBe(true);
    expect(Object.is(torch.tensor([-0, 0]).min().item(), 0)).toBe(true);
  });

  test("min(dim) reports the first of equal values, the first NaN, and sends the gradient there", () => {
    const y = torch
      .tensor([
        [1, 3, 3, 1],
        [2, 2, 0, 0],
      ])
      .requiresGrad_(true);
    const { values, indices } = y.min(1);
    expect([values.tolist(), indices.tolist(), values.gradFn?.name, indices.dtype]).toEqual([[1, 0], [0, 2], "MinBackward0", "int64"]);
    values.sum().backward();
    expect(y.grad!.tolist()).toEqual([
      [1, 0, 0, 0],
      [0, 0, 1, 0],
    ]);
    const nan = torch.tensor([1, NaN, 3, NaN]).min(0);
    expect([nan.values.item(), nan.indices.item()]).toEqual([NaN, 1]);
    expect(i64([2, 1, 1, 2]).reshape(2, 2).min(0).indices.tolist()).toEqual([1, 0]);
    expect(y.min(0, true).values.shape).toEqual([1, 4]);
    const scalar = torch.tensor(3).min(0, true);
    expect([scalar.values.shape, scalar.indices.item()]).toEqual([[], 0]);
  });

  test("argmin and argmax: first of ties, first NaN, keepdim", () => {
    expect(torch.tensor([1, 0, 0, NaN, NaN]).argmin().item()).toBe(3);
    expect(torch.tensor([2, 0, 0, 1]).argmin().item()).toBe(1);
    expect(
      torch
        .tensor([
          [4, 1],
          [0, 0],
        ])
        .argmin(1)
        .tolist(),
    ).toEqual([1, 0]);
    expect(
      torch
        .tensor([
          [4, 1],
          [0, 0],
        ])
        .argmin(null, true)
        .tolist(),
    ).toEqual([[2]]);
    expect(torch.argmin(torch.tensor(3), 0, true).item()).toBe(0);
    expect(i64([1, 2, 3]).argmax().item()).toBe(2);
  });

  test("PyTorch's messages for empty and bool inputs", () => {
    expect(messageOf(() => torch.zeros([0]).min())).toBe(
      "min(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
    );
    expect(messageOf(() => torch.zeros([0, 3]).min(0))).toBe("min(): Expected reduction dim 0 to have non-zero size.");
    expect(messageOf(() => torch.zeros([0, 3]).max(0))).toBe("max(): Expected reduction dim 0 to have non-zero size.");
    expect(torch.zeros([0, 3]).min(1).values.shape).toEqual([0]);
    expect(messageOf(() => torch.zeros([0]).argmin())).toBe("argmin(): Expected reduction dim to be specified for input.numel() == 0.");
    expect(messageOf(() => torch.zeros([0]).argmax())).toBe("argmax(): Expected reduction dim to be specified for input.numel() == 0.");
    expect(messageOf(() => torch.zeros([0, 3]).argmax(0))).toBe("argmax(): Expected reduction dim 0 to have non-zero size.");
    expect(messageOf(() => torch.tensor([true]).argmin())).toBe(`"argmin_cpu" not implemented for 'Bool'`);
    expect(messageOf(() => torch.tensor([true]).argmax())).toBe(`"argmax_cpu" not implemented for 'Bool'`);
    expect(torch.tensor([true, false]).min().tolist()).toBe(false);
    expect(messageOf(() => torch.zeros([2]).min(1))).toBe("Dimension out of range (expected to be in range of [-1, 0], but got 1)");
  });
});

// ---- gradcheck over random shapes ----------------------------------------------------------------

describe("gradcheck (float64, first and second derivatives), seeded random shapes", () => {
  const rng = new Rng(4242);
  const TRIALS = 8;

  const leaf = (shape: number[]) => leaf64(rng, shape);

  test("maximum and minimum with broadcasting", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(0, 3));
      const other = shape.slice(rng.int(0, shape.length)).map((s) => (rng.next() < 0.3 ? 1 : s));
      checkTwice((a, b) => torch.maximum(a, b), [leaf(shape), leaf(other)]);
      checkTwice((a, b) => torch.minimum(b, a), [leaf(shape), leaf(other)]);
    }
  });

  test("min and max of everything and along a dim", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(1, 3));
      const dim = rng.int(-shape.length, shape.length - 1);
      const keepdim = rng.next() < 0.5;
      checkTwice((x) => x.min(), [leaf(shape)]);
      checkTwice((x) => x.max(), [leaf(shape)]);
      checkTwice((x) => x.min(dim, keepdim).values, [leaf(shape)]);
      checkTwice((x) => x.max(dim, keepdim).values, [leaf(shape)]);
    }
    checkTwice((x) => x.min(0).values, [leaf([])]);
  });
});
