/**
 * The matrix product's kernels (src/kernels/matmul.ts): the WebAssembly SIMD kernel (`gemmOnWasm`)
 * against a float32 emulation of its sums (bit for bit) and a float64 triple loop (the accuracy
 * bound of float32 sums), on shapes that are and are not multiples of its 5 x 8 tile and of its
 * cache blocks, transposed and strided operands and batches; the TypeScript kernel against the wasm
 * kernel (the same bits); ranges of rows and columns against the full product (the same bits, as
 * worker threads splitting a product need); then the golden PyTorch cases with every float32
 * product sent to wasm (the suites' own runs use the TypeScript kernel for their small products),
 * and the matmul golden cases with wasm turned off.
 */
import * as torch from "torchlet";
import { setWasmEnabled, setWasmThreshold, wasmAvailable } from "../src/kernels/wasm";
import { type Mat, gemm, gemmOnWasm, gemmRowMajor } from "../src/kernels/matmul";
import { linear } from "../src/ops/linear";
import { expectClose, loadCases, toTensor } from "./helpers/golden";
import { Rng } from "./helpers/random-cases";

const rng = new Rng(6);

function randomArray(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = -1 + 2 * rng.next();
  return out;
}

/** A strided operand over `data` as the kernels read it. */
const at = (data: Float32Array, off: number, rs: number, cs: number): Mat => ({ data, off, rs, cs });

/**
 * What `gemm` promises for float32: each element summed over k in order, every product and every
 * sum rounded to float32 (as f32x4 lanes without fused multiply-adds compute). Also the float64
 * sums and the sums of |A(i,k) B(k,j)|, for the accuracy bound.
 */
function reference(M: number, N: number, K: number, A: Mat, B: Mat) {
  const c32 = new Float32Array(M * N);
  const c = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s32 = 0;
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const p = A.data[A.off + i * A.rs + k * A.cs] * B.data[B.off + k * B.rs + j * B.cs];
        s32 = Math.fround(s32 + Math.fround(p));
        s += p;
        m += Math.abs(p);
      }
      c32[i * N + j] = s32;
      c[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { c32, c, mag };
}

/**
 * `got` (read at `off + i * rs + j * cs`) holds exactly the float32 sums, and those are within the
 * bound of float32 summation from the exact product: (K + 1) * 2^-24 * sum |terms| (each product and
 * each of the K sums rounded once, relative error 2^-24 each) and the final value's half ulp.
 */
function expectFloat32Sums(
  got: ArrayLike<number>,
  want: ReturnType<typeof reference>,
  M: number,
  N: number,
  K: number,
  off = 0,
  rs = N,
  cs = 1,
) {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const idx = i * N + j;
      const g = got[off + i * rs + j * cs];
      if (!Object.is(g, want.c32[idx])) throw new Error(`element (${i}, ${j}): got ${g}, float32 sums give ${want.c32[idx]}`);
      const bound = (K + 1) * 2 ** -24 * want.mag[idx] + 2 ** -24 * Math.abs(want.c[idx]) + 1e-38;
      if (!(Math.abs(g - want.c[idx]) <= bound)) throw new Error(`element (${i}, ${j}): ${g} is further than ${bound} from ${want.c[idx]}`);
    }
  }
}

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [2, 2, 2],
  [6, 8, 1],
  [6, 8, 5],
  [7, 9, 3],
  [5, 7, 11],
  [12, 16, 33],
  [13, 17, 19],
  [1, 17, 40],
  [17, 1, 40],
  [3, 50, 7],
  [50, 3, 7],
  [96, 8, 256],
  [97, 9, 257],
  [100, 130, 300],
  [200, 70, 513],
  [64, 2100, 20],
  [31, 2049, 9],
];

/** `TORCHLET_NO_WASM=1 npm test` runs the suites on the TypeScript kernel; the kernel's own checks then skip. */
const describeWasm = process.env.TORCHLET_NO_WASM === "1" ? describe.skip : describe;

