/**
 * The reductions PyTorch users reach for after sum and mean: prod, std and var, norm, amax and
 * amin. The reduced dims are moved last (`reduceOver`), each lane is reduced in doubles and stored
 * once in the output's dtype; each backward is PyTorch 1.13's formula written in ops.
 */
import { type DType, type TypedArray, allocate, clearNegativeZeros, isFloating, scalarTypeName } from "../dtype";
import { normalizeDims, numelOf, reducedShape } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { mapUnary } from "./elementwise";
import { permutedValues, sum } from "./reduction";
import { expectTensor, sign, zerosFrom } from "./math-unary";
import { dimArg, equalsMask, fillWhere, productOfOthers } from "./math-along";
import { flagArg } from "../arguments";

type Dims = number | readonly number[] | null | undefined;
type LaneFn = (values: TypedArray, start: number, length: number) => number;

/**
 * One value per lane of `x` over `dims`, from `fn(values, start, length)` on x's values with the
 * reduced dims moved last, stored as `dtype`.
 */
function reduceOver(x: Tensor, dims: readonly number[], keepdim: boolean, dtype: DType, fn: LaneFn): Tensor {
  const kept = x.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const values = permutedValues(x, [...kept, ...dims]);
  const length = numelOf(dims.map((d) => x.nd.shape[d]));
  const out = allocate(dtype, numelOf(kept.map((d) => x.nd.shape[d])));
  for (let i = 0; i < out.length; i++) out[i] = fn(values, i * length, length);
  if (dtype === "int64") clearNegativeZeros(out); // a product 0 * -1
  return Tensor.fromArray(out, reducedShape(x.shape, dims, keepdim), dtype);
}

/** The shape of a reduction with the reduced dims kept as 1: a gradient reshaped to it broadcasts back over x. */
function keptShape(x: Tensor, dims: readonly number[]): number[] {
  return reducedShape(x.shape, dims, true);
}

// ---- prod ---------------------------------------------------------------------------------

function product(values: TypedArray, start: number, length: number): number {
  let p = 1;
  for (let j = 0; j < length; j++) p *= values[start + j];
  return p;
}

function countZeros(x: Tensor): number {
  const values = x.toArray();
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) n++;
  return n;
}

/**
 * The product of all values (ProdBackward0), or along one dim (ProdBackward1). Integer and
 * bool inputs give int64. The gradient is g * prod / x without zeros, else the product of the
 * other values (exact with zeros), as PyTorch's prod_backward.
 */
export function prod(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  expectTensor(x, "prod");
  const dtype: DType = isFloating(x.dtype) ? x.dtype : "int64";
  if (dim === undefined || dim === null) {
    const out = reduceOver(x, normalizeDims(null, x.ndim), false, dtype, product);
    return record("ProdBackward0", out, [x], (g) => [prodGradAll(g, x, out)], { saved: [x, out] });
  }
  const d = dimArg(x, dim, "prod");
  const out = reduceOver(x, x.ndim ? [d] : [], keepdim, dtype, product);
  return record("ProdBackward1", out, [x], (g) => [prodGradAlong(g, x, out, d, keepdim)], { saved: [x, out] });
}

function prodGradAll(g: Tensor, x: Tensor, out: Tensor): Tensor {
  if (x.ndim === 0) return g;
  const zeros = countZeros(x);
  if (zeros === 0) return g.mul(out.div(x));
  // Two zeros or more: every product of the others holds a zero. PyTorch 1.13 returns constant
  // zeros then, even under createGraph (so no second derivative flows through this path).
  if (zeros > 1) return zerosFrom(x);
  return g.mul(productOfOthers(x.reshape([-1]), 0)).reshape(x.shape);
}

function prodGradAlong(g: Tensor, x: Tensor, out: Tensor, dim: number, keepdim: boolean): Tensor {
  if (x.ndim === 0) return g;
  const [grad, result] = keepdim || x.ndim === 1 ? [g, out] : [g.unsqueeze(dim), out.unsqueeze(dim)];
  if (countZeros(x) === 0) return grad.mul(result.div(x));
  if (x.numel() === 0) return grad.expand(x.shape);
  if (x.shape[dim] === 1) return grad;
  return grad.mul(productOfOthers(x, dim));
}

// ---- std and var --------------------------------------------------------------------------

/** The sum of squared deviations from the lane's mean, in doubles. */
function squaredDeviations(values: TypedArray, start: number, length: number): number {
  let mean = 0;
  for (let j = 0; j < length; j++) mean += values[start + j];
  mean /= length;
  let m2 = 0;
  for (let j = 0; j < length; j++) m2 += (values[start + j] - mean) ** 2;
  return m2;
}

