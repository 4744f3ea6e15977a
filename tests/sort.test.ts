/**
 * sort, argsort and topk: PyTorch 1.13's order of ties (its CPU kernels use libstdc++'s unstable
 * std::sort, std::nth_element and std::partial_sort, which torchlet reproduces), NaN's place,
 * gradients, messages (every expected value below is PyTorch's, from /usr/bin/python3), then
 * finite-difference checks of first and second derivatives over seeded random shapes.
 */
import * as torch from "torchlet";
import { Rng } from "./helpers/random-cases";
import { messageOf } from "./helpers/replay";
import { checkTwice, leaf64 } from "./helpers/twice";

type Tensor = torch.Tensor;
describe("the order of ties, as PyTorch's unstable kernels leave it", () => {
  // 20 values (more than introsort's threshold of 16), four of each of 0..3.
  const values = Array.from({ length: 20 }, (_, i) => (i * 7) % 4);

  test("sort: introsort's partitions reorder equal values", () => {
    const x = torch.tensor(values);
    expect(x.sort().indices.tolist()).toEqual([4, 16, 8, 0, 12, 19, 3, 15, 7, 11, 10, 18, 14, 6, 2, 13, 9, 5, 17, 1]);
    expect(x.sort(-1, true).indices.tolist()).toEqual([1, 17, 5, 13, 9, 10, 18, 14, 6, 2, 7, 11, 15, 3, 19, 8, 0, 12, 4, 16]);
    expect(x.argsort().tolist()).toEqual(x.sort().indices.tolist());
  });

  test("topk: partial_sort when k * 64 <= n, else nth_element then sort of the first k - 1", () => {
    const long = torch.tensor(Array.from({ length: 130 }, (_, i) => (i * 5) % 3));
    expect(long.topk(2).indices.tolist()).toEqual([4, 1]);
    expect(long.topk(2, -1, false).indices.tolist()).toEqual([3, 0]);
    const short = torch.tensor([2, 1, 2, 0, 2, 1, 0, 2, 1, 1]);
    expect(short.topk(4).indices.tolist()).toEqual([2, 4, 0, 7]);
    expect(short.topk(4, 0, true, false).indices.tolist()).toEqual([2, 4, 0, 7]);
    expect(short.topk(3, 0, false, false).indices.tolist()).toEqual([6, 3, 8]);
    const t = torch.tensor([5, 1, 4, 4, 2]).topk(3);
    expect([t.values.tolist(), t.indices.tolist()]).toEqual([
      [5, 4, 4],
      [0, 3, 2],
    ]);
  });

  test("NaN sorts above every number", () => {
    const n = torch.tensor([3, NaN, 1, NaN, 2]);
    const up = n.sort();
    expect([up.values.tolist(), up.indices.tolist()]).toEqual([
      [1, 2, 3, NaN, NaN],
      [2, 4, 0, 1, 3],
    ]);
    const down = n.sort(0, true);
    expect([down.values.tolist(), down.indices.tolist()]).toEqual([
      [NaN, NaN, 3, 2, 1],
      [1, 3, 0, 4, 2],
    ]);
    expect(n.topk(2).indices.tolist()).toEqual([1, 3]);
    expect(n.topk(2, 0, false).indices.tolist()).toEqual([2, 4]);
    const mixed = torch.tensor([NaN, 1, 2, NaN, -Infinity, Infinity, 1]);
    expect(mixed.sort().indices.tolist()).toEqual([4, 1, 6, 2, 5, 0, 3]);
    expect(mixed.topk(3).indices.tolist()).toEqual([0, 3, 5]);
  });
});