describeWasm("the wasm kernel", () => {
  test("loads (kernels.wasm is built by `npm run build:wasm`, which `npm test` runs first)", () => {
    expect(wasmAvailable()).toBe(true);
  });

  test.each(SHAPES)("%i x %i x %i, row-major operands, against float32 sums in order", (M, N, K) => {
    const A = at(randomArray(M * K), 0, K, 1);
    const B = at(randomArray(K * N), 0, N, 1);
    const out = new Float32Array(M * N);
    expect(gemmOnWasm(M, N, K, A, B, out, 0, N, 1)).toBe(true);
    expectFloat32Sums(out, reference(M, N, K, A, B), M, N, K);
  });

  test.each(SHAPES)("%i x %i x %i, transposed, offset and strided operands and output", (M, N, K) => {
    // A stored transposed (column-major) after an offset; B with padded rows; out transposed.
    const A = at(randomArray(3 + M * K), 3, 1, M);
    const B = at(randomArray(5 + K * (N + 3)), 5, N + 3, 1);
    const out = new Float32Array(2 + M * N).fill(NaN);
    expect(gemmOnWasm(M, N, K, A, B, out, 2, 1, M)).toBe(true);
    expectFloat32Sums(out, reference(M, N, K, A, B), M, N, K, 2, 1, M);
    // A gathered from a stride-2 view, B transposed.
    const A2 = at(randomArray(2 * M * K), 0, 2 * K, 2);
    const B2 = at(randomArray(K * N), 0, 1, K);
    const out2 = new Float32Array(M * N);
    expect(gemmOnWasm(M, N, K, A2, B2, out2, 0, N, 1)).toBe(true);
    expectFloat32Sums(out2, reference(M, N, K, A2, B2), M, N, K);
  });

  test("the TypeScript kernel and the wasm kernel agree through torch.matmul, forward and backward", () => {
    const cases: Array<[number[], number[]]> = [
      [
        [70, 90],
        [90, 50],
      ],
      [
        [3, 40, 33],
        [33, 29],
      ],
      [
        [2, 3, 25, 19],
        [3, 19, 31],
      ],
      [
        [130, 7],
        [7, 260],
      ],
    ];
    const previous = setWasmThreshold(0);
    try {
      for (const [sa, sb] of cases) {
        const A = torch.tensor(Array.from(randomArray(sa.reduce((x, y) => x * y, 1)))).reshape(sa);
        const B = torch.tensor(Array.from(randomArray(sb.reduce((x, y) => x * y, 1)))).reshape(sb);
        const G = torch.tensor(Array.from(randomArray(A.matmul(B).numel()))).reshape(A.matmul(B).shape);
        const runOnce = () => {
          const a = A.detach().requiresGrad_(true);
          const b = B.detach().requiresGrad_(true);
          const c = a.matmul(b);
          c.backward(G);
          return [c, a.grad!, b.grad!].map((t) => Array.from(t.contiguous().toArray()));
        };
        const wasm = runOnce();
        setWasmEnabled(false);
        let ts: number[][];
        try {
          ts = runOnce();
        } finally {
          setWasmEnabled(true);
        }
        // Also a transposed operand on wasm: same sums in the same order, so the same bits.
        expect(A.transpose(-1, -2).contiguous().transpose(-1, -2).matmul(B).toArray()).toEqual(A.matmul(B).toArray());
        // Both sum in float32 over k in order: the same bits, forward and backward.
        expect(wasm).toEqual(ts);
      }
    } finally {
      setWasmThreshold(previous);
    }
  });

  test("Linear forward and backward on both kernels, within float32 summation's bound of float64", () => {
    const n = 40,
      inF = 70,
      outF = 30;
    const X = torch.tensor(Array.from(randomArray(n * inF))).reshape([n, inF]);
    const counts = torch.tensor(Array.from(randomArray(n * inF), (v) => (v > 0.9 ? 2 : 0))).reshape([n, inF]);
    const W = torch.tensor(Array.from(randomArray(outF * inF))).reshape([outF, inF]);
    const bias = torch.tensor(Array.from(randomArray(outF)));
    const G = torch.tensor(Array.from(randomArray(n * outF))).reshape([n, outF]);
    /** y, x.grad, w.grad, bias.grad. */
    const runOnce = (input: torch.Tensor, weight: torch.Tensor, b: torch.Tensor, g: torch.Tensor) => {
      const x = input.detach().requiresGrad_(true);
      const w = weight.detach().requiresGrad_(true);
      const bb = b.detach().requiresGrad_(true);
      const y = linear(x, w, bb);
      expect(y.gradFn?.name).toBe("AddmmBackward0");
      y.backward(g);
      return [y, x.grad!, w.grad!, bb.grad!].map((t) => Array.from(t.toArray()));
    };
    // Terms summed per result: inF products and the bias, outF, n and n.
    const terms = [inF + 1, outF, n, n];
    for (const input of [X, counts]) {
      const exact = runOnce(input.double(), W.double(), bias.double(), G.double());
      // The same sums over |x|, |w|, |b| and |g|: each result's sum of |terms|.
      const magnitude = runOnce(input.abs().double(), W.abs().double(), bias.abs().double(), G.abs().double());
      const previous = setWasmThreshold(0);
      let wasm: number[][];
      let ts: number[][];
      try {
        wasm = runOnce(input, W, bias, G);
        setWasmEnabled(false);
        ts = runOnce(input, W, bias, G);
      } finally {
        setWasmEnabled(true);
        setWasmThreshold(previous);
      }
      for (const got of [wasm, ts]) {
        got.forEach((values, t) => {
          values.forEach((v, i) => {
            const bound = (terms[t] + 1) * 2 ** -24 * magnitude[t][i] + 2 ** -24 * Math.abs(exact[t][i]) + 1e-38;
            expect(Math.abs(v - exact[t][i])).toBeLessThanOrEqual(bound);
          });
        });
      }
    }
  });

  test("float64 products: the same sums in the same order as the TypeScript kernel, bit for bit", () => {
    for (const [M, N, K] of [
      [20, 30, 40],
      [7, 300, 600],
      [130, 9, 257],
      [2, 50, 70],
      [64, 64, 64],
    ]) {
      const a = Float64Array.from(randomArray(M * K), (v) => v * Math.PI);
      const b = Float64Array.from(randomArray(K * N), (v) => v / 3);
      const viaWasm = new Float64Array(M * N);
      const viaTs = new Float64Array(M * N);
      gemmRowMajor(M, N, K, a, b, viaWasm);
      setWasmEnabled(false);
      try {
        gemmRowMajor(M, N, K, a, b, viaTs);
      } finally {
        setWasmEnabled(true);
      }
      expect(Array.from(viaWasm)).toEqual(Array.from(viaTs));
      // And a strided float64 operand through the public API, forward and backward.
      const A = torch.tensor(Array.from(a), { dtype: "float64" }).reshape([K, M]).t();
      const B = torch.tensor(Array.from(b), { dtype: "float64" }).reshape([K, N]).requiresGrad_(true);
      const onWasm = A.matmul(B);
      onWasm.sum().backward();
      const gradOnWasm = Array.from(B.grad!.toArray());
      B.grad = null;
      setWasmEnabled(false);
      try {
        const onTs = A.matmul(B);
        expect(Array.from(onWasm.toArray())).toEqual(Array.from(onTs.toArray()));
        onTs.sum().backward();
        expect(gradOnWasm).toEqual(Array.from(B.grad!.toArray()));
      } finally {
        setWasmEnabled(true);
      }
    }
  });

  test("gemmRowMajor runs both kernels on a product with non-finite entries the same way", () => {
    const M = 20,
      N = 30,
      K = 40;
    const a = randomArray(M * K);
    const b = randomArray(K * N);
    a[5] = Infinity;
    b[7 * N + 3] = NaN;
    const viaWasm = new Float32Array(M * N);
    const viaTs = new Float32Array(M * N);
    const previous = setWasmThreshold(0);
    try {
      gemmRowMajor(M, N, K, a, b, viaWasm);
      setWasmEnabled(false);
      gemmRowMajor(M, N, K, a, b, viaTs);
    } finally {
      setWasmEnabled(true);
      setWasmThreshold(previous);
    }
    for (let i = 0; i < M * N; i++) {
      if (Number.isFinite(viaTs[i])) expect(Math.abs(viaWasm[i] - viaTs[i])).toBeLessThanOrEqual(1e-5);
      else expect(viaWasm[i]).toBe(viaTs[i]);
    }
  });
});

