/**
 * Indexing ops: `gather`, `scatter` (tensor source or a value), `scatterAdd`, `indexSelect`,
 * `indexAdd`, and `embeddingBag`.
 *
 * Index tensors are int64 (integers in a Float64Array). Every kernel walks the index tensor in
 * row-major order and reads or writes the data through strides, so a non-contiguous input is
 * never copied just to be indexed. Out-of-range indices fail with PyTorch's messages before any
 * value is written.
 *
 * Each backward is itself an op, linear in the upstream gradient, recorded (when createGraph
 * records the backward) with the op it mirrors as its own backward: gather's is a scatter-add into
 * zeros, whose backward is gather again; index_select's is an index_add into zeros; scatter's
 * zeroes the overwritten positions, which is its own mirror.
 *
 * `embeddingBag` runs on kernels/embedding-bag.ts. Its backward is sparse: it hands the engine
 * only the rows the batch used (a `RowSparseGrad`, autograd/sparse.ts), which a leaf's gradient
 * slot keeps as rows. A recorded backward returns the dense gradient instead, built from
 * index_select, index_add and scatter_add, so that it can be differentiated again.
 */
import { type DType, type TypedArray, allocate, castScalar, isFloating, scalarTypeName, tensorTypeName } from "../dtype";
import { contiguousStrides, normalizeDim, numelOf, sameShape } from "../shape";
import { type Grad, record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { RowSparseGrad } from "../autograd/sparse";
import { Tensor } from "../tensor-core";
import { checkOptions, optionKeys } from "../options";
import {
  type Bags,
  type Pooled,
  embeddingBagForward,
  embeddingBagWeightGrad,
  int32Indices,
  perSampleWeightGrad,
} from "../kernels/embedding-bag";
import { tensorArg } from "../arguments";

// ---- shared checks ------------------------------------------------------------------------

/** Shape with a 0-d tensor read as one element (PyTorch's ensure_nonempty). */
function nonEmptyShape(t: Tensor): number[] {
  return t.ndim === 0 ? [1] : t.shape;
}

function nonEmptyStrides(t: Tensor): number[] {
  return t.ndim === 0 ? [1] : [...t.nd.stride];
}

function formatList(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** The index tensor's values (row-major), rejecting a non-int64 index as `fn` does in PyTorch. */
function indexValues(index: Tensor, fn: string): TypedArray {
  if (index.dtype !== "int64") throw new Error(`${fn}(): Expected dtype int64 for index`);
  return index.toArray();
}

function checkBounds(values: TypedArray, size: number, dim: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= size) throw new Error(`index ${v} is out of bounds for dimension ${dim} with size ${size}`);
  }
}

/**
 * Visits every element of an index tensor of `shape` in row-major order, calling
 * `visit(position, offsetA, offsetB)` where each offset moves with its strides along every dim
 * except `dim` (the indexed one). Used to pair an index element with the element of the data it
 * addresses.
 */
function walk(
  shape: readonly number[],
  dim: number,
  stridesA: readonly number[],
  offsetA: number,
  stridesB: readonly number[],
  offsetB: number,
  visit: (position: number, a: number, b: number) => void,
): void {
  const n = numelOf(shape);
  if (n === 0) return;
  const nd = shape.length;
  const last = nd - 1;
  const inner = shape[last];
  const stepA = last === dim ? 0 : stridesA[last];
  const stepB = last === dim ? 0 : stridesB[last];
  const counter = new Array<number>(nd).fill(0);
  let baseA = offsetA;
  let baseB = offsetB;
  for (let pos = 0; pos < n; pos += inner) {
    for (let j = 0; j < inner; j++) visit(pos + j, baseA + j * stepA, baseB + j * stepB);
    for (let d = last - 1; d >= 0; d--) {
      counter[d]++;
      if (d !== dim) {
        baseA += stridesA[d];
        baseB += stridesB[d];
      }
      if (counter[d] < shape[d]) break;
      if (d !== dim) {
        baseA -= stridesA[d] * shape[d];
        baseB -= stridesB[d] * shape[d];
      }
      counter[d] = 0;
    }
  }
}

// ---- gather -------------------------------------------------------------------------------

