/**
 * embedding_bag's kernels (TypeScript): the forward, which pools each bag of rows of a
 * (num_embeddings, dim) table by sum, mean or max (or a weighted sum); the weight's gradient,
 * which holds only the rows the bags used, compact, in first-use order; and the gradient of the
 * per-sample weights. Sums run in doubles and each output is rounded once.
 */
import { type DType, type TypedArray, allocate } from "../dtype";

/** Bags of row ids as the kernels read them (checked by ops/indexing.ts). */
export interface Bags {
  /** Row ids, every bag's one after the other. */
  idx: Int32Array;
  /** Where bag b starts in `idx` (at least one entry per bag). */
  offsets: Int32Array;
  /** Where bag b stops in `idx` (exclusive); one entry per bag. */
  stops: Int32Array;
  /** How many of `idx` the bags use (the last stop). */
  used: number;
  /** A row id left out of its bag and of a mean's count; -1 for none. */
  pad: number;
  mode: "sum" | "mean" | "max";
  /** One weight per index, multiplying its row (mode "sum" only); null for none. */
  weights: TypedArray | null;
}

/**
 * int64 row ids or offsets (integers in a Float64Array, checked in range by the caller) as the
 * Int32Array these loops index with, so that `id * dim` stays small-integer arithmetic. A fresh
 * array each time: the backward keeps it.
 */
export function int32Indices(values: ArrayLike<number>): Int32Array {
  return new Int32Array(values);
}

/** What the forward leaves for the backward. */
export interface Pooled {
  /** Rows in each bag (padding left out). */
  counts: Float64Array;
  /** Mode "max": for each output element, the row it came from (-1 for an empty bag); else null. */
  argmax: Int32Array | null;
}

/** out (bags, dim) = every bag's rows of `w` pooled by `bags.mode`; an empty bag gives zeros. */
export function embeddingBagForward(w: TypedArray, bags: Bags, dim: number, out: TypedArray): Pooled {
  const counts = new Float64Array(bags.stops.length);
  if (bags.mode === "max") {
    const argmax = new Int32Array(bags.stops.length * dim).fill(-1);
    bagMaxima(w, bags, dim, out, counts, argmax);
    return { counts, argmax };
  }
  if (bags.weights !== null) {
    bagWeightedSums(w, bags, bags.weights, dim, out, counts);
  } else {
    // Sum and mean bags (the text models' case) have their own loop.
    bagSums(w as Float32Array, bags.idx, bags.offsets, bags.stops, dim, bags.pad, bags.mode === "mean", out as Float32Array, counts);
  }
  return { counts, argmax: null };
}

/**
 * The elementwise maximum of every bag's rows: the first row of the bag, then any strictly larger
 * value (as PyTorch's CPU kernel); `argmax` (filled with -1) gets the row each output came from.
 */
function bagMaxima(w: TypedArray, bags: Bags, dim: number, out: TypedArray, counts: Float64Array, argmax: Int32Array): void {
  const { idx, offsets, stops, pad } = bags;
  const acc = new Float64Array(dim);
  for (let b = 0; b < stops.length; b++) {
    const base = b * dim;
    acc.fill(-Infinity);
    let count = 0;
    for (let i = offsets[b], stop = stops[b]; i < stop; i++) {
      const id = idx[i];
      if (id === pad) continue;
      count++;
      const row = id * dim;
      for (let j = 0; j < dim; j++) {
        const v = w[row + j];
        if (argmax[base + j] < 0 || v > acc[j]) {
          acc[j] = v;
          argmax[base + j] = id;
        }
      }
    }
    counts[b] = count;
    if (count === 0) continue; // an empty bag is zeros
    for (let j = 0; j < dim; j++) out[base + j] = acc[j];
  }
}

/** The sum of every bag's rows, each times its index's weight, accumulated in doubles. */
function bagWeightedSums(w: TypedArray, bags: Bags, weights: TypedArray, dim: number, out: TypedArray, counts: Float64Array): void {
  const { idx, offsets, stops, pad } = bags;
  const acc = new Float64Array(dim);
  for (let b = 0; b < stops.length; b++) {
    acc.fill(0);
    let count = 0;
    for (let i = offsets[b], stop = stops[b]; i < stop; i++) {
      const id = idx[i];
      if (id === pad) continue;
      count++;
      const row = id * dim;
      const s = weights[i];
      for (let j = 0; j < dim; j++) acc[j] += s * w[row + j];
    }
    counts[b] = count;
    if (count === 0) continue; // an empty bag is zeros
    const base = b * dim;
    for (let j = 0; j < dim; j++) out[base + j] = acc[j];
  }
}

/**
 * The sum (or mean) of every bag's rows, `out[b] = sum_i w[idx[i]]` over the bag's non-padding
 * indices, accumulated in doubles and rounded once per output, as the other pooling loops do. The
 * running sums are kept in local variables, eight (then four, two, one) columns at a time, over
 * the bag's indices: a bag's rows stay in cache between those passes, and locals avoid the
 * load/store of a scratch array on every add (2-4x faster for the small dims text models use).
 * The typed-array parameter types are nominal: float64 tables go through the same code.
 */
