/**
 * The safetensors format (Hugging Face), read and written without dependencies and without
 * the Tensor class: tensors here are plain typed arrays with a dtype and a shape.
 *
 * Layout of a file:
 *   8 bytes   N, the header length, an unsigned little-endian 64-bit integer
 *   N bytes   UTF-8 JSON: {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3],
 *             "data_offsets": [begin, end]}, ...}, starting with "{", padded with spaces so that
 *             the data that follows starts at a multiple of 8
 *   the rest  the byte buffer: each tensor row-major and little-endian, at [begin, end) relative
 *             to the buffer's start; the tensors cover the buffer exactly, with no gap or overlap
 *
 * Writing follows the reference implementation (the one behind Python's
 * `safetensors.torch.save_file`): compact JSON, `__metadata__` first when given, tensors ordered
 * by descending dtype alignment and then by name (so every tensor starts aligned to its element
 * size), header padded to 8 bytes. Reading checks every number in the header before using it
 * and reports the first problem as a one-line SafetensorsError naming the file.
 *
 * This module works on bytes and imports nothing from a runtime, so browsers and workers use it
 * as Node does. Files (saveSafetensors, loadSafetensors) are in safetensors.ts, for Node only;
 * they build on the planning, header checks and tensor decoding exported here for them only
 * (marked internal, so left out of the published types).
 *
 * torchlet keeps int64 tensors as integers in a Float64Array, exact up to 2^53 in magnitude: I64
 * data given as a Float64Array is written as real 64-bit integers (each value must be an integer
 * of at most 2^53: beyond, a double may already have rounded it), and I64 data is read back into a
 * Float64Array, a value beyond 2^53 refused with the tensor's name. Int32Array (widened) and
 * BigInt64Array (as is) are accepted for I64 on write too.
 */

export type SafeDtype = "F32" | "F64" | "I64" | "I32" | "BOOL" | "U8";