function checkGather(x: Tensor, d: number, index: Tensor): void {
  const xs = nonEmptyShape(x);
  const is = nonEmptyShape(index);
  if (index.numel() === 0) return;
  if (is.length !== xs.length) throw new Error("Index tensor must have the same number of dimensions as input tensor");
  for (let i = 0; i < xs.length; i++) {
    if (i !== d && is[i] > xs[i]) {
      throw new Error(
        `Size does not match at dimension ${i} expected index ${formatList(index.shape)} to be smaller than self ${formatList(x.shape)} apart from dimension ${d}`,
      );
    }
  }
}

/** out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise along any dim) (GatherBackward0). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  tensorArg(x, "gather", "input", 1);
  tensorArg(index, "gather", "index", 3);
  const d = normalizeDim(dim, x.ndim);
  const idx = index.numel() > 0 ? indexValues(index, "gather") : allocate("int64", 0);
  checkGather(x, d, index);
  const size = nonEmptyShape(x)[d];
  checkBounds(idx, size, d);
  return gatherRecorded(x, d, index, idx, [x, index]);
}

/** gather on checked arguments; `saved` as PyTorch saves them (gather: the input and the index). */
function gatherRecorded(x: Tensor, d: number, index: Tensor, idx: TypedArray, saved: Tensor[]): Tensor {
  const out = Tensor.fromArray(gatherValues(x, d, index, idx), index.shape, x.dtype);
  const inputShape = x.shape;
  return record("GatherBackward0", out, [x], (g) => [scatterAddInto(inputShape, d, index, idx, g)], { saved });
}

/** gather's backward, zeros(shape).scatter_add(d, index, g) (ScatterAddBackward0); its own backward gathers. */
function scatterAddInto(shape: number[], d: number, index: Tensor, idx: TypedArray, g: Tensor): Tensor {
  return record(
    "ScatterAddBackward0",
    scatterAddValues(shape, g.dtype, d, index, idx, g),
    [g],
    (gg) => [gatherRecorded(gg, d, index, idx, [index])],
    { saved: [index] },
  );
}

function gatherValues(x: Tensor, d: number, index: Tensor, idx: TypedArray): TypedArray {
  const out = allocate(x.dtype, idx.length);
  const src = x.nd.data;
  const xs = nonEmptyStrides(x);
  const step = xs[d];
  walk(nonEmptyShape(index), d, xs, x.nd.offset, xs, 0, (pos, a) => {
    out[pos] = src[a + idx[pos] * step];
  });
  return out;
}

/** zeros(shape) with `src` (index's shape) added at the positions `index` names along `d`. */
function scatterAddValues(shape: readonly number[], dtype: DType, d: number, index: Tensor, idx: TypedArray, src: Tensor): Tensor {
  const out = allocate(dtype, numelOf(shape));
  const strides = contiguousStrides(shape.length === 0 ? [1] : shape);
  const values = src.toArray();
  const step = strides[d];
  walk(nonEmptyShape(index), d, strides, 0, strides, 0, (pos, a) => {
    out[a + idx[pos] * step] += values[pos];
  });
  return Tensor.fromArray(out, shape, dtype);
}

// ---- scatter ------------------------------------------------------------------------------

type ScatterSource = Tensor | number | { value: number };

function checkScatter(x: Tensor, d: number, index: Tensor, src: Tensor | null, fn: string): void {
  if (index.numel() === 0) return;
  const xs = nonEmptyShape(x);
  const is = nonEmptyShape(index);
  if (is.length !== xs.length) throw new Error("Index tensor must have the same number of dimensions as self tensor");
  if (src !== null && nonEmptyShape(src).length !== xs.length) {
    throw new Error("Index tensor must have the same number of dimensions as src tensor");
  }
  const ss = src ? nonEmptyShape(src) : null;
  let wrong = false;
  for (let i = 0; i < xs.length; i++) {
    if (i !== d && is[i] > xs[i]) wrong = true;
    if (ss && is[i] > ss[i]) wrong = true;
  }
  if (wrong) {
    throw new Error(
      src
        ? `Expected index ${formatList(index.shape)} to be smaller than self ${formatList(x.shape)} apart from dimension ${d} and to be smaller size than src ${formatList(src.shape)}`
        : `Expected index ${formatList(index.shape)} to be smaller than self ${formatList(x.shape)} apart from dimension ${d}`,
    );
  }
  if (src && src.dtype !== x.dtype) throw new Error(`${fn}(): Expected self.dtype to be equal to src.dtype`);
}