describe("ranges of rows or columns give the full product's bits", () => {
  /** Cuts [0, n) into pieces of 1, 2, 3, 6, 11, 1, 2, ... elements (the last one what is left). */
  function pieces(n: number): Array<[number, number]> {
    const sizes = [1, 2, 3, 6, 11];
    const out: Array<[number, number]> = [];
    for (let start = 0, p = 0; start < n; p++) {
      const end = Math.min(n, start + sizes[p % sizes.length]);
      out.push([start, end]);
      start = end;
    }
    return out;
  }
  const shapes: Array<[number, number, number]> = [
    [37, 29, 600],
    [12, 40, 70],
    [30, 9, 300],
    [20, 8, 40],
  ];
  // Large ranges run on wasm (when on); single rows or columns, and ranges of fewer than 4096
  // multiply-adds (all pieces of 20 x 8 x 40), on the TypeScript loops.
  test.each([
    ["float32", true],
    ["float32", false],
    ["float64", true],
    ["float64", false],
  ] as const)("%s, wasm %s", (dtype, useWasm) => {
    const previous = setWasmEnabled(useWasm);
    try {
      for (const [M, N, K] of shapes) {
        const make = (n: number) => (dtype === "float32" ? randomArray(n) : Float64Array.from(randomArray(n), (v) => v * Math.PI));
        const alloc = (n: number) => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
        // A read transposed and B row-major, as in the backward's A^T @ g; then both row-major.
        for (const [A, B] of [
          [
            { data: make(M * K), off: 0, rs: 1, cs: M },
            { data: make(K * N), off: 0, rs: N, cs: 1 },
          ],
          [
            { data: make(M * K), off: 0, rs: K, cs: 1 },
            { data: make(K * N), off: 0, rs: 1, cs: K },
          ],
        ] as Array<[Mat, Mat]>) {
          const full = alloc(M * N);
          gemm(M, N, K, A, B, full, 0, N, 1);
          const byRows = alloc(M * N);
          for (const [r0, r1] of pieces(M)) gemm(r1 - r0, N, K, { ...A, off: A.off + r0 * A.rs }, B, byRows, r0 * N, N, 1);
          expect(byRows).toEqual(full);
          const byColumns = alloc(M * N);
          for (const [c0, c1] of pieces(N)) gemm(M, c1 - c0, K, A, { ...B, off: B.off + c0 * B.cs }, byColumns, c0, N, 1);
          expect(byColumns).toEqual(full);
        }
      }
    } finally {
      setWasmEnabled(previous);
    }
  });
});

