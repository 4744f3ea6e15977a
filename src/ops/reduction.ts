/**
 * Reductions over a dim, a list of dims, or everything. Each one moves the reduced dims last
 * (`rowsOf`) so that the kernel is a plain loop over contiguous rows.
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate, isFloating, scalarTypeName } from "../dtype";
import { normalizeDim, normalizeDims, numelOf, reducedShape } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { tensorArg } from "../arguments";

type Dims = number | readonly number[] | null | undefined;

interface Rows {
  /** The input's values with the reduced dims moved last: `rows` rows of `length` values. */
  values: TypedArray;
  rows: number;
  length: number;
  /** Output shape, and the same with size-1 reduced dims (for broadcasting a gradient back). */
  shape: number[];
  keptShape: number[];
}

function rowsOf(x: Tensor, dims: readonly number[], keepdim: boolean): Rows {
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const length = numelOf(dims.map((d) => x.nd.shape[d]));
  return {
    values: permutedValues(x, [...kept, ...dims]),
    rows: numelOf(kept.map((d) => x.nd.shape[d])),
    length,
    shape: reducedShape(x.shape, dims, keepdim),
    keptShape: reducedShape(x.shape, dims, true),
  };
}

/** `g` (reduced shape) broadcast back over the input's shape. */
function spread(g: Tensor, r: Rows, inputShape: number[]): Tensor {
  return g.reshape(r.keptShape).expand(inputShape);
}

export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  tensorArg(x, "sum");
  const dims = normalizeDims(dim, x.ndim);
  const r = rowsOf(x, dims, keepdim);
  const dtype: DType = isFloating(x.dtype) ? x.dtype : "int64";
  const out = allocate(dtype, r.rows);
  for (let row = 0; row < r.rows; row++) {
    let acc = 0;
    const base = row * r.length;
    for (let j = 0; j < r.length; j++) acc += r.values[base + j];
    out[row] = acc;
  }
  const name = dim === undefined || dim === null ? "SumBackward0" : "SumBackward1";
  const inputShape = x.shape;
  return record(name, Tensor.fromArray(out, r.shape, dtype), [x], (g) => [spread(g, r, inputShape)], {
    savesTensors: false,
  });
}