/** A contiguous copy of `x` with `value` or `src`'s elements written where `index` points. */
function scatterValues(x: Tensor, d: number, index: Tensor, idx: TypedArray, src: Tensor | number, add: boolean): TypedArray {
  const out = allocate(x.dtype, x.numel());
  out.set(x.toArray());
  const strides = contiguousStrides(nonEmptyShape(x));
  const step = strides[d];
  if (typeof src === "number") {
    walk(nonEmptyShape(index), d, strides, 0, strides, 0, (pos, a) => {
      out[a + idx[pos] * step] = add ? out[a + idx[pos] * step] + src : src;
    });
  } else {
    const data = src.nd.data;
    const srcStrides = nonEmptyStrides(src);
    // src is read at the index element's own position, so walk it along every dim (dim included).
    const along = srcStrides[d];
    walk(nonEmptyShape(index), d, strides, 0, srcStrides, src.nd.offset, (pos, a, b) => {
      const within = positionAlong(pos, index, d);
      const v = data[b + within * along];
      const at = a + idx[pos] * step;
      out[at] = add ? out[at] + v : v;
    });
  }
  return out;
}

/** The coordinate along `d` of the row-major position `pos` in `index`. */
function positionAlong(pos: number, index: Tensor, d: number): number {
  const shape = nonEmptyShape(index);
  let inner = 1;
  for (let i = shape.length - 1; i > d; i--) inner *= shape[i];
  return Math.floor(pos / inner) % shape[d];
}

function scatterSource(source: ScatterSource): Tensor | number {
  if (source instanceof Tensor) return source;
  if (typeof source === "number" || typeof source === "boolean") return Number(source);
  if (source && typeof source === "object" && "value" in source) return Number(source.value);
  throw new TypeError("scatter(): expected a Tensor src or a number value");
}

/**
 * A copy of `x` with values written along `dim` at the positions `index` gives: from the tensor
 * `src` (ScatterBackward0) or the number `value` (ScatterBackward1). Not in place.
 */
export function scatter(x: Tensor, dim: number, index: Tensor, source: ScatterSource): Tensor {
  tensorArg(x, "scatter", "input", 1);
  tensorArg(index, "scatter", "index", 3);
  const d = normalizeDim(dim, x.ndim);
  const src = scatterSource(source);
  const idx = index.numel() > 0 ? indexValues(index, "scatter") : allocate("int64", 0);
  checkScatter(x, d, index, src instanceof Tensor ? src : null, "scatter");
  checkBounds(idx, nonEmptyShape(x)[d], d);
  const value = src instanceof Tensor ? src : castScalar(src, x.dtype); // 2.5 into int64 writes 2
  const out = Tensor.fromArray(scatterValues(x, d, index, idx, value, false), x.shape, x.dtype);
  if (!(src instanceof Tensor)) {
    return record("ScatterBackward1", out, [x], (g) => [scatterZeros(g, d, index, idx)], { saved: [index] });
  }
  return record(
    "ScatterBackward0",
    out,
    [x, src],
    (g) => [x.requiresGrad ? scatterZeros(g, d, index, idx) : null, src.requiresGrad ? gatherPadded(g, d, index, idx, src.shape) : null],
    { saved: [index] },
  );
}

/**
 * The gradient `g` with the scattered-to positions zeroed (they were overwritten): g.scatter(d,
 * index, 0) (ScatterBackward1), a mask that is its own backward.
 */
function scatterZeros(g: Tensor, d: number, index: Tensor, idx: TypedArray): Tensor {
  const gc = Tensor.fromArray(g.toArray(), g.shape, g.dtype);
  const out = Tensor.fromArray(scatterValues(gc, d, index, idx, 0, false), g.shape, g.dtype);
  return record("ScatterBackward1", out, [g], (gg) => [scatterZeros(gg, d, index, idx)], { saved: [index] });
}

/** `g.gather(dim, index)`, placed into zeros of `src`'s shape when src is larger than index. */
function gatherPadded(g: Tensor, d: number, index: Tensor, idx: TypedArray, srcShape: number[]): Tensor {
  return padCorner(gatherRecorded(g, d, index, idx, [index]), srcShape);
}

/**
 * `t` in the leading corner of zeros of `shape` (no larger anywhere), recorded with the corner's
 * extraction as its backward; `t` itself when the shapes agree.
 */
