/**
 * torch.data.TensorDataset and the DataLoader over it, and torch.save / torch.load of state
 * dicts as safetensors files, through the public API.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as torch from "../src";

const { DataLoader, TensorDataset } = torch.data;

const rowsOf = (t: torch.Tensor) => Array.from(t.toArray());

describe("TensorDataset", () => {
  const x = torch.arange(12).reshape([6, 2]);
  const y = torch.tensor([0, 1, 0, 1, 1, 0], { dtype: "int64" });

  test("length and rows", () => {
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(6);
    const [xi, yi] = ds.get(2);
    expect(xi.shape).toEqual([2]);
    expect(rowsOf(xi)).toEqual([4, 5]);
    expect(yi.shape).toEqual([]);
    expect(yi.item()).toBe(0);
    expect(rowsOf(ds.get(-1)[0])).toEqual([10, 11]);
  });

  test("tensors of different first dimensions are refused with PyTorch's message", () => {
    expect(() => new TensorDataset(x, torch.zeros([5]))).toThrow("Size mismatch between tensors");
    expect(() => new TensorDataset(torch.tensor(1))).toThrow("dimension specified as 0 but tensor has no dimensions");
    expect(() => new TensorDataset()).toThrow(/at least one tensor/);
  });

  test("an empty dataset has length 0 and no batches", () => {
    const ds = new TensorDataset(torch.zeros([0, 3]));
    expect(ds.length).toBe(0);
    expect(Array.from(new DataLoader(ds, { batchSize: 2 }))).toEqual([]);
  });
});

describe("DataLoader over a TensorDataset", () => {
  const x = torch.arange(0, 20, { dtype: "float64" }).reshape([10, 2]);
  const y = torch.arange(0, 10, { dtype: "int64" });
  const ds = new TensorDataset(x, y);

  test("batches of stacked rows, in order without shuffle", () => {
    const batches = Array.from(new DataLoader(ds, { batchSize: 4 }));
    expect(batches.map(([bx, by]) => [bx.shape, by.shape])).toEqual([
      [[4, 2], [4]],
      [[4, 2], [4]],
      [[2, 2], [2]],
    ]);
    expect(batches.map(([, by]) => rowsOf(by))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(rowsOf(batches[2][0])).toEqual([16, 17, 18, 19]);
    expect(batches[0][0].dtype).toBe("float64");
    expect(batches[0][1].dtype).toBe("int64");
    expect(new DataLoader(ds, { batchSize: 4 }).length).toBe(3);
  });

  test("dropLast skips the short last batch", () => {
    const loader = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(Array.from(loader, ([, by]) => rowsOf(by))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  test("a seeded shuffle is a permutation, keeps rows together and replays with the same seed", () => {
    const epoch = (loader: torch.data.DataLoader<torch.data.TensorDataset>) =>
      Array.from(loader, ([bx, by]) => {
        // Each row of x still goes with its label: x[i] = [2i, 2i + 1].
        const xs = rowsOf(bx);
        rowsOf(by).forEach((label, k) => expect([xs[2 * k], xs[2 * k + 1]]).toEqual([2 * label, 2 * label + 1]));
        return rowsOf(by);
      });
    const a = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    const first = epoch(a);
    expect(first.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(first.flat().sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.flat()).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    expect(epoch(b)).toEqual(first);
    // The index loader over the same length draws the same order from the same seed.
    const indices = new DataLoader(10, { batchSize: 3, shuffle: true, seed: 7 });
    expect(Array.from(indices, (rows) => Array.from(rows))).toEqual(first);
  });

  test("a length or an index array still yields row indices", () => {
    expect(Array.from(new DataLoader(5, { batchSize: 2 }), (r) => Array.from(r))).toEqual([[0, 1], [2, 3], [4]]);
    const rows = Array.from(new DataLoader([7, 3, 9], { batchSize: 2 }));
    expect(rows[0]).toBeInstanceOf(Int32Array);
    expect(rows.map((r) => Array.from(r))).toEqual([[7, 3], [9]]);
  });

  test("batches are gathered with one indexSelect per tensor", () => {
    const spy = jest.spyOn(torch.Tensor.prototype, "indexSelect");
    try {
      Array.from(new DataLoader(ds, { batchSize: 4 }));
      expect(spy).toHaveBeenCalledTimes(3 * 2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("torch.save and torch.load", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-data-io-"));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string) => path.join(dir, name);

  /** A file as Python's safetensors writes it: length, JSON header padded to 8 bytes, data. */
  function safetensorsBytes(header: object, data: number[]): Buffer {
    let json = JSON.stringify(header);
    while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += " ";
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return Buffer.concat([length, Buffer.from(json, "utf8"), Buffer.from(data)]);
  }
  const f32 = (...v: number[]) => Array.from(new Uint8Array(new Float32Array(v).buffer));
  const i64 = (...v: number[]) => Array.from(new Uint8Array(new BigInt64Array(v.map(BigInt)).buffer));
  const i32 = (...v: number[]) => Array.from(new Uint8Array(new Int32Array(v).buffer));

  test("every dtype round-trips exactly, 0-d and empty shapes included", () => {
    const state: Record<string, torch.Tensor> = {
      f32: torch.tensor([
        [1.5, -2.25, 3e-8],
        [Math.fround(Math.PI), -0, 1e30],
      ]),
      f64: torch.tensor([Math.PI, -1e-300, 2 ** 60], { dtype: "float64" }),
      i64: torch.tensor([[-2147483647, 2147483647, 0]], { dtype: "int64" }),
      bool: torch.tensor([true, false, true]),
      scalar: torch.tensor(42, { dtype: "int64" }),
      scalarF: torch.tensor(0.1, { dtype: "float64" }),
      empty: torch.zeros([0, 4]),
      emptyBool: torch.zeros([2, 0], { dtype: "bool" }),
      // A non-contiguous tensor is written in row-major order.
      transposed: torch.arange(6).reshape([2, 3]).t(),
    };
    torch.save(state, file("all.safetensors"));
    const back = torch.load(file("all.safetensors"));
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    for (const [name, t] of Object.entries(state)) {
      expect([name, back[name].dtype, back[name].shape]).toEqual([name, t.dtype, t.shape]);
      expect(Array.from(back[name].toArray())).toEqual(Array.from(t.contiguous().toArray()));
    }
    expect(Object.is(back.f32.toArray()[4], -0)).toBe(true);
    expect(back.scalar.item()).toBe(42);
    expect(back.f32.requiresGrad).toBe(false);
  });

  test("the file is byte for byte what Python's safetensors.torch.save_model writes", () => {
    torch.save(
      {
        w: torch.tensor([
          [1, 2],
          [3, 4],
        ]),
        b: torch.tensor([5, -6], { dtype: "int64" }),
      },
      file("py.safetensors"),
    );
    // Python orders tensors by dtype alignment (I64 before F32), then by name.
    const expected = safetensorsBytes(
      {
        __metadata__: { format: "pt" },
        b: { dtype: "I64", shape: [2], data_offsets: [0, 16] },
        w: { dtype: "F32", shape: [2, 2], data_offsets: [16, 32] },
      },
      [...i64(5, -6), ...f32(1, 2, 3, 4)],
    );
    expect(fs.readFileSync(file("py.safetensors"))).toEqual(expected);
  });

  test("a file written by Python's safetensors loads, I32 and U8 as int64", () => {
    const bytes = safetensorsBytes(
      {
        __metadata__: { format: "pt" },
        "0.weight": { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] },
        "0.bias": { dtype: "F32", shape: [2], data_offsets: [16, 24] },
        counts: { dtype: "I32", shape: [3], data_offsets: [24, 36] },
        mask: { dtype: "BOOL", shape: [2], data_offsets: [36, 38] },
        pixels: { dtype: "U8", shape: [2], data_offsets: [38, 40] },
      },
      [...f32(0.5, -1, 2, 0.25), ...f32(3, -4), ...i32(-7, 0, 9), 1, 0, 255, 3],
    );
    fs.writeFileSync(file("from-python.safetensors"), bytes);
    const state = torch.load(file("from-python.safetensors"));
    expect(rowsOf(state["0.weight"])).toEqual([0.5, -1, 2, 0.25]);
    expect(state["0.weight"].shape).toEqual([2, 2]);
    expect(rowsOf(state["0.bias"])).toEqual([3, -4]);
    expect([state.counts.dtype, rowsOf(state.counts)]).toEqual(["int64", [-7, 0, 9]]);
    expect([state.mask.dtype, rowsOf(state.mask)]).toEqual(["bool", [1, 0]]);
    expect([state.pixels.dtype, rowsOf(state.pixels)]).toEqual(["int64", [255, 3]]);
  });

  test.each(["F16", "BF16"])("%s is refused with a message naming the tensor and the dtype", (dtype) => {
    const bytes = safetensorsBytes(
      {
        ok: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        "layer.half": { dtype, shape: [2], data_offsets: [4, 8] },
      },
      [...f32(1), 0, 60, 0, 60],
    );
    const name = file(`${dtype}.safetensors`);
    fs.writeFileSync(name, bytes);
    expect(() => torch.load(name)).toThrow(`tensor "layer.half" has dtype ${dtype}, which torchlet does not read`);
  });

  test("saving refuses what is not a state dict of tensors", () => {
    expect(() => torch.save({ w: [1, 2] as unknown as torch.Tensor }, file("bad.safetensors"))).toThrow(
      'torch.save: state dict entry "w" is not a Tensor (got object)',
    );
    expect(fs.existsSync(file("bad.safetensors"))).toBe(false);
  });

  test("a model's stateDict saved and loaded into a fresh model gives identical outputs", () => {
    torch.manualSeed(0);
    const make = () => new torch.nn.Sequential(new torch.nn.Linear(4, 8), new torch.nn.ReLU(), new torch.nn.Linear(8, 3));
    const model = make();
    torch.save(model.stateDict(), file("model.safetensors"));
    const fresh = make();
    const input = torch.randn([5, 4]);
    expect(rowsOf(fresh.forward(input))).not.toEqual(rowsOf(model.forward(input)));
    fresh.loadStateDict(torch.load(file("model.safetensors")));
    expect(rowsOf(fresh.forward(input))).toEqual(rowsOf(model.forward(input)));
  });
});
