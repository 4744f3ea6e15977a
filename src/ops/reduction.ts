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

function checkNonEmpty(x: Tensor, r: Rows, name: string): void {
  if ((r.length === 0 && r.rows > 0) || x.numel() === 0) {
    throw new Error(
      `${name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`,
    );
  }
}

/** Index of the largest value in each row; NaN counts as the largest, as in PyTorch. */
function argmaxRows(r: Rows): Int32Array {
  const idx = new Int32Array(r.rows);
  for (let row = 0; row < r.rows; row++) {
    const base = row * r.length;
    let best = 0;
    let bestValue = r.values[base];
    for (let j = 1; j < r.length && !Number.isNaN(bestValue); j++) {
      const v = r.values[base + j];
      if (v > bestValue || Number.isNaN(v)) {
        best = j;
        bestValue = v;
      }
    }
    idx[row] = best;
  }
  return idx;
}

/**
 * `max()` is the largest value, its gradient shared equally among ties (MaxBackward1);
 * `max(dim)` returns `{values, indices}` and sends the gradient to the index it reports.
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  if (dim === undefined) {
    const r = rowsOf(x, normalizeDims(null, x.ndim), false);
    checkNonEmpty(x, r, "max");
    const best = r.values[argmaxRows(r)[0]];
    const out = allocate(x.dtype, 1);
    out[0] = best;
    return record(
      "MaxBackward1",
      Tensor.fromArray(out, [], x.dtype),
      [x],
      (g) => {
        const src = x.toArray();
        let ties = 0;
        for (let i = 0; i < src.length; i++) if (src[i] === best || (Number.isNaN(best) && Number.isNaN(src[i]))) ties++;
        const share = g.item() / ties;
        const grad = allocate(g.dtype, src.length);
        for (let i = 0; i < src.length; i++) if (src[i] === best || (Number.isNaN(best) && Number.isNaN(src[i]))) grad[i] = share;
        return [Tensor.fromArray(grad, x.shape, g.dtype)];
      },
      { saved: [x] },
    );
  }
  const d = normalizeDim(dim, x.ndim);
  const r = rowsOf(x, x.ndim ? [d] : [], keepdim);
  checkNonEmpty(x, r, "max");
  const indices = argmaxRows(r);
  const values = allocate(x.dtype, r.rows);
  for (let row = 0; row < r.rows; row++) values[row] = r.values[row * r.length + indices[row]];
  const indexTensor = Tensor.fromArray(indices, r.shape, "int64");
  const inputShape = x.shape;
  const out = record(
    "MaxBackward0",
    Tensor.fromArray(values, r.shape, x.dtype),
    [x],
    (g) => [scatterRows(g, indices, r, inputShape, x.ndim ? d : 0)],
    {
      saved: [indexTensor],
    },
  );
  return { values: out, indices: indexTensor };
}

/** A zero gradient of `inputShape` with each row's `g` value at that row's chosen index along `dim`. */
function scatterRows(g: Tensor, indices: Int32Array, r: Rows, inputShape: number[], dim: number): Tensor {
  const gv = g.contiguous().toArray();
  const grad = allocate(g.dtype, numelOf(inputShape));
  const inner = numelOf(inputShape.slice(dim + 1));
  const size = inputShape[dim] ?? 1;
  for (let row = 0; row < r.rows; row++) {
    const outer = Math.floor(row / inner);
    const within = row % inner;
    grad[(outer * size + indices[row]) * inner + within] = gv[row];
  }
  return Tensor.fromArray(grad, inputShape, g.dtype);
}

/** log(sum(exp(x))) computed around the row maximum so that large logits stay finite. */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
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

/** Index of the maximum: over everything (a flat index) or along `dim`. Not differentiable. */
export function argmax(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  if (dim === undefined || dim === null) {
    const r = rowsOf(x, normalizeDims(null, x.ndim), false);
    checkNonEmpty(x, r, "argmax");
    const idx = argmaxRows(r);
    return Tensor.fromArray(idx, keepdim ? x.shape.map(() => 1) : [], "int64");
  }
  const d = normalizeDim(dim, x.ndim);
  const r = rowsOf(x, x.ndim ? [d] : [], keepdim);
  checkNonEmpty(x, r, "argmax");
  return Tensor.fromArray(argmaxRows(r), r.shape, "int64");
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
