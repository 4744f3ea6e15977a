import {
  DEFAULT_BUCKETS,
  LabelSet,
  Vocab,
  encodeDocuments,
  encodeTokens,
  fnv1a32,
  fnv1a32Update,
  hashNgram,
  numFeatures,
  toBagBatch,
  toCountMatrix,
  tokenize,
  tokenizeAll,
} from "../src/text";
import { Generator } from "../src/random";

describe("tokenize", () => {
  test("Unicode words, lower-cased, punctuation dropped", () => {
    expect(tokenize("Grüße, Zoë! 42 naïve")).toEqual(["grüße", "zoë", "42", "naïve"]);
  });

  test("NFC: a decomposed letter equals the precomposed one", () => {
    expect(tokenize("Zoe\u0308")).toEqual(["zo\u00eb"]);
    expect(tokenize("Zoe\u0308", { normalize: false })).toEqual(["zoe\u0308"]); // the mark stays in the word
  });

  test("other scripts, final sigma, dotted capital I", () => {
    expect(tokenize("Привет, мир! ΟΔΟΣ 東京 ١٢٣")).toEqual(["привет", "мир", "οδο\u03c2", "東京", "١٢٣"]);
    // "İ" lower-cases to "i" + U+0307; the combining mark must not split the word.
    expect(tokenize("İstanbul")).toEqual(["i\u0307stanbul"]);
  });

  test("apostrophes inside a word are kept (and ’ becomes '), quote marks are not", () => {
    expect(tokenize("Don’t say 'quote' at o'clock, rock'n'roll")).toEqual(["don't", "say", "quote", "at", "o'clock", "rock'n'roll"]);
  });

  test("hyphens, underscores, dots, @ separate tokens", () => {
    expect(tokenize("E-mail me@x.org: 3.14 snake_case")).toEqual(["e", "mail", "me", "x", "org", "3", "14", "snake", "case"]);
  });

  test("lowercase can be turned off; empty and symbol-only inputs give no tokens", () => {
    expect(tokenize("Hello World", { lowercase: false })).toEqual(["Hello", "World"]);
    expect(tokenize("")).toEqual([]);
    expect(tokenize("!!! --- ...")).toEqual([]);
  });

  test("maxTokens keeps the first tokens, on short and very long inputs", () => {
    expect(tokenize("a b c d e", { maxTokens: 3 })).toEqual(["a", "b", "c"]);
    expect(tokenize("a b", { maxTokens: 5 })).toEqual(["a", "b"]);
    expect(tokenize("a b", { maxTokens: 0 })).toEqual([]);
    const huge = "Word ".repeat(1_000_000);
    expect(tokenize(huge, { maxTokens: 10 })).toEqual(new Array(10).fill("word"));
    expect(() => tokenize("a", { maxTokens: -1 })).toThrow(/maxTokens/);
  });

  test("maxTokenLength cuts long tokens to their first characters, never inside a surrogate pair", () => {
    expect(tokenize("short Abcdefgh xy", { maxTokenLength: 4 })).toEqual(["shor", "abcd", "xy"]);
    expect(tokenize("x".repeat(5_000_000) + " tail", { maxTokenLength: 1024 })).toEqual(["x".repeat(1024), "tail"]);
    // "a𝐀b": the pair U+1D400 sits at code units 1-2; a cut at 2 would split it, so it is cut before.
    expect(tokenize("a\u{1D400}b", { maxTokenLength: 2, lowercase: false })).toEqual(["a"]);
    expect(tokenize("\u{1D400}b", { maxTokenLength: 1, lowercase: false })).toEqual(["\u{1D400}"]);
    expect(tokenize("a b c", { maxTokens: 2, maxTokenLength: 1 })).toEqual(["a", "b"]);
    expect(() => tokenize("a", { maxTokenLength: 0 })).toThrow(/maxTokenLength/);
  });

  test("tokenizeAll applies the same options to every document", () => {
    expect(tokenizeAll(["A b c", "D"], { maxTokens: 2 })).toEqual([["a", "b"], ["d"]]);
  });
});

