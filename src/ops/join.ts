/**
 * Joining and taking apart: `cat`, `stack`, `split`, `chunk`, `flip`, `repeat` and `where`.
 * `split` and `chunk` return views (their pieces share the input's storage, as in PyTorch); the
 * others copy. Each backward is written in these same ops: cat's gradient is split back into
 * pieces, a piece's gradient is padded back by cat, so gradients of gradients work.
 */
import ndarray, { type NdArray } from "ndarray";
import ops from "ndarray-ops";
import { type DType, type TypedArray, allocate, promoteTypes, scalarTypeName } from "../dtype";
import { broadcastShapes, contiguousStrides, normalizeDim, numelOf, sameShape, sizesArg } from "../shape";
import { record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { type Value, gradFor, requireTensor, resultType, valuesAs } from "./compare";
import { intArg, intTypeName, operandArg, tensorArg, typeName } from "../arguments";

// ---- helpers ----------------------------------------------------------------------------------

function zeros(shape: readonly number[], dtype: DType): Tensor {
  return Tensor.fromArray(allocate(dtype, numelOf(shape)), shape, dtype);
}

/** `shape` with the size at `dim` replaced. */
function withSize(shape: readonly number[], dim: number, size: number): number[] {
  const out = [...shape];
  out[dim] = size;
  return out;
}

/** The tensors of a `cat`/`stack` call, checked as PyTorch's argument parser checks them. */
function tensorList(tensors: unknown, fn: string): Tensor[] {
  if (!Array.isArray(tensors)) {
    throw new TypeError(`${fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not ${typeName(tensors)}`);
  }
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`expected Tensor as element ${i} in argument 0, but got ${typeName(t)}`);
  });
  return tensors as Tensor[];
}

/** A new contiguous tensor of `shape` holding, in row-major order, the values `nd` reads (no graph). */
function materialize(nd: NdArray<TypedArray>, shape: number[], dtype: DType): Tensor {
  const data = allocate(dtype, numelOf(shape));
  if (nd.dimension === 0) data[0] = nd.data[nd.offset];
  else if (data.length > 0) ops.assign(ndarray(data, nd.shape.slice()), nd);
  return Tensor.fromArray(data, shape, dtype);
}

/**
 * Copies `parts` one after another along `dim` into a new tensor of `shape` and `dtype` (no
 * graph). Each part has `shape` except at `dim`; values convert to `dtype` as they are stored.
 */
function concatenate(parts: ReadonlyArray<NdArray<TypedArray>>, dim: number, shape: number[], dtype: DType): Tensor {
  const data = allocate(dtype, numelOf(shape));
  const strides = contiguousStrides(shape);
  let start = 0;
  for (const part of parts) {
    if (numelOf(part.shape) > 0) ops.assign(ndarray(data, part.shape.slice(), strides, start * strides[dim]), part);
    start += part.shape[dim];
  }
  return Tensor.fromArray(data, shape, dtype);
}

// ---- cat / stack -------------------------------------------------------------------------------

/** PyTorch's legacy rule: a 1-D empty tensor joins anything (it is skipped). */
function skipped(t: Tensor): boolean {
  return t.ndim === 1 && t.numel() === 0;
}

function checkCatShapes(tensors: readonly Tensor[], first: Tensor, dim: number): void {
  tensors.forEach((t, i) => {
    if (skipped(t)) return;
    if (t.ndim !== first.ndim) throw new Error(`Tensors must have same number of dimensions: got ${first.ndim} and ${t.ndim}`);
    first.nd.shape.forEach((size, d) => {
      if (d !== dim && t.nd.shape[d] !== size) {
        throw new Error(
          `Sizes of tensors must match except in dimension ${dim}. Expected size ${size} but got size ${t.nd.shape[d]} for tensor number ${i} in the list.`,
        );
      }
    });
  });
}

