/**
 * `embedding`: rows of a (numEmbeddings, dim) table looked up by an int64 index tensor of any
 * shape (grad_fn EmbeddingBackward0), with PyTorch's `paddingIdx` (that row gets no gradient),
 * `maxNorm` (the looked-up rows are renormalised in place in the table first, outside the graph)
 * and `scaleGradByFreq`.
 *
 * The table's gradient is dense by default, as PyTorch's. With `sparse: true` the backward hands
 * the engine only the rows the lookup used (a `RowSparseGrad`, autograd/sparse.ts), which a
 * leaf's gradient slot keeps compact until someone asks for the dense tensor.
 *
 * The backward (PyTorch's `embedding_dense_backward`) is its own recorded op, so that a gradient
 * taken with `createGraph` can be differentiated again.
 */
import { type DType, type TypedArray, allocate, rounderFor, tensorTypeName } from "../dtype";
import { freshGradient, record } from "../autograd/node";
import { isGradEnabled } from "../autograd/grad-mode";
import { RowSparseGrad } from "../autograd/sparse";
import { Tensor } from "../tensor-core";
import { checkOptions, optionKeys } from "../options";
import { tensorArg } from "../arguments";
import { vectorNorm } from "./normalization";

export interface EmbeddingOptions {
  /** Lookups of this row get no gradient (negative counts from the end). */
  paddingIdx?: number | null;
  /** Each looked-up row whose `normType`-norm exceeds this is rescaled to it, in the table, before the lookup. */
  maxNorm?: number | null;
  /** The p of the norm for `maxNorm`. Default 2. */
  normType?: number;
  /** Scale each row's gradient by 1 / (how often the row occurs in the lookup). */
  scaleGradByFreq?: boolean;
  /** The table's gradient holds only the rows looked up (kept compact by the gradient slot). */
  sparse?: boolean;
}

function checkIndices(indices: Tensor, fn: string): TypedArray {
  if (indices.dtype !== "int64") {
    throw new Error(
      `Expected tensor for argument #${fn === "embedding" ? 1 : 2} 'indices' to have one of the following scalar types: Long, Int; but got ${tensorTypeName(indices.dtype)} instead (while checking arguments for ${fn})`,
    );
  }
  return indices.toArray();
}

const EMBEDDING_KEYS = optionKeys<EmbeddingOptions>({
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  scaleGradByFreq: true,
  sparse: true,
});

/** F.embedding's padding index: -1 for none, a negative one counted from the end. */
function paddingRow(paddingIdx: number | null | undefined, rows: number): number {
  if (paddingIdx === null || paddingIdx === undefined) return -1;
  if (paddingIdx >= rows || paddingIdx < -rows) throw new Error("Padding_idx must be within num_embeddings");
  return paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
}

/**
 * PyTorch's `embedding_renorm_`: every distinct row of `weight` named in `idx` whose norm exceeds
 * `maxNorm` is multiplied by maxNorm / (norm + 1e-7), in place, as one in-place change of the
 * table (its version rises once). The norm is in the table's dtype; the factor is rounded to it.
 */
function renorm_(weight: Tensor, indices: Tensor, maxNorm: number, normType: number): void {
  if (weight.ndim !== 2) {
    throw new Error(
      `Expected 2-dimensional tensor, but got ${weight.ndim}-dimensional tensor for argument #1 'self' (while checking arguments for embedding_renorm_)`,
    );
  }
  const idx = checkIndices(indices, "embedding_renorm_");
  const [rows, dim] = weight.shape;
  const r = rounderFor(weight.dtype);
  const { data, offset, stride } = weight.nd;
  const row = new Float64Array(dim);
  for (const id of [...new Set(idx)].sort((a, b) => a - b)) {
    if (id < 0 || id >= rows) throw new Error(`select(): index ${id} out of range for tensor of size [${rows}, ${dim}] at dimension 0`);
    const at = offset + id * stride[0];
    for (let j = 0; j < dim; j++) row[j] = data[at + j * stride[1]];
    const norm = r(vectorNorm(row, normType));
    if (!(norm > maxNorm)) continue;
    const scale = r(maxNorm / (norm + 1e-7));
    for (let j = 0; j < dim; j++) data[at + j * stride[1]] = row[j] * scale;
  }
  // One in-place op on the table, changed rows or not: its version rises once, as in PyTorch.
  weight.bumpVersion();
}

