/**
 * Vocabulary: the known words and their ids.
 *
 * Ids are dense in [0, size) and ordered by descending count, ties broken by first occurrence
 * in the training corpus, so the same corpus always gives the same ids (a Map keeps insertion
 * order, which is what makes "first occurrence" cheap to know).
 */
import { checkOptions } from "../options";

export interface VocabOptions {
  /** Keep words seen at least this many times (default 1). */
  minCount?: number;
  /** Keep at most this many words, the most frequent ones (default: no limit). */
  maxSize?: number;
}

/** The plain-object form saved inside a model file. */
export interface VocabJSON {
  tokens: string[];
  counts: number[];
}

export class Vocab {
  /** Token of each id. */
  readonly tokens: readonly string[];
  /** Training-corpus count of each id. */
  readonly counts: Uint32Array;
  private readonly ids: Map<string, number>;

  /** Takes tokens already in id order; `Vocab.build` is the usual way to make one. */
  constructor(tokens: readonly string[], counts: ArrayLike<number>) {
    if (tokens.length !== counts.length) {
      throw new Error(`Vocab: ${tokens.length} tokens but ${counts.length} counts`);
    }
    this.tokens = tokens.slice();
    this.counts = Uint32Array.from(counts);
    this.ids = new Map();
    for (let i = 0; i < tokens.length; i++) {
      if (this.ids.has(tokens[i])) throw new Error(`Vocab: duplicate token ${JSON.stringify(tokens[i])}`);
      this.ids.set(tokens[i], i);
    }
  }

  /** Counts the tokens of every document and keeps the frequent ones (see VocabOptions). */
  static build(docs: Iterable<readonly string[]>, options: VocabOptions = {}): Vocab {
    checkOptions("Vocab.build", options, ["minCount", "maxSize"]);
    const minCount = options.minCount ?? 1;
    const maxSize = options.maxSize ?? Infinity;
    if (!(maxSize >= 0)) throw new Error(`Vocab.build: maxSize must be >= 0, got ${maxSize}`);

    // Index of first occurrence -> count; the Map remembers first occurrence for us.
    const firstSeen = new Map<string, number>();
    const counts: number[] = [];
    for (const doc of docs) {
      for (const token of doc) {
        const i = firstSeen.get(token);
        if (i === undefined) {
          firstSeen.set(token, counts.length);
          counts.push(1);
        } else {
          counts[i]++;
        }
      }
    }
    const words = Array.from(firstSeen.keys());
    const kept: number[] = [];
    for (let i = 0; i < counts.length; i++) if (counts[i] >= minCount) kept.push(i);
    // Descending count; equal counts keep first-occurrence order (i is that order).
    kept.sort((a, b) => counts[b] - counts[a] || a - b);
    if (kept.length > maxSize) kept.length = maxSize;
    return new Vocab(
      kept.map((i) => words[i]),
      kept.map((i) => counts[i]),
    );
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of `token`, or -1 when it is not in the vocabulary. */
  idOf(token: string): number {
    const id = this.ids.get(token);
    return id === undefined ? -1 : id;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  tokenOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new RangeError(`Vocab.tokenOf: id ${id} is out of range [0, ${this.tokens.length})`);
    }
    return this.tokens[id];
  }

  toJSON(): VocabJSON {
    return { tokens: this.tokens.slice(), counts: Array.from(this.counts) };
  }

  static fromJSON(json: VocabJSON): Vocab {
    return new Vocab(json.tokens, json.counts);
  }
}