function padCorner(t: Tensor, shape: number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const out = allocate(t.dtype, numelOf(shape));
  const values = t.toArray();
  const strides = contiguousStrides(shape.length === 0 ? [1] : shape);
  walk(nonEmptyShape(t), -1, strides, 0, strides, 0, (pos, a) => {
    out[a] = values[pos];
  });
  const cornerShape = t.shape;
  return record("ConstantPadNdBackward0", Tensor.fromArray(out, shape, t.dtype), [t], (gg) => [cornerOf(gg, cornerShape)], {
    savesTensors: false,
  });
}

/** The leading corner of `t` of `shape`, recorded with `padCorner` as its backward. */
function cornerOf(t: Tensor, shape: number[]): Tensor {
  const out = allocate(t.dtype, numelOf(shape));
  const values = t.toArray();
  const strides = contiguousStrides(nonEmptyShape(t));
  walk(shape.length === 0 ? [1] : shape, -1, strides, 0, strides, 0, (pos, a) => {
    out[pos] = values[a];
  });
  const fullShape = t.shape;
  return record("SliceBackward0", Tensor.fromArray(out, shape, t.dtype), [t], (gg) => [padCorner(gg, fullShape)], {
    savesTensors: false,
  });
}

/** A copy of `x` with `src` added along `dim` at `index`'s positions (ScatterAddBackward0). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  tensorArg(x, "scatter_add", "input", 1);
  tensorArg(index, "scatter_add", "index", 3);
  tensorArg(src, "scatter_add", "src", 4);
  const d = normalizeDim(dim, x.ndim);
  const idx = index.numel() > 0 ? indexValues(index, "scatter_add") : allocate("int64", 0);
  checkScatter(x, d, index, src, "scatter_add");
  checkBounds(idx, nonEmptyShape(x)[d], d);
  const out = Tensor.fromArray(scatterValues(x, d, index, idx, src, true), x.shape, x.dtype);
  const srcShape = src.shape;
  return record(
    "ScatterAddBackward0",
    out,
    [x, src],
    (g) => [x.requiresGrad ? g : null, src.requiresGrad ? gatherPadded(g, d, index, idx, srcShape) : null],
    { saved: [index] },
  );
}

// ---- index_select / index_add -------------------------------------------------------------

function selectIndex(x: Tensor, index: Tensor, fn: string): TypedArray {
  if (index.ndim > 1) throw new Error(`${fn}(): Index is supposed to be a vector`);
  if (index.dtype !== "int64") throw new Error(`${fn}(): Expected dtype int32 or int64 for index`);
  return index.toArray();
}

/** Rows of `x` along `dim` picked by a 1-D (or 0-d) int64 `index` (IndexSelectBackward0). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  tensorArg(x, "index_select", "input", 1);
  tensorArg(index, "index_select", "index", 3);
  const d = normalizeDim(dim, x.ndim);
  const idx = selectIndex(x, index, "index_select");
  const shape = nonEmptyShape(x);
  const size = shape[d];
  if (x.ndim === 0 && idx.length !== 1) {
    throw new Error(`index_select(): Index to scalar can have only 1 value, got ${idx.length} value(s)`);
  }
  for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= size) throw new Error("index out of range in self");
  return indexSelectRecorded(x, d, index, idx);
}

/** index_select on checked arguments (IndexSelectBackward0); its backward adds g into zeros at the rows. */
function indexSelectRecorded(x: Tensor, d: number, index: Tensor, idx: TypedArray): Tensor {
  const shape = nonEmptyShape(x);
  const size = shape[d];
  const outer = numelOf(shape.slice(0, d));
  const inner = numelOf(shape.slice(d + 1));
  const src = x.toArray();
  const out = allocate(x.dtype, outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    const from = o * size * inner;
    const to = o * idx.length * inner;
    for (let j = 0; j < idx.length; j++) {
      const start = from + idx[j] * inner;
      out.set(src.subarray(start, start + inner), to + j * inner);
    }
  }
  const outShape = x.ndim === 0 ? [] : x.shape.map((s, i) => (i === d ? idx.length : s));
  const inputShape = x.shape;
  const backward = (g: Tensor): Tensor[] => [indexAddInto(inputShape, d, index, idx, g)];
  return record("IndexSelectBackward0", Tensor.fromArray(out, outShape, x.dtype), [x], backward, { saved: [index] });
}