export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  tensorArg(x, "mean");
  if (!isFloating(x.dtype)) {
    throw new Error(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${scalarTypeName(x.dtype)}`,
    );
  }
  const dims = normalizeDims(dim, x.ndim);
  const r = rowsOf(x, dims, keepdim);
  const out = allocate(x.dtype, r.rows);
  for (let row = 0; row < r.rows; row++) {
    let acc = 0;
    const base = row * r.length;
    for (let j = 0; j < r.length; j++) acc += r.values[base + j];
    out[row] = acc / r.length;
  }
  const name = dim === undefined || dim === null ? "MeanBackward0" : "MeanBackward1";
  const inputShape = x.shape;
  return record(name, Tensor.fromArray(out, r.shape, x.dtype), [x], (g) => [spread(g, r, inputShape).div(r.length)], {
    savesTensors: false,
  });
}

/** Where a value-selecting reduction of everything fails on an empty input, in PyTorch's words. */
function checkAnyElement(x: Tensor, name: string, hint: string): void {
  if (x.numel() === 0) throw new Error(`${name}(): Expected reduction dim to be specified for input.numel() == 0.${hint}`);
}

const SPECIFY_DIM = " Specify the reduction dim with the 'dim' argument.";

/** The dim of a value-selecting reduction, which must not be empty. */
function reductionDim(x: Tensor, dim: number, name: string): number {
  const d = normalizeDim(dim, x.ndim);
  if (x.ndim > 0 && x.nd.shape[d] === 0) throw new Error(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  return d;
}

/** Whether `v` beats the best so far; NaN beats everything, so the first NaN is kept, as in PyTorch. */
type Beats = (v: number, best: number) => boolean;
const larger: Beats = (v, best) => v > best || Number.isNaN(v);
const smaller: Beats = (v, best) => v < best || Number.isNaN(v);

/** Index of each row's best value: the first of equal ones. */
function bestRows(r: Rows, beats: Beats): TypedArray {
  const idx = allocate("int64", r.rows);
  for (let row = 0; row < r.rows; row++) {
    const base = row * r.length;
    let best = 0;
    let bestValue = r.values[base];
    for (let j = 1; j < r.length && !Number.isNaN(bestValue); j++) {
      const v = r.values[base + j];
      if (beats(v, bestValue)) {
        best = j;
        bestValue = v;
      }
    }
    idx[row] = best;
  }
  return idx;
}

interface Selection {
  values: Tensor;
  indices: Tensor;
}

/**
 * The best value of everything (max or min), its gradient shared equally among the elements
 * equal to it, or among the NaNs when it is NaN (PyTorch's evenly_distribute_backward).
 */
function extremeOfAll(x: Tensor, name: string, node: string, beats: Beats): Tensor {
  checkAnyElement(x, name, SPECIFY_DIM);
  const values = x.toArray();
  const first = bestRows({ values, rows: 1, length: values.length, shape: [], keptShape: [] }, beats)[0];
  // PyTorch's kernel keeps the later of two equal values, which tells -0 from 0.
  let at = values.length - 1;
  while (at > first && values[at] !== values[first]) at--;
  const out = Tensor.fromArray(values.slice(at, at + 1), [], x.dtype);
  const isNaN = Number.isNaN(values[first]);
  return record(
    node,
    out,
    [x],
    (g) => {
      const mask = isNaN ? x.isnan() : x.eq(out);
      return [g.div(mask.sum()).where(mask, 0)];
    },
    { saved: [x, out] },
  );
}

/** The best value along `dim` and the first index holding it; the gradient goes to that index. */
function extremeAlong(x: Tensor, dim: number, keepdim: boolean, name: string, node: string, beats: Beats): Selection {
  const d = reductionDim(x, dim, name);
  const r = rowsOf(x, x.ndim ? [d] : [], keepdim);
  const indices = bestRows(r, beats);
  const values = allocate(x.dtype, r.rows);
  for (let row = 0; row < r.rows; row++) values[row] = r.values[row * r.length + indices[row]];
  const indexTensor = Tensor.fromArray(indices, r.shape, "int64");
  const keptIndices = Tensor.fromArray(indices, r.keptShape, "int64");
  const inputShape = x.shape;
  const out = record(
    node,
    Tensor.fromArray(values, r.shape, x.dtype),
    [x],
    (g) => [x.ndim === 0 ? g : placeAlong(keepdim ? g : g.unsqueeze(d), keptIndices, d, inputShape)],
    { saved: [indexTensor] },
  );
  return { values: out, indices: indexTensor };
}

/**
 * `max()` is the largest value, its gradient shared equally among ties (MaxBackward1);
 * `max(dim)` returns `{values, indices}` and sends the gradient to the index it reports.
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): Selection;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | Selection {
  tensorArg(x, "max");
  if (dim === undefined) return extremeOfAll(x, "max", "MaxBackward1", larger);
  return extremeAlong(x, dim, keepdim, "max", "MaxBackward0", larger);
}

/** `min()` and `min(dim, keepdim?)`, as `max` (MinBackward1, MinBackward0). */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): Selection;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | Selection {
  tensorArg(x, "min");
  if (dim === undefined) return extremeOfAll(x, "min", "MinBackward1", smaller);
  return extremeAlong(x, dim, keepdim, "min", "MinBackward0", smaller);
}

// ---- gather and scatter along a dim, for the value-selecting reductions' backward ---------------

/**
 * Visits each element of `index` (row-major position `p`) with the position `at` it names in a
 * contiguous tensor of `shape`: the same coordinates but `index[p]` along `dim`. `index` has
 * `shape` but at `dim`.
 */
function alongIndex(index: Tensor, dim: number, shape: readonly number[], visit: (p: number, at: number) => void): void {
  const idx = index.toArray();
  const ishape = index.shape;
  const inner = numelOf(ishape.slice(dim + 1));
  const k = ishape[dim];
  const size = shape[dim];
  for (let p = 0; p < idx.length; p++) {
    const w = p % inner;
    const j = Math.floor(p / inner);
    const o = Math.floor(j / k);
    visit(p, (o * size + idx[p]) * inner + w);
  }
}

/**
 * `x.gather(dim, index)`, recorded with `placeAlong` as its backward (GatherBackward0). The two
 * are each other's gradient when no row of `index` repeats a position, which holds for the
 * indices of max, min, sort and topk: their backwards differentiate to any order.
 */
export function pickAlong(x: Tensor, index: Tensor, dim: number): Tensor {
  const values = x.toArray();
  const out = allocate(x.dtype, index.numel());
  alongIndex(index, dim, x.shape, (p, at) => (out[p] = values[at]));
  const shape = x.shape;
  return record("GatherBackward0", Tensor.fromArray(out, index.shape, x.dtype), [x], (g) => [placeAlong(g, index, dim, shape)], {
    saved: [index],
  });
}

/** Zeros of `shape` with `src` written at `index` along `dim` (PyTorch's `zeros.scatter_`, ScatterBackward0). */
export function placeAlong(src: Tensor, index: Tensor, dim: number, shape: readonly number[]): Tensor {
  const values = src.toArray();
  const out = allocate(src.dtype, numelOf(shape));
  alongIndex(index, dim, shape, (p, at) => (out[at] = values[p]));
  return record("ScatterBackward0", Tensor.fromArray(out, shape, src.dtype), [src], (g) => [pickAlong(g, index, dim)], {
    saved: [index],
  });
}

/** log(sum(exp(x))) computed around the row maximum so that large logits stay finite. */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  tensorArg(x, "logsumexp");
  const dims = normalizeDims(dim, x.ndim);
  const r = rowsOf(x, dims, keepdim);
  const dtype = isFloating(x.dtype) ? x.dtype : "float32";
  const out = allocate(dtype, r.rows);
  for (let row = 0; row < r.rows; row++) {
    const base = row * r.length;
    let m = -Infinity;
    for (let j = 0; j < r.length; j++) if (r.values[base + j] > m) m = r.values[base + j];
    if (!Number.isFinite(m)) {
      out[row] = m; // all -inf gives -inf; any +inf gives +inf
      continue;
    }
    let s = 0;
    for (let j = 0; j < r.length; j++) s += Math.exp(r.values[base + j] - m);
    out[row] = m + Math.log(s);
  }
  const result = Tensor.fromArray(out, r.shape, dtype);
  const inputShape = x.shape;
  return record("LogsumexpBackward0", result, [x], (g) => [spread(g, r, inputShape).mul(x.sub(spread(result, r, inputShape)).exp())], {
    saved: [x, result],
  });
}

/** Index of the best value: over everything (a flat index) or along `dim`. Not differentiable. */
function argExtreme(x: Tensor, dim: number | null | undefined, keepdim: boolean, name: string, beats: Beats): Tensor {
  if (x.dtype === "bool") throw new Error(`"${name}_cpu" not implemented for 'Bool'`);
  if (dim === undefined || dim === null) {
    checkAnyElement(x, name, "");
    const r = rowsOf(x, normalizeDims(null, x.ndim), false);
    return Tensor.fromArray(bestRows(r, beats), keepdim ? x.shape.map(() => 1) : [], "int64");
  }
  const d = reductionDim(x, dim, name);
  const r = rowsOf(x, x.ndim ? [d] : [], keepdim);
  return Tensor.fromArray(bestRows(r, beats), r.shape, "int64");
}

/** Index of the maximum (the first one; the first NaN if any). */
export function argmax(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  tensorArg(x, "argmax");
  return argExtreme(x, dim, keepdim, "argmax", larger);
}

/** Index of the minimum (the first one; the first NaN if any). */
export function argmin(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  tensorArg(x, "argmin");
  return argExtreme(x, dim, keepdim, "argmin", smaller);
}

/** Whether any element (over everything, or along `dim`) is nonzero; NaN counts as nonzero. */
export function any(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  tensorArg(x, "any");
  return truthOf(x, dim, keepdim, true);
}

/** Whether every element (over everything, or along `dim`) is nonzero; true when there is none. */
export function all(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  tensorArg(x, "all");
  return truthOf(x, dim, keepdim, false);
}

/** any (`found` true: looking for a nonzero) or all (looking for a zero), as a bool tensor. */
function truthOf(x: Tensor, dim: number | null | undefined, keepdim: boolean, found: boolean): Tensor {
  const whole = dim === undefined || dim === null;
  const r = rowsOf(x, normalizeDims(dim, x.ndim), keepdim && !whole);
  const out = new Uint8Array(r.rows);
  for (let row = 0; row < r.rows; row++) {
    let hit = false;
    for (let j = row * r.length; j < (row + 1) * r.length && !hit; j++) hit = (r.values[j] !== 0) === found;
    out[row] = hit === found ? 1 : 0;
  }
  return Tensor.fromArray(out, r.shape, "bool");
}

/**
 * The values of `x` with its dims reordered so that `order` lists the new dims, in
 * row-major order (no graph), for reading only: reductions use it to put the reduced dims last.
 * When nothing moves, this is the tensor's own storage, not a copy.
 */
export function permutedValues(x: Tensor, order: readonly number[]): TypedArray {
  if (order.every((d, i) => d === i)) return x.toArray();
  const out = allocate(x.dtype, x.numel());
  if (out.length === 0) return out;
  const view = ndarray(
    x.nd.data,
    order.map((d) => x.nd.shape[d]),
    order.map((d) => x.nd.stride[d]),
    x.nd.offset,
  );
  ops.assign(ndarray(out, view.shape.slice()), view);
  return out;
}
