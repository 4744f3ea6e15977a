import * as torch from "torchlet";
import { loadCases } from "./helpers/golden";
import { replay } from "./helpers/nn-replay";
import { Rng } from "./helpers/random-cases";

const { nn, autograd } = torch;
const F = nn.functional;

describe("golden activations (PyTorch 1.13)", () => {
  const cases = loadCases("activations.json");
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));
});

describe("golden activation ops from ops.json (tensor methods)", () => {
  const cases = loadCases("ops.json").filter((c) => ["sigmoid", "tanh", "relu", "softmax", "logSoftmax"].includes(c.op));
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));
});

describe("golden seed examples: activations", () => {
  const ids = ["seed/logits/log(softmax)", "seed/logits/LogSoftmax(dim=1)", "seed/logits/Softmax(dim=1)", "seed/binary_logits/Sigmoid"];
  const cases = loadCases("seed.json").filter((c) => ids.includes(c.id));
  test("all four are present", () => expect(cases).toHaveLength(ids.length));
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => replay(c));
});

/** A float64 leaf of `shape` with the given values. */
function leaf(values: number[], shape: number[]): torch.Tensor {
  return torch.tensor(values, { dtype: "float64" }).reshape(shape).detach().requiresGrad_(true);
}

describe("gradcheck (finite differences in float64) over random shapes", () => {
  const rng = new Rng(20240611);
  const configs = Array.from({ length: 12 }, () => {
    const ndim = rng.int(0, 4);
    const shape = rng.shape(ndim);
    const dim = ndim === 0 ? rng.pick([0, -1]) : rng.int(-ndim, ndim - 1);
    return {
      shape,
      dim,
      values: rng.values(
        shape.reduce((a, b) => a * b, 1),
        -3,
        3,
      ),
    };
  });

  test.each(configs.map((c) => [JSON.stringify(c.shape), c.dim, c] as const))("softmax and logSoftmax, shape %s, dim %d", (_, dim, c) => {
    expect(autograd.gradcheck((x) => F.softmax(x, dim), [leaf(c.values, c.shape)])).toBe(true);
    expect(autograd.gradcheck((x) => F.logSoftmax(x, dim), [leaf(c.values, c.shape)])).toBe(true);
  });

  test.each(configs.map((c) => [JSON.stringify(c.shape), c] as const))("sigmoid, tanh and relu, shape %s", (_, c) => {
    expect(autograd.gradcheck((x) => F.sigmoid(x), [leaf(c.values, c.shape)])).toBe(true);
    expect(autograd.gradcheck((x) => F.tanh(x), [leaf(c.values, c.shape)])).toBe(true);
    // relu has a kink at 0: keep the points away from it.
    const away = c.values.map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    expect(autograd.gradcheck((x) => F.relu(x), [leaf(away, c.shape)])).toBe(true);
  });

  test("softmax of a non-contiguous (transposed) input equals that of its contiguous copy", () => {
    torch.manualSeed(3);
    const x = torch.randn([3, 4, 5]);
    const t = x.transpose(0, 2);
    for (const dim of [0, 1, 2]) {
      expect(F.softmax(t, dim).tolist()).toEqual(F.softmax(t.contiguous(), dim).tolist());
      expect(F.logSoftmax(t, dim).tolist()).toEqual(F.logSoftmax(t.contiguous(), dim).tolist());
    }
  });
});