/** index_select's backward, zeros(shape).index_add(d, index, g) (IndexAddBackward0); its own backward selects. */
function indexAddInto(shape: number[], d: number, index: Tensor, idx: TypedArray, g: Tensor): Tensor {
  return record("IndexAddBackward0", indexAddValues(shape, g.dtype, d, idx, g, 1), [g], (gg) => [indexSelectRecorded(gg, d, index, idx)], {
    saved: [index],
  });
}

/** zeros(shape) + alpha * `src` added along `d` at the rows `idx` names. */
function indexAddValues(
  shape: readonly number[],
  dtype: DType,
  d: number,
  idx: TypedArray,
  src: Tensor,
  alpha: number,
  base?: TypedArray,
): Tensor {
  const dims = shape.length === 0 ? [1] : shape;
  const out = allocate(dtype, numelOf(dims));
  if (base) out.set(base);
  const size = dims[d];
  const outer = numelOf(dims.slice(0, d));
  const inner = numelOf(dims.slice(d + 1));
  const values = src.toArray();
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const to = (o * size + idx[j]) * inner;
      const from = (o * idx.length + j) * inner;
      if (alpha === 1) for (let i = 0; i < inner; i++) out[to + i] += values[from + i];
      else for (let i = 0; i < inner; i++) out[to + i] += alpha * values[from + i];
    }
  }
  return Tensor.fromArray(out, shape, dtype);
}

/** A copy of `x` with `alpha * source` added at the rows `index` names along `dim` (IndexAddBackward0). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, source: Tensor, options: { alpha?: number } = {}): Tensor {
  tensorArg(x, "index_add", "input", 1);
  tensorArg(index, "index_add", "index", 3);
  tensorArg(source, "index_add", "source", 4);
  checkOptions("indexAdd", options, ["alpha"]);
  const alpha = options.alpha ?? 1;
  const d = normalizeDim(dim, x.ndim);
  const idx = selectIndex(x, index, "index_add");
  const shape = nonEmptyShape(x);
  const expected = x.ndim === 0 ? [idx.length] : shape.map((s, i) => (i === d ? idx.length : s));
  const srcShape = nonEmptyShape(source);
  if (source.dtype !== x.dtype) {
    throw new Error(
      `index_add_(): self (${scalarTypeName(x.dtype)}) and source (${scalarTypeName(source.dtype)}) must have the same scalar type`,
    );
  }
  if (srcShape.length !== expected.length || srcShape.some((s, i) => s !== expected[i])) {
    throw new Error(`index_add_(): source shape ${formatList(source.shape)} does not match the expected ${formatList(expected)}`);
  }
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= shape[d]) throw new Error(`index out of range in self`);
  }
  const out = indexAddValues(x.shape, x.dtype, d, idx, source, alpha, x.toArray());
  const sourceShape = source.shape;
  const backward = (g: Tensor): Array<Tensor | null> => {
    if (!source.requiresGrad) return [g, null];
    const picked = indexSelectRecorded(g.ndim === 0 ? g.reshape([1]) : g, d, index, idx);
    return [x.requiresGrad ? g : null, (alpha === 1 ? picked : picked.mul(alpha)).reshape(sourceShape)];
  };
  return record("IndexAddBackward0", out, [x, source], backward, { saved: [index, source] });
}

// ---- embedding_bag ------------------------------------------------------------------------

export interface EmbeddingBagOptions {
  /** How each bag reduces its rows; default "mean", as `nn.EmbeddingBag`. */
  mode?: "sum" | "mean" | "max";
  /** One weight per index (mode "sum" only), multiplying that row. */
  perSampleWeights?: Tensor | null;
  /** `offsets` has one more entry, the end of the last bag (the CSR layout). */
  includeLastOffset?: boolean;
  /** Indices equal to this row id are left out of their bag (and of a mean's count). */
  paddingIdx?: number | null;
}

function checkIndexTensor(t: Tensor, arg: string, position: number): void {
  if (t.dtype !== "int64") {
    throw new Error(
      `Expected tensor for argument #${position} '${arg}' to have one of the following scalar types: Long, Int; but got ${tensorTypeName(t.dtype)} instead (while checking arguments for embedding_bag)`,
    );
  }
}

