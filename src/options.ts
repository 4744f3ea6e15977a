/**
 * Options objects, strictly: PyTorch rejects a keyword argument it does not know, so every public
 * call that takes an options object checks it here, and a misspelt key (`ignore_index`, `lR`)
 * throws instead of being silently ignored. Imports nothing, so any layer may use it.
 */

/** The keys of an options type, listed once; TypeScript insists the list is complete and exact. */
export function optionKeys<T extends object>(keys: { [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/** How a JavaScript value is named in a message: number, string, boolean, undefined, null, Array, object... */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "Array";
  if (typeof v === "object") {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" && name !== "" ? name : "object";
  }
  return typeof v;
}

/** `ignore_index`, `IgnoreIndex` and `ignoreindex` all read as `ignoreindex`: the same key spelt another way. */
function normalized(key: string): string {
  return key.replace(/_/g, "").toLowerCase();
}

/** Levenshtein distance, for the nearest key to a misspelling. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = row;
  }
  return previous[b.length];
}

/** The known key `key` most likely meant: the same key in another case convention, else the closest spelling. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const same = known.find((k) => normalized(k) === normalized(key));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(normalized(key), normalized(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/**
 * Throws a TypeError unless `options` is undefined or a plain object whose every key is in
 * `known`: `CrossEntropyLoss(): unexpected option 'ignore_index' (did you mean 'ignoreIndex'?)`.
 * `call` is the call's name as the user wrote it (`CrossEntropyLoss`, `zeros`, `backward`).
 */
export function checkOptions(call: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options) || isTensorLike(options)) {
    throw new TypeError(`${call}(): expected an options object, not ${typeName(options)}`);
  }
  for (const key in options) {
    if (!known.includes(key)) throw unexpectedOption(call, key, known);
  }
}

function unexpectedOption(call: string, key: string, known: readonly string[]): TypeError {
  const near = nearestKey(key, known);
  const hint = near === undefined ? ` (it takes no options)` : ` (did you mean '${near}'?)`;
  return new TypeError(`${call}(): unexpected option '${key}'${hint}`);
}

/** A tensor, a typed array or anything else with a prototype of its own is data, not options. */
function isTensorLike(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto !== Object.prototype && proto !== null;
}

/** The options of a call whose last argument may be options or not: the options if it is a plain object. */
export function isOptionsObject<T>(v: T): v is Extract<T, object> & Exclude<T, readonly unknown[]> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isTensorLike(v);
}