describe("edge inputs", () => {
  test("0-d input: softmax is 1, logSoftmax is 0, both with zero gradient", () => {
    const x = torch.tensor(2.5, { requiresGrad: true });
    const s = F.softmax(x, 0);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    s.backward();
    expect(x.grad!.item()).toBe(0);
    x.grad = null;
    const l = F.logSoftmax(x, -1);
    expect(l.item()).toBe(0);
    l.backward();
    expect(x.grad!.item()).toBe(0);
  });

  test("a dim out of range fails in PyTorch's words", () => {
    expect(() => F.softmax(torch.zeros([2, 3]), 2)).toThrow("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect(() => F.logSoftmax(torch.zeros([2, 3]), -3)).toThrow("Dimension out of range (expected to be in range of [-2, 1], but got -3)");
  });

  test.each(["float32", "float64"] as const)("logits of ±1000 and ±1e30 stay finite (%s)", (dtype) => {
    for (const big of [1000, 1e30]) {
      const x = torch.tensor(
        [
          [big, -big, 0],
          [big, big, -big],
        ],
        { dtype, requiresGrad: true },
      );
      const s = F.softmax(x, 1);
      const l = F.logSoftmax(x, 1);
      expect(s.tolist()).toEqual([
        [1, 0, 0],
        [0.5, 0.5, 0],
      ]);
      const logs = l.tolist() as number[][];
      expect(logs[0][0]).toBe(0);
      expect(logs[0][1]).toBe(dtype === "float32" ? Math.fround(-2 * big) : -2 * big);
      // log(2) must survive next to m = 1e30: (x - m) is computed before subtracting log(sum).
      expect(logs[1][0]).toBeCloseTo(-Math.LN2, 6);
      l.sum().backward();
      const g = x.grad!.toArray();
      expect(Array.from(g).every(Number.isFinite)).toBe(true);
      const sig = F.sigmoid(torch.tensor([big, -big], { dtype }));
      expect(sig.tolist()).toEqual([1, 0]);
    }
  });

  test("-inf entries get probability 0 and a row of only -inf gives NaN, as in PyTorch", () => {
    const x = torch.tensor(
      [
        [-Infinity, 0, 0],
        [-Infinity, -Infinity, -Infinity],
      ],
      { requiresGrad: true },
    );
    const s = F.softmax(x, 1).tolist() as number[][];
    expect(s[0]).toEqual([0, 0.5, 0.5]);
    expect(s[1].every(Number.isNaN)).toBe(true);
    const l = F.logSoftmax(x, 1).tolist() as number[][];
    expect(l[0][0]).toBe(-Infinity);
    expect(l[1].every(Number.isNaN)).toBe(true);
  });

  test("relu passes NaN through and sends gradient only where the output is positive", () => {
    const x = torch.tensor([-1, 0, 2, NaN], { requiresGrad: true });
    const y = F.relu(x);
    expect(y.toArray()[3]).toBeNaN();
    expect(Array.from(y.toArray()).slice(0, 3)).toEqual([0, 0, 2]);
    expect(y.gradFn!.name).toBe("ReluBackward0");
    y.backward(torch.ones([4]));
    expect(Array.from(x.grad!.toArray())).toEqual([0, 0, 1, 1]);
  });

  test("integer input to softmax is rejected like PyTorch", () => {
    expect(() => F.softmax(torch.tensor([1, 2], { dtype: "int64" }), 0)).toThrow(
      `"softmax_lastdim_kernel_impl" not implemented for 'Long'`,
    );
  });

  test("inference records no graph", () => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    const y = torch.noGrad(() => F.softmax(x, 0));
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
  });
});

describe("activation modules", () => {
  test("forward equals the functional form, and the names print like PyTorch", () => {
    torch.manualSeed(1);
    const x = torch.randn([2, 3]);
    expect(new nn.Softmax(1).forward(x).tolist()).toEqual(F.softmax(x, 1).tolist());
    expect(new nn.LogSoftmax(-1).forward(x).tolist()).toEqual(F.logSoftmax(x, -1).tolist());
    expect(new nn.Sigmoid().forward(x).tolist()).toEqual(x.sigmoid().tolist());
    expect(new nn.Tanh().forward(x).tolist()).toEqual(x.tanh().tolist());
    expect(new nn.ReLU().forward(x).tolist()).toEqual(x.relu().tolist());
    expect(String(new nn.Softmax(1))).toBe("Softmax(dim=1)");
    expect(String(new nn.LogSoftmax(0))).toBe("LogSoftmax(dim=0)");
    expect(String(new nn.Sigmoid())).toBe("Sigmoid()");
    expect(new nn.Softmax(1).parameters()).toEqual([]);
  });

  test("without a dim, Softmax uses PyTorch's legacy choice (0 for 0-, 1- and 3-d input, else 1)", () => {
    const x2 = torch.tensor([
      [1, 2],
      [3, 5],
    ]);
    expect(new nn.Softmax().forward(x2).tolist()).toEqual(F.softmax(x2, 1).tolist());
    const x3 = torch.tensor([[[1, 2]], [[3, 5]]]);
    expect(new nn.LogSoftmax().forward(x3).tolist()).toEqual(F.logSoftmax(x3, 0).tolist());
  });
});
