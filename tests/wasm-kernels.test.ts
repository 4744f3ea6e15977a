/**
 * The WebAssembly SIMD log-softmax (forward, backward, and the backward after NLL's one-hot
 * gradient) and BCEWithLogits kernels (src/kernels/log-softmax.ts, bce-with-logits.ts) against
 * their TypeScript loops, on random rows with ±1000 and ±1e30 logits, -inf, +inf and NaN
 * entries: every value within float32 rounding and every NaN and infinity in the same place.
 * Then the golden losses and activations with every float32 log-softmax and BCEWithLogits on
 * wasm, and again with wasm turned off.
 */
import * as torch from "torchlet";
import { setWasmElementThreshold, setWasmEnabled, wasmAvailable } from "../src/kernels/wasm";
import { Rng } from "./helpers/random-cases";

const rng = new Rng(61);
const F = torch.nn.functional;

/** Random logits, some rows with huge, infinite or NaN entries. */
function logits(rows: number, cols: number, specials: boolean): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = -8 + 16 * rng.next();
  if (!specials) return out;
  const pool = [1000, -1000, 1e30, -1e30, -Infinity, Infinity, NaN, 0, -0, 88.5, -104, 1e-30];
  for (let r = 0; r < rows; r++) {
    const kind = r % 6;
    for (let j = 0; j < cols; j++) {
      if (kind === 1 && rng.next() < 0.3) out[r * cols + j] = pool[Math.floor(rng.next() * 4)];
      if (kind === 2 && rng.next() < 0.2) out[r * cols + j] = -Infinity;
      if (kind === 3 && rng.next() < 0.05) out[r * cols + j] = pool[Math.floor(rng.next() * pool.length)];
      if (kind === 4) out[r * cols + j] = -Infinity; // a row of only -inf: NaN
    }
  }
  return out;
}

/** Same NaNs and infinities; finite values within PyTorch's float32 tolerances. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(e) ? Math.abs(a - e) <= 1e-5 + 1.3e-6 * Math.abs(e) : Object.is(a, e) || (a !== a && e !== e);
    if (!ok) throw new Error(`${what}: element ${i} is ${a}, TypeScript gives ${e}`);
  }
}

/** Runs `fn` with the wasm kernels on every size, then with wasm off; returns both results. */
function bothWays<T>(fn: () => T): [T, T] {
  const previousThreshold = setWasmElementThreshold(0);
  const previous = setWasmEnabled(true);
  try {
    const onWasm = fn();
    setWasmEnabled(false);
    const onTs = fn();
    return [onWasm, onTs];
  } finally {
    setWasmEnabled(previous);
    setWasmElementThreshold(previousThreshold);
  }
}

const shapes: Array<[number, number]> = [
  [1, 1],
  [3, 1],
  [2, 3],
  [7, 5],
  [12, 17],
  [6, 1000],
  [5, 4096],
];

/** `TORCHLET_NO_WASM=1 npm test` runs the suites on TypeScript alone: the module is then not expected to load. */
const testWasm = process.env.TORCHLET_NO_WASM === "1" ? test.skip : test;

testWasm("the wasm kernels load", () => {
  expect(wasmAvailable()).toBe(true);
});