/** The tensors joined along an existing `dim`, their dtypes promoted (CatBackward0). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const list = tensorList(tensors, "cat");
  intArg(dim, "cat", "dim", 2);
  if (list.length === 0) throw new Error("torch.cat(): expected a non-empty list of Tensors");
  list.forEach((t, i) => {
    if (t.ndim === 0) throw new Error(`zero-dimensional tensor (at position ${i}) cannot be concatenated`);
  });
  const dtype = resultType(list);
  const joined = list.filter((t) => !skipped(t));
  const d = joined.length > 0 ? normalizeDim(dim, joined[0].ndim) : 0;
  if (joined.length > 0) checkCatShapes(list, joined[0], d);
  const sizes = joined.map((t) => t.nd.shape[d]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const shape = joined.length > 0 ? withSize(joined[0].shape, d, total) : [0];
  const out = concatenate(
    joined.map((t) => t.nd),
    d,
    shape,
    dtype,
  );
  return record(
    "CatBackward0",
    out,
    list,
    (g) => {
      const grads = joined.length > 0 ? split(g, sizes, d) : [];
      let next = 0;
      return list.map((t) => {
        const grad = skipped(t) ? zeros([0], g.dtype) : grads[next++];
        return t.requiresGrad ? gradFor(t, grad) : null;
      });
    },
    { savesTensors: false },
  );
}

/** A view of `t` with a new dim of size 1 at `dim` (no graph: stack's forward reads it). */
function unsqueezedView(t: Tensor, dim: number): NdArray<TypedArray> {
  const shape = t.shape;
  const strides = [...t.nd.stride];
  shape.splice(dim, 0, 1);
  strides.splice(dim, 0, 0);
  return ndarray(t.nd.data, shape, strides, t.nd.offset);
}

/** The tensors, all of one shape, joined along a new `dim` (StackBackward0). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const list = tensorList(tensors, "stack");
  intArg(dim, "stack", "dim", 2);
  if (list.length === 0) throw new Error("stack expects a non-empty TensorList");
  const first = list[0];
  const d = normalizeDim(dim, first.ndim + 1);
  list.forEach((t, i) => {
    if (!sameShape(t.nd.shape, first.nd.shape)) {
      throw new Error(
        `stack expects each tensor to be equal size, but got [${first.shape.join(", ")}] at entry 0 and [${t.shape.join(", ")}] at entry ${i}`,
      );
    }
  });
  const dtype = list.map((t) => t.dtype).reduce(promoteTypes);
  const shape = first.shape;
  shape.splice(d, 0, list.length);
  const out = concatenate(
    list.map((t) => unsqueezedView(t, d)),
    d,
    shape,
    dtype,
  );
  return record(
    "StackBackward0",
    out,
    list,
    (g) => {
      const pieces = split(g, 1, d);
      return list.map((t, i) => (t.requiresGrad ? gradFor(t, pieces[i].squeeze(d)) : null));
    },
    { savesTensors: false },
  );
}

// ---- split / chunk -------------------------------------------------------------------------------

/**
 * `g`, the gradient of the slice [start, start + size) along `dim`, placed into zeros of the
 * whole `shape` (by cat, so that it differentiates again).
 */
function padAlong(g: Tensor, dim: number, start: number, shape: readonly number[]): Tensor {
  const size = g.nd.shape[dim];
  const after = shape[dim] - start - size;
  if (start === 0 && after === 0) return g;
  const parts = [zeros(withSize(shape, dim, start), g.dtype), g, zeros(withSize(shape, dim, after), g.dtype)];
  return cat(
    parts.filter((p) => p.nd.shape[dim] > 0),
    dim,
  );
}

/** Views of `x` along `dim` of the given sizes, each recorded under `name`. */
function pieces(x: Tensor, sizes: readonly number[], dim: number, name: string): Tensor[] {
  const shape = x.shape;
  const stride = x.nd.stride[dim];
  let start = 0;
  return sizes.map((size) => {
    const at = start;
    start += size;
    const view = x.viewOf(ndarray(x.nd.data, withSize(shape, dim, size), [...x.nd.stride], x.nd.offset + at * stride));
    return record(name, view, [x], (g) => [padAlong(g, dim, at, shape)], { savesTensors: false });
  });
}

