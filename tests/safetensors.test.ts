import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  RawTensor,
  saveSafetensors,
  SafeDtype,
  SafetensorsError,
} from "../src/io/safetensors";

/** The exact bytes behind a typed array (so NaN payloads and -0 are compared too). */
function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** One tensor's entry in a safetensors header (the `__metadata__` entry is a map of strings instead). */
interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Splits an encoded file into its parts. */
function parts(bytes: Uint8Array): { n: number; headerText: string; header: Record<string, HeaderEntry>; data: Buffer } {
  const file = bytesOf(bytes);
  const n = Number(file.readBigUInt64LE(0));
  const headerText = file.subarray(8, 8 + n).toString("utf8");
  return { n, headerText, header: JSON.parse(headerText), data: file.subarray(8 + n) };
}

/** A file from a header (object or raw JSON text) and data bytes, padded as a writer would. */
function build(header: object | string, data: number[] | Uint8Array = []): Buffer {
  let json = typeof header === "string" ? header : JSON.stringify(header);
  while (Buffer.byteLength(json) % 8 !== 0) json += " ";
  const h = Buffer.from(json, "utf8");
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([n, h, Buffer.from(data)]);
}

function f32le(...values: number[]): number[] {
  return [...bytesOf(new Float32Array(values))];
}