/**
 * Rows of `weight` at `indices`: a tensor of shape indices.shape + [dim], grad_fn
 * EmbeddingBackward0. F.embedding's argument order: `embedding(indices, weight, options)`.
 */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  // PyTorch's torch.embedding takes (weight, indices): that is how its messages number them.
  tensorArg(indices, "embedding", "indices", 2);
  tensorArg(weight, "embedding", "weight", 1);
  checkOptions("embedding", options, EMBEDDING_KEYS);
  const pad = paddingRow(options.paddingIdx, weight.shape[0] ?? 0);
  if (options.maxNorm !== null && options.maxNorm !== undefined) {
    renorm_(weight, indices, options.maxNorm, options.normType ?? 2);
  }
  if (weight.ndim !== 2) throw new Error("'weight' must be 2-D");
  const idx = checkIndices(indices, "embedding");
  const [rows, dim] = weight.shape;
  for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= rows) throw new Error("index out of range in self");
  const out = gatherRows(weight.toArray(), idx, dim, weight.dtype, -1);
  const lookup: Lookup = { idx, rows, dim, pad, counts: options.scaleGradByFreq ? countsOf(idx, rows) : null };
  return record(
    "EmbeddingBackward0",
    Tensor.fromArray(out, [...indices.shape, dim], weight.dtype),
    [weight],
    (g) => [options.sparse && !isGradEnabled() ? sparseGradient(g, lookup) : embeddingDenseBackward(g, lookup)],
    { saved: [indices] },
  );
}

/** What a lookup's backward needs: the row ids, the table's size, the padding row and, for scaleGradByFreq, each row's count. */
interface Lookup {
  idx: TypedArray;
  rows: number;
  dim: number;
  pad: number;
  counts: Int32Array | null;
}

function countsOf(idx: TypedArray, rows: number): Int32Array {
  const counts = new Int32Array(rows);
  for (let i = 0; i < idx.length; i++) counts[idx[i]]++;
  return counts;
}

/** `idx.length` rows of `dim` values copied from `table`; rows looked up as `pad` are zeros (pad -1: none). */
function gatherRows(table: TypedArray, idx: TypedArray, dim: number, dtype: DType, pad: number): TypedArray {
  const out = allocate(dtype, idx.length * dim);
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] !== pad) out.set(table.subarray(idx[i] * dim, (idx[i] + 1) * dim), i * dim);
  }
  return out;
}

/**
 * Adds each gradient row into its table row, in lookup order, skipping the padding row; with
 * counts, each scaled by 1/count first. Each sum is rounded to the dtype, as PyTorch's
 * `grad_weight[k].add_(grad[i], scale)`. `into` starts as zeros (+0).
 */
function addRows(gv: TypedArray, lookup: Lookup, r: (v: number) => number, slotOf: (id: number) => number, into: TypedArray): void {
  const { idx, dim, pad, counts } = lookup;
  for (let i = 0; i < idx.length; i++) {
    const id = idx[i];
    if (id === pad) continue;
    const at = slotOf(id) * dim;
    const scale = counts ? r(1 / counts[id]) : 1;
    for (let j = 0; j < dim; j++) into[at + j] = counts ? r(into[at + j] + r(scale * gv[i * dim + j])) : into[at + j] + gv[i * dim + j];
  }
}

/**
 * PyTorch's `embedding_dense_backward`: the (rows, dim) table gradient. A recorded op
 * (EmbeddingDenseBackwardBackward0) whose own backward looks the rows of its upstream gradient up
 * again, zero at the padding row. Like PyTorch 1.13 that second backward ignores
 * scaleGradByFreq, so with it second derivatives are PyTorch's, not the exact ones.
 */
function embeddingDenseBackward(g: Tensor, lookup: Lookup): Tensor {
  const dtype = g.dtype;
  const grad = allocate(dtype, lookup.rows * lookup.dim);
  addRows(g.toArray(), lookup, rounderFor(dtype), (id) => id, grad);
  const shape = g.shape;
  return record(
    "EmbeddingDenseBackwardBackward0",
    freshGradient(Tensor.fromArray(grad, [lookup.rows, lookup.dim], dtype)),
    [g],
    (gg) => [embeddingDoubleBackward(gg, lookup, shape)],
    { savesTensors: false },
  );
}

/**
 * PyTorch's `embedding_dense_double_backward`: the rows of `gg` at the lookup, zeros at the
 * padding row, viewed as the lookup's output shape (hence ViewBackward0). Its backward is the
 * dense backward without the frequency scale (index_select's).
 */
function embeddingDoubleBackward(gg: Tensor, lookup: Lookup, shape: number[]): Tensor {
  const out = gatherRows(gg.toArray(), lookup.idx, lookup.dim, gg.dtype, lookup.pad);
  const unscaled: Lookup = { ...lookup, counts: null };
  return record("ViewBackward0", Tensor.fromArray(out, shape, gg.dtype), [gg], (g) => [embeddingDenseBackward(g, unscaled)], {
    savesTensors: false,
  });
}

/** The table gradient as only the rows looked up (first-use order), their sums started from +0. */
function sparseGradient(g: Tensor, lookup: Lookup): RowSparseGrad {
  const slot = new Map<number, number>();
  for (const id of lookup.idx) if (id !== lookup.pad && !slot.has(id)) slot.set(id, slot.size);
  const values = allocate(g.dtype, slot.size * lookup.dim);
  addRows(g.toArray(), lookup, rounderFor(g.dtype), (id) => slot.get(id)!, values);
  return new RowSparseGrad([lookup.rows, lookup.dim], g.dtype, Int32Array.from(slot.keys()), values);
}