interface Spread {
  /** The reduced dims, and whether that is every dim as PyTorch's `dim=None` means it. */
  dims: number[];
  all: boolean;
  /** How many values each lane holds, and Bessel's correction (1) or none (0). */
  length: number;
  correction: number;
  /** The variance per lane: m2 / (n - correction), NaN or inf where n <= correction. */
  variance: Tensor;
}

/**
 * What std and var share: PyTorch's overloads `std(dim, unbiased, keepdim)` and `std(unbiased)`,
 * the floating-point check, and the variance (Bessel's correction unless `unbiased` is false).
 */
function spreadOf(name: string, x: Tensor, dim: Dims | boolean, unbiased: boolean, keepdim: boolean): Spread {
  expectTensor(x, name);
  if (typeof dim === "boolean") [dim, unbiased] = [null, dim];
  flagArg(unbiased, name, "unbiased");
  if (!isFloating(x.dtype)) throw new Error("std and var only support floating point and complex dtypes");
  const dims = normalizeDims(dim, x.ndim);
  const correction = unbiased ? 1 : 0;
  const variance = reduceOver(x, dims, keepdim, x.dtype, (v, s, n) => squaredDeviations(v, s, n) / Math.max(0, n - correction));
  const length = numelOf(dims.map((d) => x.nd.shape[d]));
  return { dims, all: dim === undefined || dim === null || x.ndim === 0, length, correction, variance };
}

/**
 * PyTorch's var_backward: (2 / (n - correction)) * g * (x - mean). Over every dim with
 * n <= correction it is g times NaN where x equals its mean and inf elsewhere (PyTorch 1.13 then
 * fails on a shape check for a one-element input; torchlet returns that gradient in x's shape).
 */
function varGrad(g: Tensor, x: Tensor, s: Spread): Tensor {
  const dof = s.length - s.correction;
  if (s.all && dof <= 0) {
    const mean = x.detach().mean().item();
    return g.mul(mapUnary(x, x.dtype, (v) => (v === mean ? NaN : Infinity)));
  }
  const deviations = x.sub(s.all ? x.mean() : x.mean(s.dims, true));
  const scaled = g.reshape(keptShape(x, s.dims)).mul(2 / dof);
  return scaled.mul(deviations);
}

/** The variance over `dim` (all dims by default), unbiased unless told; `var(false)` is `var(null, false)`. */
export function variance(x: Tensor, dim?: Dims | boolean, unbiased = true, keepdim = false): Tensor {
  const s = spreadOf("var", x, dim, unbiased, keepdim);
  return record("VarBackward0", s.variance, [x], (g) => [varGrad(g, x, s)], { saved: [x] });
}

/** The standard deviation: the square root of `variance`, its gradient g / (2 std) (0 where std is 0) through var's. */
export function std(x: Tensor, dim?: Dims | boolean, unbiased = true, keepdim = false): Tensor {
  const s = spreadOf("std", x, dim, unbiased, keepdim);
  const out = mapUnary(s.variance, x.dtype, Math.sqrt);
  return record("StdBackward0", out, [x], (g) => [varGrad(fillWhere(g.div(out.mul(2)), equalsMask(out, 0), 0), x, s)], {
    saved: [x, out],
  });
}

// ---- norm ---------------------------------------------------------------------------------

/** The p-norm of one lane: count of non-zeros for 0, max or min of |x| for ±inf (NaN wins), else (sum |x|^p)^(1/p). */
function pNorm(p: number): (values: TypedArray, start: number, length: number) => number {
  const fold = (init: number, step: (acc: number, a: number) => number, finish: (acc: number) => number) => {
    return (values: TypedArray, start: number, length: number): number => {
      let acc = init;
      for (let j = 0; j < length; j++) acc = step(acc, Math.abs(values[start + j]));
      return finish(acc);
    };
  };
  const asIs = (acc: number): number => acc;
  if (p === 0) return fold(0, (acc, a) => (a === 0 ? acc : acc + 1), asIs);
  if (p === 1) return fold(0, (acc, a) => acc + a, asIs);
  if (p === 2) return fold(0, (acc, a) => acc + a * a, Math.sqrt);
  if (p === Infinity) return fold(0, (acc, a) => (a > acc || Number.isNaN(a) ? a : acc), asIs);
  if (p === -Infinity) return fold(Infinity, (acc, a) => (a < acc || Number.isNaN(a) ? a : acc), asIs);
  const root = (acc: number): number => acc ** (1 / p);
  return fold(0, (acc, a) => acc + a ** p, root);
}

/**
 * The p-norm over `dim` (every dim by default), for any number p (inf and -inf included), or
 * "fro" (the 2-norm, over at most two named dims). NormBackward1 for every form, as PyTorch
 * 1.13's `Tensor.norm` records it.
 */