describe("sort, argsort and topk along any dim", () => {
  const m = torch.tensor([
    [3, 1, 2],
    [1, 1, 0],
  ]);

  test("along dim 0 and 1, descending, integer and bool inputs", () => {
    const s = m.sort(0);
    expect([s.values.tolist(), s.indices.tolist()]).toEqual([
      [
        [1, 1, 0],
        [3, 1, 2],
      ],
      [
        [1, 0, 1],
        [0, 1, 0],
      ],
    ]);
    expect(torch.argsort(m, 1, true).tolist()).toEqual([
      [0, 2, 1],
      [0, 1, 2],
    ]);
    const ints = torch.tensor([3, 1, 2], { dtype: "int64" });
    expect([ints.sort().values.dtype, ints.sort().indices.tolist(), ints.topk(2).indices.tolist()]).toEqual(["int64", [1, 2, 0], [0, 2]]);
    expect(torch.tensor([true, false, true]).sort().indices.tolist()).toEqual([1, 0, 2]);
    const k = torch.topk(m, 2, 0);
    expect([k.values.shape, k.indices.dtype]).toEqual([[2, 3], "int64"]);
  });

  test("the gradient goes back to where each value came from", () => {
    const v = torch
      .tensor([
        [3, 1, 2],
        [1, 1, 0],
      ])
      .requiresGrad_(true);
    const s = v.sort(1, true);
    expect(s.values.gradFn?.name).toBe("SortBackward0");
    s.values.backward(
      torch.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(v.grad!.tolist()).toEqual([
      [1, 3, 2],
      [4, 5, 6],
    ]);
    const w = torch.tensor([5, 1, 4, 4, 2]).requiresGrad_(true);
    const t = w.topk(3);
    expect(t.values.gradFn?.name).toBe("TopkBackward0");
    t.values.backward(torch.tensor([1, 2, 3]));
    expect(w.grad!.tolist()).toEqual([1, 0, 3, 2, 0]);
    const a = torch.argsort(w);
    expect([a.gradFn, a.requiresGrad, a.dtype]).toEqual([null, false, "int64"]);
  });

  test("k = 0, 0-d inputs and empty dims", () => {
    expect(m.topk(0).values.shape).toEqual([2, 0]);
    expect(torch.zeros([0]).topk(0).indices.shape).toEqual([0]);
    const scalar = torch.tensor(5).requiresGrad_(true);
    const one = scalar.topk(1);
    expect([one.values.shape, one.values.item(), one.indices.item()]).toEqual([[], 5, 0]);
    expect(scalar.topk(0).values.item()).toBe(5);
    expect(scalar.sort().indices.item()).toBe(0);
    one.values.backward();
    expect(scalar.grad!.item()).toBe(1);
    expect(torch.zeros([2, 0]).sort(1).values.shape).toEqual([2, 0]);
  });

  test("PyTorch's messages", () => {
    const x = torch.zeros([2, 3]);
    expect(messageOf(() => x.topk(4))).toBe("selected index k out of range");
    expect(messageOf(() => x.topk(-1))).toBe("selected index k out of range");
    expect(messageOf(() => torch.tensor(3).topk(2))).toBe("selected index k out of range");
    expect(messageOf(() => x.topk(3, 2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(messageOf(() => x.sort(2))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(messageOf(() => torch.tensor([true]).topk(1))).toBe(`"topk_cpu" not implemented for 'Bool'`);
    expect(messageOf(() => torch.topk(1 as unknown as Tensor, 1))).toBe("topk(): argument 'input' (position 1) must be Tensor, not number");
    expect(messageOf(() => torch.argsort([1] as unknown as Tensor))).toBe(
      "argsort(): argument 'input' (position 1) must be Tensor, not Array",
    );
  });
});

describe("gradcheck (float64, first and second derivatives), seeded random shapes and dims", () => {
  const rng = new Rng(777);

  const leaf = (shape: number[]) => leaf64(rng, shape);

  test("sort and topk over random shapes, dims, k and order", () => {
    for (let t = 0; t < 10; t++) {
      const shape = rng.shape(rng.int(1, 3), 1, 5);
      const dim = rng.int(-shape.length, shape.length - 1);
      const n = shape[dim < 0 ? dim + shape.length : dim];
      const k = rng.int(1, n);
      const flags = [rng.next() < 0.5, rng.next() < 0.5];
      checkTwice((x) => x.sort(dim, flags[0]).values, [leaf(shape)]);
      checkTwice((x) => x.topk(k, dim, flags[0], flags[1]).values, [leaf(shape)]);
    }
  });
});
