/**
 * int64 holds every integer up to 2^53 exactly (issue 15, item 9: it used to be 32-bit and wrap).
 * Expected values were printed by PyTorch 1.13; beyond 2^53, where PyTorch keeps wrapping at 2^63,
 * torchlet's results round as float64 arithmetic does (README), and creation refuses such values.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "torchlet";

const long = (data: torch.NestedArray): torch.Tensor => torch.tensor(data, { dtype: "int64" });
const TWO_53 = 2 ** 53;
const INT64_MIN = -9223372036854775808;

/** Whether any value is -0, which int64 has not (it would print, divide and compare unlike 0). */
const hasNegativeZero = (t: torch.Tensor): boolean => Array.from(t.toArray()).some((v) => Object.is(v, -0));

describe("the issue's two cases", () => {
  test("2147483647 + 1 is 2147483648, not -2147483648", () => {
    const t = long([2147483647]).add(1);
    expect(t.dtype).toBe("int64");
    expect(t.item()).toBe(2147483648);
    expect(t.tolist()).toEqual([2147483648]);
    expect(t.toString()).toBe("tensor([2147483648])");
  });

  test("the sum of three 2^31 - 1 is 6442450941, not 2147483645", () => {
    const s = long([2147483647, 2147483647, 2147483647]).sum();
    expect([s.dtype, s.item()]).toEqual(["int64", 6442450941]);
    expect(s.toString()).toBe("tensor(6442450941)");
  });
});

describe("integers up to 2^53 are exact", () => {
  test("creation, item, tolist and printing of 2^53 - 1 and its negative", () => {
    const t = long([TWO_53 - 1, -(TWO_53 - 1), 2147483648]);
    expect(t.tolist()).toEqual([9007199254740991, -9007199254740991, 2147483648]);
    expect(long(-(TWO_53 - 1)).toString()).toBe("tensor(-9007199254740991)");
    expect(
      torch
        .tensor(new Int32Array([-2147483648]), { dtype: "int64" })
        .sub(1)
        .item(),
    ).toBe(-2147483649);
  });

  test("arithmetic reaches 2^53 exactly: add, sub, mul, pow, abs, neg", () => {
    const top = long([TWO_53 - 1]);
    expect(top.add(1).item()).toBe(TWO_53);
    expect(top.sub(long([-1])).toString()).toBe("tensor([9007199254740992])");
    expect(
      long([67108865])
        .mul(long([67108865]))
        .item(),
    ).toBe(4503599761588225);
    expect(long([3]).pow(33).item()).toBe(5559060566555523);
    expect(
      long([-5, 2 ** 40])
        .abs()
        .tolist(),
    ).toEqual([5, 1099511627776]);
    expect(
      long([2 ** 31])
        .neg()
        .item(),
    ).toBe(-2147483648);
  });

  test("sum, prod, cumsum, cumprod and matmul", () => {
    expect(
      long([TWO_53 - 2, 1, 1])
        .sum()
        .item(),
    ).toBe(TWO_53);
    expect(
      long([2 ** 40, 3])
        .prod()
        .item(),
    ).toBe(3298534883328);
    expect(
      long([1, 2, 3, 2 ** 40])
        .cumsum(0)
        .tolist(),
    ).toEqual([1, 3, 6, 1099511627782]);
    expect(
      long([2 ** 20, 2 ** 20, -3])
        .cumprod(0)
        .tolist(),
    ).toEqual([1048576, 1099511627776, -3298534883328]);
    const m = long([
      [2 ** 26, 1],
      [1, 1],
    ]).matmul(long([[2 ** 26], [1]]));
    expect([m.dtype, m.tolist()]).toEqual(["int64", [[4503599627370497], [67108865]]]);
    expect(
      long([[2 ** 40, 3]])
        .matmul(long([[2], [5]]))
        .tolist(),
    ).toEqual([[2199023255567]]);
  });

  test("sort, argmax and comparisons tell neighbours past 2^32 apart", () => {
    const { values, indices } = long([2 ** 40 + 1, 2 ** 40, -3]).sort();
    expect(values.tolist()).toEqual([-3, 1099511627776, 1099511627777]);
    expect([indices.dtype, indices.tolist()]).toEqual(["int64", [2, 1, 0]]);
    expect(
      long([2 ** 40 + 1, 2 ** 40])
        .argmax()
        .item(),
    ).toBe(0);
    expect(
      long([2 ** 32 + 1, 2 ** 40])
        .eq(long([1, 2 ** 40]))
        .tolist(),
    ).toEqual([false, true]);
  });

  test("printing aligns large integers as PyTorch does, INT64_MIN included", () => {
    expect(
      long([
        [1, -22222222222],
        [3, 4],
      ]).toString(),
    ).toBe("tensor([[           1, -22222222222],\n        [           3,            4]])");
    expect(torch.tensor([NaN]).long().toString()).toBe("tensor([-9223372036854775808])");
  });

  test("beyond 2^53 results round as float64 arithmetic does (PyTorch would give 2^53 + 1)", () => {
    expect(
      long([TWO_53 - 1])
        .add(2)
        .item(),
    ).toBe(TWO_53);
    expect(
      long([TWO_53 - 1])
        .add(1)
        .add(1)
        .item(),
    ).toBe(TWO_53);
    expect(
      long([TWO_53 - 1])
        .add(3)
        .item(),
    ).toBe(TWO_53 + 2); // representable, so exact
    // Printed in full digits (PyTorch would have wrapped 2^80 to 0), and an overflow prints too.
    expect(
      long([2 ** 40])
        .mul(long([2 ** 40]))
        .toString(),
    ).toBe("tensor([1208925819614629174706176])");
    expect(long([10]).pow(400).toString()).toBe("tensor([Infinity])");
  });
});