export interface RawTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface SafetensorsContents {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** The reference implementation refuses headers over this size (a guard against absurd lengths). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The most tensors a header may list. Real files hold thousands at most; the bound keeps a small
 * file of empty entries from making the reader build millions of objects.
 */
export const MAX_TENSORS = 100_000;

/** The deepest nesting of a header read (a valid one needs 3: the header, an entry, its shape). */
export const MAX_HEADER_DEPTH = 64;

const METADATA_KEY = "__metadata__";

interface DtypeInfo {
  /** Bytes per element in the file. */
  size: number;
  /** Position in the reference's dtype order (increasing alignment); writing sorts by it, descending. */
  rank: number;
  /** The typed arrays accepted on write (by their [[TypedArrayName]]). */
  accepts: readonly string[];
}

const DTYPES: Record<SafeDtype, DtypeInfo> = {
  BOOL: { size: 1, rank: 0, accepts: ["Uint8Array"] },
  U8: { size: 1, rank: 1, accepts: ["Uint8Array"] },
  I32: { size: 4, rank: 9, accepts: ["Int32Array"] },
  F32: { size: 4, rank: 11, accepts: ["Float32Array"] },
  F64: { size: 8, rank: 12, accepts: ["Float64Array"] },
  I64: { size: 8, rank: 13, accepts: ["Float64Array", "Int32Array", "BigInt64Array"] },
};

/** Dtypes the format defines that torchlet does not read (so the message can say which case it is). */
const OTHER_FORMAT_DTYPES = new Set([
  "I8",
  "I16",
  "U16",
  "F16",
  "BF16",
  "U32",
  "U64",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "C64",
]);

/** The most one read or write call moves: far below the 2 GiB a single system call takes. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

const SUPPORTED = "F32, F64, I64, I32, BOOL, U8";

/** Whether typed arrays here are little-endian, as the file is (then data is copied as bytes). @internal */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isSafeDtype(d: unknown): d is SafeDtype {
  return typeof d === "string" && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

/** A short, single-line rendering of a header value for error messages. */
function show(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch (err) {
    // A RangeError is a value nested too deeply to recurse into; String() would recurse too.
    s = err instanceof RangeError ? "a value nested too deeply to show" : String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A tensor or metadata name, quoted and escaped so that the message stays on one line. */
function quote(name: string): string {
  return show(name);
}

/** The typed array's constructor name, robust across realms (jest's vm contexts, Buffer). */
function typedArrayName(data: unknown): string {
  if (!ArrayBuffer.isView(data)) return data === null ? "null" : typeof data;
  return Object.prototype.toString.call(data).slice(8, -1);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Assigns an own enumerable property, even for names like "__proto__". @internal */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const utf8 = new TextEncoder();

/** Byte-wise order, a prefix first: how Rust orders UTF-8 strings, and so the reference's names. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The element count of a shape. @internal */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Writing

interface Planned {
  name: string;
  nameBytes: Uint8Array;
  tensor: RawTensor;
  numel: number;
}

/** A file to write: its first bytes (length, JSON, padding), then each tensor's data in order. @internal */
export interface Plan {
  prefix: Uint8Array;
  tensors: RawTensor[];
  dataBytes: number;
}

function checkTensorForWrite(name: string, tensor: unknown): Planned {
  const where = `tensor ${quote(name)}`;
  if (name === METADATA_KEY) {
    throw new SafetensorsError(`${where}: the name ${METADATA_KEY} is reserved for the metadata`);
  }
  if (!isPlainObject(tensor)) throw new SafetensorsError(`${where}: expected {dtype, shape, data}, got ${show(tensor)}`);
  const { dtype, shape, data } = tensor as unknown as RawTensor;
  if (!isSafeDtype(dtype)) {
    throw new SafetensorsError(`${where}: unknown dtype ${show(dtype)} (supported: ${SUPPORTED})`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw new SafetensorsError(`${where}: shape must be a list of non-negative integers, got ${show(shape)}`);
  }
  const kind = typedArrayName(data);
  const info = DTYPES[dtype];
  if (!info.accepts.includes(kind)) {
    throw new SafetensorsError(`${where}: ${dtype} data must be ${info.accepts.join(" or ")}, got ${kind}`);
  }
  const typed = data as RawTensor["data"];
  const numel = product(shape);
  if (typed.length !== numel) {
    throw new SafetensorsError(
      `${where}: data has ${typed.length} element${typed.length === 1 ? "" : "s"} but shape ${show(shape)} needs ${numel}`,
    );
  }
  if (dtype === "BOOL") {
    const bytes = typed as Uint8Array;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] > 1) throw new SafetensorsError(`${where}: BOOL data holds ${bytes[i]} at flat index ${i}; expected 0 or 1`);
    }
  }
  if (dtype === "I64" && kind === "Float64Array") checkExactIntegers(typed as Float64Array, where);
  return { name, nameBytes: utf8.encode(name), tensor: { dtype, shape: shape.slice(), data: typed }, numel };
}

/** The largest magnitude an I64 value has in torchlet (int64 storage is exact up to it), 2^53. */
const EXACT_LIMIT = 2 ** 53;

/** I64 data from a Float64Array: integers no larger than 2^53, which the file then holds exactly. */
function checkExactIntegers(values: Float64Array, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || Math.abs(v) > EXACT_LIMIT) {
      throw new SafetensorsError(
        `${where}: I64 value ${v} at flat index ${i} is not an integer of at most 2^53 in magnitude, the largest torchlet's int64 holds exactly`,
      );
    }
  }
}

function checkMetadataForWrite(metadata: unknown): Array<[string, string]> {
  if (!isPlainObject(metadata)) throw new SafetensorsError(`metadata must be an object of strings, got ${show(metadata)}`);
  const entries: Array<[string, string]> = [];
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (typeof value !== "string") {
      throw new SafetensorsError(
        `metadata value for ${quote(key)} must be a string, got ${value === null ? "null" : typeof value} ${show(value)}`,
      );
    }
    entries.push([key, value]);
  }
  // Sorted for byte-for-byte reproducible files (the reference writes a hash map's order).
  entries.sort((a, b) => compareBytes(utf8.encode(a[0]), utf8.encode(b[0])));
  return entries;
}

/**
 * Checks the tensors and metadata and lays out the file. Throws a SafetensorsError, before
 * anything is written, if a tensor's dtype, shape and data disagree, a metadata value is not a
 * string, or the header would be larger than readers accept.
 * @internal
 */
