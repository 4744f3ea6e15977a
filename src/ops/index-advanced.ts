/**
 * Advanced indexing, PyTorch's `at::index` (`x[idx]`, IndexBackward0) and `index_put`
 * (`x[idx] = v`, IndexPutBackward0): one index per leading dim of the tensor, an int64 tensor, a
 * bool mask (which stands for its nonzero coordinates over as many dims as it has), or null.
 *
 * The index tensors are broadcast together. The result holds, in order, the dims before the
 * indexed ones, the broadcast shape, and the dims after; when the indexed dims are not adjacent
 * (a null between them), the broadcast shape comes first, as in PyTorch (and NumPy).
 *
 * Both ops read the index tensors again in their backward (they are saved, as PyTorch saves
 * them), and each backward is the other op, so gradients of any order are recorded.
 */
import { type TypedArray, allocate, scalarTypeName } from "../dtype";
import { broadcastShapes, broadcastStrides, contiguousStrides, normalizeDim, numelOf } from "../shape";
import { freshGradient, record } from "../autograd/node";
import { Tensor } from "../tensor-core";
import { sumTo } from "./elementwise";

/** One entry per leading dim of the indexed tensor: an int64 or bool tensor, or null for all of it. */
export type Indices = ReadonlyArray<Tensor | null>;

/** Where each element of `x[indices]` comes from. */
interface Plan {
  /** The dims that are not indexed, those placed before the broadcast block and those after it. */
  before: number[];
  after: number[];
  /** The indexed dims, each with its index values broadcast (one per broadcast position). */
  indexed: number[];
  values: TypedArray[];
  broadcastShape: number[];
  resultShape: number[];
}

/** An index tensor after masks are replaced by their coordinates: its values and shape. */
interface Expanded {
  values: TypedArray;
  shape: number[];
}

const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** Offsets of every element of a strided array, in row-major order. */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], base = 0): Int32Array {
  let offsets = Int32Array.of(base);
  shape.forEach((size, d) => {
    const next = new Int32Array(offsets.length * size);
    for (let o = 0; o < offsets.length; o++) {
      for (let i = 0; i < size; i++) next[o * size + i] = offsets[o] + i * strides[d];
    }
    offsets = next;
  });
  return offsets;
}

/** The values of `t` broadcast to `shape`, row-major, in a new array of t's dtype. */
export function broadcastValues(t: Tensor, shape: readonly number[]): TypedArray {
  const offsets = stridedOffsets(shape, broadcastStrides(t.nd.shape, t.nd.stride, shape), t.nd.offset);
  const out = allocate(t.dtype, offsets.length);
  const data = t.nd.data;
  for (let i = 0; i < offsets.length; i++) out[i] = data[offsets[i]];
  return out;
}

/** A mask's nonzero coordinates: one int array per mask dim, one entry per true element. */
function nonzero(mask: Tensor): Expanded[] {
  const flags = mask.toArray();
  const shape = mask.shape;
  let count = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i] !== 0) count++;
  const coords = shape.map(() => allocate("int64", count));
  // `at` walks the mask's coordinates in row-major order alongside i.
  const at = new Array<number>(shape.length).fill(0);
  for (let i = 0, k = 0; i < flags.length; i++) {
    if (flags[i] !== 0) {
      for (let j = 0; j < at.length; j++) coords[j][k] = at[j];
      k++;
    }
    for (let j = at.length - 1; j >= 0 && ++at[j] === shape[j]; j--) at[j] = 0;
  }
  return coords.map((values) => ({ values, shape: [count] }));
}

/** PyTorch's expandTensors: a mask must match the dims it covers and becomes its coordinates. */
function expandMasks(shape: readonly number[], indices: Indices): Array<Expanded | null> {
  const result: Array<Expanded | null> = [];
  for (const index of indices) {
    if (index === null) result.push(null);
    else if (index.dtype !== "bool") result.push({ values: index.toArray(), shape: index.shape });
    else {
      const maskShape = index.shape;
      maskShape.forEach((size, j) => {
        const at = result.length + j;
        if (size !== shape[normalizeDim(at, shape.length)]) {
          throw new Error(
            `The shape of the mask ${formatShape(maskShape)} at index ${j} does not match the shape of the indexed tensor ${formatShape(shape)} at index ${at}`,
          );
        }
      });
      result.push(...nonzero(index));
    }
  }
  return result;
}

/** PyTorch's make_info: checks, masks expanded, indices broadcast, and where the result's dims come from. */
function makePlan(shape: readonly number[], indices: Indices): Plan {
  for (const index of indices) {
    if (index !== null && index.dtype !== "int64" && index.dtype !== "bool") {
      throw new Error("tensors used as indices must be long, byte or bool tensors");
    }
  }
  if (indices.length > shape.length) {
    throw new Error(`too many indices for tensor of dimension ${shape.length} (got ${indices.length})`);
  }
  const expanded = expandMasks(shape, indices);
  const defined = expanded.filter((e): e is Expanded => e !== null);
  let broadcastShape: number[];
  try {
    broadcastShape = defined.reduce<number[]>((acc, e) => broadcastShapes(acc, e.shape), []);
  } catch {
    const shapes = defined.map((e) => formatShape(e.shape)).join(", ");
    throw new Error(`shape mismatch: indexing tensors could not be broadcast together with shapes ${shapes}`);
  }
  const indexed = expanded.flatMap((e, d) => (e === null ? [] : [d]));
  const adjacent = indexed.length === 0 || indexed[indexed.length - 1] - indexed[0] === indexed.length - 1;
  const rest = shape.map((_, d) => d).filter((d) => !indexed.includes(d));
  const before = adjacent ? rest.filter((d) => d < indexed[0]) : [];
  const after = rest.filter((d) => !before.includes(d));
  const values = defined.map((e) => broadcastValues(Tensor.fromArray(e.values, e.shape, "int64"), broadcastShape));
  // No index is valid in an empty dim: PyTorch says so up front unless the result is empty anyway.
  if (indexed.some((d) => shape[d] === 0) && !broadcastShape.includes(0)) {
    throw new Error("index is out of bounds for dimension with size 0");
  }
  const sizes = (dims: number[]) => dims.map((d) => shape[d]);
  return { before, after, indexed, values, broadcastShape, resultShape: [...sizes(before), ...broadcastShape, ...sizes(after)] };
}

