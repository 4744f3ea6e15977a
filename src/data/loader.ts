/**
 * A DataLoader that hands out batches of rows. Over a TensorDataset it collates as PyTorch's
 * default collate does, yielding the batch's rows of each tensor stacked; over a row count or
 * a list of rows it yields the row indices, and the caller turns each batch into tensors (with
 * `toBagBatch`, for instance).
 */

import type { Generator } from "../random";
import type { Tensor } from "../tensor";
import { TensorDataset } from "./dataset";
import { resolveGenerator } from "./split";
import { checkOptions, optionKeys } from "../options";

/** What a loader reads from: a dataset, a row count n (rows 0..n-1), or the rows themselves. */
export type DataLoaderSource = TensorDataset | number | ArrayLike<number>;

/** A batch of a loader over S: stacked tensors for a TensorDataset, row indices otherwise. */
export type Batch<S extends DataLoaderSource> = S extends TensorDataset ? Tensor[] : Int32Array;

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

const DATA_LOADER_KEYS = optionKeys<DataLoaderOptions>({ batchSize: true, shuffle: true, dropLast: true, seed: true, generator: true });

/**
 * Iterating the loader is one epoch: a sequence of batches (see Batch). Each
 * epoch with `shuffle` draws a fresh permutation from the generator, so epochs differ from
 * each other, and a loader with the same seed replays the same sequence of epochs.
 *
 * The source is a TensorDataset, a row count n (rows 0..n-1) or the rows themselves, e.g. the
 * `train` indices of a split. Index batches are views into that epoch's order array, which no
 * other epoch shares.
 */
export class DataLoader<S extends DataLoaderSource = number | ArrayLike<number>> implements Iterable<Batch<S>> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /**
   * What the loader was made from (PyTorch's loader.dataset). Given rows are copied at
   * construction, so later changes to the array do not show in the batches.
   */
  readonly source: S;
  /** The dataset whose rows are collated, or null when the loader yields indices. */
  private readonly dataset: TensorDataset | null;
  private readonly rows: Int32Array;
  private readonly generator: Generator;

  constructor(source: S, options: DataLoaderOptions = {}) {
    checkOptions("DataLoader", options, DATA_LOADER_KEYS);
    this.source = source;
    this.dataset = source instanceof TensorDataset ? source : null;
    if (source instanceof TensorDataset) {
      this.rows = rowRange(source.length);
    } else if (typeof source === "number") {
      if (!Number.isInteger(source) || source < 0) {
        throw new Error(`DataLoader: dataset length must be an integer >= 0, got ${source}`);
      }
      this.rows = rowRange(source);
    } else {
      this.rows = Int32Array.from(source as ArrayLike<number>);
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

  *[Symbol.iterator](): Iterator<Batch<S>> {
    const order = this.rows.slice();
    if (this.shuffle) this.generator.shuffle(order);
    const end = this.length * this.batchSize;
    for (let start = 0; start < order.length && start < end; start += this.batchSize) {
      const rows = order.subarray(start, Math.min(start + this.batchSize, order.length));
      yield (this.dataset === null ? rows : this.dataset.rows(rows)) as Batch<S>;
    }
  }
}

function rowRange(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}