/** Sizes of `split(size)`: pieces of `size`, the last one smaller when it does not divide. */
function evenSizes(total: number, size: number): number[] {
  if (size < 0) throw new Error(`split expects split_size be non-negative, but got split_size=${size}`);
  if (size === 0 && total !== 0) throw new Error(`split_size can only be 0 if dimension size is 0, but got dimension size of ${total}`);
  const count = size === 0 ? 1 : Math.max(Math.ceil(total / size), 1);
  return Array.from({ length: count }, (_, i) => (i < count - 1 ? size : total - size * (count - 1)));
}

function checkSizes(sizes: readonly number[], total: number, dim: number): void {
  const list = `[${sizes.join(", ")}]`;
  if (sizes.some((s) => s < 0)) {
    throw new Error(`split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=${list}`);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== total) {
    throw new Error(
      `split_with_sizes expects split_sizes to sum exactly to ${total} (input tensor's size at dimension ${dim}), but got split_sizes=${list}`,
    );
  }
}

/**
 * Views of `x` along `dim`: pieces of `size` (SplitBackward0), or of each of `sizes`
 * (SplitWithSizesBackward0), as PyTorch names them.
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], dim = 0): Tensor[] {
  requireTensor(x, "split", "input", 1);
  const isSize = Number.isInteger(sizeOrSizes);
  const isSizes = Array.isArray(sizeOrSizes) && sizeOrSizes.every((s) => Number.isInteger(s));
  if (!isSize && !isSizes) {
    // Python tries split(int) first, then split_with_sizes, whose complaint is the one seen.
    throw new TypeError(`split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not ${intTypeName(sizeOrSizes)}`);
  }
  if (x.ndim === 0) throw new Error("split expects at least a 1-dimensional tensor");
  const d = normalizeDim(dim, x.ndim);
  const total = x.nd.shape[d];
  if (typeof sizeOrSizes === "number") return pieces(x, evenSizes(total, sizeOrSizes), d, "SplitBackward0");
  checkSizes(sizeOrSizes, total, d);
  return pieces(x, sizeOrSizes, d, "SplitWithSizesBackward0");
}

/** `chunks` views of `x` along `dim`, of equal size but the last (fewer when they run out). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  requireTensor(x, "chunk", "input", 1);
  intArg(chunks, "chunk", "chunks", 1);
  if (x.ndim === 0) throw new Error("chunk expects at least a 1-dimensional tensor");
  if (chunks <= 0) throw new Error(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = normalizeDim(dim, x.ndim);
  const total = x.nd.shape[d];
  const size = Math.ceil(total / chunks);
  // An empty dim still gives `chunks` (empty) pieces, through split_with_sizes as in PyTorch.
  if (total === 0) return split(x, new Array<number>(chunks).fill(0), d);
  return split(x, size, d);
}

// ---- flip / repeat ---------------------------------------------------------------------------

/** A copy of `x` with the order of its elements reversed along each of `dims` (FlipBackward0). */
export function flip(x: Tensor, ...dims: Array<number | readonly number[]>): Tensor {
  requireTensor(x, "flip", "input", 1);
  if (dims.length === 0) throw new TypeError('flip() missing 1 required positional arguments: "dims"');
  const list = sizesArg(dims as Array<number | number[]>, "flip", "dims").map((d) => normalizeDim(d, x.ndim));
  const seen = new Set<number>();
  for (const d of list) {
    if (seen.has(d)) throw new Error(`dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  // A view with those strides negated, starting from each flipped dim's last element, copied out.
  const strides = [...x.nd.stride];
  let offset = x.nd.offset;
  for (const d of x.ndim > 0 ? list : []) {
    offset += (x.nd.shape[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  const out = materialize(ndarray(x.nd.data, x.shape, strides, offset), x.shape, x.dtype);
  return record("FlipBackward0", out, [x], (g) => [flip(g, list)], { savesTensors: false });
}

/**
 * `x` tiled: `sizes[i]` copies along dim i, with leading sizes adding new dims (RepeatBackward0;
 * the gradient sums the copies back).
 */
export function repeat(x: Tensor, ...sizes: Array<number | readonly number[]>): Tensor {
  requireTensor(x, "repeat", "input", 1);
  if (sizes.length === 0) throw new TypeError('repeat() missing 1 required positional arguments: "repeats"');
  const repeats = sizesArg(sizes as Array<number | number[]>, "repeat", "repeats");
  if (repeats.length < x.ndim) {
    throw new Error("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
  }
  const lead = repeats.length - x.ndim;
  const padded = [...new Array<number>(lead).fill(1), ...x.shape];
  const paddedStrides = [...new Array<number>(lead).fill(0), ...x.nd.stride];
  const shape = padded.map((s, i) => s * repeats[i]);
  if (repeats.some((r) => r < 0)) {
    throw new Error(`Trying to create tensor with negative dimension ${shape.find((s) => s < 0)}: [${shape.join(", ")}]`);
  }
  // Read x as [r0, s0, r1, s1, ...] with stride 0 along each copy dim, then copy out.
  const tiled = ndarray(
    x.nd.data,
    padded.flatMap((s, i) => [repeats[i], s]),
    paddedStrides.flatMap((st) => [0, st]),
    x.nd.offset,
  );
  const out = materialize(tiled, shape, x.dtype);
  const inputShape = x.shape;
  return record("RepeatBackward0", out, [x], (g) => [repeatBackward(g, repeats, padded, inputShape)], { savesTensors: false });
}

/** PyTorch's repeat_backward: each copy dim split out of its dim and summed away. */
function repeatBackward(g: Tensor, repeats: readonly number[], padded: readonly number[], inputShape: number[]): Tensor {
  if (repeats.includes(0)) return zeros(inputShape, g.dtype);
  const grouped: number[] = [];
  const summed: number[] = [];
  padded.forEach((s, i) => {
    if (repeats[i] !== 1) {
      summed.push(grouped.length);
      grouped.push(repeats[i]);
    }
    grouped.push(s);
  });
  const reduced = summed.length > 0 ? g.reshape(grouped).sum(summed) : g;
  return reduced.reshape(inputShape);
}

// ---- where ---------------------------------------------------------------------------------------

/**
 * `x` where `condition` holds, else `y`, all three broadcast; `x` and `y` may be numbers and are
 * promoted together (WhereBackward0: each side's gradient is `g` where it was chosen).
 */
export function where(condition: Tensor, x: Value, y: Value): Tensor {
  tensorArg(condition, "where", "condition", 1);
  if (condition.dtype !== "bool") {
    throw new Error(`where expected condition to be a boolean tensor, but got a tensor with dtype ${scalarTypeName(condition.dtype)}`);
  }
  operandArg(x, "where", "input", 2);
  operandArg(y, "where", "other", 3);
  const shape = [x, y].reduce<number[]>((s, v) => (v instanceof Tensor ? broadcastShapes(s, v.nd.shape) : s), condition.shape);
  const dtype = resultType([x, y]);
  const chosen = valuesAs(condition, shape);
  const [xs, ys] = [x, y].map((v) => (v instanceof Tensor ? valuesAs(v, shape) : null));
  const [x0, y0] = [Number(x), Number(y)];
  const out = allocate(dtype, numelOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = chosen[i] ? (xs ? xs[i] : x0) : ys ? ys[i] : y0;
  const xt = x instanceof Tensor ? x : null;
  const yt = y instanceof Tensor ? y : null;
  return record(
    "WhereBackward0",
    Tensor.fromArray(out, shape, dtype),
    [xt, yt],
    (g) => [xt?.requiresGrad ? gradFor(xt, where(condition, g, 0)) : null, yt?.requiresGrad ? gradFor(yt, where(condition, 0, g)) : null],
    { saved: [condition] },
  );
}