describe("log-softmax: wasm against TypeScript", () => {
  test.each(shapes)("(%i, %i)", (rows, cols) => {
    for (const specials of [false, true]) {
      const data = logits(rows, cols, specials);
      const upstream = logits(rows, cols, false);
      const [w, t] = bothWays(() => {
        const x = torch.tensor(Array.from(data), { dtype: "float32" }).reshape([rows, cols]).requiresGrad_();
        const y = F.logSoftmax(x, -1);
        y.backward(torch.tensor(Array.from(upstream), { dtype: "float32" }).reshape([rows, cols]));
        return { y: y.detach().toArray(), g: x.grad!.toArray() };
      });
      expect(w.y).toBeInstanceOf(Float32Array);
      expectSame(w.y, t.y, `forward ${rows}x${cols}`);
      expectSame(w.g, t.g, `backward ${rows}x${cols}`);
    }
  });

  test.each(shapes)("after NLL (one-hot upstream), (%i, %i)", (rows, cols) => {
    for (const specials of [false, true]) {
      const data = logits(rows, cols, specials);
      const targets = Array.from({ length: rows }, (_, r) => (r % 4 === 3 ? -100 : Math.floor(rng.next() * cols)));
      for (const reduction of ["mean", "sum"] as const) {
        const [w, t] = bothWays(() => {
          const x = torch.tensor(Array.from(data), { dtype: "float32" }).reshape([rows, cols]).requiresGrad_();
          const loss = F.crossEntropy(x, torch.tensor(targets, { dtype: "int64" }), { reduction });
          loss.backward();
          return { l: loss.toArray(), g: x.grad!.toArray() };
        });
        expectSame(w.l, t.l, `cross entropy ${reduction} ${rows}x${cols}`);
        expectSame(w.g, t.g, `cross entropy grad ${reduction} ${rows}x${cols}`);
      }
    }
  });

  // The forward leaves its output in the module's memory for the backward that follows; any other
  // kernel run in between overwrites it, so the backward must then copy its output back in.
  test("cross entropy with other kernels run between its forward and its backward", () => {
    const [rows, cols] = [6, 1000];
    const data = [logits(rows, cols, false), logits(rows, cols, true)];
    const targets = torch.tensor([3, 1, 4, 1, 5, 9], { dtype: "int64" });
    const [w, t] = bothWays(() => {
      const xs = data.map((d) => torch.tensor(Array.from(d), { dtype: "float32" }).reshape([rows, cols]).requiresGrad_());
      const first = F.crossEntropy(xs[0], targets);
      F.binaryCrossEntropyWithLogits(xs[1], torch.zerosLike(xs[1])).backward();
      first.backward();
      const second = F.crossEntropy(xs[1], targets);
      F.crossEntropy(xs[0], targets);
      second.backward();
      return xs.map((x) => x.grad!.toArray());
    });
    expectSame(w[0], t[0], "first");
    expectSame(w[1], t[1], "second");
  });

  test("float64 and other dims stay on TypeScript and still agree", () => {
    const data = Array.from(logits(4, 6, true));
    for (const dtype of ["float64", "float32"] as const) {
      const [w, t] = bothWays(() => F.logSoftmax(torch.tensor(data, { dtype }).reshape([4, 6]), 0).toArray());
      expectSame(w, t, `dim 0 ${dtype}`);
    }
  });
});

describe("BCEWithLogits: wasm against TypeScript", () => {
  test.each(shapes)("(%i, %i)", (rows, cols) => {
    for (const specials of [false, true]) {
      const data = logits(rows, cols, specials);
      const target = Array.from({ length: rows * cols }, (_, i) => (i % 7 === 0 ? 0.3 : rng.next() < 0.2 ? 1 : 0));
      for (const reduction of ["none", "mean", "sum"] as const) {
        const [w, t] = bothWays(() => {
          const x = torch.tensor(Array.from(data), { dtype: "float32" }).reshape([rows, cols]).requiresGrad_();
          const y = torch.tensor(target, { dtype: "float32" }).reshape([rows, cols]).requiresGrad_();
          const loss = F.binaryCrossEntropyWithLogits(x, y, { reduction });
          if (reduction === "none") loss.backward(torch.onesLike(loss));
          else loss.backward();
          return { l: loss.detach().toArray(), gx: x.grad!.toArray(), gy: y.grad!.toArray() };
        });
        expectSame(w.l, t.l, `loss ${reduction} ${rows}x${cols}`);
        expectSame(w.gx, t.gx, `input grad ${reduction} ${rows}x${cols}`);
        expectSame(w.gy, t.gy, `target grad ${reduction} ${rows}x${cols}`);
      }
    }
  });

  // The kernel's float32 exp and log1p lanes are within about an ulp each (PyTorch's vectorised
  // float32 kernels are no closer); exp below -87 (1.65e-38) is 0 there, a float32 subnormal here.
  test("max(x, 0) + log1p(exp(-|x|)) within 4 float32 ulps across the range", () => {
    const xs: number[] = [];
    for (let v = -120; v <= 120; v += 0.0137) xs.push(v);
    const [w, t] = bothWays(() =>
      F.binaryCrossEntropyWithLogits(torch.tensor(xs, { dtype: "float32" }), torch.zeros([xs.length]), { reduction: "none" }).toArray(),
    );
    for (let i = 0; i < xs.length; i++) {
      expect(Math.abs(w[i] - t[i])).toBeLessThanOrEqual(Math.abs(t[i]) * 2 ** -21 + 1.7e-38);
    }
  });
});

describe("golden losses and activations with every float32 log-softmax and BCEWithLogits on wasm", () => {
  let previous = 0;
  beforeAll(() => {
    previous = setWasmElementThreshold(0);
  });
  afterAll(() => {
    setWasmElementThreshold(previous);
  });
  require("./losses.test");
  require("./activations.test");
});

describe("golden losses and activations with wasm turned off", () => {
  jest.isolateModules(() => {
    const kernels = require("../src/kernels/wasm") as typeof import("../src/kernels/wasm");
    let previous = true;
    beforeAll(() => {
      previous = kernels.setWasmEnabled(false);
    });
    afterAll(() => {
      kernels.setWasmEnabled(previous);
    });
    require("./losses.test");
    require("./activations.test");
  });
});
