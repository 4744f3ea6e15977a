/**
 * nn.utils.clipGradNorm_ and clipGradValue_ against a hand computation and PyTorch 1.13's numbers
 * (printed by torch.nn.utils.clip_grad_norm_ on the same gradients).
 */
import * as torch from "torchlet";

type Tensor = torch.Tensor;
const { nn } = torch;
const { clipGradNorm_, clipGradValue_ } = nn.utils;

const values = (t: Tensor): number[] => Array.from(t.toArray());

/** Two parameters holding the gradients [3, 4] and [1, -2, 2] (norms 5 and 3, total sqrt(34)). */
function params(): [Tensor, Tensor] {
  const p = new nn.Parameter(torch.tensor([3, 4]));
  const q = new nn.Parameter(torch.tensor([1, 2, 2]));
  p.grad = torch.tensor([3, 4]);
  q.grad = torch.tensor([1, -2, 2]);
  return [p, q];
}

describe("clipGradNorm_", () => {
  test("returns the total norm and scales every gradient in place by maxNorm / (total + 1e-6)", () => {
    const [p, q] = params();
    const gradP = p.grad!;
    const total = clipGradNorm_([p, q], 1);
    expect(total.dtype).toBe("float32");
    expect(total.item()).toBe(Math.fround(Math.sqrt(34)));
    const factor = Math.fround(Math.fround(1 / Math.fround(Math.fround(Math.sqrt(34)) + Math.fround(1e-6))) * 1);
    expect(values(p.grad!)).toEqual([3, 4].map((g) => Math.fround(g * factor)));
    expect(values(q.grad!)).toEqual([1, -2, 2].map((g) => Math.fround(g * factor)));
    // In place: the same tensors, each one in-place change further.
    expect(p.grad).toBe(gradP);
    expect(gradP.version).toBe(1);
  });

  test("PyTorch's numbers for the norms 1, 3, inf and 0.5", () => {
    const cases: Array<[number, number, number[], number[]]> = [
      [1, 12.0, [0.4999999701976776, 0.6666666269302368], [0.1666666567325592, -0.3333333134651184, 0.3333333134651184]],
      [3, 4.762203216552734, [1.2599207162857056, 1.6798943281173706], [0.41997358202934265, -0.8399471640586853, 0.8399471640586853]],
      [Infinity, 4.0, [1.4999996423721313, 1.9999995231628418], [0.49999988079071045, -0.9999997615814209, 0.9999997615814209]],
      [
        0.5,
        57.160831451416016,
        [0.10496698319911957, 0.13995598256587982],
        [0.034988995641469955, -0.06997799128293991, 0.06997799128293991],
      ],
    ];
    for (const [normType, total, gp, gq] of cases) {
      const [p, q] = params();
      expect(clipGradNorm_([p, q], 2, normType).item()).toBeCloseTo(total, 5);
      expect(values(p.grad!)).toEqual(gp);
      expect(values(q.grad!)).toEqual(gq);
    }
  });

  test("a small norm leaves the values but still counts as an in-place change (PyTorch multiplies by 1)", () => {
    const p = new nn.Parameter(torch.zeros([2]));
    p.grad = torch.tensor([0.1, 0.2]);
    expect(clipGradNorm_(p, 1).item()).toBe(Math.fround(Math.hypot(Math.fround(0.1), Math.fround(0.2))));
    expect(values(p.grad!)).toEqual(values(torch.tensor([0.1, 0.2])));
    expect(p.grad!.version).toBe(1);
  });

  test("parameters without a gradient are skipped; none at all gives 0", () => {
    const [p] = params();
    const bare = new nn.Parameter(torch.ones([2]));
    expect(clipGradNorm_([bare], 1).item()).toBe(0);
    expect(clipGradNorm_(new Set([p, bare]), 100).item()).toBe(5);
    expect(bare.grad).toBeNull();
  });

  test("a model's parameters after backward", () => {
    torch.manualSeed(0);
    const model = new nn.Linear(3, 2);
    model
      .forward(torch.randn([4, 3]))
      .pow(2)
      .sum()
      .mul(100)
      .backward();
    const before = model.parameters().map((p) => values(p.grad!));
    const total = clipGradNorm_(model.parameters(), 0.5).item();
    const hand = Math.sqrt(before.map((g) => g.reduce((s, v) => s + v * v, 0)).reduce((a, b) => a + b, 0));
    expect(total).toBeCloseTo(hand, 3);
    const after = Math.sqrt(model.parameters().reduce((s, p) => s + values(p.grad!).reduce((t, v) => t + v * v, 0), 0));
    expect(after).toBeCloseTo(0.5, 5);
  });

  test("a non-finite total: PyTorch's error when asked, NaN-scaled gradients otherwise", () => {
    const p = new nn.Parameter(torch.zeros([2]));
    p.grad = torch.tensor([Number.NaN, 1]);
    expect(() => clipGradNorm_(p, 1, 2, { errorIfNonfinite: true })).toThrow(
      "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. " +
        "To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`",
    );
    p.grad = torch.tensor([Number.POSITIVE_INFINITY, 1]);
    expect(() => clipGradNorm_(p, 1, Infinity, { errorIfNonfinite: true })).toThrow("The total norm of order inf for gradients");
    expect(clipGradNorm_(p, 1).item()).toBe(Number.POSITIVE_INFINITY);
    expect(values(p.grad!)).toEqual([Number.NaN, 0]);
  });
});

describe("clipGradValue_", () => {
  test("clamps every gradient into [-clip, clip] in place, leaving its version (PyTorch clamps p.grad.data)", () => {
    const [p, q] = params();
    const gradQ = q.grad!;
    clipGradValue_([p, q], 1.5);
    expect(values(p.grad!)).toEqual([1.5, 1.5]);
    expect(values(q.grad!)).toEqual([1, -1.5, 1.5]);
    expect(q.grad).toBe(gradQ);
    expect(gradQ.version).toBe(0);
    clipGradValue_(p, 0.1);
    expect(values(p.grad!)).toEqual(values(torch.tensor([0.1, 0.1])));
  });
});