/**
 * The storage offset, in a tensor of `shape` and `strides`, of every element of the result, in
 * row-major order; an index out of range fails here, naming the index's position among the
 * indexed dims, as PyTorch's kernel does (an empty result checks nothing).
 */
function elementOffsets(plan: Plan, shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = numelOf(plan.resultShape);
  if (n === 0) return new Int32Array(0);
  const picked = new Int32Array(numelOf(plan.broadcastShape));
  for (let b = 0; b < picked.length; b++) {
    for (let k = 0; k < plan.indexed.length; k++) {
      const d = plan.indexed[k];
      const size = shape[d];
      const i = plan.values[k][b];
      if (i < -size || i >= size) throw new Error(`index ${i} is out of bounds for dimension ${k} with size ${size}`);
      picked[b] += (i < 0 ? i + size : i) * strides[d];
    }
  }
  const pre = stridedOffsets(
    plan.before.map((d) => shape[d]),
    plan.before.map((d) => strides[d]),
    offset,
  );
  const post = stridedOffsets(
    plan.after.map((d) => shape[d]),
    plan.after.map((d) => strides[d]),
  );
  const out = new Int32Array(n);
  let i = 0;
  for (const p of pre) for (const b of picked) for (const q of post) out[i++] = p + b + q;
  return out;
}

function zerosOf(shape: readonly number[], dtype: Tensor["dtype"]): Tensor {
  return Tensor.fromArray(allocate(dtype, numelOf(shape)), shape, dtype);
}

/** `x[indices]`, a new tensor (IndexBackward0: the gradient is added back at the indexed places). */
export function advancedIndex(x: Tensor, indices: Indices): Tensor {
  const plan = makePlan(x.shape, indices);
  const offsets = elementOffsets(plan, x.shape, x.nd.stride, x.nd.offset);
  const out = allocate(x.dtype, offsets.length);
  const data = x.nd.data;
  for (let i = 0; i < offsets.length; i++) out[i] = data[offsets[i]];
  const shape = x.shape;
  return record(
    "IndexBackward0",
    Tensor.fromArray(out, plan.resultShape, x.dtype),
    [x],
    (g) => [freshGradient(advancedIndexPut(zerosOf(shape, g.dtype), indices, g, true))],
    { saved: indices },
  );
}

/** Whether a tensor of `shape` broadcasts to `target` without growing it. */
function expandableTo(shape: readonly number[], target: readonly number[]): boolean {
  const lead = target.length - shape.length;
  return lead >= 0 && shape.every((s, i) => s === 1 || s === target[lead + i]);
}

/**
 * A copy of `x` with `values` (broadcast to the shape of `x[indices]`) written at the indexed
 * places, or added there with `accumulate` (IndexPutBackward0). Without accumulate, the last
 * write to a repeated place wins; the gradient of `values` is still the gradient at every place
 * it was written to, as in PyTorch.
 */
export function advancedIndexPut(x: Tensor, indices: Indices, values: Tensor, accumulate: boolean): Tensor {
  const plan = makePlan(x.shape, indices);
  if (!expandableTo(values.shape, plan.resultShape)) {
    throw new Error(
      `shape mismatch: value tensor of shape ${formatShape(values.shape)} cannot be broadcast to indexing result of shape ${formatShape(plan.resultShape)}`,
    );
  }
  if (values.dtype !== x.dtype) {
    throw new Error(
      `Index put requires the source and destination dtypes match, got ${scalarTypeName(x.dtype)} for the destination and ${scalarTypeName(values.dtype)} for the source.`,
    );
  }
  const shape = x.shape;
  const offsets = elementOffsets(plan, shape, contiguousStrides(shape), 0);
  const out = allocate(x.dtype, numelOf(shape));
  out.set(x.toArray());
  const source = broadcastValues(values, plan.resultShape);
  if (accumulate) for (let i = 0; i < offsets.length; i++) out[offsets[i]] += source[i];
  else for (let i = 0; i < offsets.length; i++) out[offsets[i]] = source[i];
  const valuesShape = values.shape;
  const selfNeedsGrad = x.requiresGrad;
  const valuesNeedGrad = values.requiresGrad;
  return record(
    "IndexPutBackward0",
    Tensor.fromArray(out, shape, x.dtype),
    [x, values],
    (g) => [
      selfNeedsGrad ? (accumulate ? g : advancedIndexPut(g, indices, zerosOf([], g.dtype), false)) : null,
      valuesNeedGrad ? sumTo(advancedIndex(g, indices), valuesShape) : null,
    ],
    { saved: indices },
  );
}