function bagSums(
  w: Float32Array,
  idx: Int32Array,
  off: Int32Array,
  stops: Int32Array,
  dim: number,
  pad: number,
  mean: boolean,
  out: Float32Array,
  counts: Float64Array,
): void {
  for (let b = 0; b < stops.length; b++) {
    const start = off[b];
    const stop = stops[b];
    let count = 0;
    for (let i = start; i < stop; i++) if (idx[i] !== pad) count++;
    counts[b] = count;
    if (count === 0) continue; // an empty bag is zeros
    const scale = mean ? count : 1; // divided, not multiplied by 1 / count (which would round twice)
    const base = b * dim;
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let i = start; i < stop; i++) {
        const id = idx[i];
        if (id === pad) continue;
        const row = id * dim + j;
        a0 += w[row];
        a1 += w[row + 1];
        a2 += w[row + 2];
        a3 += w[row + 3];
        a4 += w[row + 4];
        a5 += w[row + 5];
        a6 += w[row + 6];
        a7 += w[row + 7];
      }
      out[base + j] = a0 / scale;
      out[base + j + 1] = a1 / scale;
      out[base + j + 2] = a2 / scale;
      out[base + j + 3] = a3 / scale;
      out[base + j + 4] = a4 / scale;
      out[base + j + 5] = a5 / scale;
      out[base + j + 6] = a6 / scale;
      out[base + j + 7] = a7 / scale;
    }
    for (; j + 4 <= dim; j += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = start; i < stop; i++) {
        const id = idx[i];
        if (id === pad) continue;
        const row = id * dim + j;
        a0 += w[row];
        a1 += w[row + 1];
        a2 += w[row + 2];
        a3 += w[row + 3];
      }
      out[base + j] = a0 / scale;
      out[base + j + 1] = a1 / scale;
      out[base + j + 2] = a2 / scale;
      out[base + j + 3] = a3 / scale;
    }
    for (; j + 2 <= dim; j += 2) {
      let a0 = 0;
      let a1 = 0;
      for (let i = start; i < stop; i++) {
        const id = idx[i];
        if (id === pad) continue;
        const row = id * dim + j;
        a0 += w[row];
        a1 += w[row + 1];
      }
      out[base + j] = a0 / scale;
      out[base + j + 1] = a1 / scale;
    }
    for (; j < dim; j++) {
      let a0 = 0;
      for (let i = start; i < stop; i++) {
        const id = idx[i];
        if (id !== pad) a0 += w[id * dim + j];
      }
      out[base + j] = a0 / scale;
    }
  }
}

/**
 * The backward of one bag of `bagSums`: `values[at[i] ..] += scale * g[b]` for each of its
 * indices (`at[i] < 0`: padding), in index order, so every compact row sees the same sequence of
 * rounded adds as a plain loop over the bag's indices would make; the bag's gradient is held in
 * locals, eight or four columns at a time.
 */
function bagGradRows(
  gv: Float32Array,
  base: number,
  scale: number,
  at: Int32Array,
  start: number,
  stop: number,
  dim: number,
  values: Float32Array,
): void {
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const g0 = scale * gv[base + j];
    const g1 = scale * gv[base + j + 1];
    const g2 = scale * gv[base + j + 2];
    const g3 = scale * gv[base + j + 3];
    const g4 = scale * gv[base + j + 4];
    const g5 = scale * gv[base + j + 5];
    const g6 = scale * gv[base + j + 6];
    const g7 = scale * gv[base + j + 7];
    for (let i = start; i < stop; i++) {
      const a = at[i] + j;
      if (a < j) continue; // padding
      values[a] += g0;
      values[a + 1] += g1;
      values[a + 2] += g2;
      values[a + 3] += g3;
      values[a + 4] += g4;
      values[a + 5] += g5;
      values[a + 6] += g6;
      values[a + 7] += g7;
    }
  }
  for (; j + 4 <= dim; j += 4) {
    const g0 = scale * gv[base + j];
    const g1 = scale * gv[base + j + 1];
    const g2 = scale * gv[base + j + 2];
    const g3 = scale * gv[base + j + 3];
    for (let i = start; i < stop; i++) {
      const a = at[i] + j;
      if (a < j) continue;
      values[a] += g0;
      values[a + 1] += g1;
      values[a + 2] += g2;
      values[a + 3] += g3;
    }
  }
  for (; j < dim; j++) {
    const g0 = scale * gv[base + j];
    for (let i = start; i < stop; i++) {
      const a = at[i];
      if (a >= 0) values[a + j] += g0;
    }
  }
}

/**
 * The weight's gradient from the output's gradient g (bags, dim): only the rows the bags used,
 * compact, in first-use order (`rows`), their gradients in `values` (rows.length x dim, of dtype).
 * Each row sees the adds of its bags in bag order: g[b] for a max's chosen elements, g[b] (over
 * the count for a mean) or weight * g[b] for a sum's indices.
 */