describe("creation", () => {
  test("a fraction truncates toward zero, as PyTorch's does", () => {
    expect(long([1.5, -2.7]).tolist()).toEqual([1, -2]);
    expect(torch.full([2], 2.5, { dtype: "int64" }).tolist()).toEqual([2, 2]);
    expect(hasNegativeZero(long([-0.5, -0]))).toBe(false);
  });

  test("2^53 itself is held; a value past 2^53 is refused, not stored rounded", () => {
    // PyTorch 1.13: torch.tensor([2**53, -2**53]) prints tensor([ 9007199254740992, -9007199254740992]).
    expect(long([TWO_53, -TWO_53]).toString()).toBe("tensor([ 9007199254740992, -9007199254740992])");
    expect(long([TWO_53]).item()).toBe(TWO_53);
    const message =
      "int64 value 9007199254740994 cannot be stored exactly: torchlet holds int64 integers exactly up to 2^53 = 9007199254740992 in magnitude";
    expect(() => long([TWO_53 + 2])).toThrow(message);
    expect(() => torch.full([1], -(2 ** 60), { dtype: "int64" })).toThrow("int64 value -1152921504606846976 cannot be stored exactly");
    // 2^53 - 2 + 3 would round onto 2^53 unseen: the range is refused, not filled with a repeated value.
    expect(() => torch.arange(TWO_53 - 2, TWO_53 + 2)).toThrow(message);
    expect(torch.arange(TWO_53 - 3, TWO_53 - 1).tolist()).toEqual([TWO_53 - 3, TWO_53 - 2]);
    expect(() => long([Infinity])).toThrow("value cannot be converted to type int64 without overflow: Infinity");
    expect(() => long([NaN])).toThrow("value cannot be converted to type int64 without overflow: NaN");
  });

  test("randint draws past 2^31 and refuses a range past 2^53 - 1", () => {
    torch.manualSeed(0);
    const draws = torch.randint(2 ** 40, 2 ** 40 + 2 ** 35, [50]).tolist() as number[];
    expect(draws.every((v) => Number.isInteger(v) && v >= 2 ** 40 && v < 2 ** 40 + 2 ** 35)).toBe(true);
    expect(new Set(draws).size).toBe(50);
    expect(() => torch.randint(TWO_53 - 1, TWO_53 + 2 ** 20, [50])).toThrow("cannot be stored exactly");
  });

  test("Tensor.fromArray copies an Int32Array of indices into int64 storage", () => {
    const ids = new Int32Array([2147483647, 3]);
    const t = torch.Tensor.fromArray(ids, [2], "int64");
    expect(t.toArray()).toBeInstanceOf(Float64Array);
    expect(t.add(1).tolist()).toEqual([2147483648, 4]);
  });
});

