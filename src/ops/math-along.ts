/**
 * Ops along one dim: cumsum and cumprod, the masked fill their gradients (and norm's and std's)
 * use, and prod's gradient with zeros. Every backward here is written in ops (flip, cat and
 * narrow come from the joining and indexing ops), so that gradients of gradients work; cumprod's
 * backward with zeros has a fast raw path for the ordinary backward and a composed one under
 * createGraph, as PyTorch's.
 */
import { type DType, allocate, clearNegativeZeros, isFloating, rounderFor } from "../dtype";
import { normalizeDim, numelOf } from "../shape";
import { record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { Tensor } from "../tensor-core";
import { mapUnary } from "./elementwise";
import { cat, flip } from "./join";
import { narrow } from "./index";
import { expectTensor } from "./math-unary";
import { intArg } from "../arguments";

/** `shape` read along `dim`: `outer` blocks of `size` positions, consecutive positions `inner` values apart. */
interface Along {
  outer: number;
  size: number;
  inner: number;
}

function alongOf(shape: readonly number[], dim: number): Along {
  if (shape.length === 0) return { outer: 1, size: 1, inner: 1 };
  return { outer: numelOf(shape.slice(0, dim)), size: shape[dim], inner: numelOf(shape.slice(dim + 1)) };
}

/** Checks `dim` as PyTorch does for an op that needs one (an integer, in range) and normalizes it. */
export function dimArg(x: Tensor, dim: unknown, fn: string): number {
  return normalizeDim(intArg(dim, fn, "dim", 1), x.ndim);
}

/** `t` with `value` where `mask` (a bool tensor broadcastable to `t`) is set; the gradient passes elsewhere. */
export function fillWhere(t: Tensor, mask: Tensor, value: number): Tensor {
  const out = mapUnary(t, t.dtype, (v, i, m) => (m[i] ? value : v), mask);
  return record("MaskedFillBackward0", out, [t], (g) => [fillWhere(g, mask, 0)], { savesTensors: false });
}

/** A bool tensor: where `t` is `value`. */
export function equalsMask(t: Tensor, value: number): Tensor {
  return mapUnary(t, "bool", (v) => (v === value ? 1 : 0));
}

/** Running accumulation along `dim` in doubles (PyTorch's CPU cumsum/cumprod accumulate in double), stored as `dtype`. */
function scan(t: Tensor, dim: number, dtype: DType, step: (acc: number, v: number) => number, init: number): Tensor {
  const { outer, size, inner } = alongOf(t.shape, dim);
  const src = t.toArray();
  const out = allocate(dtype, src.length);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      let acc = init;
      for (let i = 0; i < size; i++) {
        const at = (o * size + i) * inner + k;
        acc = step(acc, src[at]);
        out[at] = acc;
      }
    }
  }
  if (dtype === "int64") clearNegativeZeros(out); // a cumprod 0 * -1
  return Tensor.fromArray(out, t.shape, dtype);
}

/** Integer and bool inputs accumulate into int64, as PyTorch's do. */
function scanDtype(x: Tensor): DType {
  return isFloating(x.dtype) ? x.dtype : "int64";
}

/** Whether the gradient of a cumulative op is the upstream gradient itself (one value per lane). */
function trivialAlong(x: Tensor, dim: number): boolean {
  return x.numel() <= 1 || alongOf(x.shape, dim).size === 1;
}

export function cumsum(x: Tensor, dim: number): Tensor {
  expectTensor(x, "cumsum");
  const d = dimArg(x, dim, "cumsum");
  const out = scan(x, d, scanDtype(x), (acc, v) => acc + v, 0);
  return record("CumsumBackward0", out, [x], (g) => [trivialAlong(x, d) ? g : reverseCumsum(g, d)], { savesTensors: false });
}

/** Sums from each position to the end of its lane: PyTorch's `flip(cumsum(flip(g)))`. */
function reverseCumsum(g: Tensor, dim: number): Tensor {
  return flip(cumsum(flip(g, dim), dim), dim);
}

export function cumprod(x: Tensor, dim: number): Tensor {
  expectTensor(x, "cumprod");
  const d = dimArg(x, dim, "cumprod");
  const out = scan(x, d, scanDtype(x), (acc, v) => acc * v, 1);
  return record("CumprodBackward0", out, [x], (g) => [cumprodGrad(g, x, out, d)], { saved: [x, out] });
}

