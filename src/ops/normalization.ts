/**
 * Layer normalization (PyTorch's `native_layer_norm`, grad_fn NativeLayerNormBackward0) and the
 * vector p-norm that embedding renormalisation and gradient clipping use.
 *
 * The statistics are PyTorch's to the bit: its CPU kernel (AVX2 build) computes each row's mean
 * and biased variance with a vectorised Welford recurrence in the dtype itself (float32 stays
 * float32), and this file replays that recurrence, lane by lane, in the same order.
 */
import { type DType, type TypedArray, allocate, isFloating, rounderFor, scalarTypeName } from "../dtype";
import { numelOf, sameShape } from "../shape";
import { freshGradient, record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { Tensor } from "../tensor-core";
import { checkOptions, optionKeys } from "../options";
import { tensorArg, typeName } from "../arguments";
import { mean, sum } from "./reduction";

type Round = (v: number) => number;

export interface LayerNormOptions {
  /** Per-element scale, of shape `normalizedShape`. */
  weight?: Tensor | null;
  /** Per-element shift, of shape `normalizedShape`. */
  bias?: Tensor | null;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
}

const LAYER_NORM_KEYS = optionKeys<LayerNormOptions>({ weight: true, bias: true, eps: true });

// ---- PyTorch's row statistics ----------------------------------------------------------------

/** Values per vector register in PyTorch's AVX2 kernels, and vectors per Welford chunk. */
const LANES: Record<string, number> = { float32: 8, float64: 4 };
const CHUNK = 16;

/** Running moments: count, mean and sum of squared deviations (one set per vector lane). */
interface Moments {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

const emptyMoments = (lanes: number): Moments => ({ count: 0, mean: new Float64Array(lanes), m2: new Float64Array(lanes) });

/** PyTorch's `AddMoments`: merges (count, mean, m2) of `from` into `into`, lane by lane, in the dtype. */
function addMoments(from: Moments, into: Moments, r: Round): void {
  const n = into.count + from.count;
  const c = n === 0 ? 0 : r(from.count / n);
  for (let l = 0; l < into.mean.length; l++) {
    const delta = r(from.mean[l] - into.mean[l]);
    into.mean[l] = r(into.mean[l] + r(delta * c));
    into.m2[l] = r(into.m2[l] + r(from.m2[l] + r(r(r(delta * delta) * c) * into.count)));
  }
  into.count = n;
}

/** Welford over `count` consecutive vectors starting at `at` (PyTorch's `UpdateMomentsVec`). */
function chunkMoments(x: TypedArray, at: number, count: number, lanes: number, r: Round): Moments {
  const m = emptyMoments(lanes);
  for (let j = 0; j < count; j++) {
    const c = r(1 / (j + 1));
    for (let l = 0; l < lanes; l++) {
      const v = x[at + j * lanes + l];
      const delta = r(v - m.mean[l]);
      m.mean[l] = r(m.mean[l] + r(delta * c));
      m.m2[l] = r(m.m2[l] + r(delta * r(v - m.mean[l])));
    }
  }
  m.count = count;
  return m;
}

/**
 * Mean and biased variance of x[start, start + n) as PyTorch's `RowwiseMoments` computes them:
 * whole vectors in chunks of 16, merged pairwise up a binary tree of depth ceil(log2(chunks)),
 * then the leftover elements one by one, then every lane folded into those.
 */
function rowMoments(x: TypedArray, start: number, n: number, dtype: DType): { mean: number; variance: number } {
  const r = rounderFor(dtype);
  const lanes = LANES[dtype];
  const vectors = Math.floor(n / lanes);
  const chunks = Math.ceil(vectors / CHUNK);
  const depth = chunks <= 2 ? 1 : 32 - Math.clz32(chunks - 1);
  const stack = Array.from({ length: depth }, () => emptyMoments(lanes));
  for (let i = 0; i < chunks; i++) {
    const count = Math.min(CHUNK, vectors - i * CHUNK);
    addMoments(chunkMoments(x, start + i * CHUNK * lanes, count, lanes, r), stack[0], r);
    for (let j = 1, mask = i + 1; j < depth && (mask & 1) === 0; j++, mask >>= 1) {
      addMoments(stack[j - 1], stack[j], r);
      stack[j - 1] = emptyMoments(lanes);
    }
  }
  for (let j = 1; j < depth; j++) addMoments(stack[j], stack[0], r);
  const tail = emptyMoments(1);
  for (let k = vectors * lanes; k < n; k++) {
    const v = x[start + k];
    const delta = r(v - tail.mean[0]);
    tail.count++;
    tail.mean[0] = r(tail.mean[0] + r(delta / tail.count));
    tail.m2[0] = r(tail.m2[0] + r(delta * r(v - tail.mean[0])));
  }
  for (let l = 0; l < lanes; l++) {
    addMoments({ count: vectors, mean: stack[0].mean.subarray(l, l + 1), m2: stack[0].m2.subarray(l, l + 1) }, tail, r);
  }
  return { mean: tail.mean[0], variance: r(tail.m2[0] / n) };
}

/** a * b + c rounded once, as the fused multiply-add PyTorch's compiled float kernel uses (a * b is exact in a double). */
function fusedMultiplyAdd(dtype: DType): (a: number, b: number, c: number) => number {
  return dtype === "float32" ? (a, b, c) => Math.fround(a * b + c) : (a, b, c) => a * b + c;
}

// ---- layer norm ------------------------------------------------------------------------------

const sizes = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/** `_check_layer_norm_inputs` and the dtype checks, in PyTorch's order and words. */
function checkLayerNorm(input: Tensor, normalizedShape: unknown, weight: Tensor | null, bias: Tensor | null): number[] {
  if (!Array.isArray(normalizedShape) || !normalizedShape.every((s) => Number.isInteger(s))) {
    throw new TypeError(`layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not ${typeName(normalizedShape)}`);
  }
  const shape = normalizedShape as number[];
  if (shape.length < 1) {
    throw new Error(
      `Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = ${sizes(shape)}`,
    );
  }
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && !sameShape(t.shape, shape)) {
      throw new Error(
        `Expected ${name} to be of same shape as normalized_shape, but got ${name} of shape ${sizes(t.shape)} and normalized_shape = ${sizes(shape)}`,
      );
    }
  }
  const ishape = input.shape;
  if (ishape.length < shape.length || !sameShape(ishape.slice(ishape.length - shape.length), shape)) {
    throw new Error(
      `Given normalized_shape=${sizes(shape)}, expected input with shape [*${shape.map((s) => `, ${s}`).join("")}], but got input of size${sizes(ishape)}`,
    );
  }
  if (!isFloating(input.dtype)) throw new Error(`"LayerNormKernelImpl" not implemented for '${scalarTypeName(input.dtype)}'`);
  for (const t of [weight, bias]) {
    if (t && t.dtype !== input.dtype) {
      throw new Error(`expected scalar type ${scalarTypeName(input.dtype)} but found ${scalarTypeName(t.dtype)}`);
    }
  }
  return shape;
}