export function embeddingBagWeightGrad(
  g: TypedArray,
  bags: Bags,
  pooled: Pooled,
  numEmbeddings: number,
  dim: number,
  dtype: DType,
): { rows: Int32Array; values: TypedArray } {
  const slot = slotsFor(numEmbeddings);
  const rows = uniqueRows(pooled.argmax ?? bags.idx.subarray(0, bags.used), slot, bags.pad);
  try {
    const values = allocate(dtype, rows.length * dim);
    if (pooled.argmax !== null) maxGradRows(g, pooled.argmax, bags.stops.length, slot, dim, values);
    else if (bags.weights !== null) weightedGradRows(g, bags, bags.weights, slot, dim, values);
    else sumGradRows(g, bags, pooled.counts, slot, dim, values);
    return { rows, values };
  } finally {
    for (let k = 0; k < rows.length; k++) slot[rows[k]] = -1; // clean for the next batch
  }
}

/** Max bags: each output element's gradient goes to the row it came from. */
function maxGradRows(g: TypedArray, argmax: Int32Array, count: number, slot: Int32Array, dim: number, values: TypedArray): void {
  for (let b = 0; b < count; b++) {
    const base = b * dim;
    for (let j = 0; j < dim; j++) {
      const id = argmax[base + j];
      if (id >= 0) values[slot[id] * dim + j] += g[base + j];
    }
  }
}

/** Sum and mean bags: g[b] (over the bag's count for a mean) added to each of its rows, via `bagGradRows`. */
function sumGradRows(g: TypedArray, bags: Bags, counts: Float64Array, slot: Int32Array, dim: number, values: TypedArray): void {
  const { offsets, stops } = bags;
  const mean = bags.mode === "mean";
  // Each index's offset in `values`, looked up in the (large) slot table once.
  const at = compactOffsets(bags.idx, bags.used, slot, bags.pad, dim);
  for (let b = 0; b < stops.length; b++) {
    const scale = mean && counts[b] > 0 ? 1 / counts[b] : 1;
    bagGradRows(g as Float32Array, b * dim, scale, at, offsets[b], stops[b], dim, values as Float32Array);
  }
}

/** Weighted bags: weight * g[b] added to each of the bag's rows. */
function weightedGradRows(g: TypedArray, bags: Bags, weights: TypedArray, slot: Int32Array, dim: number, values: TypedArray): void {
  const { idx, offsets, stops, pad } = bags;
  for (let b = 0; b < stops.length; b++) {
    const base = b * dim;
    for (let i = offsets[b], stop = stops[b]; i < stop; i++) {
      const id = idx[i];
      if (id === pad) continue;
      const row = slot[id] * dim;
      const s = weights[i];
      for (let j = 0; j < dim; j++) values[row + j] += s * g[base + j];
    }
  }
}

/**
 * The per-sample weights' gradient into `out` (one per index): d out[b] / d weight[i] = w[idx[i]],
 * so it is that row dotted with g[b]; 0 for padding and for indices no bag uses.
 */
export function perSampleWeightGrad(g: TypedArray, w: TypedArray, bags: Bags, dim: number, out: TypedArray): void {
  const { idx, offsets, stops, pad } = bags;
  for (let b = 0; b < stops.length; b++) {
    const base = b * dim;
    for (let i = offsets[b], stop = stops[b]; i < stop; i++) {
      if (idx[i] === pad) continue;
      const row = idx[i] * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += g[base + j] * w[row + j];
      out[i] = s;
    }
  }
}

// ---- deduplication ----------------------------------------------------------------------------

/**
 * A map from row id to its position in the compact gradient being built, -1 where absent: the
 * rows of a batch are deduplicated with one look-up per index, whatever the table's size. One
 * buffer serves every table (grown to the largest); every entry is -1 again after each use, so
 * no state is left between calls and none hangs off a tensor.
 */
let slots = new Int32Array(0);

/** The slot map for a table of `rows` rows, all -1. */
function slotsFor(rows: number): Int32Array {
  if (slots.length < rows) slots = new Int32Array(rows).fill(-1);
  return slots;
}

/**
 * The distinct ids (skipping negatives and `skip`) in first-seen order, setting `slot[id]` to each
 * one's position; the caller resets those slots to -1 when done.
 */
function uniqueRows(ids: Int32Array, slot: Int32Array, skip: number): Int32Array {
  const rows = new Int32Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id >= 0 && id !== skip && slot[id] < 0) {
      slot[id] = n;
      rows[n++] = id;
    }
  }
  return rows.slice(0, n);
}

/** For the first `used` indices, the offset of their row in the compact gradient (-1 for padding). */
function compactOffsets(idx: Int32Array, used: number, slot: Int32Array, pad: number, dim: number): Int32Array {
  const at = new Int32Array(used);
  for (let i = 0; i < used; i++) {
    const id = idx[i];
    at[i] = id === pad ? -1 : slot[id] * dim;
  }
  return at;
}