/**
 * PyTorch's cumprod_backward. Without zeros: sum_{j>=k} g_j y_j / x_k. With zeros, the raw
 * O(n) form for an ordinary backward, and under createGraph the O(n^2) composition whose own
 * derivative is cumprod's second derivative.
 */
function cumprodGrad(g: Tensor, x: Tensor, out: Tensor, dim: number): Tensor {
  if (trivialAlong(x, dim)) return g;
  if (!x.toArray().includes(0)) return reverseCumsum(out.mul(g), dim).div(x);
  return isGradEnabled() ? cumprodGradComposed(g, x, dim) : cumprodGradWithZeros(g, x, out, dim);
}

/**
 * Per lane, with z1 the first zero and z2 the second (or the lane's end): before z1 the usual
 * sum_{j in [k, z1)} g_j y_j / x_k; at z1, y_{z1-1} * sum_{j in [z1, z2)} g_j prod(x(z1, j]); after z1, 0.
 * Float32 values are rounded where PyTorch's tensor ops round them.
 */
function cumprodGradWithZeros(g: Tensor, x: Tensor, out: Tensor, dim: number): Tensor {
  const { outer, size, inner } = alongOf(x.shape, dim);
  const round = rounderFor(g.dtype);
  const [gv, xv, yv] = [g.contiguous().toArray(), x.toArray(), out.toArray()];
  const grad = allocate(g.dtype, xv.length);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const at = (i: number): number => (o * size + i) * inner + k;
      let z1 = 0;
      while (z1 < size && xv[at(z1)] !== 0) z1++;
      let tail = 0; // the sum of y_j g_j from i to z1 - 1
      for (let i = z1 - 1; i >= 0; i--) {
        tail += round(yv[at(i)] * gv[at(i)]);
        grad[at(i)] = round(tail) / xv[at(i)];
      }
      if (z1 === size) continue;
      let product = 1;
      let sum = gv[at(z1)];
      for (let j = z1 + 1; j < size && xv[at(j)] !== 0; j++) {
        product *= xv[at(j)];
        sum += round(gv[at(j)] * round(product));
      }
      grad[at(z1)] = round(sum) * (z1 > 0 ? yv[at(z1 - 1)] : 1);
    }
  }
  return Tensor.fromArray(grad, x.shape, g.dtype);
}

/**
 * The gradient of cumprod as ops, for any input: for each k, cumprod of the lane with x_k set
 * to 1 gives prod_{i<=j, i!=k} x_i; sum over j >= k of g_j times it. The lanes gain a k axis
 * before `dim` (O(n^2) per lane, as PyTorch's double-backward path).
 */
function cumprodGradComposed(g: Tensor, x: Tensor, dim: number): Tensor {
  const n = x.shape[dim];
  const square = (set: (k: number, j: number) => boolean): Tensor => {
    const values = new Uint8Array(n * n);
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) values[k * n + j] = set(k, j) ? 1 : 0;
    return Tensor.fromArray(values, [n, n, ...x.shape.slice(dim + 1).map(() => 1)], "bool");
  };
  const diagonal = square((k, j) => k === j);
  const earlier = square((k, j) => j < k);
  const lanes = x.unsqueeze(dim).expand([...x.shape.slice(0, dim), n, ...x.shape.slice(dim)]);
  const omitted = cumprod(fillWhere(lanes, diagonal, 1), dim + 1);
  return fillWhere(omitted.mul(g.unsqueeze(dim)), earlier, 0).sum(dim + 1);
}

/**
 * For each position along `dim`, the product of the other values of its lane, as PyTorch's
 * prod_safe_zeros_backward computes it (exact with zeros): the exclusive cumulative products
 * from the front, cumprod(cat(1, x[:-1])), times those from the back.
 */
export function productOfOthers(x: Tensor, dim: number): Tensor {
  const n = x.shape[dim];
  const edge = x.shape.map((s, d) => (d === dim ? 1 : s));
  const ones = Tensor.fromArray(allocate(x.dtype, x.numel() / n).fill(1), edge, x.dtype);
  const before = cumprod(cat([ones, narrow(x, dim, 0, n - 1)], dim), dim);
  const after = flip(cumprod(cat([ones, flip(narrow(x, dim, 1, n - 1), dim)], dim), dim), dim);
  return before.mul(after);
}