export function norm(x: Tensor, p: number | "fro" = 2, dim?: Dims, keepdim = false): Tensor {
  expectTensor(x, "norm");
  const power = normPower(p, dim);
  if (!isFloating(x.dtype)) {
    throw new Error(`norm(): input dtype should be either floating point or complex. Got ${scalarTypeName(x.dtype)} instead.`);
  }
  const dims = normalizeDims(dim, x.ndim);
  const out = reduceOver(x, dims, keepdim, x.dtype, pNorm(power));
  const kept = keptShape(x, dims);
  return record("NormBackward1", out, [x], (g) => [normGrad(g.reshape(kept), x, out.reshape(kept), power, dims)], {
    saved: [x, out],
  });
}

/** p as a number: "fro" is 2 (PyTorch's frobenius_norm takes at most two dims); "nuc" needs an SVD torchlet has not. */
function normPower(p: unknown, dim: Dims): number {
  if (typeof p === "number") return p;
  if (p === "fro") {
    const count = typeof dim === "number" ? 1 : (dim?.length ?? 0);
    if (count > 2) throw new Error(`Expected at most 2 dimensions, but got ${count} dimensions instead.`);
    return 2;
  }
  if (p === "nuc") throw new Error("norm(): the nuclear norm ('nuc') is not supported by torchlet");
  if (typeof p === "string") throw new Error(`only valid string values are 'fro' and 'nuc', found ${p}`);
  throw new TypeError(`norm(): argument 'p' must be a number or 'fro', not ${p === null ? "null" : typeof p}`);
}

/**
 * PyTorch's norm_backward, with g and the norm n broadcastable to x: no gradient for p = 0;
 * sgn(x) g for 1; g x / n for 2 (0 where n is 0); for ±inf g shared by the entries where |x| is n
 * (or NaN); else sgn(x) |x|^(p-1) g / n^(p-1), with PyTorch's masks at zero.
 */
function normGrad(g: Tensor, x: Tensor, n: Tensor, p: number, dims: number[]): Tensor | null {
  if (p === 0) return null;
  if (p === 1) return sign(x).mul(g);
  const zeroNorm = equalsMask(n, 0);
  if (p === 2) return g.mul(fillWhere(x.div(n), zeroNorm, 0));
  if (!Number.isFinite(p)) {
    const hits = mapUnary(x, x.dtype, (v, i, norms) => (Math.abs(v) === norms[i] || Number.isNaN(v) ? 1 : 0), n);
    return sign(x).mul(g.div(sum(hits, dims, true)).mul(hits));
  }
  if (p < 1) {
    const scaled = sign(x).mul(fillWhere(x.abs().pow(p - 1), equalsMask(x, 0), 0));
    return scaled.mul(g).mul(n.pow(1 - p));
  }
  const scale = fillWhere(g.div(n.pow(p - 1)), zeroNorm, 0);
  const scaled = p < 2 ? sign(x).mul(x.abs().pow(p - 1)) : x.mul(x.abs().pow(p - 2));
  return scaled.mul(scale);
}

// ---- amax and amin ------------------------------------------------------------------------

/** PyTorch's checks for an empty input: a dim must be named, and no reduced dim may be empty. */
function checkExtremeDims(name: string, x: Tensor, dims: number[], named: boolean): void {
  if (x.numel() > 0) return;
  if (!named) {
    throw new Error(
      `${name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`,
    );
  }
  for (const d of dims) if (x.shape[d] === 0) throw new Error(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
}

/**
 * The largest (direction 1) or smallest (-1) value over `dim`, NaN propagating. Unlike max, the
 * gradient is shared evenly among the entries equal to the result: (g / count) * (x == result).
 */
function extreme(name: "amax" | "amin", x: Tensor, dim: Dims, keepdim: boolean): Tensor {
  expectTensor(x, name);
  const dims = normalizeDims(dim, x.ndim);
  checkExtremeDims(name, x, dims, typeof dim === "number" || (Array.isArray(dim) && dim.length > 0));
  const direction = name === "amax" ? 1 : -1;
  const out = reduceOver(x, dims, keepdim, x.dtype, (values, start, length) => {
    let best = values[start];
    for (let j = 1; j < length; j++) {
      const v = values[start + j];
      if (Number.isNaN(v) || v * direction > best * direction) best = v;
    }
    return best;
  });
  const kept = keptShape(x, dims);
  const title = name === "amax" ? "Amax" : "Amin";
  return record(
    `${title}Backward0`,
    out,
    [x],
    (g) => {
      const hits = mapUnary(x, g.dtype, (v, i, result) => (v === result[i] ? 1 : 0), out.reshape(kept));
      const share = g.reshape(kept).div(sum(hits, dims, true));
      return [share.mul(hits)];
    },
    { saved: [x, out] },
  );
}

/** The largest value over `dim` (a dim or a list; every dim when omitted or empty). */
export function amax(x: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return extreme("amax", x, dim, keepdim);
}

/** The smallest value over `dim` (a dim or a list; every dim when omitted or empty). */
export function amin(x: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return extreme("amin", x, dim, keepdim);
}
