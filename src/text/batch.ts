/**
 * Mini-batches of encoded documents, in the two shapes a linear text model can take.
 *
 * - `toBagBatch`: the (indices, offsets) pair of PyTorch's `EmbeddingBag`: the batch's
 *   documents concatenated, and where each one starts. No padding, no wasted work.
 * - `toCountMatrix`: a dense (B, numFeatures) bag-of-features count matrix, for small feature
 *   spaces or for a plain `Linear` layer.
 */

export interface BagBatch {
  /** Feature ids of the batch's documents, concatenated in batch order. */
  indices: Int32Array;
  /** offsets[b] = where document b starts in `indices` (length B, starts at 0). */
  offsets: Int32Array;
}

function checkRow(row: number, numDocs: number): void {
  if (!Number.isInteger(row) || row < 0 || row >= numDocs) {
    throw new RangeError(`batch row ${row} is out of range [0, ${numDocs})`);
  }
}

/** Gathers `docs[rows[0]], docs[rows[1]], ...` into EmbeddingBag's (indices, offsets). */
export function toBagBatch(docs: readonly Int32Array[], rows: ArrayLike<number>): BagBatch {
  const B = rows.length;
  const offsets = new Int32Array(B);
  let total = 0;
  for (let b = 0; b < B; b++) {
    checkRow(rows[b], docs.length);
    offsets[b] = total;
    total += docs[rows[b]].length;
  }
  const indices = new Int32Array(total);
  for (let b = 0; b < B; b++) indices.set(docs[rows[b]], offsets[b]);
  return { indices, offsets };
}

/**
 * Row-major (B, numFeatures) counts: entry (b, f) = how many times feature f occurs in
 * document rows[b]. A feature id outside [0, numFeatures) is an error, not silently dropped.
 */
export function toCountMatrix(docs: readonly Int32Array[], rows: ArrayLike<number>, numFeatures: number): Float32Array {
  const B = rows.length;
  const out = new Float32Array(B * numFeatures);
  for (let b = 0; b < B; b++) {
    checkRow(rows[b], docs.length);
    const doc = docs[rows[b]];
    const base = b * numFeatures;
    for (let t = 0; t < doc.length; t++) {
      const f = doc[t];
      if (f < 0 || f >= numFeatures) {
        throw new RangeError(`toCountMatrix: feature id ${f} is out of range [0, ${numFeatures})`);
      }
      out[base + f] += 1;
    }
  }
  return out;
}