describe("falling back to the TypeScript kernel", () => {
  const n = 64; // 64^3 multiply-adds: above the wasm threshold
  const values = Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const expected = () => {
    const previous = setWasmEnabled(false);
    try {
      const a = torch.tensor(values).reshape([n, n]);
      return Array.from(a.matmul(a.t()).toArray());
    } finally {
      setWasmEnabled(previous);
    }
  };

  function isolated(setup: () => void): { available: boolean; product: number[] } {
    let result = { available: true, product: [] as number[] };
    jest.isolateModules(() => {
      setup();
      const kernel = require("../src/kernels/wasm") as typeof import("../src/kernels/wasm");
      const t = require("torchlet") as typeof torch;
      const a = t.tensor(values).reshape([n, n]);
      result = { available: kernel.wasmAvailable(), product: Array.from(a.matmul(a.t()).toArray()) };
    });
    return result;
  }

  test("TORCHLET_NO_WASM=1 turns the wasm kernel off", () => {
    const saved = process.env.TORCHLET_NO_WASM;
    try {
      const { available, product } = isolated(() => {
        process.env.TORCHLET_NO_WASM = "1";
      });
      expect(available).toBe(false);
      expect(product).toEqual(expected());
    } finally {
      if (saved === undefined) delete process.env.TORCHLET_NO_WASM;
      else process.env.TORCHLET_NO_WASM = saved;
    }
  });

  test("a missing kernels.wasm leaves products on the TypeScript kernel", () => {
    const { available, product } = isolated(() => {
      jest.doMock("node:fs", () => {
        const real = jest.requireActual("node:fs");
        return {
          ...real,
          readFileSync: (file: string, ...rest: unknown[]) => {
            if (String(file).endsWith("kernels.wasm")) throw Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
            return real.readFileSync(file, ...rest);
          },
        };
      });
    });
    jest.dontMock("node:fs");
    expect(available).toBe(false);
    expect(product).toEqual(expected());
  });
});

describe("golden matmul cases on each kernel", () => {
  const matmulCases = loadCases("ops.json").filter((c) => c.op === "matmul" && !c.error);
  test.each([
    ["wasm", true],
    ["TypeScript (TORCHLET_NO_WASM=1)", false],
  ] as const)("%s", (_, useWasm) => {
    expect(matmulCases.length).toBeGreaterThan(5);
    const previousThreshold = setWasmThreshold(0);
    const previous = setWasmEnabled(useWasm);
    try {
      for (const c of matmulCases) {
        const [x, y] = c.inputs.map(toTensor);
        const out = x.matmul(y);
        expectClose(out, c.output!, `${c.id} output`);
        if (c.upstream) out.backward(toTensor(c.upstream));
        else out.backward();
        [x, y].forEach((t, i) => {
          if (c.grads![i]) expectClose(t.grad!, c.grads![i]!, `${c.id} grad ${i}`);
        });
      }
    } finally {
      setWasmEnabled(previous);
      setWasmThreshold(previousThreshold);
    }
  });
});

describe("every golden suite with each float32 product on the wasm kernel", () => {
  let previous = 0;
  beforeAll(() => {
    previous = setWasmThreshold(0);
  });
  afterAll(() => {
    setWasmThreshold(previous);
  });
  // The suites register their tests here, inside this describe, so they run with the hook above.
  require("./ops.test");
  require("./training.test");
  require("./layers.test");
  require("./gradcheck.test");
  require("./ops-behaviour.test");
});
