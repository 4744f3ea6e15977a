/**
 * Indexing: `x.index(...items)` is PyTorch's `x[items]`, plus `select`, `narrow`, `maskedFill`,
 * `maskedSelect` and `take`.
 *
 * `x.index` follows PyTorch 1.13's get_item step by step, because the step taken last names the
 * result's gradFn and decides which results are views. Basic items (numbers, slices, `"..."`,
 * `null`) are applied one after another as views (select, slice, unsqueeze: SelectBackward0,
 * SliceBackward0, UnsqueezeBackward0); tensor items are collected and applied at the end by
 * advanced indexing (index-advanced.ts), which copies (IndexBackward0). PyTorch's quirks are kept:
 * a slice spelled `0:n` over a whole dim is skipped (a literal `:` is not), a tensor item moves the
 * dim cursor by one even when it is a mask over several dims, and an out-of-range number names
 * the item's position in its message.
 *
 * Assignment (`x.indexPut_`) lives with the other in-place ops (inplace.ts) and uses
 * `applySlicing`, `applySelect` and `applySlice` from here.
 */
import ndarray from "ndarray";
import { allocate, castScalar, scalarTypeName } from "../dtype";
import { broadcastShapes, contiguousStrides, normalizeDim, numelOf } from "../shape";
import { freshGradient, record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { sumTo, toDtype } from "./elementwise";
import { expand, unsqueeze } from "./shape";
import { advancedIndex, advancedIndexPut, broadcastValues } from "./index-advanced";
import { type Strided, zerosWith } from "./index-strided";
import { type IndexItem, type Item, type SliceItem, parseItem } from "./index-items";
import { intArg, tensorArg, typeName } from "../arguments";

export type { IndexItem } from "./index-items";
export { parseItem } from "./index-items";
export { advancedIndexPut } from "./index-advanced";

// ---- views: select, slice, narrow, alias ----------------------------------------------------

/** Part of one dim: `length` elements from `start`, every `step`; or, with length null, element `start` alone, its dim dropped. */
interface Region {
  dim: number;
  start: number;
  step: number;
  length: number | null;
}

/** Where the region of a tensor laid out with `strides` from `offset` sits. */
function regionOf(shape: number[], strides: number[], offset: number, r: Region): Strided {
  const at = offset + r.start * strides[r.dim];
  if (r.length === null) return { shape: without(shape, r.dim), strides: without(strides, r.dim), offset: at };
  const sizes = [...shape];
  const steps = [...strides];
  sizes[r.dim] = r.length;
  steps[r.dim] *= r.step;
  return { shape: sizes, strides: steps, offset: at };
}

const without = (values: number[], i: number) => values.filter((_, j) => j !== i);

/** The region as a view of x (SelectBackward0 / SliceBackward0). */
function regionView(x: Tensor, r: Region): Tensor {
  const inputShape = x.shape;
  const { shape, strides, offset } = regionOf(inputShape, [...x.nd.stride], x.nd.offset, r);
  const name = r.length === null ? "SelectBackward0" : "SliceBackward0";
  return record(name, x.viewOf(ndarray(x.nd.data, shape, strides, offset)), [x], (g) => [freshGradient(embed(g, inputShape, r))], {
    savesTensors: false,
  });
}

/**
 * Zeros of `shape` with `g` in the region: the backward of a select or slice, itself an op
 * (SelectBackwardBackward0 / SliceBackwardBackward0, as PyTorch names them) whose gradient is
 * the region again, so that double backward records.
 */
function embed(g: Tensor, shape: number[], r: Region): Tensor {
  const out = zerosWith(g, shape, regionOf(shape, contiguousStrides(shape), 0, r));
  const name = r.length === null ? "SelectBackwardBackward0" : "SliceBackwardBackward0";
  return record(name, out, [g], (gg) => [regionView(gg, r)], { savesTensors: false });
}

/** `x.select(dim, index)`: the view at `index` along `dim`, which is dropped (SelectBackward0). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  intArg(dim, "select", "dim", 2);
  intArg(index, "select", "index", 3);
  if (x.ndim === 0) throw new Error("select() cannot be applied to a 0-dim tensor.");
  const d = normalizeDim(dim, x.ndim);
  const size = x.nd.shape[d];
  if (index < -size || index >= size) {
    throw new Error(`select(): index ${index} out of range for tensor of size [${x.shape.join(", ")}] at dimension ${d}`);
  }
  return regionView(x, { dim: d, start: index < 0 ? index + size : index, step: 1, length: null });
}

/** `x.narrow(dim, start, length)`: the view of `length` elements from `start` along `dim` (SliceBackward0). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  intArg(dim, "narrow", "dim", 2);
  intArg(start, "narrow", "start", 3);
  intArg(length, "narrow", "length", 4);
  if (x.ndim === 0) throw new Error("narrow() cannot be applied to a 0-dim tensor.");
  const d = normalizeDim(dim, x.ndim);
  const size = x.nd.shape[d];
  // PyTorch wraps a negative start like a dim (and with a dim's message); start == size is allowed.
  const begin = start === size ? start : normalizeDim(start, size);
  if (length < 0 || begin > size - length) throw new Error(`start (${begin}) + length (${length}) exceeds dimension size (${size}).`);
  return regionView(x, { dim: d, start: begin, step: 1, length });
}

/** PyTorch's at::slice: bounds clamped to the dim as Python clamps them. */
function slice(x: Tensor, dim: number, s: SliceItem): Tensor {
  if (x.ndim === 0) throw new Error("slice() cannot be applied to a 0-dim tensor.");
  normalizeDim(dim, x.ndim);
  const size = x.nd.shape[dim];
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const start = clamp(s.start);
  const stop = Math.max(clamp(s.stop), start);
  return regionView(x, { dim, start, step: s.step, length: Math.ceil((stop - start) / s.step) });
}

/** A view of all of x (AliasBackward0): what `x[...]` returns. */
function alias(x: Tensor): Tensor {
  const out = x.viewOf(ndarray(x.nd.data, x.shape, [...x.nd.stride], x.nd.offset));
  return record("AliasBackward0", out, [x], (g) => [g], { savesTensors: false });
}

// ---- x[items]: PyTorch's get_item and applySlicing -------------------------------------------

/** PyTorch's applySelect: a number item, its bounds checked against dim `dim` but named by `position`. */
export function applySelect(x: Tensor, dim: number, index: number, position: number): Tensor {
  if (index === 0 && dim === 0 && x.ndim === 0) {
    throw new Error(
      "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number",
    );
  }
  // Several ellipses can push the cursor past the last dim, where PyTorch reads a size of 0.
  const size = x.nd.shape[dim] ?? 0;
  if (index < -size || index >= size) throw new Error(`index ${index} is out of bounds for dimension ${position} with size ${size}`);
  return select(x, dim, index);
}

/** PyTorch's applySlice: with `skipWhole`, a slice spelled exactly `0:size` returns x itself. */
export function applySlice(x: Tensor, dim: number, s: SliceItem, skipWhole: boolean): Tensor {
  if (s.step <= 0) throw new Error("step must be greater than zero");
  if (skipWhole && s.start === 0 && s.stop === x.nd.shape[dim] && s.step === 1) return x;
  return slice(x, dim, s);
}

/** The index tensor PyTorch makes for a bool item: [0] for true, empty for false. */
function boolIndex(value: boolean): Tensor {
  return Tensor.fromArray(allocate("int64", value ? 1 : 0), [value ? 1 : 0], "int64");
}

/** How many dims of x the items name (a mask names as many as it has). */
function countSpecified(items: readonly Item[]): number {
  let count = 0;
  for (const item of items) {
    if (item.kind === "tensor") count += item.tensor.dtype === "bool" ? item.tensor.ndim : 1;
    else if (item.kind === "int" || item.kind === "slice") count++;
  }
  return count;
}

/** The basic items applied as views, and the tensor items left for advanced indexing, one slot per dim. */
export interface Sliced {
  view: Tensor;
  indices: Array<Tensor | null>;
}

/** PyTorch's applySlicing: each item in turn, with one cursor over the dims of the result so far. */
export function applySlicing(x: Tensor, items: readonly Item[], skipWhole: boolean): Sliced {
  const specified = countSpecified(items);
  if (specified > x.ndim) throw new Error(`too many indices for tensor of dimension ${x.ndim}`);
  let view = x;
  let dim = 0;
  const indices: Array<Tensor | null> = [];
  const recordIndex = (t: Tensor) => {
    while (indices.length < dim) indices.push(null);
    indices[dim++] = t;
  };
  const unsqueezeForBool = (value: boolean) => {
    view = unsqueeze(view, dim);
    recordIndex(boolIndex(value));
  };
  items.forEach((item, position) => {
    switch (item.kind) {
      case "int":
        view = applySelect(view, dim, item.value, position);
        break;
      case "slice":
        view = applySlice(view, dim++, item, skipWhole);
        break;
      case "ellipsis":
        dim += x.ndim - specified;
        break;
      case "none":
        view = unsqueeze(view, dim++);
        break;
      case "bool":
        unsqueezeForBool(item.value);
        break;
      case "tensor": {
        const t = item.tensor;
        if (t.ndim === 0 && t.dtype === "int64") view = applySelect(view, dim, t.item(), position);
        else if (t.ndim === 0 && t.dtype === "bool") unsqueezeForBool(t.item() !== 0);
        else recordIndex(t);
      }
    }
  });
  return { view, indices };
}

/** `x.index(...items)`: PyTorch's `x[items]` (a view for basic items, a copy with tensor items). */
export function index(x: Tensor, ...raw: IndexItem[]): Tensor {
  const items = raw.map(parseItem);
  if (items.length === 1) {
    // PyTorch's get_item takes these single items on a shorter path, with its own gradFn names.
    const item = items[0];
    if (item.kind === "int") return applySelect(x, 0, item.value, 0);
    if (item.kind === "slice") return applySlice(x, 0, item, false);
    if (item.kind === "none") return unsqueeze(x, 0);
    if (item.kind === "ellipsis") return alias(x);
    if (item.kind === "bool") return advancedIndex(unsqueeze(x, 0), [boolIndex(item.value)]);
  }
  const { view, indices } = applySlicing(x, items, true);
  if (indices.length === 0) return view === x ? alias(x) : view;
  return advancedIndex(view, indices);
}

// ---- masks and take ----------------------------------------------------------------------------

export { castScalar };

/** A masked_fill value: a number, a boolean, or a 0-d tensor. */
function fillValue(value: unknown): number | boolean {
  if (value instanceof Tensor) {
    if (value.ndim !== 0) {
      throw new Error(`masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`);
    }
    return value.item();
  }
  if (typeof value === "number" || typeof value === "boolean") return value;
  throw new TypeError(`masked_fill(): argument 'value' (position 3) must be Number or Tensor, not ${typeName(value)}`);
}

/**
 * `x.maskedFill(mask, value)`: x with `value` where the bool `mask` (broadcast with x) is true
 * (MaskedFillBackward0; MaskedFillBackward1 when the value is a 0-d tensor, which then gets the
 * sum of the gradient at the filled places).
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | boolean | Tensor): Tensor {
  tensorArg(x, "masked_fill", "input", 1);
  tensorArg(mask, "masked_fill", "mask", 2);
  const shape = broadcastShapes(mask.shape, x.shape);
  if (mask.dtype !== "bool") {
    throw new Error(`masked_fill_ only supports boolean masks, but got mask with dtype ${scalarTypeName(mask.dtype)}`);
  }
  const fill = castScalar(fillValue(value), x.dtype);
  const out = broadcastValues(x, shape);
  const flags = broadcastValues(mask, shape);
  for (let i = 0; i < out.length; i++) if (flags[i] !== 0) out[i] = fill;
  const valueTensor = value instanceof Tensor ? value : null;
  const inputShape = x.shape;
  return record(
    valueTensor ? "MaskedFillBackward1" : "MaskedFillBackward0",
    Tensor.fromArray(out, shape, x.dtype),
    [x, valueTensor],
    (g) => [sumTo(maskedFill(g, mask, 0), inputShape), valueTensor ? toDtype(maskedSelect(g, mask).sum(), valueTensor.dtype) : null],
    { saved: [mask] },
  );
}

/** `x.maskedSelect(mask)`: the values where the bool mask (broadcast with x) is true, as 1-D (MaskedSelectBackward0). */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  tensorArg(x, "masked_select", "input", 1);
  tensorArg(mask, "masked_select", "mask", 2);
  if (mask.dtype !== "bool") throw new Error("masked_select: expected BoolTensor or ByteTensor for mask");
  const shape = broadcastShapes(mask.shape, x.shape);
  const values = broadcastValues(x, shape);
  const flags = broadcastValues(mask, shape);
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (flags[i] !== 0) out.push(values[i]);
  const picked = allocate(x.dtype, out.length);
  picked.set(out);
  const inputShape = x.shape;
  return record(
    "MaskedSelectBackward0",
    Tensor.fromArray(picked, [out.length], x.dtype),
    [x],
    (g) => {
      // Written flat, so that a 0-d input (where a mask cannot index) goes the same way.
      const n = numelOf(shape);
      const flags = expand(mask, shape).reshape([n]);
      const zeros = Tensor.fromArray(allocate(g.dtype, n), [n], g.dtype);
      return [sumTo(advancedIndexPut(zeros, [flags], g, false).reshape(shape), inputShape)];
    },
    { saved: [x, mask] },
  );
}