describe("division", () => {
  test("true division gives float32, each integer converted to float32 first", () => {
    const q = long([7, -7]).div(2);
    expect([q.dtype, q.tolist()]).toEqual(["float32", [3.5, -3.5]]);
    expect(
      long([TWO_53 - 1])
        .div(2)
        .item(),
    ).toBe(4503599627370496);
    // fround(623364125173) / 868, not fround(623364125173 / 868) = 718161408.
    expect(
      long([623364125173])
        .div(long([868]))
        .item(),
    ).toBe(718161472);
  });

  test("floor and trunc rounding of negative quotients", () => {
    const a = long([7, -7, 7, -7]);
    const b = long([2, 2, -2, -2]);
    const floor = a.div(b, { roundingMode: "floor" });
    expect([floor.dtype, floor.tolist()]).toEqual(["int64", [3, -4, -4, 3]]);
    expect(a.div(b, { roundingMode: "trunc" }).tolist()).toEqual([3, -3, -3, 3]);
    expect(long([7, -7]).div(2, { roundingMode: "floor" }).tolist()).toEqual([3, -4]);
    expect(torch.div(long([-6]), 3, { roundingMode: "floor" }).tolist()).toEqual([-2]);
    expect(
      long([TWO_53 - 1])
        .div(2, { roundingMode: "floor" })
        .item(),
    ).toBe(4503599627370495);
    expect(hasNegativeZero(long([-1, 0]).div(3, { roundingMode: "trunc" }))).toBe(false);
    const inPlace = long([7, -7]);
    expect(inPlace.div_(2, { roundingMode: "floor" }).tolist()).toEqual([3, -4]);
    expect([inPlace.dtype, inPlace.version]).toEqual(["int64", 1]);
    expect(() => long([7]).div_(2)).toThrow("result type Float can't be cast to the desired output type Long");
    const y = torch.tensor([1.5, -7], { requiresGrad: true }).mul(1);
    y.div_(2, { roundingMode: "trunc" });
    expect([y.gradFn?.name, y.tolist()]).toEqual(["DivBackward2", [0, -3]]);
  });

  test("float floor division is Python's (from fmod), each step in the dtype", () => {
    const a = torch.tensor([5, -5, 0.3, -0.3, 7.5], { dtype: "float64" });
    const b = torch.tensor([0.1, 0.1, 0.1, 0.1, -2.5], { dtype: "float64" });
    expect(a.div(b, { roundingMode: "floor" }).tolist()).toEqual([49, -50, 2, -3, -3]);
    expect(
      torch
        .tensor([0.1])
        .div(torch.tensor([0.01]), { roundingMode: "floor" })
        .item(),
    ).toBe(10);
    expect(long([7, -7]).div(torch.tensor(2), { roundingMode: "floor" }).tolist()).toEqual([3, -4]);
    expect(long([7, -7]).div(2.5, { roundingMode: "trunc" }).tolist()).toEqual([2, -2]);
    expect(
      torch
        .tensor([5, -5, 1])
        .div(torch.tensor([0, 0, 0]), { roundingMode: "floor" })
        .tolist(),
    ).toEqual([Infinity, -Infinity, Infinity]);
    expect(Object.is(torch.tensor([-1]).div(3, { roundingMode: "trunc" }).item(), -0)).toBe(true);
    expect(Object.is(torch.tensor([-0]).div(3, { roundingMode: "floor" }).item(), -0)).toBe(true);
  });

  test("gradcheck: the rounded quotient's derivative is zero away from the steps", () => {
    const x = torch.tensor([1.3, -2.7, 0.45], { dtype: "float64", requiresGrad: true });
    const w = torch.tensor([0.7, 1.9, -0.2], { dtype: "float64", requiresGrad: true });
    for (const roundingMode of ["trunc", "floor"] as const) {
      expect(torch.autograd.gradcheck((a, b) => a.div(b, { roundingMode }), [x, w])).toBe(true);
      expect(torch.autograd.gradcheck((a) => a.div(0.35, { roundingMode }), [x])).toBe(true);
    }
  });

  test("PyTorch's errors, and a zero gradient (DivBackward2)", () => {
    expect(() => long([7]).div(0, { roundingMode: "trunc" })).toThrow("ZeroDivisionError");
    expect(() => long([7]).div(long([0]), { roundingMode: "floor" })).toThrow("ZeroDivisionError");
    expect(() => long([7]).div(2, { roundingMode: "bad" as "floor" })).toThrow(
      "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'bad'",
    );
    expect(() => torch.tensor([true]).div(torch.tensor([true]), { roundingMode: "floor" })).toThrow(
      `"div_floor_cpu" not implemented for 'Bool'`,
    );
    const x = torch.tensor([1.5, -7], { requiresGrad: true });
    const w = torch.tensor([2, -2], { requiresGrad: true });
    const y = x.div(w, { roundingMode: "floor" });
    expect(y.gradFn?.name).toBe("DivBackward2");
    expect(y.tolist()).toEqual([0, 3]);
    y.sum().backward();
    expect([x.grad?.tolist(), w.grad?.tolist()]).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe("conversions and integer semantics", () => {
  test("float to int64 truncates toward zero; NaN, infinities and |v| >= 2^63 give INT64_MIN", () => {
    const t = torch.tensor([1.7, -1.7, 3e10, NaN, Infinity, -0.5]).long();
    expect(t.tolist()).toEqual([1, -1, 30000001024, INT64_MIN, INT64_MIN, 0]);
    expect(hasNegativeZero(t)).toBe(false);
    expect(torch.tensor([1e19, -1e30], { dtype: "float64" }).toDtype("int64").tolist()).toEqual([INT64_MIN, INT64_MIN]);
  });

  test("int64 to float rounds once to the float's precision", () => {
    expect(long([16777217]).float().item()).toBe(16777216);
    expect(
      long([TWO_53 - 1])
        .double()
        .item(),
    ).toBe(TWO_53 - 1);
    expect(
      long([TWO_53 - 1])
        .float()
        .item(),
    ).toBe(TWO_53);
  });

  test("no -0 in int64 results", () => {
    expect(hasNegativeZero(long([0]).neg())).toBe(false);
    expect(hasNegativeZero(long([0, 3]).mul(-1))).toBe(false);
    expect(hasNegativeZero(long([0, -1]).prod().reshape([1]))).toBe(false);
    expect(hasNegativeZero(long([0, -1]).cumprod(0))).toBe(false);
    expect(hasNegativeZero(long([[0]]).matmul(long([[-1]])))).toBe(false);
    // 1 / int64(0 * -1) is +inf, as in PyTorch.
    expect(
      torch
        .tensor([1])
        .div(long([0]).mul(-1))
        .item(),
    ).toBe(Infinity);
  });

  test("integer powers: a negative scalar exponent is refused, a negative tensor exponent is C's", () => {
    expect(() => long([2]).pow(-1)).toThrow("Integers to negative integer powers are not allowed.");
    expect(
      long([0, 2, -2, 3, 1, -1])
        .pow(long([-1, -1, -1, 2, -5, -3]))
        .tolist(),
    ).toEqual([0, 0, 0, 9, 1, -1]);
  });

  test("a fractional alpha is refused for integers; fills and scatters of a fraction truncate", () => {
    expect(() => long([1, 2]).add(long([1, 2]), 0.5)).toThrow(
      "For integral input tensors, argument alpha must not be a floating point number.",
    );
    const mask = torch.tensor([true, false, true]);
    expect(torch.zeros([3], { dtype: "int64" }).maskedFill(mask, 2.5).tolist()).toEqual([2, 0, 2]);
    expect(torch.zeros([3], { dtype: "int64" }).fill_(-2.5).tolist()).toEqual([-2, -2, -2]);
    expect(
      torch
        .zeros([3], { dtype: "int64" })
        .scatter(0, long([1]), 2.5)
        .tolist(),
    ).toEqual([0, 2, 0]);
  });
});

describe("indices past int32 are refused, never wrapped into range", () => {
  const x = torch.tensor([0, 1, 2]);
  const big = long([2 ** 32]);

  test("gather, indexSelect, x[index], embedding, embeddingBag, oneHot and cross-entropy targets", () => {
    expect(() => x.gather(0, big)).toThrow("index 4294967296 is out of bounds for dimension 0 with size 3");
    expect(() => x.indexSelect(0, big)).toThrow("index out of range in self");
    expect(() => x.index(big)).toThrow("index 4294967296 is out of bounds for dimension 0 with size 3");
    expect(() => torch.nn.functional.embedding(big, torch.zeros([3, 2]))).toThrow("index out of range in self");
    expect(() => torch.embeddingBag(torch.zeros([3, 2]), long([0, 2 ** 32]), long([0]))).toThrow(
      "embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be 4294967296",
    );
    expect(() => torch.nn.functional.oneHot(long([2 ** 32 + 1]), 3)).toThrow("Class values must be smaller than num_classes.");
    expect(() => torch.nn.functional.crossEntropy(torch.zeros([1, 3]), big)).toThrow("Target 4294967296 is out of bounds.");
  });

  test("embeddingBag still pools the rows its int64 indices name", () => {
    const weight = torch.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const out = torch.embeddingBag(weight, long([0, 2, 1]), long([0, 2]), { mode: "sum" });
    expect(out.tolist()).toEqual([
      [6, 8],
      [3, 4],
    ]);
  });
});

describe("safetensors and torch.save / torch.load", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-int64-"));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("int64 buffers up to 2^53 round-trip exactly, as real 64-bit integers", () => {
    const file = path.join(dir, "steps.safetensors");
    const steps = long([TWO_53 - 1, -(TWO_53 - 1), 2147483648]).add(long([1, 0, 0]));
    torch.save({ steps, count: long(6442450941) }, file);
    const bytes = fs.readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const data = bytes.subarray(8 + headerLength);
    expect(JSON.parse(bytes.subarray(8, 8 + headerLength).toString()).steps).toEqual({ dtype: "I64", shape: [3], data_offsets: [8, 32] });
    expect([0, 8, 16, 24].map((at) => data.readBigInt64LE(at))).toEqual([6442450941n, 2n ** 53n, -(2n ** 53n) + 1n, 2147483648n]);
    const back = torch.load(file);
    expect([back.steps.dtype, back.steps.tolist()]).toEqual(["int64", [TWO_53, -(TWO_53 - 1), 2147483648]]);
    expect(back.steps.toString()).toBe("tensor([ 9007199254740992, -9007199254740991,        2147483648])");
    expect(back.count.item()).toBe(6442450941);
  });

  test("a result past 2^53 is refused on save with the tensor's name; a file's value past 2^53 on load", () => {
    const file = path.join(dir, "big.safetensors");
    expect(() => torch.save({ ids: long([TWO_53 - 1]).add(3) }, file)).toThrow(
      'tensor "ids": I64 value 9007199254740994 at flat index 0 is not an integer of at most 2^53 in magnitude',
    );
    const raw = torch.io.encodeSafetensors({ ids: { dtype: "I64", shape: [2], data: new BigInt64Array([1n, 2n ** 53n + 1n]) } });
    fs.writeFileSync(file, raw);
    expect(() => torch.load(file)).toThrow(
      `${file}: tensor "ids": I64 value 9007199254740993 at flat index 1 is beyond 2^53 in magnitude, which torchlet's int64 does not hold exactly`,
    );
  });

  test("a DataLoader batch of int64 labels past 2^31 keeps them exact", () => {
    const labels = long([2 ** 40, -(2 ** 35), 7]);
    const ds = new torch.data.TensorDataset(torch.zeros([3, 2]), labels);
    const [batch] = Array.from(new torch.data.DataLoader(ds, { batchSize: 3 }));
    expect(batch[1].tolist()).toEqual([1099511627776, -34359738368, 7]);
  });
});
