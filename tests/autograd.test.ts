import * as torch from "torchlet";

const { autograd } = torch;

describe("engine", () => {
  test("a second backward through freed buffers throws as PyTorch does", () => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/Trying to backward through the graph a second time/);
  });

  test("retainGraph keeps buffers and gradients accumulate", () => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.tolist()).toEqual([4, 8, 12]);
  });

  test("nodes that saved nothing may run twice, as in PyTorch", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const y = x.add(1).sum();
    y.backward();
    y.backward();
    expect(x.grad!.tolist()).toEqual([2, 2]);
  });

  test("a chain of 100,000 ops does not overflow the stack", () => {
    const x = torch.tensor([2], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.add(1);
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([1]);
  });

  test("diamond graphs sum the gradients flowing into a tensor", () => {
    const x = torch.tensor([3], { requiresGrad: true });
    const a = x.mul(2);
    const y = a.mul(a).add(a).sum(); // 4x^2 + 2x
    y.backward();
    expect(x.grad!.item()).toBeCloseTo(8 * 3 + 2, 10);
  });

  test("retainGrad keeps a non-leaf gradient, hooks see and may replace gradients", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const h = x.mul(3);
    h.retainGrad();
    const seen: number[][] = [];
    h.registerHook((g) => {
      seen.push(g.tolist() as number[]);
    });
    x.registerHook((g) => g.mul(10));
    h.sum().backward();
    expect(seen).toEqual([[1, 1]]);
    expect(h.grad!.tolist()).toEqual([1, 1]);
    expect(x.grad!.tolist()).toEqual([30, 30]);
    expect(h.isLeaf).toBe(false);
    expect(x.isLeaf).toBe(true);
  });

  test("gradFn exposes PyTorch's name and nextFunctions", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const c = torch.tensor([5, 6]);
    const y = x.mul(c).exp();
    expect(y.gradFn!.name).toBe("ExpBackward0");
    const [[mul]] = y.gradFn!.nextFunctions;
    expect(mul!.name).toBe("MulBackward0");
    expect(mul!.nextFunctions.map(([n]) => n?.name ?? null)).toEqual(["AccumulateGrad", null]);
  });

  test("backward() on a non-scalar needs a gradient; shapes must match", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow("grad can be implicitly created only for scalar outputs");
    expect(() => y.backward(torch.ones([3]))).toThrow(
      "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a shape of torch.Size([2]).",
    );
    expect(() => torch.tensor([1]).backward()).toThrow("element 0 of tensors does not require grad and does not have a grad_fn");
  });

  test("noGrad and enableGrad are scoped and restored on throw", () => {
    const x = torch.tensor([1], { requiresGrad: true });
    expect(torch.noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(() =>
      torch.noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(torch.isGradEnabled()).toBe(true);
    const inner = torch.noGrad(() => torch.enableGrad(() => x.mul(2)));
    expect(inner.gradFn!.name).toBe("MulBackward0");
  });

  test("detach shares storage and leaves the graph; requiresGrad only on floats", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.nd.data).toBe(x.nd.data);
    expect(() => torch.tensor([1, 2], { dtype: "int64", requiresGrad: true })).toThrow(
      "only Tensors of floating point dtype can require gradients",
    );
    expect(() => x.mul(2).requiresGrad_(false)).toThrow(/only change requiresGrad flags of leaf variables/);
  });
});

describe("autograd.grad", () => {
  test("returns gradients without touching .grad", () => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true, dtype: "float64" });
    const y = x.pow(3).sum();
    const [g] = autograd.grad(y, x);
    expect(g!.tolist()).toEqual([3, 12, 27]);
    expect(x.grad).toBeNull();
  });

  test("gradients with respect to an intermediate tensor", () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    const y = h.mul(h).sum();
    const [gh] = autograd.grad(y, h);
    expect(gh!.tolist()).toEqual([4, 8]);
  });

  test("unused inputs are an error unless allowUnused", () => {
    const x = torch.tensor([1], { requiresGrad: true });
    const z = torch.tensor([1], { requiresGrad: true });
    expect(() => autograd.grad(x.mul(2).sum(), [x, z], { retainGraph: true })).toThrow(/appears to not have been used/);
    expect(autograd.grad(x.mul(2).sum(), [x, z], { allowUnused: true })[1]).toBeNull();
  });
});

