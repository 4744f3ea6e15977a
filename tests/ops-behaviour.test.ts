/**
 * Behaviour of the core and of the linalg / indexing ops beyond the golden cases: PyTorch's error
 * messages, views sharing storage, long chains, matmul against a plain reference on shapes that
 * cross the kernel's blocks, grad_fn names, and embeddingBag's semantics and row-sparse gradient.
 */
import * as torch from "torchlet";
import { visitedRows } from "./helpers/grad-rows";
import { messageOf } from "./helpers/replay";

type Tensor = torch.Tensor;

function int64(values: number[], shape?: number[]): Tensor {
  const t = torch.tensor(values, { dtype: "int64" });
  return shape ? t.reshape(shape) : t;
}

// ---- core --------------------------------------------------------------------------------

describe("core errors in PyTorch's words", () => {
  test("broadcasting mismatch", () => {
    expect(messageOf(() => torch.ones([2, 3]).add(torch.ones([2, 4])))).toBe(
      "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
    );
    expect(messageOf(() => torch.ones([2, 3]).mul(torch.ones([4, 1, 2])))).toBe(
      "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 2",
    );
  });

  test("dim out of range", () => {
    const x = torch.ones([2, 3]);
    const expected = "Dimension out of range (expected to be in range of [-2, 1], but got 2)";
    expect(messageOf(() => x.sum(2))).toBe(expected);
    expect(messageOf(() => x.transpose(0, 2))).toBe(expected);
    expect(messageOf(() => x.max(2))).toBe(expected);
    expect(messageOf(() => x.gather(2, int64([0], [1, 1])))).toBe(expected);
    expect(messageOf(() => x.sum(-3))).toBe("Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    expect(messageOf(() => x.unsqueeze(3))).toBe("Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  });

  test("requiresGrad on an integer tensor", () => {
    const message = "only Tensors of floating point dtype can require gradients";
    expect(messageOf(() => torch.tensor([1, 2], { dtype: "int64", requiresGrad: true }))).toBe(message);
    expect(messageOf(() => int64([1, 2]).requiresGrad_())).toBe(message);
    expect(messageOf(() => torch.tensor([true], { requiresGrad: true }))).toBe(message);
  });

  test("backward of a non-scalar without a gradient", () => {
    const x = torch.ones([2], { requiresGrad: true });
    expect(messageOf(() => x.mul(2).backward())).toBe("grad can be implicitly created only for scalar outputs");
    expect(messageOf(() => torch.ones([2]).sum().backward())).toBe(
      "element 0 of tensors does not require grad and does not have a grad_fn",
    );
  });

  test("ragged nested arrays and unknown dtypes", () => {
    expect(messageOf(() => torch.tensor([[1, 2], [3]]))).toBe("expected sequence of length 2 at dim 1 (got 1)");
    expect(messageOf(() => torch.tensor([[1, 2], 3] as unknown as number[][]))).toMatch(/expected sequence of length 2 at dim 1/);
    expect(() => torch.zeros([2], { dtype: "float16" as torch.DType })).toThrow(/Unknown dtype "float16"/);
    expect(() => torch.tensor([1], { dtype: "int32" as torch.DType })).toThrow(/Unknown dtype/);
  });
});

describe("views share storage with their base", () => {
  test("every view op aliases the typed array, and writes through it are visible in the base", () => {
    const base = torch.arange(0, 6, { dtype: "float32" });
    const x = base.reshape([2, 3]);
    const views: Array<[string, Tensor]> = [
      ["reshape", x],
      ["view", base.view(3, 2)],
      ["transpose", x.transpose(0, 1)],
      ["t", x.t()],
      ["permute", x.permute(1, 0)],
      ["unsqueeze", x.unsqueeze(1)],
      ["squeeze", x.unsqueeze(0).squeeze(0)],
      ["expand", x.unsqueeze(0).expand(4, 2, 3)],
      ["detach", x.detach()],
    ];
    for (const [, v] of views) expect(v.nd.data).toBe(base.nd.data);

    const t = x.transpose(0, 1); // t[2][1] is x[1][2]
    t.nd.set(2, 1, 42);
    expect((x.tolist() as number[][])[1][2]).toBe(42);
    expect(base.tolist()).toEqual([0, 1, 2, 3, 4, 42]);
  });

  test("a reshape that cannot be a view copies, and view refuses it", () => {
    const x = torch.arange(0, 6, { dtype: "float32" }).reshape([2, 3]);
    const t = x.t();
    const r = t.reshape([6]);
    expect(r.nd.data).not.toBe(x.nd.data);
    expect(r.tolist()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(() => t.view(6)).toThrow(/view size is not compatible with input tensor's size and stride/);
  });

  test("ops on non-contiguous views read through their strides", () => {
    const x = torch.arange(0, 12, { dtype: "float64" }).reshape([3, 4]);
    const t = x.t();
    expect(t.exp().log().tolist()).toEqual(t.contiguous().tolist());
    expect(t.matmul(x).tolist()).toEqual(t.contiguous().matmul(x.contiguous()).tolist());
    expect(t.gather(1, int64([2, 0, 1, 1], [4, 1])).tolist()).toEqual([[8], [1], [6], [7]]);
    expect(t.indexSelect(1, int64([2])).tolist()).toEqual([[8], [9], [10], [11]]);
  });
});

describe("long graphs", () => {
  test("a chain of 100,000 ops runs backward without overflowing the stack", () => {
    const x = torch.tensor([[1.5, -2]], { requiresGrad: true, dtype: "float64" });
    let y = x;
    for (let i = 0; i < 100_000; i++) {
      const k = i % 4;
      y = k === 0 ? y.add(0.001) : k === 1 ? y.mul(1) : k === 2 ? y.reshape([2]) : y.reshape([1, 2]);
    }
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([[1, 1]]);
  });

  test("a chain of 10,000 matmuls", () => {
    const x = torch.tensor(
      [
        [1, 0],
        [0, 1],
      ],
      { requiresGrad: true, dtype: "float64" },
    );
    const r = torch.tensor(
      [
        [0, -1],
        [1, 0],
      ],
      { dtype: "float64" },
    ); // a quarter turn
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.matmul(r);
    y.sum().backward();
    // r^10000 is the identity, so y = x and d sum(x r^n) / dx = ones @ (r^n)^T = ones.
    expect(y.tolist()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(x.grad!.tolist()).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});

// ---- matmul ------------------------------------------------------------------------------

/** Plain triple loop over nested arrays, in doubles. */
function reference(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

function maxDiff(a: number[][], b: number[][]): number {
  let d = 0;
  a.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}

describe("matmul", () => {
  test("error messages", () => {
    const ones = (...s: number[]) => torch.ones(s);
    expect(messageOf(() => ones(3, 4).matmul(ones(5, 2)))).toBe("mat1 and mat2 shapes cannot be multiplied (3x4 and 5x2)");
    expect(messageOf(() => ones(4, 5).matmul(ones(3)))).toBe("size mismatch, got 4, 4x5,3");
    expect(messageOf(() => ones(4).matmul(ones(3)))).toBe(
      "inconsistent tensor size, expected tensor [4] and src [3] to have the same number of elements, but got 4 and 3 elements respectively",
    );
    expect(messageOf(() => ones(3).matmul(ones(4, 2)))).toBe("mat1 and mat2 shapes cannot be multiplied (1x3 and 4x2)");
    expect(messageOf(() => ones(2, 3, 4).matmul(ones(5, 2)))).toBe("mat1 and mat2 shapes cannot be multiplied (6x4 and 5x2)");
    expect(messageOf(() => ones(2, 3, 4).matmul(ones(5)))).toBe("size mismatch, got 6, 6x4,5");
    expect(messageOf(() => ones(2, 3, 4).matmul(ones(2, 5, 2)))).toBe(
      "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5].",
    );
    expect(messageOf(() => ones(2, 3, 4).matmul(ones(3, 4, 2)))).toBe(
      "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0",
    );
    expect(messageOf(() => torch.tensor(2).matmul(ones(2, 2)))).toBe(
      "both arguments to matmul need to be at least 1D, but they are 0D and 2D",
    );
    expect(messageOf(() => ones(2, 2).matmul(torch.ones([2, 2], { dtype: "float64" })))).toBe(
      "expected scalar type Float but found Double",
    );
    expect(messageOf(() => ones(2).matmul(torch.ones([2], { dtype: "float64" })))).toBe(
      "dot : expected both vectors to have same dtype, but found Float and Double",
    );
    expect(messageOf(() => torch.ones([2, 2], { dtype: "bool" }).matmul(torch.ones([2, 2], { dtype: "bool" })))).toBe(
      `"addmm_impl_cpu_" not implemented for 'Bool'`,
    );
    expect(messageOf(() => torch.mm(ones(2), ones(2, 2)))).toBe("self must be a matrix");
    expect(messageOf(() => torch.dot(ones(2, 2), ones(2, 2)))).toBe("1D tensors expected, but got 2D and 2D tensors");
    expect(messageOf(() => torch.bmm(ones(2, 3, 4), ones(3, 4, 2)))).toBe(
      "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4].",
    );
    expect(() => ones(2, 2).matmul(3 as unknown as Tensor)).toThrow(TypeError);
  });

  test("output shapes and grad_fn names of every shape kind (PyTorch 1.13's)", () => {
    const cases: Array<[number[], number[], number[], string]> = [
      [[4], [4], [], "DotBackward0"],
      [[3, 4], [4], [3], "MvBackward0"],
      [[4], [4, 3], [3], "SqueezeBackward3"],
      [[3, 4], [4, 2], [3, 2], "MmBackward0"],
      [[2, 3, 4], [4, 5], [2, 3, 5], "UnsafeViewBackward0"],
      [[2, 3, 4], [4], [2, 3], "UnsafeViewBackward0"],
      [[4], [2, 4, 5], [2, 5], "UnsafeViewBackward0"],
      [[3, 4], [2, 4, 5], [2, 3, 5], "CloneBackward0"],
      [[1, 4], [2, 4, 5], [2, 1, 5], "TransposeBackward0"],
      [[2, 3, 4], [2, 4, 2], [2, 3, 2], "UnsafeViewBackward0"],
      [[5, 1, 3, 4], [2, 4, 6], [5, 2, 3, 6], "UnsafeViewBackward0"],
    ];
    for (const [sa, sb, so, name] of cases) {
      const out = torch.randn(sa, { requiresGrad: true }).matmul(torch.randn(sb));
      expect([sa, sb, out.shape]).toEqual([sa, sb, so]);
      expect([sa, sb, out.gradFn!.name]).toEqual([sa, sb, name]);
    }
    const a = torch.randn([2, 3, 4], { requiresGrad: true });
    expect(torch.bmm(a, torch.randn([2, 4, 5])).gradFn!.name).toBe("BmmBackward0");
    expect(torch.mm(a.reshape([6, 4]), torch.randn([4, 1])).gradFn!.name).toBe("MmBackward0");
    expect(torch.noGrad(() => a.matmul(torch.randn([4, 2]))).gradFn).toBeNull();
    expect(torch.randn([2, 3]).matmul(torch.randn([3, 2])).requiresGrad).toBe(false);
  });

  test("integer matrices multiply exactly", () => {
    const out = int64([1, 2, 3, 4], [2, 2]).matmul(int64([5, 6], [2, 1]));
    expect(out.dtype).toBe("int64");
    expect(out.tolist()).toEqual([[17], [39]]);
    expect(
      int64([1, 2, 3])
        .matmul(int64([4, 5, 6]))
        .item(),
    ).toBe(32);
  });

  test("agrees with a plain triple loop on shapes that cross every block and tail of the kernel", () => {
    torch.manualSeed(7);
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1],
      [1, 7, 5],
      [5, 7, 1],
      [2, 9, 3],
      [3, 5, 9],
      [4, 4, 4],
      [5, 6, 7],
      [17, 33, 9],
      [130, 300, 37],
      [6, 513, 1030],
      [129, 2, 131],
    ];
    for (const [m, k, n] of shapes) {
      const a = torch.randn([m, k], { dtype: "float64" });
      const b = torch.randn([k, n], { dtype: "float64" });
      const expected = reference(a.tolist() as number[][], b.tolist() as number[][]);
      const scale = Math.sqrt(k) * 1e-13;
      expect([m, k, n, maxDiff(a.matmul(b).tolist() as number[][], expected) <= scale]).toEqual([m, k, n, true]);
      // The same product through transposed storage and through an expanded (stride 0) operand.
      const viaT = b.t().contiguous().t();
      expect(maxDiff(a.t().contiguous().t().matmul(viaT).tolist() as number[][], expected)).toBeLessThanOrEqual(scale);
    }
    const row = torch.randn([1, 6], { dtype: "float64" });
    const b = torch.randn([6, 5], { dtype: "float64" });
    const expanded = row.expand(4, 6);
    const expected = reference(expanded.tolist() as number[][], b.tolist() as number[][]);
    expect(maxDiff(expanded.matmul(b).tolist() as number[][], expected)).toBeLessThanOrEqual(1e-13);
  });

  test("float32 products sum in float32 over k in order, as sgemm without fused multiply-adds", () => {
    torch.manualSeed(3);
    const a = torch.randn([20, 300]);
    const b = torch.randn([300, 9]);
    const [av, bv] = [a.tolist() as number[][], b.tolist() as number[][]];
    const got = a.matmul(b).tolist() as number[][];
    got.forEach((row, i) =>
      row.forEach((v, j) => {
        let s = 0;
        for (let k = 0; k < 300; k++) s = Math.fround(s + Math.fround(av[i][k] * bv[k][j]));
        expect(v).toBe(s);
      }),
    );
  });

  test("batched results equal per-batch 2-D products, with broadcast batches", () => {
    torch.manualSeed(11);
    const a = torch.randn([3, 1, 4, 5], { dtype: "float64" });
    const b = torch.randn([2, 5, 6], { dtype: "float64" });
    const out = a.matmul(b);
    expect(out.shape).toEqual([3, 2, 4, 6]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) {
        const single = a
          .indexSelect(0, int64([i]))
          .reshape([4, 5])
          .matmul(b.indexSelect(0, int64([j])).reshape([5, 6]));
        const slice = out
          .indexSelect(0, int64([i]))
          .indexSelect(1, int64([j]))
          .reshape([4, 6]);
        expect(slice.tolist()).toEqual(single.tolist());
      }
    }
  });
});

// ---- indexing ----------------------------------------------------------------------------

describe("gather, scatter, indexSelect", () => {
  const x = torch.tensor([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);

  test("gather values and errors", () => {
    expect(x.gather(1, int64([3, 0, 1, 1, 2, 2], [3, 2])).tolist()).toEqual([
      [4, 1],
      [6, 6],
      [11, 11],
    ]);
    expect(x.gather(0, int64([2, 0, 1, 2], [1, 4])).tolist()).toEqual([[9, 2, 7, 12]]);
    expect(torch.gather(x, -1, int64([0, 1, 2], [3, 1])).tolist()).toEqual([[1], [6], [11]]);
    expect(messageOf(() => x.gather(1, int64([5], [1, 1])))).toBe("index 5 is out of bounds for dimension 1 with size 4");
    expect(messageOf(() => x.gather(0, int64([-1], [1, 1])))).toBe("index -1 is out of bounds for dimension 0 with size 3");
    expect(messageOf(() => x.gather(1, int64([0, 0, 0, 0, 0, 0, 0, 0], [4, 2])))).toBe(
      "Size does not match at dimension 0 expected index [4, 2] to be smaller than self [3, 4] apart from dimension 1",
    );
    expect(messageOf(() => x.gather(1, int64([0, 1])))).toBe("Index tensor must have the same number of dimensions as input tensor");
    expect(messageOf(() => x.gather(1, torch.tensor([[0]])))).toBe("gather(): Expected dtype int64 for index");
    expect(x.gather(1, int64([], [3, 0])).shape).toEqual([3, 0]);
  });

  test("scatter is not in place, takes a tensor, a number or {value}, and names its nodes", () => {
    const base = torch.zeros([2, 4], { requiresGrad: true });
    const index = int64([1, 3, 0, 2], [2, 2]);
    const src = torch.tensor(
      [
        [10, 20, 30],
        [40, 50, 60],
      ],
      { requiresGrad: true },
    );
    const out = base.scatter(1, index, src);
    expect(out.tolist()).toEqual([
      [0, 10, 0, 20],
      [40, 0, 50, 0],
    ]);
    expect(base.tolist()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(out.gradFn!.name).toBe("ScatterBackward0");
    const byValue = torch.scatter(base, 1, index, { value: 1 });
    expect(byValue.tolist()).toEqual([
      [0, 1, 0, 1],
      [1, 0, 1, 0],
    ]);
    expect(byValue.gradFn!.name).toBe("ScatterBackward1");
    expect(base.scatter(1, index, 2.5).tolist()).toEqual([
      [0, 2.5, 0, 2.5],
      [2.5, 0, 2.5, 0],
    ]);

    // Gradients: the overwritten places get none; src gets g gathered (zeros where not used).
    const g = torch.tensor([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    out.backward(g);
    expect(base.grad!.tolist()).toEqual([
      [1, 0, 3, 0],
      [0, 6, 0, 8],
    ]);
    expect(src.grad!.tolist()).toEqual([
      [2, 4, 0],
      [5, 7, 0],
    ]);
  });

  test("multi-hot targets, as the API page describes", () => {
    const labels = int64([0, 2, 1, 1], [2, 2]);
    expect(torch.zeros([2, 3]).scatter(1, labels, 1).tolist()).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
  });

  test("scatter errors", () => {
    const base = torch.zeros([2, 3]);
    expect(messageOf(() => base.scatter(1, int64([3], [1, 1]), 1))).toBe("index 3 is out of bounds for dimension 1 with size 3");
    expect(messageOf(() => base.scatter(1, int64([0, 0, 0], [3, 1]), 1))).toBe(
      "Expected index [3, 1] to be smaller than self [2, 3] apart from dimension 1",
    );
    expect(messageOf(() => base.scatter(1, int64([0, 0], [1, 2]), torch.ones([1, 1])))).toBe(
      "Expected index [1, 2] to be smaller than self [2, 3] apart from dimension 1 and to be smaller size than src [1, 1]",
    );
    expect(messageOf(() => base.scatter(1, int64([0], [1, 1]), torch.ones([1, 1], { dtype: "float64" })))).toBe(
      "scatter(): Expected self.dtype to be equal to src.dtype",
    );
    expect(messageOf(() => base.scatter(1, torch.zeros([1, 1]), 1))).toBe("scatter(): Expected dtype int64 for index");
  });

  test("indexSelect values, a 0-d index, errors and IndexSelectBackward0", () => {
    const w = torch.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    );
    const out = w.indexSelect(0, int64([2, 0, 2]));
    expect(out.tolist()).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(out.gradFn!.name).toBe("IndexSelectBackward0");
    out.backward(torch.ones([3, 2]));
    expect(w.grad!.tolist()).toEqual([
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
    expect(w.indexSelect(1, torch.tensor(1, { dtype: "int64" })).tolist()).toEqual([[2], [4], [6]]);
    expect(w.indexSelect(0, int64([])).shape).toEqual([0, 2]);
    expect(messageOf(() => w.indexSelect(0, int64([3])))).toBe("index out of range in self");
    expect(messageOf(() => w.indexSelect(0, int64([-1])))).toBe("index out of range in self");
    expect(messageOf(() => w.indexSelect(0, int64([0, 1], [1, 2])))).toBe("index_select(): Index is supposed to be a vector");
    expect(messageOf(() => w.indexSelect(0, torch.tensor([0])))).toBe("index_select(): Expected dtype int32 or int64 for index");
  });
});

describe("embeddingBag", () => {
  const weight = () => torch.arange(0, 12, { dtype: "float32" }).reshape([6, 2]).detach().requiresGrad_(true);

  test("sum, mean and max over bags, with empty bags giving zeros", () => {
    const w = weight();
    const indices = int64([1, 2, 4, 5, 4, 3]);
    const offsets = int64([0, 2, 2, 6]); // bags [1,2], [], [4,5,4,3], []
    expect(torch.embeddingBag(w, indices, offsets, { mode: "sum" }).tolist()).toEqual([
      [6, 8],
      [0, 0],
      [32, 36],
      [0, 0],
    ]);
    expect(torch.embeddingBag(w, indices, offsets, { mode: "mean" }).tolist()).toEqual([
      [3, 4],
      [0, 0],
      [8, 9],
      [0, 0],
    ]);
    expect(torch.embeddingBag(w, indices, offsets, { mode: "max" }).tolist()).toEqual([
      [4, 5],
      [0, 0],
      [10, 11],
      [0, 0],
    ]);
    const out = torch.embeddingBag(w, indices, offsets);
    expect(out.gradFn!.name).toBe("EmbeddingBagBackward0");
    expect(out.tolist()).toEqual(torch.embeddingBag(w, indices, offsets, { mode: "mean" }).tolist());
  });

  test("matches indexSelect + sum / mean per bag", () => {
    torch.manualSeed(5);
    const w = torch.randn([50, 7], { dtype: "float64" });
    const indices = torch.randint(0, 50, [40]);
    const offsets = int64([0, 3, 3, 17, 39]);
    const ids = Array.from(indices.toArray());
    const starts = Array.from(offsets.toArray());
    for (const mode of ["sum", "mean"] as const) {
      const out = torch.embeddingBag(w, indices, offsets, { mode }).tolist() as number[][];
      starts.forEach((s, b) => {
        const e = b + 1 < starts.length ? starts[b + 1] : ids.length;
        const rows = w.indexSelect(0, int64(ids.slice(s, e)));
        const expected = e === s ? new Array(7).fill(0) : mode === "sum" ? rows.sum(0).tolist() : rows.mean(0).tolist();
        (expected as number[]).forEach((v, j) => expect(out[b][j]).toBeCloseTo(v, 12));
      });
    }
  });

  test("the weight gradient is written only in touched rows, and the leaf's slot visits only those", () => {
    const w = weight();
    const out = torch.embeddingBag(w, int64([4, 1, 4, 0]), int64([0, 3]), { mode: "mean" });
    const [grad] = torch.autograd.grad([out], [w], {
      gradOutputs: [
        torch.tensor([
          [3, 6],
          [1, 1],
        ]),
      ],
      retainGraph: true,
    });
    expect(grad!.tolist()).toEqual([
      [1, 1],
      [1, 2],
      [0, 0],
      [0, 0],
      [2, 4],
      [0, 0],
    ]);
    out.backward(
      torch.tensor([
        [3, 6],
        [1, 1],
      ]),
    );
    expect(visitedRows(w)).toEqual([0, 1, 4]);
    expect(w.grad!.tolist()).toEqual(grad!.tolist());

    const w2 = weight();
    const [grad2] = torch.autograd.grad([torch.embeddingBag(w2, int64([2, 2, 5]), int64([0, 1, 3]), { mode: "max" }).sum()], [w2]);
    torch
      .embeddingBag(w2, int64([2, 2, 5]), int64([0, 1, 3]), { mode: "max" })
      .sum()
      .backward();
    expect(visitedRows(w2)).toEqual([2, 5]);
    expect(grad2!.tolist()).toEqual([
      [0, 0],
      [0, 0],
      [1, 1],
      [0, 0],
      [0, 0],
      [1, 1],
    ]); // bags [2], [2, 5], []

    // Only those rows are non-zero in the leaf's .grad.
    const w3 = weight();
    torch
      .embeddingBag(w3, int64([3, 1, 3]), int64([0, 1]), { mode: "sum" })
      .sum()
      .backward();
    expect(visitedRows(w3)).toEqual([1, 3]);
    expect(w3.grad!.tolist()).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
      [2, 2],
      [0, 0],
      [0, 0],
    ]);
  });

  test("perSampleWeights (sum only), includeLastOffset, paddingIdx, 2-D input", () => {
    const w = weight();
    const psw = torch.tensor([2, 0.5, -1], { requiresGrad: true });
    const out = torch.embeddingBag(w, int64([1, 3, 5]), int64([0, 2]), { mode: "sum", perSampleWeights: psw });
    expect(out.tolist()).toEqual([
      [2 * 2 + 0.5 * 6, 2 * 3 + 0.5 * 7],
      [-10, -11],
    ]);
    out.sum().backward();
    expect(psw.grad!.tolist()).toEqual([5, 13, 21]);

    const last = torch.embeddingBag(weight(), int64([1, 3, 5, 0]), int64([0, 2, 3]), { mode: "sum", includeLastOffset: true });
    expect(last.tolist()).toEqual([
      [8, 10],
      [10, 11],
    ]);

    const padded = torch.embeddingBag(weight(), int64([0, 2, 0, 0]), int64([0, 2]), { mode: "mean", paddingIdx: 0 });
    expect(padded.tolist()).toEqual([
      [4, 5],
      [0, 0],
    ]);

    const fixed = torch.embeddingBag(weight(), int64([1, 2, 3, 4], [2, 2]), null, { mode: "sum" });
    expect(fixed.tolist()).toEqual([
      [6, 8],
      [14, 16],
    ]);
  });

  test("validation in PyTorch's words", () => {
    const w = weight();
    const ids = int64([0, 1, 2, 3]);
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([1, 2])))).toBe(
      "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got 1",
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([0, 5])))).toBe(
      "offsets[-1] can not be greater than input's length 4 but got offsets[-1] of 5",
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([0, 3, 1])))).toBe(
      "offsets has to be a non-decreasing sequence, but got offsets[2] = 1 after offsets[1] = 3",
    );
    expect(messageOf(() => torch.embeddingBag(w, int64([0, 6]), int64([0])))).toBe(
      "embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be 6",
    );
    expect(messageOf(() => torch.embeddingBag(w, int64([-1]), int64([0])))).toBe(
      "embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be -1",
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([0]), { mode: "mean", perSampleWeights: torch.ones([4]) }))).toBe(
      "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='mean'). Please open a feature request on the Pytorch GitHub.",
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([0]), { mode: "sum", perSampleWeights: torch.ones([3]) }))).toBe(
      "embedding_bag: If per_sample_weights ([3]) is not None, then it must have the same shape as the input ([4])",
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, null))).toBe("offsets has to be a 1D Tensor but got None");
    expect(messageOf(() => torch.embeddingBag(w, int64([0, 1], [1, 2]), int64([0])))).toMatch(
      /^if input is 2D, then offsets has to be None/,
    );
    expect(messageOf(() => torch.embeddingBag(w, ids, int64([0]), { mode: "min" as "sum" }))).toBe(
      "mode has to be one of sum, mean or max",
    );
    expect(messageOf(() => torch.embeddingBag(w, torch.tensor([0, 1]), int64([0])))).toBe(
      "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding_bag)",
    );
    // Indices past the last bag (with includeLastOffset) are not looked at.
    expect(torch.embeddingBag(w, int64([0, 99]), int64([0, 1]), { includeLastOffset: true, mode: "sum" }).tolist()).toEqual([[0, 1]]);
  });
});