describe("Vocab", () => {
  const docs = [
    ["the", "cat", "sat"],
    ["the", "dog"],
    ["a", "cat", "the"],
  ];

  test("ids by descending count, ties by first occurrence", () => {
    const v = Vocab.build(docs);
    expect(v.tokens).toEqual(["the", "cat", "sat", "dog", "a"]);
    expect(Array.from(v.counts)).toEqual([3, 2, 1, 1, 1]);
    expect(v.size).toBe(5);
    expect(v.idOf("dog")).toBe(3);
    expect(v.tokenOf(4)).toBe("a");
  });

  test("unknown tokens", () => {
    const v = Vocab.build(docs);
    expect(v.idOf("zebra")).toBe(-1);
    expect(v.has("zebra")).toBe(false);
    expect(() => v.tokenOf(5)).toThrow(RangeError);
    expect(() => v.tokenOf(-1)).toThrow(RangeError);
  });

  test("minCount and maxSize", () => {
    expect(Vocab.build(docs, { minCount: 2 }).tokens).toEqual(["the", "cat"]);
    expect(Vocab.build(docs, { maxSize: 3 }).tokens).toEqual(["the", "cat", "sat"]);
    expect(Vocab.build(docs, { minCount: 4 }).size).toBe(0);
  });

  test("toJSON / fromJSON round trip through a JSON string", () => {
    const v = Vocab.build(docs);
    const back = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.tokens).toEqual(v.tokens);
    expect(Array.from(back.counts)).toEqual(Array.from(v.counts));
    expect(back.idOf("sat")).toBe(2);
  });

  test("duplicate tokens are rejected", () => {
    expect(() => new Vocab(["a", "a"], [1, 1])).toThrow(/duplicate/);
  });
});

describe("n-gram hashing", () => {
  // Reference: FNV-1a over the bytes TextEncoder gives, written the textbook way.
  function referenceFnv(text: string): number {
    let h = 2166136261;
    for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 16777619) >>> 0;
    return h;
  }

  test("published FNV-1a 32 test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  test("hashes UTF-8 bytes, including 2-, 3-, 4-byte characters and lone surrogates", () => {
    for (const s of ["grüße zoë", "東京", "😀 ok", "a\ud800b", "\udc00", "x\ud83d"]) {
      expect(fnv1a32(s)).toBe(referenceFnv(s));
    }
    expect(fnv1a32("grüße zoë")).toBe(4058887417); // computed independently (Python)
  });

  test("an n-gram hashes as its words joined by one space; updates chain", () => {
    expect(hashNgram(["new", "york"])).toBe(fnv1a32("new york"));
    expect(hashNgram(["new", "york"])).toBe(46162376);
    expect(fnv1a32Update(fnv1a32("new "), "york")).toBe(46162376);
  });

  const vocab = new Vocab(["the", "cat", "sat"], [3, 2, 1]);
  const V = 3;

  test("words only with wordNgrams = 1", () => {
    expect(Array.from(encodeTokens(["the", "cat", "sat"], vocab))).toEqual([0, 1, 2]);
    expect(Array.from(encodeTokens(["the", "cat", "sat"], vocab, { wordNgrams: 1, buckets: 1000 }))).toEqual([0, 1, 2]);
  });

  test("bigrams with n = 2, bigrams and trigrams with n = 3 (stable ids)", () => {
    // fnv("the cat") % 1000 = 488, fnv("cat sat") % 1000 = 279, fnv("the cat sat") % 1000 = 532
    const two = encodeTokens(["the", "cat", "sat"], vocab, { wordNgrams: 2, buckets: 1000 });
    expect(Array.from(two)).toEqual([0, 1, 2, V + 488, V + 279]);
    const three = encodeTokens(["the", "cat", "sat"], vocab, { wordNgrams: 3, buckets: 1000 });
    expect(Array.from(three)).toEqual([0, 1, 2, V + 488, V + 532, V + 279]);
  });

  test("unknown words are dropped but still take part in n-grams", () => {
    expect(Array.from(encodeTokens(["the", "zebra", "cat"], vocab))).toEqual([0, 1]);
    // fnv("the zebra") % 1000 = 364, fnv("zebra cat") % 1000 = 55
    const ids = encodeTokens(["the", "zebra", "cat"], vocab, { wordNgrams: 2, buckets: 1000 });
    expect(Array.from(ids)).toEqual([0, 1, V + 364, V + 55]);
  });

  test("all ids fall in [0, V + buckets), n-gram ids in [V, V + buckets)", () => {
    const g = new Generator(3);
    const words = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const tokens = Array.from({ length: 500 }, () => words[g.randint(0, words.length)]);
    const v = Vocab.build([tokens.slice(0, 100)]);
    const buckets = 97;
    const ids = encodeTokens(tokens, v, { wordNgrams: 3, buckets });
    const known = tokens.filter((t) => v.has(t)).length;
    expect(ids.length).toBe(known + 499 + 498);
    for (let i = 0; i < ids.length; i++) {
      expect(ids[i]).toBeGreaterThanOrEqual(i < known ? 0 : v.size);
      expect(ids[i]).toBeLessThan(i < known ? v.size : v.size + buckets);
    }
  });

  test("short documents and sizes of the feature space", () => {
    expect(encodeTokens([], vocab, { wordNgrams: 2 }).length).toBe(0);
    expect(Array.from(encodeTokens(["cat"], vocab, { wordNgrams: 3 }))).toEqual([1]);
    expect(numFeatures(V)).toBe(V);
    expect(numFeatures(V, { wordNgrams: 2 })).toBe(V + DEFAULT_BUCKETS);
    expect(numFeatures(V, { wordNgrams: 2, buckets: 10 })).toBe(V + 10);
    expect(DEFAULT_BUCKETS).toBe(2 ** 21);
    expect(() => encodeTokens(["a"], vocab, { wordNgrams: 0 })).toThrow(/wordNgrams/);
    expect(() => numFeatures(V, { wordNgrams: 2, buckets: 0 })).toThrow(/buckets/);
  });

  test("encodeDocuments encodes each document", () => {
    const out = encodeDocuments([["the"], ["sat", "cat"]], vocab);
    expect(out.map((d) => Array.from(d))).toEqual([[0], [2, 1]]);
  });
});