/** The message of the SafetensorsError that `fn` throws (failing the test otherwise). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    const message = (err as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected a SafetensorsError, nothing was thrown");
}

function decodeError(bytes: Uint8Array): string {
  const message = errorOf(() => decodeSafetensors(bytes, "model.safetensors"));
  expect(message.startsWith("model.safetensors: ")).toBe(true);
  return message;
}

let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-safetensors-"));
});
afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("round trips", () => {
  const cases: Array<[string, RawTensor]> = [
    ["F32", { dtype: "F32", shape: [2, 3], data: new Float32Array([0, -0, 1.5, -2.25, NaN, Infinity]) }],
    ["F64", { dtype: "F64", shape: [3], data: new Float64Array([Math.PI, -1e300, Number.MIN_VALUE]) }],
    ["I32", { dtype: "I32", shape: [2, 2], data: new Int32Array([0, -1, 2147483647, -2147483648]) }],
    ["I64", { dtype: "I64", shape: [5], data: new Float64Array([0, 7, -2, -(2 ** 53), 2 ** 53]) }],
    ["BOOL", { dtype: "BOOL", shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) }],
    ["U8", { dtype: "U8", shape: [3], data: new Uint8Array([0, 128, 255]) }],
  ];

  test.each(cases)("%s", (_label, tensor) => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors({ t: tensor }));
    expect(metadata).toEqual({});
    expect(Object.keys(tensors)).toEqual(["t"]);
    const back = tensors.t;
    expect(back.dtype).toBe(tensor.dtype);
    expect(back.shape).toEqual(tensor.shape);
    expect(Object.prototype.toString.call(back.data)).toBe(Object.prototype.toString.call(tensor.data));
    expect(bytesOf(back.data)).toEqual(bytesOf(tensor.data));
  });

  test.each(["F32", "F64", "I32", "I64", "BOOL", "U8"] as SafeDtype[])("empty and scalar %s tensors", (dtype) => {
    const make = (n: number): RawTensor["data"] =>
      dtype === "F32"
        ? new Float32Array(n).fill(3)
        : dtype === "F64"
          ? new Float64Array(n).fill(3)
          : dtype === "I32"
            ? new Int32Array(n).fill(3)
            : dtype === "I64"
              ? new Float64Array(n).fill(3)
              : new Uint8Array(n).fill(1);
    const input: Record<string, RawTensor> = {
      empty: { dtype, shape: [0], data: make(0) },
      empty2d: { dtype, shape: [2, 0, 3], data: make(0) },
      scalar: { dtype, shape: [], data: make(1) },
    };
    const file = encodeSafetensors(input);
    const { tensors } = decodeSafetensors(file);
    expect(Object.keys(tensors).sort()).toEqual(["empty", "empty2d", "scalar"]);
    expect(tensors.empty.shape).toEqual([0]);
    expect(tensors.empty.data.length).toBe(0);
    expect(tensors.empty2d.shape).toEqual([2, 0, 3]);
    expect(tensors.empty2d.data.length).toBe(0);
    expect(tensors.scalar.shape).toEqual([]);
    expect(Array.from(tensors.scalar.data as ArrayLike<number>)).toEqual([dtype === "BOOL" || dtype === "U8" ? 1 : 3]);
    const { header } = parts(file);
    expect(header.scalar.shape).toEqual([]);
    expect(header.empty.data_offsets[0]).toBe(header.empty.data_offsets[1]);
  });

  test("an empty dictionary, and metadata alone", () => {
    expect(decodeSafetensors(encodeSafetensors({}))).toEqual({ tensors: {}, metadata: {} });
    expect(decodeSafetensors(encodeSafetensors({}, { a: "1" }))).toEqual({ tensors: {}, metadata: { a: "1" } });
  });

  test("I64 given as BigInt64Array is written as is, as Int32Array widened; both read back as Float64Array", () => {
    const values = [5n, -6n, 2147483648n, -(2n ** 53n)];
    const file = encodeSafetensors({ i: { dtype: "I64", shape: [4], data: new BigInt64Array(values) } });
    const back = decodeSafetensors(file).tensors.i;
    expect(back.data).toBeInstanceOf(Float64Array);
    expect(Array.from(back.data as Float64Array)).toEqual([5, -6, 2147483648, -(2 ** 53)]);
    expect(encodeSafetensors({ i: back })).toEqual(file);
    const widened = decodeSafetensors(encodeSafetensors({ i: { dtype: "I64", shape: [2], data: new Int32Array([-2147483648, 7]) } }));
    expect(widened.tensors.i.data).toEqual(new Float64Array([-2147483648, 7]));
  });

  test("typed arrays that are views into a larger buffer", () => {
    const big = new Float32Array([9, 1, 2, 3, 9]);
    const bytes = new Uint8Array([7, 0, 1, 1, 7]);
    const file = encodeSafetensors({
      f: { dtype: "F32", shape: [3], data: big.subarray(1, 4) },
      b: { dtype: "BOOL", shape: [3], data: bytes.subarray(1, 4) },
      u: { dtype: "U8", shape: [2], data: Buffer.from([250, 251]) },
    });
    const { tensors } = decodeSafetensors(file);
    expect(Array.from(tensors.f.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(tensors.b.data as Uint8Array)).toEqual([0, 1, 1]);
    expect(Array.from(tensors.u.data as Uint8Array)).toEqual([250, 251]);
  });

  test("decoding bytes that sit at an odd offset in their ArrayBuffer", () => {
    const file = encodeSafetensors({ x: { dtype: "F64", shape: [2], data: new Float64Array([1.25, -3]) } });
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const back = decodeSafetensors(shifted.subarray(3)).tensors.x;
    expect(Array.from(back.data as Float64Array)).toEqual([1.25, -3]);
  });

  test("metadata and awkward names survive", () => {
    const names = ["__proto__", "0", "layer.0.weight", "ü", "a\nb", ""];
    const input: Record<string, RawTensor> = {};
    names.forEach((name, i) => {
      Object.defineProperty(input, name, {
        value: { dtype: "F32", shape: [1], data: new Float32Array([i]) },
        enumerable: true,
      });
    });
    const metadata: Record<string, string> = { format: "pt", note: 'quote " and ✓', empty: "" };
    const back = decodeSafetensors(encodeSafetensors(input, metadata));
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors).sort()).toEqual([...names].sort());
    names.forEach((name, i) => {
      expect(Object.prototype.hasOwnProperty.call(back.tensors, name)).toBe(true);
      expect(Array.from(back.tensors[name].data as Float32Array)).toEqual([i]);
    });
    expect(Object.getPrototypeOf(back.tensors)).toBe(Object.prototype);
  });

  test("random dictionaries round-trip (property)", () => {
    const dtypes: SafeDtype[] = ["F32", "F64", "I32", "I64", "BOOL", "U8"];
    const tensorArb = fc
      .record({
        dtype: fc.constantFrom(...dtypes),
        shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        seed: fc.integer(),
      })
      .map(({ dtype, shape, seed }): RawTensor => {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => ((seed + i * 2654435761) | 0) % 1000);
        const data =
          dtype === "F32"
            ? Float32Array.from(values, (v) => v / 7)
            : dtype === "F64"
              ? Float64Array.from(values, (v) => v / 7)
              : dtype === "I32"
                ? Int32Array.from(values)
                : dtype === "I64"
                  ? Float64Array.from(values, (v) => v * 2 ** 40 + 0) // int64 has no -0
                  : dtype === "BOOL"
                    ? Uint8Array.from(values, (v) => v & 1)
                    : Uint8Array.from(values, (v) => v & 255);
        return { dtype, shape, data };
      });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), tensorArb, { maxKeys: 6 }),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
        (input, meta) => {
          fc.pre(!Object.prototype.hasOwnProperty.call(input, "__metadata__"));
          const file = encodeSafetensors(input, meta);
          const { n } = parts(file);
          expect((8 + n) % 8).toBe(0);
          const back = decodeSafetensors(file);
          expect(back.metadata).toEqual({ ...meta });
          expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(input).sort());
          for (const name of Object.keys(input)) {
            expect(back.tensors[name].dtype).toBe(input[name].dtype);
            expect(back.tensors[name].shape).toEqual(input[name].shape);
            expect(bytesOf(back.tensors[name].data)).toEqual(bytesOf(input[name].data));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("byte layout", () => {
  test("length prefix, JSON header, 8-byte alignment, order, offsets, metadata", () => {
    const file = encodeSafetensors(
      {
        "b.weight": { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) },
        "a.weight": { dtype: "F32", shape: [1, 1], data: new Float32Array([3]) },
        labels: { dtype: "I64", shape: [2], data: new Int32Array([-2, 1]) },
        mask: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
        "0": { dtype: "U8", shape: [1], data: new Uint8Array([42]) },
        d: { dtype: "F64", shape: [], data: new Float64Array([0.5]) },
        i: { dtype: "I32", shape: [1], data: new Int32Array([-1]) },
      },
      { format: "pt", epoch: "3" },
    );
    const { n, headerText, header, data } = parts(file);
    expect(bytesOf(file).readBigUInt64LE(0)).toBe(BigInt(n));
    expect(n % 8).toBe(0);
    expect(headerText.startsWith('{"__metadata__":{"epoch":"3","format":"pt"},')).toBe(true);
    expect(headerText.trimEnd().endsWith("}")).toBe(true);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    expect(headerText.length - headerText.trimEnd().length).toBeLessThan(8);
    expect(header.__metadata__).toEqual({ format: "pt", epoch: "3" });

    // Descending dtype alignment (I64, F64, F32, I32, U8, BOOL), then name: what the reference writes.
    // Read the order from the text: JSON.parse would move the integer-like key "0" first.
    const order = Object.keys(header)
      .filter((k) => k !== "__metadata__")
      .sort((a, b) => headerText.indexOf(`${JSON.stringify(a)}:{`) - headerText.indexOf(`${JSON.stringify(b)}:{`));
    expect(order).toEqual(["labels", "d", "a.weight", "b.weight", "i", "0", "mask"]);
    expect(header.labels).toEqual({ dtype: "I64", shape: [2], data_offsets: [0, 16] });
    expect(header.d).toEqual({ dtype: "F64", shape: [], data_offsets: [16, 24] });
    expect(header["a.weight"]).toEqual({ dtype: "F32", shape: [1, 1], data_offsets: [24, 28] });
    expect(header["b.weight"]).toEqual({ dtype: "F32", shape: [2], data_offsets: [28, 36] });
    expect(header.i).toEqual({ dtype: "I32", shape: [1], data_offsets: [36, 40] });
    expect(header["0"]).toEqual({ dtype: "U8", shape: [1], data_offsets: [40, 41] });
    expect(header.mask).toEqual({ dtype: "BOOL", shape: [3], data_offsets: [41, 44] });
    expect(data.length).toBe(44);

    // Int32Array widened to little-endian int64 with sign extension.
    expect([...data.subarray(0, 16)]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(data.readDoubleLE(16)).toBe(0.5);
    expect(data.readFloatLE(24)).toBe(3);
    expect(data.readFloatLE(28)).toBe(1);
    expect(data.readFloatLE(32)).toBe(2);
    expect(data.readInt32LE(36)).toBe(-1);
    expect(data[40]).toBe(42);
    expect([...data.subarray(41)]).toEqual([1, 0, 1]);
  });

  test("names sort by UTF-8 bytes within a dtype (as Rust's string order)", () => {
    const t = (): RawTensor => ({ dtype: "U8", shape: [0], data: new Uint8Array(0) });
    // U+FF5E sorts after U+1F600 in UTF-16 code units but before it in UTF-8 bytes.
    const { headerText } = parts(encodeSafetensors({ "\u{1F600}": t(), "\uFF5E": t(), B: t(), a: t() }));
    const at = (name: string): number => headerText.indexOf(`"${name}":{`);
    expect([at("B"), at("a"), at("\uFF5E"), at("\u{1F600}")].every((p, i, all) => p >= 0 && (i === 0 || p > all[i - 1]))).toBe(true);
  });

  test("the output is deterministic regardless of insertion order", () => {
    const w = { dtype: "F32", shape: [1], data: new Float32Array([1]) } as RawTensor;
    const v = { dtype: "I32", shape: [1], data: new Int32Array([1]) } as RawTensor;
    expect(encodeSafetensors({ w, v }, { x: "1", y: "2" })).toEqual(encodeSafetensors({ v, w }, { y: "2", x: "1" }));
  });
});

describe("known files", () => {
  // Byte-for-byte outputs of the reference implementation's serializer (its own test vectors).
  test("one F32 tensor, header exactly 64 bytes so no padding", () => {
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64);
    const expected = Buffer.from([64, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from(json), ...f32le(0, 1, 2, 3, 4, 5)]);
    const tensor: RawTensor = { dtype: "F32", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) };
    expect(encodeSafetensors({ "attn.0": tensor })).toEqual(expected);
    const { tensors, metadata } = decodeSafetensors(expected);
    expect(metadata).toEqual({});
    expect(tensors["attn.0"].shape).toEqual([1, 2, 3]);
    expect(Array.from(tensors["attn.0"].data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("one F32 tensor whose header needs 7 spaces of padding", () => {
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const expected = Buffer.from([72, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from(json + " ".repeat(7)), ...f32le(0, 1, 2, 3, 4, 5)]);
    const tensor: RawTensor = { dtype: "F32", shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) };
    expect(encodeSafetensors({ attn0: tensor })).toEqual(expected);
    expect(decodeSafetensors(expected).tensors.attn0.shape).toEqual([1, 1, 2, 3]);
  });

  test("no tensors, with and without metadata", () => {
    expect(encodeSafetensors({})).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from("{}      ")]));
    const withMeta = Buffer.from([40, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]);
    expect(encodeSafetensors({}, { framework: "pt" })).toEqual(withMeta);
    expect(decodeSafetensors(withMeta)).toEqual({ tensors: {}, metadata: { framework: "pt" } });
  });

  test("a hand-built file like save_file({'b': int64 [1, -2], 'a': float32 [[0.5]]}, metadata={'format': 'pt'})", () => {
    const json =
      '{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},' +
      '"a":{"dtype":"F32","shape":[1,1],"data_offsets":[16,20]}}';
    const header = Buffer.from(json + " ".repeat((8 - (json.length % 8)) % 8));
    const bytes = Buffer.from([
      header.length,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...header,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // 1
      0xfe,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff, // -2
      0,
      0,
      0,
      0x3f, // 0.5f
    ]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: "pt" });
    expect(Object.keys(tensors)).toEqual(["b", "a"]); // file order
    expect(tensors.b).toEqual({ dtype: "I64", shape: [2], data: new Float64Array([1, -2]) });
    expect(tensors.a).toEqual({ dtype: "F32", shape: [1, 1], data: new Float32Array([0.5]) });
    expect(encodeSafetensors(tensors, metadata)).toEqual(bytes);
  });

  test("a header in another writer's style: spaces, tensors in any order, null metadata", () => {
    const bytes = build(
      '{ "w": {"shape": [2], "dtype": "U8", "data_offsets": [1, 3]},\n "v": {"dtype": "U8", "shape": [], "data_offsets": [0, 1]}, "__metadata__": null }',
      [9, 8, 7],
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(Object.keys(tensors)).toEqual(["v", "w"]);
    expect(Array.from(tensors.v.data as Uint8Array)).toEqual([9]);
    expect(Array.from(tensors.w.data as Uint8Array)).toEqual([8, 7]);
  });
});

describe("validation on read", () => {
  const ok = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };

  test("files shorter than 8 bytes", () => {
    expect(decodeError(new Uint8Array(0))).toMatch(/is not a safetensors file: 0 bytes long/);
    expect(decodeError(Buffer.from("{}\n"))).toMatch(/is not a safetensors file: 3 bytes long/);
  });

  test("a text file", () => {
    const text = Buffer.from("hello, this is a README and not a model at all\n");
    expect(decodeError(text)).toMatch(/^model\.safetensors: is not a safetensors file/);
    expect(decodeError(Buffer.from('{"a": 1, "b": [1, 2, 3]}\n'))).toMatch(/is not a safetensors file/);
  });

  test("absurd header length", () => {
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(100_000_001n);
    expect(decodeError(bytes)).toMatch(/is not a safetensors file: .*header length of 100000001 bytes, over the 100000000-byte limit/);
    bytes.writeBigUInt64LE(2n ** 64n - 1n);
    expect(decodeError(bytes)).toMatch(/18446744073709551615/);
  });

  test("header length larger than the file", () => {
    const whole = build(ok, f32le(1, 2));
    expect(decodeError(whole.subarray(0, 20))).toMatch(
      /truncated: header length says \d+ bytes of JSON header, file has 12 after the length/,
    );
    const bytes = Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x20]);
    expect(decodeError(bytes)).toMatch(/is not a safetensors file: header length 200 exceeds the 2 bytes that follow it/);
  });

  test("header that does not start with { or is empty", () => {
    expect(decodeError(build("[1, 2, 3]"))).toMatch(/is not a safetensors file: the header does not start with "\{"/);
    expect(decodeError(build(" {}"))).toMatch(/does not start with/);
    expect(decodeError(Buffer.alloc(8))).toMatch(/is not a safetensors file: its header length is 0/);
  });

  test("header not valid UTF-8", () => {
    const bytes = build('{"x":1}');
    bytes[10] = 0xff;
    expect(decodeError(bytes)).toBe("model.safetensors: header is not valid UTF-8");
  });

  test("header not valid JSON", () => {
    expect(decodeError(build('{"x": {"dtype": "F32",'))).toMatch(/header is not valid JSON: /);
  });

  test("header entry not an object", () => {
    expect(decodeError(build({ x: [1, 2] }))).toMatch(/tensor "x": header entry must be an object/);
  });

  test("unknown and unsupported dtypes", () => {
    expect(decodeError(build({ x: { dtype: "F33", shape: [1], data_offsets: [0, 4] } }, f32le(1)))).toBe(
      'model.safetensors: tensor "x" has unknown dtype "F33" (supported: F32, F64, I64, I32, BOOL, U8)',
    );
    expect(decodeError(build({ x: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, f32le(1)))).toMatch(
      /tensor "x" has dtype F16, which torchlet does not read/,
    );
    expect(decodeError(build({ x: { shape: [1], data_offsets: [0, 4] } }, f32le(1)))).toMatch(/unknown dtype undefined/);
  });

  test.each([[[2, -1]], [[1.5]], ["2"], [[2, "3"]], [null], [[2 ** 53]]])("shape %j", (shape) => {
    expect(decodeError(build({ x: { dtype: "F32", shape, data_offsets: [0, 8] } }, f32le(1, 2)))).toMatch(
      /tensor "x": shape must be a list of non-negative integers, got /,
    );
  });

  test.each([[[0]], [[0, 8, 16]], [[8, 0]], [[0, -8]], [[0, 8.5]], ["0,8"], [undefined]])("data_offsets %j", (offsets) => {
    expect(decodeError(build({ x: { dtype: "F32", shape: [2], data_offsets: offsets } }, f32le(1, 2)))).toMatch(
      /tensor "x": data_offsets must be \[begin, end\] with 0 <= begin <= end, got /,
    );
  });

  test("data_offsets that disagree with dtype size × numel", () => {
    expect(decodeError(build({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32le(1, 2)))).toBe(
      'model.safetensors: tensor "x": data_offsets [0,8] span 8 bytes but F32 shape [3] needs 12',
    );
    expect(decodeError(build({ x: { dtype: "I64", shape: [2], data_offsets: [0, 8] } }, f32le(1, 2)))).toMatch(/needs 16/);
    // An absurd shape is caught here, before any allocation.
    expect(decodeError(build({ x: { dtype: "F64", shape: [1e9, 1e9], data_offsets: [0, 8] } }, f32le(1, 2)))).toMatch(
      /span 8 bytes but F64 shape \[1000000000,1000000000\] needs/,
    );
  });

  test("data_offsets beyond the buffer", () => {
    expect(decodeError(build({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f32le(1, 2)))).toBe(
      "model.safetensors: truncated: header says 16 bytes of tensor data, file has 8",
    );
  });

  test("overlapping tensors", () => {
    const header = {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    };
    expect(decodeError(build(header, f32le(1, 2, 3)))).toBe('model.safetensors: tensors "a" (bytes 0..8) and "b" (bytes 4..12) overlap');
    const same = { a: ok.x, b: ok.x };
    expect(decodeError(build(same, f32le(1, 2)))).toMatch(/"a" \(bytes 0\.\.8\) and "b" \(bytes 0\.\.8\) overlap/);
    const emptyInside = { a: ok.x, e: { dtype: "F32", shape: [0], data_offsets: [4, 4] } };
    expect(decodeError(build(emptyInside, f32le(1, 2)))).toMatch(/overlap/);
  });

  test("gaps between tensors or before the first", () => {
    const header = {
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
    };
    expect(decodeError(build(header, f32le(1, 2, 3)))).toBe(
      'model.safetensors: gap: tensor "a" ends at byte 4 of the data but the next, "b", begins at 8',
    );
    const late = { a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } };
    expect(decodeError(build(late, f32le(1, 2)))).toMatch(
      /gap: tensor "a" begins at byte 4 of the data, but the first tensor must begin at 0/,
    );
  });

  test("empty tensors may share an offset with their neighbours", () => {
    const header = {
      e1: { dtype: "F32", shape: [0], data_offsets: [0, 0] },
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      e2: { dtype: "I64", shape: [3, 0], data_offsets: [4, 4] },
      e3: { dtype: "U8", shape: [0], data_offsets: [4, 4] },
    };
    const { tensors } = decodeSafetensors(build(header, f32le(5)));
    expect(Array.from(tensors.a.data as Float32Array)).toEqual([5]);
    expect(tensors.e2.shape).toEqual([3, 0]);
  });

  test("__metadata__ values that are not strings", () => {
    expect(decodeError(build({ __metadata__: { epoch: 3 }, ...ok }, f32le(1, 2)))).toBe(
      'model.safetensors: __metadata__ value for "epoch" must be a string, got 3',
    );
    expect(decodeError(build({ __metadata__: ["a"] }))).toMatch(/__metadata__ must be an object of strings, got \["a"\]/);
    expect(decodeError(build({ __metadata__: { nested: { a: "b" } } }))).toMatch(/must be a string, got \{"a":"b"\}/);
  });

  test("trailing bytes beyond the last tensor", () => {
    expect(decodeError(build(ok, [...f32le(1, 2), 0, 0]))).toBe(
      "model.safetensors: 2 trailing bytes after the last tensor: header says 8 bytes of tensor data, file has 10",
    );
    expect(decodeError(build({}, [1]))).toMatch(/1 trailing bytes/);
  });

  test("a truncated file", () => {
    const full = encodeSafetensors({ w: { dtype: "U8", shape: [1234], data: new Uint8Array(1234) } });
    const { n } = parts(full);
    expect(decodeError(full.subarray(0, 8 + n + 1000))).toBe(
      "model.safetensors: truncated: header says 1234 bytes of tensor data, file has 1000",
    );
  });

  test("I64 values beyond 2^53, which torchlet's int64 does not hold exactly", () => {
    const data = Buffer.alloc(16);
    const ids = (second: bigint): string => {
      data.writeBigInt64LE(1n, 0);
      data.writeBigInt64LE(second, 8);
      return decodeError(build({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data));
    };
    expect(ids(2n ** 53n + 1n)).toBe(
      'model.safetensors: tensor "ids": I64 value 9007199254740993 at flat index 1 is beyond 2^53 in magnitude, which torchlet\'s int64 does not hold exactly',
    );
    expect(ids(-(2n ** 53n) - 1n)).toMatch(/I64 value -9007199254740993 at flat index 1 is beyond 2\^53/);
    expect(ids(2n ** 63n - 1n)).toMatch(/I64 value 9223372036854775807 at flat index 1/);
    expect(ids(-(2n ** 63n))).toMatch(/I64 value -9223372036854775808 at flat index 1/);
    // The bounds themselves, and a low word with its top bit set, are exact.
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 32n + 2n ** 31n, -(2n ** 32n) - 5n]) {
      data.writeBigInt64LE(v, 8);
      const back = decodeSafetensors(build({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data)).tensors.ids;
      expect(Array.from(back.data as Float64Array)).toEqual([1, Number(v)]);
    }
  });

  test("BOOL bytes other than 0 and 1", () => {
    expect(decodeError(build({ m: { dtype: "BOOL", shape: [2], data_offsets: [0, 2] } }, [1, 2]))).toBe(
      'model.safetensors: tensor "m": BOOL byte 2 at flat index 1 is not 0 or 1',
    );
  });

  test("a default source when none is given", () => {
    expect(errorOf(() => decodeSafetensors(new Uint8Array(3)))).toMatch(/^<safetensors bytes>: /);
  });
});

describe("validation on write", () => {
  const bad = (tensor: unknown): string => errorOf(() => encodeSafetensors({ w: tensor as RawTensor }));

  test("data length that disagrees with the shape", () => {
    expect(bad({ dtype: "F32", shape: [2, 3], data: new Float32Array(5) })).toBe('tensor "w": data has 5 elements but shape [2,3] needs 6');
    expect(bad({ dtype: "F32", shape: [], data: new Float32Array(0) })).toMatch(/needs 1/);
  });

  test("typed array that does not match the dtype", () => {
    expect(bad({ dtype: "F32", shape: [2], data: new Float64Array(2) })).toBe(
      'tensor "w": F32 data must be Float32Array, got Float64Array',
    );
    expect(bad({ dtype: "I64", shape: [2], data: [1, 2] })).toMatch(
      /I64 data must be Float64Array or Int32Array or BigInt64Array, got object/,
    );
    expect(bad({ dtype: "U8", shape: [2], data: new Int8Array(2) })).toMatch(/got Int8Array/);
  });

  test("I64 from a Float64Array: integers of at most 2^53, written as real 64-bit integers", () => {
    expect(bad({ dtype: "I64", shape: [2], data: new Float64Array([1, 2 ** 53 + 2]) })).toBe(
      'tensor "w": I64 value 9007199254740994 at flat index 1 is not an integer of at most 2^53 in magnitude, the largest torchlet\'s int64 holds exactly',
    );
    expect(bad({ dtype: "I64", shape: [1], data: new Float64Array([0.5]) })).toMatch(/I64 value 0.5 at flat index 0 is not an integer/);
    expect(bad({ dtype: "I64", shape: [1], data: new Float64Array([NaN]) })).toMatch(/I64 value NaN at flat index 0/);
    const file = encodeSafetensors({ w: { dtype: "I64", shape: [3], data: new Float64Array([2 ** 53, -(2 ** 53), -1]) } });
    const { data } = parts(file);
    expect([data.readBigInt64LE(0), data.readBigInt64LE(8), data.readBigInt64LE(16)]).toEqual([2n ** 53n, -(2n ** 53n), -1n]);
  });

  test("bad dtype, shape, BOOL values, reserved name, metadata", () => {
    expect(bad({ dtype: "F16", shape: [1], data: new Uint8Array(2) })).toMatch(/unknown dtype "F16"/);
    expect(bad({ dtype: "F32", shape: [-1], data: new Float32Array(0) })).toMatch(/shape must be a list of non-negative integers/);
    expect(bad({ dtype: "BOOL", shape: [2], data: new Uint8Array([1, 5]) })).toMatch(/BOOL data holds 5 at flat index 1/);
    expect(bad(null)).toMatch(/expected \{dtype, shape, data\}/);
    const t: RawTensor = { dtype: "U8", shape: [0], data: new Uint8Array(0) };
    expect(errorOf(() => encodeSafetensors({ __metadata__: t }))).toMatch(/reserved/);
    expect(errorOf(() => encodeSafetensors({}, { epoch: 3 as unknown as string }))).toBe(
      'metadata value for "epoch" must be a string, got number 3',
    );
  });
});

describe("files", () => {
  const tensors = (): Record<string, RawTensor> => ({
    w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) },
    steps: { dtype: "I64", shape: [], data: new Float64Array([10]) },
  });

  test("save then load, creating the parent directories", () => {
    const file = path.join(scratch, "a", "b", "model.safetensors");
    saveSafetensors(file, tensors(), { format: "pt" });
    const back = loadSafetensors(file);
    expect(back.metadata).toEqual({ format: "pt" });
    expect(back.tensors.w).toEqual(tensors().w);
    expect(back.tensors.steps).toEqual(tensors().steps);
    expect(fs.readFileSync(file)).toEqual(encodeSafetensors(tensors(), { format: "pt" }));
    expect(fs.readdirSync(path.dirname(file))).toEqual(["model.safetensors"]);
  });

  test("overwriting replaces the file and keeps its permissions", () => {
    const file = path.join(scratch, "model.safetensors");
    fs.writeFileSync(file, "old contents");
    fs.chmodSync(file, 0o600);
    saveSafetensors(file, tensors());
    expect(loadSafetensors(file).tensors.w.shape).toEqual([2]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(scratch)).toEqual(["model.safetensors"]);
  });

  test("a failing save leaves the old file untouched and no temporary file", () => {
    const file = path.join(scratch, "model.safetensors");
    saveSafetensors(file, tensors());
    const before = fs.readFileSync(file);
    const broken = { ...tensors(), bad: { dtype: "F32", shape: [3], data: new Float32Array(2) } as RawTensor };
    const message = errorOf(() => saveSafetensors(file, broken));
    expect(message).toBe(`${file}: cannot save: tensor "bad": data has 2 elements but shape [3] needs 3`);
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(scratch)).toEqual(["model.safetensors"]);
  });

  test("a save that fails after the temporary file exists cleans it up", () => {
    // The target is a directory: writing the temporary file works, the rename over it fails.
    const target = path.join(scratch, "model.safetensors");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "keep"), "x");
    expect(() => saveSafetensors(target, tensors())).toThrow();
    expect(fs.readdirSync(scratch)).toEqual(["model.safetensors"]);
    expect(fs.readdirSync(target)).toEqual(["keep"]);
  });

  test("load errors name the file", () => {
    const file = path.join(scratch, "notes.txt");
    fs.writeFileSync(file, "these are some notes, not tensors\n");
    expect(errorOf(() => loadSafetensors(file))).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is not a safetensors file`),
    );
    expect(() => loadSafetensors(path.join(scratch, "missing.safetensors"))).toThrow(/ENOENT/);
  });
});