describe("autograd.gradcheck", () => {
  test("accepts a correct gradient", () => {
    const a = torch.randn([3, 4], { dtype: "float64", requiresGrad: true });
    const b = torch.randn([4], { dtype: "float64", requiresGrad: true });
    expect(autograd.gradcheck((x, y) => x.mul(y).exp().div(x.pow(2).add(1)).sum(1), [a, b])).toBe(true);
  });

  test("catches a wrong gradient", () => {
    class WrongSquare extends autograd.Function {
      static override forward(ctx: torch.autograd.FunctionCtx, x: torch.Tensor) {
        ctx.saveForBackward(x);
        return x.mul(x);
      }
      static override backward(ctx: torch.autograd.FunctionCtx, g: torch.Tensor) {
        const [x] = ctx.savedTensors;
        return g.mul(x); // should be 2x
      }
    }
    const x = torch.randn([3], { dtype: "float64", requiresGrad: true });
    expect(() => autograd.gradcheck((t) => WrongSquare.apply(t), [x])).toThrow(/Jacobian mismatch/);
  });
});

describe("autograd.Function", () => {
  class Cube extends autograd.Function {
    static override forward(ctx: torch.autograd.FunctionCtx, x: torch.Tensor) {
      ctx.saveForBackward(x);
      return x.pow(3);
    }
    static override backward(ctx: torch.autograd.FunctionCtx, g: torch.Tensor) {
      const [x] = ctx.savedTensors;
      return g.mul(x.pow(2)).mul(3);
    }
  }

  test("records a node named after the class and passes gradcheck", () => {
    const x = torch.tensor([1, -2, 0.5], { requiresGrad: true, dtype: "float64" });
    const y = Cube.apply(x);
    expect(y.gradFn!.name).toBe("CubeBackward");
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 12, 0.75]);
    expect(autograd.gradcheck((t) => Cube.apply(t), [x])).toBe(true);
  });

  test("the wrong number of gradients is reported", () => {
    class Bad extends autograd.Function {
      static override forward(_ctx: torch.autograd.FunctionCtx, x: torch.Tensor, y: torch.Tensor) {
        return x.add(y);
      }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: torch.Tensor) {
        return g;
      }
    }
    const x = torch.tensor([1], { requiresGrad: true });
    expect(() => Bad.apply(x, x).sum().backward()).toThrow(
      "function BadBackward returned an incorrect number of gradients (expected 2, got 1)",
    );
  });
});

describe("rsub", () => {
  test("1 - p is RsubBackward1 with gradient -1; a tensor operand gives RsubBackward0", () => {
    const p = torch.tensor([0.25, 0.5], { requiresGrad: true });
    const q = torch.rsub(p, 1);
    expect(q.tolist()).toEqual([0.75, 0.5]);
    expect(q.gradFn!.name).toBe("RsubBackward1");
    q.sum().backward();
    expect(p.grad!.tolist()).toEqual([-1, -1]);
    const a = torch.tensor([[1, 2]], { requiresGrad: true, dtype: "float64" });
    const b = torch.tensor([[10], [20]], { requiresGrad: true, dtype: "float64" });
    const r = torch.rsub(a, b, 2); // b - 2a, broadcast to (2, 2)
    expect(r.tolist()).toEqual([
      [8, 6],
      [18, 16],
    ]);
    expect(r.gradFn!.name).toBe("RsubBackward0");
    expect(torch.autograd.gradcheck((x, y) => torch.rsub(x, y, 2), [a, b])).toBe(true);
  });
});