/**
 * Sums, means or maxima of bags of rows of `weight` (num_embeddings x dim): bag b holds
 * `indices[offsets[b] .. offsets[b+1])`, the last bag running to the end of `indices` (or to the
 * last offset with `includeLastOffset`). A 2-D `indices` with no offsets is one bag per row.
 * Empty bags give zeros. grad_fn `EmbeddingBagBackward0`; the weight's gradient holds only the
 * rows the bags used (a `RowSparseGrad`).
 */
const EMBEDDING_BAG_KEYS = optionKeys<EmbeddingBagOptions>({
  mode: true,
  perSampleWeights: true,
  includeLastOffset: true,
  paddingIdx: true,
});

export function embeddingBag(weight: Tensor, indices: Tensor, offsets?: Tensor | null, options: EmbeddingBagOptions = {}): Tensor {
  checkOptions("embeddingBag", options, EMBEDDING_BAG_KEYS);
  const { bags, perSampleWeights } = checkEmbeddingBag(weight, indices, offsets ?? null, options);
  const [numEmbeddings, dim] = weight.shape;
  const w = weight.toArray();
  const out = allocate(weight.dtype, bags.stops.length * dim);
  const pooled = embeddingBagForward(w, bags, dim, out);
  const result = Tensor.fromArray(out, [bags.stops.length, dim], weight.dtype);
  const backward = (g: Tensor): Array<Grad | null> => {
    if (isGradEnabled()) return recordedBagGrads(g, weight, perSampleWeights, bags, pooled);
    const gv = g.toArray();
    let gw: RowSparseGrad | null = null;
    if (weight.requiresGrad) {
      // Only the rows the bags used: the gradient is those rows, compact, in first-use order.
      const { rows, values } = embeddingBagWeightGrad(gv, bags, pooled, numEmbeddings, dim, g.dtype);
      gw = new RowSparseGrad([numEmbeddings, dim], g.dtype, rows, values);
    }
    let gpsw: Tensor | null = null;
    if (perSampleWeights !== null && perSampleWeights.requiresGrad) {
      const grad = allocate(g.dtype, bags.idx.length);
      perSampleWeightGrad(gv, w, bags, dim, grad);
      gpsw = Tensor.fromArray(grad, perSampleWeights.shape, g.dtype);
    }
    return [gw, gpsw];
  };
  // As PyTorch: the indices and offsets always; the table only for the per-sample weights' gradient.
  const saved = [indices, offsets, perSampleWeights && weight, perSampleWeights];
  return record("EmbeddingBagBackward0", result, [weight, perSampleWeights], backward, { saved });
}

const int64Of = (values: Float64Array): Tensor => Tensor.fromArray(values, [values.length], "int64");

/** zeros of `shape` and `dtype`, a constant to add gradients into. */
function zerosOf(shape: number[], dtype: DType): Tensor {
  return Tensor.fromArray(allocate(dtype, numelOf(shape)), shape, dtype);
}

/**
 * The pooled entries of the bags: for each index a bag uses (padding left out), its position in
 * the indices, its row of the table, and its bag.
 */
function bagEntries(bags: Bags): { positions: Float64Array; rows: Float64Array; owners: Float64Array } {
  const positions: number[] = [];
  const owners: number[] = [];
  bags.stops.forEach((stop, b) => {
    for (let i = bags.offsets[b]; i < stop; i++) {
      if (bags.idx[i] === bags.pad) continue;
      positions.push(i);
      owners.push(b);
    }
  });
  return {
    positions: Float64Array.from(positions),
    rows: Float64Array.from(positions, (i) => bags.idx[i]),
    owners: Float64Array.from(owners),
  };
}

/**
 * The recorded backward of embedding_bag, dense and built from ops so that it can be
 * differentiated again: the table's gradient adds each entry's g[bag] (over the count for a mean,
 * times the per-sample weight for a weighted sum) into its row, or for "max" each g[bag][j] into
 * the row the maximum came from; a per-sample weight's gradient is g[bag] dotted with its row.
 */