/** Each row's mean and 1/sqrt(variance + eps), in the dtype, as PyTorch's forward saves them. */
interface RowStats {
  mean: Float64Array;
  rstd: Float64Array;
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias over the last `normalizedShape.length` dims, with
 * the biased variance. Output, mean and rstd are PyTorch's bit for bit in float32.
 */
export function layerNorm(input: Tensor, normalizedShape: readonly number[], options: LayerNormOptions = {}): Tensor {
  tensorArg(input, "layer_norm");
  checkOptions("layerNorm", options, LAYER_NORM_KEYS);
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  const eps = options.eps ?? 1e-5;
  const shape = checkLayerNorm(input, normalizedShape, weight, bias);
  const dtype = input.dtype;
  const n = numelOf(shape);
  const rows = n === 0 ? 0 : input.numel() / n;
  const x = input.toArray();
  const r = rounderFor(dtype);
  const fma = fusedMultiplyAdd(dtype);
  const gamma = weight?.toArray() ?? null;
  const beta = bias?.toArray() ?? null;
  const out = allocate(dtype, x.length);
  const stats: RowStats = { mean: new Float64Array(rows), rstd: new Float64Array(rows) };
  for (let i = 0; i < rows; i++) {
    const start = i * n;
    const m = rowMoments(x, start, n, dtype);
    const rstd = r(1 / r(Math.sqrt(r(m.variance + r(eps)))));
    const shift = r(-rstd * m.mean);
    stats.mean[i] = m.mean;
    stats.rstd[i] = rstd;
    for (let j = 0; j < n; j++) {
      out[start + j] = fma(fma(x[start + j], rstd, shift), gamma ? gamma[j] : 1, beta ? beta[j] : 0);
    }
  }
  const y = Tensor.fromArray(out, input.shape, dtype);
  return record(
    "NativeLayerNormBackward0",
    y,
    [input, weight, bias],
    (g) =>
      isGradEnabled()
        ? layerNormBackwardOps(g, input, shape.length, weight, bias, eps)
        : layerNormBackwardKernel(g, x, stats, n, dtype, input, weight, bias),
    { saved: [input, weight, bias] },
  );
}

/**
 * The backward on typed arrays (grad mode off: the ordinary backward), with x_hat = (x - mean) * rstd:
 * dx = rstd * (gw - mean(gw) - x_hat * mean(gw * x_hat)) with gw = g * weight per row,
 * dweight = sum over rows of g * x_hat, dbias = sum over rows of g. Sums run in doubles.
 */
function layerNormBackwardKernel(
  g: Tensor,
  x: TypedArray,
  stats: RowStats,
  n: number,
  dtype: DType,
  input: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
): Array<Tensor | null> {
  const gv = g.toArray();
  const gamma = weight?.toArray() ?? null;
  const dx = input.requiresGrad ? allocate(dtype, x.length) : null;
  const dgamma = weight?.requiresGrad ? new Float64Array(n) : null;
  const dbeta = bias?.requiresGrad ? new Float64Array(n) : null;
  for (let i = 0; i < stats.mean.length; i++) {
    const start = i * n;
    const mu = stats.mean[i];
    const rstd = stats.rstd[i];
    let sumGw = 0;
    let sumGwXhat = 0;
    for (let j = 0; j < n; j++) {
      const gw = gv[start + j] * (gamma ? gamma[j] : 1);
      const xhat = (x[start + j] - mu) * rstd;
      sumGw += gw;
      sumGwXhat += gw * xhat;
      if (dgamma) dgamma[j] += gv[start + j] * xhat;
      if (dbeta) dbeta[j] += gv[start + j];
    }
    if (!dx) continue;
    const meanGw = sumGw / n;
    const meanGwXhat = sumGwXhat / n;
    for (let j = 0; j < n; j++) {
      const gw = gv[start + j] * (gamma ? gamma[j] : 1);
      const xhat = (x[start + j] - mu) * rstd;
      dx[start + j] = rstd * (gw - meanGw - xhat * meanGwXhat);
    }
  }
  const wrap = (values: TypedArray | null, like: Tensor | null): Tensor | null => {
    if (!values || !like) return null;
    const stored = allocate(dtype, values.length);
    stored.set(values);
    return freshGradient(Tensor.fromArray(stored, like.shape, dtype));
  };
  return [wrap(dx, input), wrap(dgamma, weight), wrap(dbeta, bias)];
}

/**
 * The same backward written in ops (grad mode on: `createGraph`), the statistics recomputed from
 * x with ops so that the result can be differentiated again with respect to x, weight and g.
 */
function layerNormBackwardOps(
  g: Tensor,
  x: Tensor,
  k: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Array<Tensor | null> {
  const ndim = x.ndim;
  const dims = Array.from({ length: k }, (_, i) => ndim - k + i);
  const batchDims = Array.from({ length: ndim - k }, (_, i) => i);
  const centred = x.sub(mean(x, dims, true));
  const rstd = mean(centred.mul(centred), dims, true).add(eps).pow(-0.5);
  const xhat = centred.mul(rstd);
  const gw = weight ? g.mul(weight) : g;
  const dx = gw
    .sub(mean(gw, dims, true))
    .sub(xhat.mul(mean(gw.mul(xhat), dims, true)))
    .mul(rstd);
  const overRows = (t: Tensor) => (batchDims.length > 0 ? sum(t, batchDims) : t);
  return [x.requiresGrad ? dx : null, weight?.requiresGrad ? overRows(g.mul(xhat)) : null, bias?.requiresGrad ? overRows(g) : null];
}

// ---- vector norms ----------------------------------------------------------------------------

/**
 * The p-norm of `values` (computed in doubles): (sum |v|^p)^(1/p); the largest |v| for p = inf,
 * the smallest for -inf, the count of non-zeros for p = 0. PyTorch's `torch.norm(t, p)` over all elements.
 */
export function vectorNorm(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (p === Infinity || p === -Infinity) {
    let best = p === Infinity ? (n === 0 ? 0 : -Infinity) : Infinity;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]);
      if (Number.isNaN(a)) return NaN;
      best = p === Infinity ? Math.max(best, a) : Math.min(best, a);
    }
    return best;
  }
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    if (p === 0) acc += a !== 0 ? 1 : 0;
    else if (p === 1) acc += a;
    else if (p === 2) acc += a * a;
    else acc += a ** p;
  }
  if (p === 0 || p === 1) return acc;
  return p === 2 ? Math.sqrt(acc) : acc ** (1 / p);
}
