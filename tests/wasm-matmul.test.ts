/**
 * The WebAssembly SIMD matrix product (src/kernels/matmul.ts's `gemmOnWasm`) against the
 * TypeScript kernel and a plain float64 triple loop, on shapes that are and are not multiples of
 * its 6 x 4 tile and of its cache blocks, transposed and strided operands and batches; then the
 * golden PyTorch cases with every float32 product sent to wasm (the suites' own runs use the
 * TypeScript kernel for their small products), and the matmul golden cases with wasm turned off.
 */
import * as torch from "torchlet";
import { setWasmEnabled, setWasmThreshold, wasmAvailable } from "../src/kernels/wasm";
import { gemmOnWasm, gemmRowMajor } from "../src/kernels/matmul";
import { linear } from "../src/ops/linear";
import { expectClose, loadCases, toTensor } from "./helpers/golden";
import { Rng } from "./helpers/random-cases";

const rng = new Rng(6);

function randomArray(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = -1 + 2 * rng.next();
  return out;
}

/** C = A @ B in float64 over strided operands, and the sum of |A(i,k) B(k,j)| for the bound. */
function reference(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOff: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bOff: number,
  brs: number,
  bcs: number,
) {
  const c = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const p = a[aOff + i * ars + k * acs] * b[bOff + k * brs + j * bcs];
        s += p;
        m += Math.abs(p);
      }
      c[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { c, mag };
}

/**
 * Summed in doubles and rounded once to float32: within half an ulp of float32 (2^-24 relative)
 * of the exact sum, plus the double summation's own K * 2^-53 * sum |terms|.
 */
function expectNear(
  got: ArrayLike<number>,
  want: { c: Float64Array; mag: Float64Array },
  K: number,
  at = 0,
  rs = 0,
  cs = 1,
  M = 0,
  N = want.c.length,
) {
  const rows = M || 1;
  const cols = M ? N : want.c.length;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const idx = i * cols + j;
      const g = got[at + i * rs + j * cs];
      const bound = 2 ** -24 * Math.abs(want.c[idx]) + (K + 2) * 2 ** -53 * want.mag[idx] + 1e-38;
      if (!(Math.abs(g - want.c[idx]) <= bound)) throw new Error(`element (${i}, ${j}): got ${g}, want ${want.c[idx]} (bound ${bound})`);
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

  test.each(SHAPES)("%i x %i x %i, row-major operands, against a float64 triple loop", (M, N, K) => {
    const a = randomArray(M * K);
    const b = randomArray(K * N);
    const want = reference(M, N, K, a, 0, K, 1, b, 0, N, 1);
    const out = new Float32Array(M * N);
    expect(gemmOnWasm(M, N, K, { data: a, off: 0, rs: K, cs: 1 }, { data: b, off: 0, rs: N, cs: 1 }, out, 0, N, 1)).toBe(true);
    expectNear(out, want, K, 0, N, 1, M, N);
  });

  test.each(SHAPES)("%i x %i x %i, transposed, offset and strided operands and output", (M, N, K) => {
    // A stored transposed (column-major) after an offset; B with padded rows; out transposed.
    const a = randomArray(3 + M * K);
    const b = randomArray(5 + K * (N + 3));
    const want = reference(M, N, K, a, 3, 1, M, b, 5, N + 3, 1);
    const out = new Float32Array(2 + M * N).fill(NaN);
    expect(gemmOnWasm(M, N, K, { data: a, off: 3, rs: 1, cs: M }, { data: b, off: 5, rs: N + 3, cs: 1 }, out, 2, 1, M)).toBe(true);
    expectNear(out, want, K, 2, 1, M, M, N);
    // A gathered from a stride-2 view, B transposed.
    const a2 = randomArray(2 * M * K);
    const b2 = randomArray(K * N);
    const want2 = reference(M, N, K, a2, 0, 2 * K, 2, b2, 0, 1, K);
    const out2 = new Float32Array(M * N);
    expect(gemmOnWasm(M, N, K, { data: a2, off: 0, rs: 2 * K, cs: 2 }, { data: b2, off: 0, rs: 1, cs: K }, out2, 0, N, 1)).toBe(true);
    expectNear(out2, want2, K, 0, N, 1, M, N);
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
        // Both sum in doubles and round once: at most one float32 ulp apart.
        wasm.forEach((w, t) => {
          for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - ts[t][i])).toBeLessThanOrEqual(2 ** -23 * Math.abs(ts[t][i]) + 1e-38);
        });
      }
    } finally {
      setWasmThreshold(previous);
    }
  });

  test("Linear forward and backward agree on both kernels (dense and bag-of-words inputs)", () => {
    const n = 40,
      inF = 70,
      outF = 30;
    const X = torch.tensor(Array.from(randomArray(n * inF))).reshape([n, inF]);
    const counts = torch.tensor(Array.from(randomArray(n * inF), (v) => (v > 0.9 ? 2 : 0))).reshape([n, inF]);
    const W = torch.tensor(Array.from(randomArray(outF * inF))).reshape([outF, inF]);
    const bias = torch.tensor(Array.from(randomArray(outF)));
    const G = torch.tensor(Array.from(randomArray(n * outF))).reshape([n, outF]);
    for (const input of [X, counts]) {
      const runOnce = () => {
        const x = input.detach().requiresGrad_(true);
        const w = W.detach().requiresGrad_(true);
        const b = bias.detach().requiresGrad_(true);
        const y = linear(x, w, b);
        expect(y.gradFn?.name).toBe("AddmmBackward0");
        y.backward(G);
        return [y, x.grad!, w.grad!, b.grad!].map((t) => Array.from(t.toArray()));
      };
      const previous = setWasmThreshold(0);
      let wasm: number[][];
      let ts: number[][];
      try {
        wasm = runOnce();
        setWasmEnabled(false);
        ts = runOnce();
      } finally {
        setWasmEnabled(true);
        setWasmThreshold(previous);
      }
      wasm.forEach((w, t) => {
        for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - ts[t][i])).toBeLessThanOrEqual(2 ** -23 * Math.abs(ts[t][i]) + 1e-38);
      });
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