export function planSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Plan {
  if (!isPlainObject(tensors)) throw new SafetensorsError(`tensors must be an object of {dtype, shape, data}, got ${show(tensors)}`);
  const planned = Object.keys(tensors).map((name) => checkTensorForWrite(name, tensors[name]));
  const meta = metadata === undefined ? undefined : checkMetadataForWrite(metadata);

  planned.sort((a, b) => DTYPES[b.tensor.dtype].rank - DTYPES[a.tensor.dtype].rank || compareBytes(a.nameBytes, b.nameBytes));

  // The JSON is assembled by hand so that key order is ours (an object would move "0" first).
  const parts: string[] = [];
  if (meta !== undefined) {
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  }
  let offset = 0;
  for (const p of planned) {
    const end = offset + p.numel * DTYPES[p.tensor.dtype].size;
    parts.push(
      `${JSON.stringify(p.name)}:{"dtype":${JSON.stringify(p.tensor.dtype)},"shape":[${p.tensor.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers accept`);
  }
  const prefix = new Uint8Array(8 + headerLength);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerLength), true);
  prefix.set(json, 8);
  prefix.fill(0x20, 8 + json.length);
  return { prefix, tensors: planned.map((p) => p.tensor), dataBytes: offset };
}

/**
 * One tensor's bytes as the file holds them (little-endian; I64 from an Int32Array widened, from a
 * Float64Array split into its two 32-bit words), in
 * pieces of at most about `chunkBytes`. Data already in the file's layout is handed out as
 * views, not copied, so a table of several GiB is never duplicated.
 */
function* tensorBytes(t: RawTensor, chunkBytes: number): Generator<Uint8Array> {
  const { dtype, data } = t;
  const size = DTYPES[dtype].size;
  const source = typedArrayName(data);
  const widen = dtype === "I64" && source === "Int32Array";
  const fromDouble = dtype === "I64" && source === "Float64Array";
  if (!widen && !fromDouble && (HOST_LITTLE_ENDIAN || size === 1)) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, Math.min(at + chunkBytes, bytes.length));
    return;
  }
  const perChunk = Math.max(1, Math.floor(chunkBytes / size));
  for (let first = 0; first < data.length; first += perChunk) {
    const count = Math.min(perChunk, data.length - first);
    const out = new Uint8Array(count * size);
    const view = new DataView(out.buffer);
    for (let i = 0; i < count; i++) {
      const at = i * size;
      const k = first + i;
      if (widen) {
        // Int32 to int64: the low word, then the sign extension as the high word.
        const v = (data as Int32Array)[k];
        view.setInt32(at, v, true);
        view.setInt32(at + 4, v < 0 ? -1 : 0, true);
      } else if (fromDouble) {
        // An integer of at most 2^53 as two 32-bit words: no BigInt allocated per value.
        const v = (data as Float64Array)[k];
        const high = Math.floor(v / 2 ** 32);
        view.setUint32(at, v - high * 2 ** 32, true);
        view.setInt32(at + 4, high, true);
      } else if (dtype === "F32") view.setFloat32(at, (data as Float32Array)[k], true);
      else if (dtype === "F64") view.setFloat64(at, (data as Float64Array)[k], true);
      else if (dtype === "I32") view.setInt32(at, (data as Int32Array)[k], true);
      else view.setBigInt64(at, (data as BigInt64Array)[k], true);
    }
    yield out;
  }
}

/** Every byte of a planned file, in order, as pieces of at most about `chunkBytes`. @internal */
export function* fileBytes(plan: Plan, chunkBytes: number): Generator<Uint8Array> {
  yield plan.prefix;
  for (const t of plan.tensors) yield* tensorBytes(t, chunkBytes);
}

/**
 * Serialises tensors (and optional string metadata) to the bytes of a .safetensors file.
 * Throws a SafetensorsError, before producing anything, if a tensor's dtype, shape and data
 * disagree or a metadata value is not a string.
 */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const plan = planSafetensors(tensors, metadata);
  // A plain Uint8Array, not a Buffer: callers get what the signature says, in any runtime.
  const out = new Uint8Array(plan.prefix.length + plan.dataBytes);
  let at = 0;
  for (const piece of fileBytes(plan, DEFAULT_CHUNK_BYTES)) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One tensor as the header lists it, checked: offsets relative to the data's start. @internal */
export interface Entry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** What the header says: the metadata, and the tensors in data order, checked to tile the data. @internal */
export interface Layout {
  metadata: Record<string, string>;
  entries: Entry[];
  /** Where the data starts in the file: 8 + the header length. */
  dataStart: number;
}

