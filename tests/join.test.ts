/**
 * cat, stack, split, chunk, flip, repeat, where and flatten: PyTorch 1.13's values, dtypes,
 * views, gradients and messages (each expectation checked against /usr/bin/python3's torch),
 * and finite-difference checks of first and second derivatives in float64 over shapes and dims
 * drawn from a seeded generator.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";
import { messageOf } from "./helpers/replay";
import { checkTwice, leaf64 as leaf } from "./helpers/twice";

type Tensor = torch.Tensor;

// ---- cat --------------------------------------------------------------------------------------

describe("cat", () => {
  test("joins along a dim, promoting dtypes; each input's gradient is its slice, in its own dtype", () => {
    const a = torch.tensor([[1, 2, 3]]).requiresGrad_(true);
    const b = torch.tensor([[4, 5, 6]], { dtype: "float64" }).requiresGrad_(true);
    const i = torch.tensor([[7, 8, 9]], { dtype: "int64" });
    const out = torch.cat([a, b, i]);
    expect(out.dtype).toBe("float64");
    expect(out.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(out.gradFn?.name).toBe("CatBackward0");
    out.backward(
      torch.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
        { dtype: "float64" },
      ),
    );
    expect([a.grad!.dtype, a.grad!.tolist()]).toEqual(["float32", [[1, 2, 3]]]);
    expect([b.grad!.dtype, b.grad!.tolist()]).toEqual(["float64", [[4, 5, 6]]]);
    expect(torch.cat([torch.tensor([[1]], { dtype: "int64" }), torch.tensor([[true]])]).dtype).toBe("int64");
  });

  test("along a later dim and with a negative dim", () => {
    const a = torch.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = torch.tensor([[5], [6]]);
    expect(torch.cat([a, b], 1).tolist()).toEqual([
      [1, 2, 5],
      [3, 4, 6],
    ]);
    expect(torch.cat([a, b], -1).tolist()).toEqual(torch.cat([a, b], 1).tolist());
  });

  test("a 1-D empty tensor joins anything (PyTorch's legacy rule), and gets an empty gradient", () => {
    const empty = torch.zeros([0]).requiresGrad_(true);
    const a = torch.ones([2, 3]).requiresGrad_(true);
    const out = torch.cat([empty, a]);
    expect(out.shape).toEqual([2, 3]);
    out.sum().backward();
    expect(empty.grad!.shape).toEqual([0]);
    expect(a.grad!.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(torch.cat([torch.zeros([0]), torch.zeros([0])]).shape).toEqual([0]);
    expect(torch.cat([torch.zeros([2, 0]), torch.zeros([3, 0])]).shape).toEqual([5, 0]);
  });

  test("PyTorch's messages", () => {
    const a = torch.zeros([2, 3]);
    expect(messageOf(() => torch.cat([a, torch.zeros([2, 4])]))).toBe(
      "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list.",
    );
    expect(messageOf(() => torch.cat([a, torch.zeros([0, 2])]))).toBe(
      "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in the list.",
    );
    expect(messageOf(() => torch.cat([]))).toBe("torch.cat(): expected a non-empty list of Tensors");
    expect(messageOf(() => torch.cat([a, torch.zeros([3])]))).toBe("Tensors must have same number of dimensions: got 2 and 1");
    expect(messageOf(() => torch.cat([torch.tensor(1), torch.tensor(2)]))).toBe(
      "zero-dimensional tensor (at position 0) cannot be concatenated",
    );
    expect(messageOf(() => torch.cat([a, a], 2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(messageOf(() => torch.cat([a, a], -3))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    expect(messageOf(() => torch.cat([a, 1 as unknown as Tensor]))).toBe("expected Tensor as element 1 in argument 0, but got number");
    expect(messageOf(() => torch.cat(a as unknown as Tensor[]))).toBe(
      "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor",
    );
  });
});

// ---- stack ------------------------------------------------------------------------------------

describe("stack", () => {
  test("joins along a new dim; the gradient of each input is its slice", () => {
    const a = torch.tensor([1, 2, 3]).requiresGrad_(true);
    const b = torch.tensor([4, 5, 6]).requiresGrad_(true);
    const out = torch.stack([a, b], -1);
    expect(out.tolist()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(out.gradFn?.name).toBe("StackBackward0");
    out.backward(
      torch.tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    expect(a.grad!.tolist()).toEqual([1, 3, 5]);
    expect(b.grad!.tolist()).toEqual([2, 4, 6]);
  });

  test("0-d tensors stack into a vector, promoted", () => {
    const out = torch.stack([torch.tensor(1.5), torch.tensor(2, { dtype: "int64" })]);
    expect([out.dtype, out.shape, out.tolist()]).toEqual(["float32", [2], [1.5, 2]]);
  });

  test("PyTorch's messages", () => {
    const a = torch.zeros([2, 3]);
    expect(messageOf(() => torch.stack([a, torch.zeros([3, 2])]))).toBe(
      "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1",
    );
    expect(messageOf(() => torch.stack([]))).toBe("stack expects a non-empty TensorList");
    expect(messageOf(() => torch.stack([a, a], 3))).toBe("Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  });
});

// ---- split and chunk ---------------------------------------------------------------------------

describe("split and chunk", () => {
  const shapes = (ts: Tensor[]) => ts.map((t) => t.shape);

  test("piece shapes as PyTorch gives them", () => {
    const x = torch.zeros([4, 6]);
    expect(shapes(x.split(3))).toEqual([
      [3, 6],
      [1, 6],
    ]);
    expect(shapes(x.split([1, 3]))).toEqual([
      [1, 6],
      [3, 6],
    ]);
    expect(shapes(x.split(4, 1))).toEqual([
      [4, 4],
      [4, 2],
    ]);
    expect(shapes(x.split(5))).toEqual([[4, 6]]);
    expect(shapes(x.split([4, 0]))).toEqual([
      [4, 6],
      [0, 6],
    ]);
    expect(shapes(x.chunk(3))).toEqual([
      [2, 6],
      [2, 6],
    ]);
    expect(shapes(x.chunk(5, 1))).toEqual([
      [4, 2],
      [4, 2],
      [4, 2],
    ]);
    expect(shapes(torch.zeros([5]).chunk(3))).toEqual([[2], [2], [1]]);
    expect(shapes(torch.zeros([6]).chunk(4))).toEqual([[2], [2], [2]]);
    expect(shapes(torch.zeros([0]).chunk(3))).toEqual([[0], [0], [0]]);
    expect(shapes(torch.zeros([0, 3]).split(0))).toEqual([[0, 3]]);
    expect(shapes(torch.split(x, 2, -1))).toEqual([
      [4, 2],
      [4, 2],
      [4, 2],
    ]);
  });

  test("the pieces are views: they share storage and version with the input", () => {
    const x = torch.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const [left, right] = x.split([1, 2], 1);
    expect(right.tolist()).toEqual([
      [2, 3],
      [5, 6],
    ]);
    x.mul_(10);
    expect(left.tolist()).toEqual([[10], [40]]);
    expect(right.tolist()).toEqual([
      [20, 30],
      [50, 60],
    ]);
    expect(right.version).toBe(1);
    right.add_(1);
    expect(x.tolist()).toEqual([
      [10, 21, 31],
      [40, 51, 61],
    ]);
  });

  test("gradFn names as PyTorch's, and a piece's gradient lands in its slice", () => {
    const x = torch.tensor([1, 2, 3, 4, 5]).requiresGrad_(true);
    expect(x.split(2).map((p) => p.gradFn?.name)).toEqual(["SplitBackward0", "SplitBackward0", "SplitBackward0"]);
    expect(x.chunk(2).map((p) => p.gradFn?.name)).toEqual(["SplitBackward0", "SplitBackward0"]);
    expect(x.split([2, 3])[1].gradFn?.name).toBe("SplitWithSizesBackward0");
    const pieces = x.split(2);
    pieces[1]
      .mul(torch.tensor([10, 20]))
      .sum()
      .backward();
    expect(x.grad!.tolist()).toEqual([0, 0, 10, 20, 0]);
    pieces[0].sum().add(pieces[2].mul(3).sum()).backward();
    expect(x.grad!.tolist()).toEqual([1, 1, 10, 20, 3]);
  });

  test("PyTorch's messages", () => {
    const x = torch.zeros([2, 3]);
    expect(messageOf(() => x.split(0))).toBe("split_size can only be 0 if dimension size is 0, but got dimension size of 2");
    expect(messageOf(() => x.split(-1))).toBe("split expects split_size be non-negative, but got split_size=-1");
    expect(messageOf(() => x.split([1, 3], 1))).toBe(
      "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but got split_sizes=[1, 3]",
    );
    expect(messageOf(() => x.split([1, -1, 3], 1))).toBe(
      "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=[1, -1, 3]",
    );
    expect(messageOf(() => x.split(2, 2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(messageOf(() => x.split(2.5))).toBe("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not float");
    expect(messageOf(() => torch.tensor(1).split(1))).toBe("split expects at least a 1-dimensional tensor");
    expect(messageOf(() => x.chunk(0))).toBe("chunk expects `chunks` to be greater than 0, got: 0");
    expect(messageOf(() => x.chunk(2.5))).toBe("chunk(): argument 'chunks' (position 1) must be int, not float");
    expect(messageOf(() => torch.tensor(1).chunk(1))).toBe("chunk expects at least a 1-dimensional tensor");
  });
});

// ---- flip, repeat, flatten -------------------------------------------------------------------

describe("flip, repeat and flatten", () => {
  test("flip reverses the dims given, into a new tensor", () => {
    const x = torch
      .tensor([
        [1, 2, 3],
        [4, 5, 6],
      ])
      .requiresGrad_(true);
    const out = x.flip(0, 1);
    expect(out.tolist()).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    expect(torch.flip(x, [1]).tolist()).toEqual([
      [3, 2, 1],
      [6, 5, 4],
    ]);
    expect(x.flip([]).tolist()).toEqual(x.tolist());
    expect(out.gradFn?.name).toBe("FlipBackward0");
    out.backward(
      torch.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(x.grad!.tolist()).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    // A copy, not a view: changing x leaves it alone.
    x.detach().mul_(0);
    expect(out.tolist()).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    expect(torch.tensor(5).flip(0).item()).toBe(5);
    expect(x.transpose(0, 1).flip(0).tolist()).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });

  test("flip's messages", () => {
    const x = torch.zeros([2, 3]);
    expect(messageOf(() => x.flip(0, 0))).toBe("dim 0 appears multiple times in the list of dims");
    expect(messageOf(() => x.flip([0, -2]))).toBe("dim 0 appears multiple times in the list of dims");
    expect(messageOf(() => x.flip(2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(messageOf(() => torch.flip(1 as unknown as Tensor, [0]))).toBe(
      "flip(): argument 'input' (position 1) must be Tensor, not number",
    );
    expect(messageOf(() => torch.chunk(1 as unknown as Tensor, 2))).toBe(
      "chunk(): argument 'input' (position 1) must be Tensor, not number",
    );
  });

  test("repeat tiles, adding leading dims; the gradient sums the copies", () => {
    const x = torch
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .requiresGrad_(true);
    const out = x.repeat(2, 1, 2);
    expect(out.shape).toEqual([2, 2, 4]);
    expect(out.tolist()).toEqual([
      [
        [1, 2, 1, 2],
        [3, 4, 3, 4],
      ],
      [
        [1, 2, 1, 2],
        [3, 4, 3, 4],
      ],
    ]);
    expect(out.gradFn?.name).toBe("RepeatBackward0");
    out.backward(torch.arange(16).reshape(2, 2, 4).float());
    // Each x[i][j] collects out[r][i][j] and out[r][i][j + 2] for r = 0, 1.
    expect(x.grad!.tolist()).toEqual([
      [0 + 2 + 8 + 10, 1 + 3 + 9 + 11],
      [4 + 6 + 12 + 14, 5 + 7 + 13 + 15],
    ]);
    expect(torch.tensor([true, false]).repeat(2).tolist()).toEqual([true, false, true, false]);
    expect(torch.tensor(3).repeat([2, 3]).shape).toEqual([2, 3]);
  });

  test("a zero repeat gives an empty result and a zero gradient", () => {
    const x = torch.ones([2, 3]).requiresGrad_(true);
    const out = x.repeat(2, 0);
    expect(out.shape).toEqual([4, 0]);
    out.sum().backward();
    expect(x.grad!.tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  test("repeat's messages", () => {
    const x = torch.zeros([2, 3]);
    expect(messageOf(() => x.repeat(2))).toBe("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
    expect(messageOf(() => x.repeat(-1, 2))).toBe("Trying to create tensor with negative dimension -2: [-2, 6]");
    expect(messageOf(() => x.repeat())).toBe('repeat() missing 1 required positional arguments: "repeats"');
  });

  test("flatten: ReshapeAliasBackward0 when contiguous, UnsafeViewBackward0 otherwise, the input itself when nothing merges", () => {
    const x = torch.zeros([2, 3, 4]).requiresGrad_(true);
    expect(x.flatten().gradFn?.name).toBe("ReshapeAliasBackward0");
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten(1, 1)).toBe(x);
    expect(x.transpose(0, 1).flatten().gradFn?.name).toBe("UnsafeViewBackward0");
    const t = x.transpose(0, 1);
    expect(t.flatten(2)).toBe(t);
    expect(torch.tensor(2).flatten().shape).toEqual([1]);
    expect(messageOf(() => x.flatten(2, 1))).toBe("flatten() has invalid args: start_dim cannot come after end_dim");
  });
});

// ---- where --------------------------------------------------------------------------------------

describe("where", () => {
  const cond = torch.tensor([
    [true, false, true],
    [false, true, false],
  ]);

  test("chooses element-wise, broadcasting all three; each side's gradient is g where it was chosen", () => {
    const x = torch.tensor([1, 2, 3]).requiresGrad_(true);
    const y = torch.tensor([[10], [20]]).requiresGrad_(true);
    const out = torch.where(cond, x, y);
    expect(out.tolist()).toEqual([
      [1, 10, 3],
      [20, 2, 20],
    ]);
    expect(out.gradFn?.name).toBe("WhereBackward0");
    out.backward(
      torch.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(x.grad!.tolist()).toEqual([1, 5, 3]);
    expect(y.grad!.tolist()).toEqual([[2], [10]]);
  });

  test("numbers for either side, with PyTorch's promotion", () => {
    const x = torch.tensor([1, 2, 3]).requiresGrad_(true);
    const out = torch.where(cond, x, 0);
    expect([out.dtype, out.tolist()]).toEqual([
      "float32",
      [
        [1, 0, 3],
        [0, 2, 0],
      ],
    ]);
    out.sum().backward();
    expect(x.grad!.tolist()).toEqual([1, 1, 1]);
    const ints = torch.tensor([1, 2, 3], { dtype: "int64" });
    expect(torch.where(cond, ints, 0.5).dtype).toBe("float32");
    expect(torch.where(cond, ints, 2).dtype).toBe("int64");
    expect(torch.where(cond, 1, 0).dtype).toBe("int64");
    expect(torch.where(cond, ints, torch.tensor([1, 2, 3], { dtype: "float64" })).dtype).toBe("float64");
    // A 0-d tensor does not raise a dimensioned tensor of its category (result_type's tiers).
    expect(torch.where(cond, x, torch.tensor(2, { dtype: "float64" })).dtype).toBe("float32");
    expect(torch.where(cond, ints, torch.tensor(2, { dtype: "float64" })).dtype).toBe("float64");
    expect(torch.where(cond, torch.tensor(true), torch.tensor(1, { dtype: "int64" })).dtype).toBe("int64");
    expect(x.where(cond, -1).tolist()).toEqual([
      [1, -1, 3],
      [-1, 2, -1],
    ]);
  });

  test("gradients cast back to each input's dtype", () => {
    const x = torch.tensor([1, 2, 3]).requiresGrad_(true);
    const y = torch.tensor([4, 5, 6], { dtype: "float64" }).requiresGrad_(true);
    const out = torch.where(torch.tensor([true, false, true]), x, y);
    expect(out.dtype).toBe("float64");
    out.sum().backward();
    expect([x.grad!.dtype, x.grad!.tolist()]).toEqual(["float32", [1, 0, 1]]);
    expect([y.grad!.dtype, y.grad!.tolist()]).toEqual(["float64", [0, 1, 0]]);
  });

  test("the condition is saved: changing it in place before backward is PyTorch's error", () => {
    const c = torch.tensor([true, false]);
    const x = torch.tensor([1, 2]).requiresGrad_(true);
    const out = torch.where(c, x, 0);
    c.fill_(true);
    expect(messageOf(() => out.sum().backward())).toBe(
      "one of the variables needed for gradient computation has been modified by an inplace operation: [CPUBoolType [2]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
    );
  });

  test("PyTorch's messages", () => {
    const ones = (shape: number[]) => torch.ones(shape).bool();
    const z = (shape: number[]) => torch.zeros(shape);
    expect(messageOf(() => torch.where(ones([3, 4]), z([3, 5]), z([3, 4])))).toBe(
      "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1",
    );
    expect(messageOf(() => torch.where(ones([3, 4]), z([3, 4]), z([3, 5])))).toBe(
      "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1",
    );
    expect(messageOf(() => torch.where(ones([3, 5]), z([3, 4]), 1))).toBe(
      "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1",
    );
    expect(messageOf(() => torch.where(ones([3, 5]), 1, z([3, 4])))).toBe(
      "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1",
    );
    expect(messageOf(() => torch.where(z([2]), z([2]), z([2])))).toBe(
      "where expected condition to be a boolean tensor, but got a tensor with dtype Float",
    );
    expect(messageOf(() => torch.where(z([2]).long(), z([2]), z([2])))).toBe(
      "where expected condition to be a boolean tensor, but got a tensor with dtype Long",
    );
    expect(torch.where(torch.ones([2]).bool(), torch.zeros([3, 1]), torch.zeros([4, 1, 1])).shape).toEqual([4, 3, 2]);
  });
});

// ---- gradcheck over random shapes and dims ------------------------------------------------------

describe("gradcheck (float64, first and second derivatives), seeded random shapes and dims", () => {
  const rng = new Rng(20240611);
  const TRIALS = 8;

  /** A random shape of 1 to 3 dims and a dim of it, negative half the time. */
  function shapeAndDim(): { shape: number[]; dim: number } {
    const shape = rng.shape(rng.int(1, 3));
    const d = rng.int(0, shape.length - 1);
    return { shape, dim: rng.next() < 0.5 ? d - shape.length : d };
  }

  test("cat of 2 or 3 tensors differing along the dim", () => {
    for (let t = 0; t < TRIALS; t++) {
      const { shape, dim } = shapeAndDim();
      const d = dim < 0 ? dim + shape.length : dim;
      const inputs = Array.from({ length: rng.int(2, 3) }, () =>
        leaf(
          rng,
          shape.map((s, i) => (i === d ? rng.int(1, 3) : s)),
        ),
      );
      checkTwice((...xs) => torch.cat(xs, dim), inputs);
    }
  });

  test("stack", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(0, 2));
      const dim = rng.int(-shape.length - 1, shape.length);
      checkTwice((...xs) => torch.stack(xs, dim), [leaf(rng, shape), leaf(rng, shape)]);
    }
  });

  test("split by a size, by sizes, and chunk", () => {
    for (let t = 0; t < TRIALS; t++) {
      const { shape, dim } = shapeAndDim();
      const size = rng.int(1, 4);
      const d = dim < 0 ? dim + shape.length : dim;
      const cut = rng.int(0, shape[d]);
      const chunks = rng.int(1, 3);
      checkTwice((x) => x.split(size, dim), [leaf(rng, shape)]);
      checkTwice((x) => x.split([cut, shape[d] - cut], dim), [leaf(rng, shape)]);
      checkTwice((x) => x.chunk(chunks, dim), [leaf(rng, shape)]);
      // One piece alone: the others get no gradient.
      checkTwice((x) => x.split(size, dim)[0], [leaf(rng, shape)]);
    }
  });

  test("flip", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(0, 3));
      const dims = [...shape.keys()].filter(() => rng.next() < 0.6);
      checkTwice((x) => x.flip(dims), [leaf(rng, shape)]);
      checkTwice((x) => x.transpose(0, -1).flip(dims), [leaf(rng, shape)]);
    }
  });

  test("repeat, with and without new leading dims", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(0, 2));
      const repeats = Array.from({ length: shape.length + rng.int(0, 2) }, () => rng.int(1, 3));
      checkTwice((x) => x.repeat(repeats), [leaf(rng, shape)]);
    }
  });

  test("where, broadcasting, with a number on either side", () => {
    for (let t = 0; t < TRIALS; t++) {
      const shape = rng.shape(rng.int(1, 3));
      const ones = (s: number[]) => s.map((v) => (rng.next() < 0.4 ? 1 : v));
      const cond = torch
        .tensor(
          rng
            .values(
              shape.reduce((a, b) => a * b, 1),
              0,
              1,
            )
            .map((v) => v < 0.5),
        )
        .reshape(shape);
      checkTwice((x, y) => torch.where(cond, x, y), [leaf(rng, ones(shape)), leaf(rng, ones(shape).slice(rng.int(0, shape.length - 1)))]);
      checkTwice((x) => torch.where(cond, x, 1.5), [leaf(rng, ones(shape))]);
      checkTwice((y) => torch.where(cond, -2, y), [leaf(rng, ones(shape))]);
    }
  });
});
