/**
 * A DataLoader that hands out row indices in batches, like PyTorch's DataLoader with a
 * sampler but without the collation: the caller turns each batch of rows into tensors
 * (with `toBagBatch`, for instance).
 */

import type { Generator } from "../random";
import { resolveGenerator } from "./split";

export interface DataLoaderOptions {
  /** Rows per batch (default 1, as in PyTorch). */
  batchSize?: number;
  /** Visit the rows in a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Seed of the loader's own generator; epochs are then reproducible run to run. */
  seed?: number;
  /** A generator to draw the epoch orders from (default: the library-wide generator). */
  generator?: Generator;
}

/**
 * Iterating the loader is one epoch: a sequence of Int32Array batches of row indices. Each
 * epoch with `shuffle` draws a fresh permutation from the generator, so epochs differ from
 * each other, and a loader with the same seed replays the same sequence of epochs.
 *
 * The source is either a row count n (rows 0..n-1) or the rows themselves, e.g. the `train`
 * indices of a split. Batches are views into that epoch's order array, which no other epoch
 * shares.
 */
export class DataLoader implements Iterable<Int32Array> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly rows: Int32Array;
  private readonly generator: Generator;

  constructor(source: number | ArrayLike<number>, options: DataLoaderOptions = {}) {
    if (typeof source === "number") {
      if (!Number.isInteger(source) || source < 0) {
        throw new Error(`DataLoader: dataset length must be an integer >= 0, got ${source}`);
      }
      this.rows = new Int32Array(source);
      for (let i = 0; i < source; i++) this.rows[i] = i;
    } else {
      this.rows = Int32Array.from(source);
    }
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${this.batchSize}`);
    }
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    if (options.seed !== undefined && options.generator !== undefined) {
      throw new Error("DataLoader: pass either seed or generator, not both");
    }
    this.generator = resolveGenerator(options.seed ?? options.generator);
  }

  /** Rows visited per epoch before dropLast. */
  get numRows(): number {
    return this.rows.length;
  }

  /** Batches per epoch (PyTorch's len(loader)). */
  get length(): number {
    const n = this.rows.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Int32Array> {
    const order = this.rows.slice();
    if (this.shuffle) this.generator.shuffle(order);
    const end = this.length * this.batchSize;
    for (let start = 0; start < order.length && start < end; start += this.batchSize) {
      yield order.subarray(start, Math.min(start + this.batchSize, order.length));
    }
  }
}