function recordedBagGrads(g: Tensor, weight: Tensor, psw: Tensor | null, bags: Bags, pooled: Pooled): Array<Tensor | null> {
  const { positions, rows, owners } = bagEntries(bags);
  // Each entry's g[bag] (the max's gradient goes by element instead).
  const perEntry = () => indexSelectRecorded(g, 0, int64Of(owners), owners);
  let gw: Tensor | null = null;
  if (weight.requiresGrad) {
    const zeros = zerosOf(weight.shape, g.dtype);
    if (pooled.argmax !== null) {
      gw = maxBagGrad(g, zeros, pooled.argmax, pooled.counts);
    } else {
      const meanScale = bags.mode === "mean" ? bagScales(pooled.counts, owners, g.dtype) : null;
      const scale = psw !== null ? psw.indexSelect(0, int64Of(positions)).unsqueeze(1) : meanScale;
      gw = indexAdd(zeros, 0, int64Of(rows), scale ? perEntry().mul(scale) : perEntry());
    }
  }
  let gpsw: Tensor | null = null;
  if (psw !== null && psw.requiresGrad) {
    const dots = perEntry()
      .mul(weight.indexSelect(0, int64Of(rows)))
      .sum(1);
    gpsw = indexAdd(zerosOf(psw.shape, g.dtype), 0, int64Of(positions), dots);
  }
  return [gw, gpsw];
}

/** 1 / count of each entry's bag, as a column. */
function bagScales(counts: Float64Array, owners: Float64Array, dtype: DType): Tensor {
  const values = allocate(dtype, owners.length);
  owners.forEach((b, k) => (values[k] = 1 / counts[b]));
  return Tensor.fromArray(values, [owners.length, 1], dtype);
}

/** "max": g of every non-empty bag scattered (added) into the rows its maxima came from. */
function maxBagGrad(g: Tensor, zeros: Tensor, argmax: Int32Array, counts: Float64Array): Tensor {
  const dim = g.shape[1];
  const kept = Float64Array.from(counts.keys()).filter((b) => counts[b] > 0);
  const rowIds = allocate("int64", kept.length * dim);
  kept.forEach((b, k) => rowIds.set(argmax.subarray(b * dim, (b + 1) * dim), k * dim));
  const from = kept.length === counts.length ? g : indexSelectRecorded(g, 0, int64Of(kept), kept);
  return scatterAdd(zeros, 0, Tensor.fromArray(rowIds, [kept.length, dim], "int64"), from);
}

/**
 * embedding_bag's checks, in PyTorch's order and words, and the bags they describe: 1-D indices
 * with offsets, or 2-D indices (one bag per row, flattened, with the per-sample weights).
 */
function checkEmbeddingBag(
  weight: Tensor,
  indices: Tensor,
  offsets: Tensor | null,
  options: EmbeddingBagOptions,
): { bags: Bags; perSampleWeights: Tensor | null } {
  tensorArg(weight, "embedding_bag", "weight", 1);
  tensorArg(indices, "embedding_bag", "input", 2);
  const mode = options.mode ?? "mean";
  if (mode !== "sum" && mode !== "mean" && mode !== "max") throw new Error("mode has to be one of sum, mean or max");
  checkEmbeddingWeight(weight);
  const given = options.perSampleWeights ?? null;
  if (given !== null) checkPerSampleWeightsShape(given, indices);
  const { flat, offs, psw } = flattenBags(indices, offsets, given);
  if (psw !== null) checkPerSampleWeights(psw, mode, weight);
  checkIndexTensor(flat, "indices", 1);
  checkIndexTensor(offs, "offsets", 1);
  // Checked as stored (int64), then narrowed for the kernels: nothing out of range can wrap.
  const ids = flat.toArray();
  const starts = offs.toArray();
  checkOffsets(starts, ids.length);
  const stops = bagStops(starts, ids.length, options.includeLastOffset ?? false);
  const used = stops.length === 0 ? 0 : stops[stops.length - 1];
  const numEmbeddings = weight.shape[0];
  const idx = checkedRowIds(ids, used, numEmbeddings);
  const pad = paddingRow(options.paddingIdx ?? null, numEmbeddings);
  const off = int32Indices(starts);
  const bags: Bags = { idx, offsets: off, stops, used, pad, mode, weights: psw ? psw.toArray() : null };
  return { bags, perSampleWeights: psw };
}

function checkEmbeddingWeight(weight: Tensor): void {
  if (weight.ndim !== 2) throw new Error(`weight has to be a 2D Tensor, but got Tensor of dimension ${weight.ndim}`);
  if (!isFloating(weight.dtype)) {
    throw new Error(
      `Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, Float, Double; but got torch.${weight.dtype === "bool" ? "BoolTensor" : "LongTensor"} instead (while checking arguments for embedding_bag)`,
    );
  }
}

