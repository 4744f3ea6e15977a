/**
 * Documents as bags of feature ids: known words plus hashed word n-grams (fastText's
 * `-wordNgrams` and `-bucket`).
 *
 * Feature ids of a vocabulary of V words:
 * - [0, V): the words of the vocabulary (`vocab.idOf`);
 * - [V, V + buckets): word n-grams of 2..wordNgrams words, id = V + (hash % buckets).
 *
 * The n-gram hash is 32-bit FNV-1a over the UTF-8 bytes of the n words joined by one space
 * (U+0020, which never occurs inside a token): offset basis 2166136261, prime 16777619, the
 * result read as an unsigned 32-bit integer. So the bigram ("new", "york") hashes exactly like
 * the string "new york", and any other language can reproduce the ids from the same bytes.
 *
 * Words missing from the vocabulary are dropped as word features but still take part in
 * n-grams (fastText does the same with their hashes): "visit <rare-town> today" still
 * yields the bigrams "visit <rare-town>" and "<rare-town> today".
 *
 * Ids are emitted words first (in text order), then n-grams by start position and length,
 * as fastText's `addWordNgrams` does; a bag model does not care about the order.
 */

import type { Vocab } from "./vocab";
import { checkOptions } from "../options";

/** Default number of hash buckets: 2^21, close to fastText's 2,000,000. */
export const DEFAULT_BUCKETS = 1 << 21;

export const FNV_OFFSET_BASIS = 2166136261;
export const FNV_PRIME = 16777619;

export interface NgramOptions {
  /** Longest word n-gram: 1 = words only, 2 adds bigrams, 3 adds trigrams... (default 1). */
  wordNgrams?: number;
  /** Number of hash buckets for n-grams (default DEFAULT_BUCKETS). */
  buckets?: number;
}

/**
 * Continues a 32-bit FNV-1a hash over the UTF-8 encoding of `text`, without building the
 * bytes (a lone surrogate is hashed as U+FFFD, the way TextEncoder encodes it).
 */
export function fnv1a32Update(hash: number, text: string): number {
  let h = hash | 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
    } else if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const d = c < 0xdc00 && i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d < 0xe000) {
          // A surrogate pair: one code point above U+FFFF, four UTF-8 bytes.
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
          h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
          h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
          h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, unsigned. */
export function fnv1a32(text: string): number {
  return fnv1a32Update(FNV_OFFSET_BASIS, text);
}

const SPACE = 0x20;

/** The hash of an n-gram: FNV-1a of `words.join(" ")`. */
export function hashNgram(words: readonly string[]): number {
  let h = fnv1a32(words[0] ?? "");
  for (let k = 1; k < words.length; k++) {
    h = Math.imul(h ^ SPACE, FNV_PRIME);
    h = fnv1a32Update(h, words[k]);
  }
  return h >>> 0;
}

function resolve(options: NgramOptions, call: string): { wordNgrams: number; buckets: number } {
  checkOptions(call, options, ["wordNgrams", "buckets"]);
  const wordNgrams = options.wordNgrams ?? 1;
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  if (!Number.isInteger(wordNgrams) || wordNgrams < 1) {
    throw new Error(`wordNgrams must be an integer >= 1, got ${wordNgrams}`);
  }
  if (wordNgrams > 1 && (!Number.isInteger(buckets) || buckets < 1)) {
    throw new Error(`buckets must be an integer >= 1 when wordNgrams > 1, got ${buckets}`);
  }
  return { wordNgrams, buckets };
}

/**
 * Size of the feature space (the embedding table's row count): V words, plus the buckets
 * when n-grams are on (wordNgrams > 1); words-only models need no bucket rows.
 */
export function numFeatures(vocabSize: number, options: NgramOptions = {}): number {
  const { wordNgrams, buckets } = resolve(options, "numFeatures");
  return wordNgrams > 1 ? vocabSize + buckets : vocabSize;
}

/** One tokenized document -> its feature ids (see the module comment for the layout). */
export function encodeTokens(tokens: readonly string[], vocab: Vocab, options: NgramOptions = {}): Int32Array {
  const { wordNgrams, buckets } = resolve(options, "encodeTokens");
  const V = vocab.size;
  const T = tokens.length;
  let capacity = T;
  // Bounded by T too: an absurd wordNgrams must not cost a loop per document.
  for (let n = 2; n <= Math.min(wordNgrams, T); n++) capacity += T - n + 1;
  const out = new Int32Array(capacity);
  let len = 0;

  for (let t = 0; t < T; t++) {
    const id = vocab.idOf(tokens[t]);
    if (id >= 0) out[len++] = id;
  }
  if (wordNgrams > 1) {
    // FNV-1a runs left to right, so the hash of "a b c" continues the hash of "a b":
    // one pass per start position yields all its n-grams without building strings.
    for (let i = 0; i + 1 < T; i++) {
      let h = fnv1a32(tokens[i]);
      for (let k = 1; k < wordNgrams && i + k < T; k++) {
        h = Math.imul(h ^ SPACE, FNV_PRIME);
        h = fnv1a32Update(h, tokens[i + k]);
        out[len++] = V + (h % buckets);
      }
    }
  }
  return len === capacity ? out : out.slice(0, len);
}

/** Encodes every document with the same vocabulary and options. */
export function encodeDocuments(docs: readonly (readonly string[])[], vocab: Vocab, options: NgramOptions = {}): Int32Array[] {
  const out = new Array<Int32Array>(docs.length);
  for (let i = 0; i < docs.length; i++) out[i] = encodeTokens(docs[i], vocab, options);
  return out;
}