describe("LabelSet", () => {
  const labels = ["ham", "spam", "spam", "eggs"];

  test("orders: first appearance (default), sorted, frequency", () => {
    expect(LabelSet.fromLabels(labels).names).toEqual(["ham", "spam", "eggs"]);
    expect(LabelSet.fromLabels(labels, { order: "sorted" }).names).toEqual(["eggs", "ham", "spam"]);
    expect(LabelSet.fromLabels(labels, { order: "frequency" }).names).toEqual(["spam", "ham", "eggs"]);
  });

  test("single-label encode / decode, indexOf, unknown labels", () => {
    const set = LabelSet.fromLabels(labels);
    const y = set.encode(["spam", "eggs", "ham"]);
    expect(y).toBeInstanceOf(Int32Array);
    expect(Array.from(y)).toEqual([1, 2, 0]);
    expect(set.decode(y)).toEqual(["spam", "eggs", "ham"]);
    expect(set.indexOf("eggs")).toBe(2);
    expect(set.indexOf("bacon")).toBe(-1);
    expect(set.size).toBe(3);
    expect(() => set.encode(["bacon"])).toThrow(/unknown label/);
    expect(() => set.nameOf(3)).toThrow(RangeError);
  });

  test("multi-label: multi-hot rows", () => {
    const set = LabelSet.fromLabels([["a", "b"], ["c"], []]);
    expect(set.names).toEqual(["a", "b", "c"]);
    const y = set.encodeMultiHot([["a", "b"], ["c"], [], ["c", "a", "c"]]);
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual([1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1]);
  });

  test("toJSON / fromJSON round trip", () => {
    const set = LabelSet.fromLabels(labels, { order: "sorted" });
    const back = LabelSet.fromJSON(JSON.parse(JSON.stringify(set)));
    expect(back.names).toEqual(["eggs", "ham", "spam"]);
    expect(back.indexOf("spam")).toBe(2);
  });
});

describe("batching", () => {
  const docs = [Int32Array.of(1, 2), Int32Array.of(3), Int32Array.of(), Int32Array.of(4, 5, 6)];

  test("toBagBatch concatenates in batch order with running offsets", () => {
    const { indices, offsets } = toBagBatch(docs, [3, 0, 2, 1]);
    expect(Array.from(indices)).toEqual([4, 5, 6, 1, 2, 3]);
    expect(Array.from(offsets)).toEqual([0, 3, 5, 5]);
    const one = toBagBatch(docs, Int32Array.of(1));
    expect(Array.from(one.indices)).toEqual([3]);
    expect(Array.from(one.offsets)).toEqual([0]);
    expect(() => toBagBatch(docs, [4])).toThrow(RangeError);
  });

  test("toCountMatrix counts features per row", () => {
    const withRepeats = [Int32Array.of(1, 1, 4), Int32Array.of(0, 4)];
    const m = toCountMatrix(withRepeats, [1, 0], 5);
    expect(m).toBeInstanceOf(Float32Array);
    expect(Array.from(m)).toEqual([1, 0, 0, 0, 1, 0, 2, 0, 0, 1]);
    expect(() => toCountMatrix(withRepeats, [0], 4)).toThrow(/out of range/);
  });
});
