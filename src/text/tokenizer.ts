/**
 * Word tokenizer for the text classifier.
 *
 * The rules, in order:
 * 1. Unicode NFC normalisation (option `normalize`, on by default), so that "Zoë" typed with a
 *    combining diaeresis and "Zoë" typed with the precomposed letter become the same token.
 * 2. Lower-casing with `String.prototype.toLowerCase`, which follows the Unicode default case
 *    mapping and ignores the host locale (a Turkish machine does not turn "I" into "ı").
 * 3. The typographic apostrophe ’ (U+2019) is replaced by the ASCII ' so "don’t" == "don't".
 * 4. A token is a maximal run of letters, digits and combining marks of any script, starting
 *    with a letter or digit. Runs joined by a single apostrophe stay one token ("don't",
 *    "o'clock", "l'homme"); an apostrophe used as a quote mark ('word') is dropped. Everything
 *    else separates tokens: spaces, punctuation, hyphens, underscores, "@", ".", so
 *    "e-mail" -> ["e", "mail"] and "3.14" -> ["3", "14"].
 *
 * Scripts written without spaces (Chinese, Japanese, Thai) come out as one token per run of
 * letters; that is a known limit of any regex word splitter and fine for the mail corpus.
 *
 * 5. With `maxTokenLength`, a longer token keeps its first `maxTokenLength` characters (never
 *    splitting a surrogate pair), so one huge run of letters cannot become a huge vocabulary entry.
 *
 * Speed: one `toLowerCase` and one regex scan per document, and the only per-token allocation
 * is the token string itself. `maxTokens` stops the scan early for very long inputs.
 */
import { checkOptions, optionKeys } from "../options";

/**
 * The token pattern. `\p{M}` is part of a word so that letters that lower-case into a
 * base letter plus a combining mark ("İ" -> "i̇") do not split.
 */
export const TOKEN_PATTERN = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:'[\p{L}\p{N}\p{M}]+)*/gu;

// A private copy of the pattern: a global regex carries `lastIndex`, and sharing the
// exported one would make tokenize() depend on whoever used it last.
const PATTERN = new RegExp(TOKEN_PATTERN.source, TOKEN_PATTERN.flags);

export interface TokenizeOptions {
  /** Lower-case the text first (default true). */
  lowercase?: boolean;
  /** Apply Unicode NFC normalisation first (default true). */
  normalize?: boolean;
  /** Keep at most this many tokens per document, the first ones (default: no limit). */
  maxTokens?: number;
  /** Cut longer tokens to their first this many UTF-16 code units (default: no limit). */
  maxTokenLength?: number;
}

const TOKENIZE_KEYS = optionKeys<TokenizeOptions>({ lowercase: true, normalize: true, maxTokens: true, maxTokenLength: true });

/** Splits one document into tokens following the rules in the module comment. */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  checkOptions("tokenize", options, TOKENIZE_KEYS);
  const maxTokenLength = options.maxTokenLength ?? Infinity;
  if (!(maxTokenLength >= 1)) throw new Error(`tokenize: maxTokenLength must be >= 1, got ${maxTokenLength}`);
  const tokens = scan(text, options);
  return maxTokenLength === Infinity ? tokens : capLengths(tokens, maxTokenLength);
}

function scan(text: string, options: TokenizeOptions): string[] {
  const maxTokens = options.maxTokens ?? Infinity;
  if (!(maxTokens >= 0)) throw new Error(`tokenize: maxTokens must be >= 0, got ${maxTokens}`);
  let s = text;
  if (options.normalize ?? true) s = s.normalize("NFC");
  if (options.lowercase ?? true) s = s.toLowerCase();
  if (s.includes("\u2019")) s = s.replace(/\u2019/g, "'");

  const re = PATTERN;
  // A document of L characters holds at most ceil(L / 2) tokens (each needs a separator), so
  // below that the cap cannot bite and `match` is used: it builds only the strings, where an
  // `exec` loop also builds a match object per token (about twice as slow on mail text).
  if (s.length < 2 * maxTokens) return s.match(re) ?? [];
  const tokens: string[] = [];
  if (maxTokens === 0) return tokens;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (tokens.push(m[0]) >= maxTokens) break;
  }
  return tokens;
}

/** Cuts, in place, every token longer than `max` code units, at a code point boundary. */
function capLengths(tokens: string[], max: number): string[] {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.length <= max) continue;
    // A pair cut in half would be a lone surrogate: cut before it (or, at 1, keep it whole).
    const highSurrogate = (t.charCodeAt(max - 1) & 0xfc00) === 0xd800;
    tokens[i] = t.slice(0, !highSurrogate ? max : max > 1 ? max - 1 : max + 1);
  }
  return tokens;
}

/** Tokenizes every document with the same options. */
export function tokenizeAll(texts: readonly string[], options: TokenizeOptions = {}): string[][] {
  const out = new Array<string[]>(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = tokenize(texts[i], options);
  return out;
}