function checkPerSampleWeightsShape(psw: Tensor, indices: Tensor): void {
  tensorArg(psw, "embedding_bag", "per_sample_weights", 7);
  if (psw.shape.join(",") !== indices.shape.join(",")) {
    throw new Error(
      `embedding_bag: If per_sample_weights (${formatList(psw.shape)}) is not None, then it must have the same shape as the input (${formatList(indices.shape)})`,
    );
  }
}

function checkPerSampleWeights(psw: Tensor, mode: string, weight: Tensor): void {
  if (mode !== "sum") {
    throw new Error(
      `embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='${mode}'). Please open a feature request on the Pytorch GitHub.`,
    );
  }
  if (psw.dtype !== weight.dtype) {
    throw new Error(`expected scalar type ${scalarTypeName(weight.dtype)} but found ${scalarTypeName(psw.dtype)}`);
  }
}

/** 1-D indices with their offsets as they are; 2-D indices (bags, length) flattened, bag b starting at b * length. */
function flattenBags(indices: Tensor, offsets: Tensor | null, psw: Tensor | null): { flat: Tensor; offs: Tensor; psw: Tensor | null } {
  if (indices.ndim === 2) {
    if (offsets !== null) {
      throw new Error(
        "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. However, found offsets of type Tensor",
      );
    }
    const [bags, length] = indices.shape;
    const starts = allocate("int64", bags);
    for (let b = 0; b < bags; b++) starts[b] = b * length;
    const offs = Tensor.fromArray(starts, [bags], "int64");
    return { flat: indices.reshape([-1]), offs, psw: psw === null ? null : psw.reshape([-1]) };
  }
  if (indices.ndim === 1) {
    if (offsets === null) throw new Error("offsets has to be a 1D Tensor but got None");
    tensorArg(offsets, "embedding_bag", "offsets", 3);
    if (offsets.ndim !== 1) throw new Error("offsets has to be a 1D Tensor");
    return { flat: indices, offs: offsets, psw };
  }
  throw new Error(`input has to be 1D or 2D Tensor, but got Tensor of dimension ${indices.ndim}`);
}

/** Offsets start at 0, never pass the end of the indices, and never decrease. */
function checkOffsets(off: TypedArray, length: number): void {
  if (off.length === 0) return;
  if (off[0] !== 0) {
    throw new Error(
      `offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got ${off[0]}`,
    );
  }
  if (off[off.length - 1] > length) {
    throw new Error(`offsets[-1] can not be greater than input's length ${length} but got offsets[-1] of ${off[off.length - 1]}`);
  }
  for (let b = 1; b < off.length; b++) {
    if (off[b] < off[b - 1]) {
      throw new Error(
        `offsets has to be a non-decreasing sequence, but got offsets[${b}] = ${off[b]} after offsets[${b - 1}] = ${off[b - 1]}`,
      );
    }
  }
}

/**
 * Where each bag stops: at the next offset, the last bag at the end of the indices, or, with
 * `includeLast`, at the last offset (which then starts no bag). Computed once: a per-call closure
 * here made V8 re-optimise the loops.
 */
function bagStops(off: TypedArray, length: number, includeLast: boolean): Int32Array {
  const bags = includeLast ? Math.max(off.length - 1, 0) : off.length;
  const stops = new Int32Array(bags);
  for (let b = 0; b < bags; b++) stops[b] = b + 1 < off.length ? off[b + 1] : includeLast ? off[b] : length;
  return stops;
}

/**
 * The row ids narrowed to the Int32Array the kernels index with, in the same pass that checks
 * every index a bag uses names a row of the table (one read of the int64 values, not two).
 */
function checkedRowIds(ids: TypedArray, used: number, numEmbeddings: number): Int32Array {
  const idx = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (i < used && !(id >= 0 && id < numEmbeddings)) {
      throw new Error(`embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be ${id}`);
    }
    idx[i] = id;
  }
  return idx;
}

/** The padding row's id (a negative `paddingIdx` counts from the end), or -1 for none. */
function paddingRow(paddingIdx: number | null, numEmbeddings: number): number {
  if (paddingIdx === null) return -1;
  if (paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings) throw new Error("padding_idx must be within num_embeddings");
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}