function parseEntry(name: string, value: unknown, fail: (msg: string) => never): Entry {
  const where = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) fail(`${where}: header entry must be an object with dtype, shape and data_offsets, got ${show(value)}`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isSafeDtype(dtype)) {
    if (typeof dtype === "string" && OTHER_FORMAT_DTYPES.has(dtype)) {
      fail(`${where} has dtype ${dtype}, which torchlet does not read (supported: ${SUPPORTED})`);
    }
    fail(`${where} has unknown dtype ${show(dtype)} (supported: ${SUPPORTED})`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    fail(`${where}: shape must be a list of non-negative integers, got ${show(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]) {
    fail(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  const needed = product(shape) * DTYPES[dtype].size; // inexact only when far beyond any real span
  if (end - begin !== needed) {
    fail(`${where}: data_offsets ${show(offsets)} span ${end - begin} bytes but ${dtype} shape ${show(shape)} needs ${needed}`);
  }
  return { name, dtype, shape: shape.slice(), begin, end };
}

/**
 * The header length from the first 8 bytes, checked against the `available` bytes after them;
 * `firstHeaderByte` is the byte after the length (undefined in an 8-byte file).
 * @internal
 */
export function headerLength(
  declared: bigint,
  available: number,
  firstHeaderByte: number | undefined,
  fail: (msg: string) => never,
): number {
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`is not a safetensors file: its first 8 bytes give a header length of ${declared} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(declared);
  const looksLikeHeader = available > 0 && firstHeaderByte === 0x7b; // "{"
  if (n > available) {
    if (!looksLikeHeader) fail(`is not a safetensors file: header length ${n} exceeds the ${available} bytes that follow it`);
    fail(`truncated: header length says ${n} bytes of JSON header, file has ${available} after the length`);
  }
  if (n === 0) fail("is not a safetensors file: its header length is 0");
  if (!looksLikeHeader) fail(`is not a safetensors file: the header does not start with "{"`);
  return n;
}

/**
 * Refuses, before JSON.parse builds anything, a header nested deeper than any safetensors header
 * needs (so that neither the parser nor an error message recurses out of stack) or listing more
 * tensors than MAX_TENSORS (so that a small file cannot make the reader build a million objects).
 */
function checkHeaderShape(text: string, fail: (msg: string) => never): void {
  let depth = 0;
  let members = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: an escaped character never ends it.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_HEADER_DEPTH) fail(`header is nested more than ${MAX_HEADER_DEPTH} levels deep (a safetensors header needs 3)`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1 && ++members > MAX_TENSORS + 1) {
      fail(`header lists more than ${MAX_TENSORS} tensors`);
    }
  }
}

/** Parses and checks the header; `dataBytes` is how many bytes follow it in the file. @internal */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number, fail: (msg: string) => never): Layout {
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail("header is not valid UTF-8");
  }
  checkHeaderShape(text, fail);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (!isPlainObject(header)) fail(`header is not a JSON object`);
  const h = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const key of Object.keys(h)) {
    if (key === METADATA_KEY) {
      const m = h[key];
      if (m === null) continue; // what the reference writes for "no metadata" in some versions
      if (!isPlainObject(m)) fail(`${METADATA_KEY} must be an object of strings, got ${show(m)}`);
      for (const k of Object.keys(m as object)) {
        const v = (m as Record<string, unknown>)[k];
        if (typeof v !== "string") fail(`${METADATA_KEY} value for ${quote(k)} must be a string, got ${show(v)}`);
        setOwn(metadata, k, v as string);
      }
    } else {
      entries.push(parseEntry(key, h[key], fail));
    }
  }

  // The scan above allowed one more member for __metadata__; the count of tensors is exact here.
  if (entries.length > MAX_TENSORS) fail(`header lists more than ${MAX_TENSORS} tensors`);

  // The tensors must tile the buffer from 0, in offset order (empty tensors may share a position).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin > cursor) {
      fail(
        previous === undefined
          ? `gap: tensor ${quote(e.name)} begins at byte ${e.begin} of the data, but the first tensor must begin at 0`
          : `gap: tensor ${quote(previous.name)} ends at byte ${cursor} of the data but the next, ${quote(e.name)}, begins at ${e.begin}`,
      );
    }
    if (e.begin < cursor && previous !== undefined) {
      // Sorted by offsets, so `previous` is the non-empty tensor that e starts inside of.
      fail(
        `tensors ${quote(previous.name)} (bytes ${previous.begin}..${previous.end}) and ${quote(e.name)} (bytes ${e.begin}..${e.end}) overlap`,
      );
    }
    previous = e;
    cursor = e.end;
  }
  if (cursor > dataBytes) fail(`truncated: header says ${cursor} bytes of tensor data, file has ${dataBytes}`);
  if (cursor < dataBytes) {
    fail(`${dataBytes - cursor} trailing bytes after the last tensor: header says ${cursor} bytes of tensor data, file has ${dataBytes}`);
  }
  return { metadata, entries, dataStart: 8 + headerBytes.length };
}