/** `x.take(index)`: x read as 1-D at the int64 `index` (negative from the end), in index's shape (TakeBackward0). */
export function take(x: Tensor, index: Tensor): Tensor {
  tensorArg(x, "take", "input", 1);
  tensorArg(index, "take", "index", 2);
  if (index.dtype !== "int64") throw new Error(`take(): Expected a long tensor for index, but got ${scalarTypeName(index.dtype)}`);
  const n = x.numel();
  const idx = index.toArray();
  if (n === 0 && idx.length > 0) throw new Error("take(): tried to take from an empty tensor");
  const values = x.toArray();
  const out = allocate(x.dtype, idx.length);
  for (let i = 0; i < idx.length; i++) {
    const at = idx[i];
    if (at < -n || at >= n) throw new Error(`out of range: tried to access index ${at} on a tensor of ${n} elements.`);
    out[i] = values[at < 0 ? at + n : at];
  }
  const inputShape = x.shape;
  return record(
    "TakeBackward0",
    Tensor.fromArray(out, index.shape, x.dtype),
    [x],
    (g) => {
      const zeros = Tensor.fromArray(allocate(g.dtype, n), [n], g.dtype);
      return [advancedIndexPut(zeros, [index.reshape([-1])], g.reshape([-1]), true).reshape(inputShape)];
    },
    { saved: [x, index] },
  );
}