/** A tensor from exactly its bytes in the file. @internal */
export function readTensor(src: Uint8Array, e: Entry, fail: (msg: string) => never): RawTensor {
  const numel = product(e.shape);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const where = `tensor ${quote(e.name)}`;
  switch (e.dtype) {
    case "U8":
      return { dtype: e.dtype, shape: e.shape, data: Uint8Array.from(src) };
    case "BOOL": {
      const data = Uint8Array.from(src);
      for (let i = 0; i < numel; i++) {
        if (data[i] > 1) fail(`${where}: BOOL byte ${data[i]} at flat index ${i} is not 0 or 1`);
      }
      return { dtype: e.dtype, shape: e.shape, data };
    }
    case "I64": {
      const data = new Float64Array(numel);
      for (let i = 0; i < numel; i++) {
        const high = view.getInt32(8 * i + 4, true);
        const low = view.getUint32(8 * i, true);
        // |value| <= 2^53 exactly when the high word is in [-2^21, 2^21), or is 2^21 over a zero low word.
        const exact = (high >= -(2 ** 21) && high < 2 ** 21) || (high === 2 ** 21 && low === 0);
        if (!exact) {
          fail(
            `${where}: I64 value ${view.getBigInt64(8 * i, true)} at flat index ${i} is beyond 2^53 in magnitude, which torchlet's int64 does not hold exactly`,
          );
        }
        data[i] = high * 2 ** 32 + low;
      }
      return { dtype: e.dtype, shape: e.shape, data };
    }
    case "F32":
    case "F64":
    case "I32": {
      const data = allocateNumeric(e.dtype, numel);
      if (HOST_LITTLE_ENDIAN) {
        // A copy, not a view: the source may sit at an offset that is not a multiple of the element size.
        new Uint8Array(data.buffer).set(src);
      } else {
        for (let i = 0; i < numel; i++) {
          if (e.dtype === "F32") data[i] = view.getFloat32(4 * i, true);
          else if (e.dtype === "F64") data[i] = view.getFloat64(8 * i, true);
          else data[i] = view.getInt32(4 * i, true);
        }
      }
      return { dtype: e.dtype, shape: e.shape, data };
    }
  }
}

/** A zeroed array for a tensor that is read straight into its own memory. @internal */
export function allocateNumeric(dtype: "F32" | "F64" | "I32", numel: number): Float32Array | Float64Array | Int32Array {
  return dtype === "F32" ? new Float32Array(numel) : dtype === "F64" ? new Float64Array(numel) : new Int32Array(numel);
}

/**
 * Parses the bytes of a .safetensors file. `source` (a file name) starts every error message.
 * Tensors come back in file order; I64 tensors come back as Float64Array (integers up to 2^53).
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<safetensors bytes>"): SafetensorsContents {
  const fail = failFor(source);
  if (!ArrayBuffer.isView(bytes) || typedArrayName(bytes) !== "Uint8Array") {
    fail(`expected the file's bytes as a Uint8Array, got ${typedArrayName(bytes)}`);
  }
  if (bytes.length < 8) fail(tooShort(bytes.length));
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  const n = headerLength(declared, bytes.length - 8, bytes[8], fail);
  const layout = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, fail);
  const tensors: Record<string, RawTensor> = {};
  for (const e of layout.entries) {
    setOwn(tensors, e.name, readTensor(bytes.subarray(layout.dataStart + e.begin, layout.dataStart + e.end), e, fail));
  }
  return { tensors, metadata: layout.metadata };
}

/** A reporter that throws a SafetensorsError starting with `source` (a file name). @internal */
export function failFor(source: string): (msg: string) => never {
  return (msg) => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
}

/** The message for input shorter than the 8-byte length that starts every file. @internal */
export function tooShort(length: number): string {
  return `is not a safetensors file: ${length} byte${length === 1 ? "" : "s"} long, shorter than the 8-byte header length`;
}
