/**
 * How `linear` sums (src/kernels/linear.ts): its output and the two products of its backward give
 * PyTorch 1.13's float32 bits (tests/fixtures/linear-sums.json, written by tools/linear/sums.py:
 * torch's F.linear on one thread, inputs from a 32-bit LCG re-created here), on the wasm kernel and
 * on the TypeScript loops alike, and its sparse loops (mostly-zero x) give the dense loops' bits.
 */
import * as fs from "fs";
import * as path from "path";
import { linear } from "../src/ops/linear";
import { Tensor } from "../src/tensor";
import { setWasmEnabled, setWasmThreshold, wasmAvailable } from "../src/kernels/wasm";

interface FixtureCase {
  index: number;
  n: number;
  in: number;
  outF: number;
  [key: string]: number | string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "linear-sums.json"), "utf8")) as { cases: FixtureCase[] };

/** tools/linear/sums.py's lcg_values: the top 24 bits of a 32-bit LCG, as floats in [-1, 1). */
function lcgValues(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state >>> 8) / 8388608 - 1;
  }
  return out;
}

function decoded(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The output and the three gradients of linear on one fixture case's inputs. */
function linearRun(c: FixtureCase, sparseX = false): Record<"y" | "gx" | "gw" | "gb", Float32Array> {
  const xs = lcgValues(1000 + c.index, c.n * c.in);
  if (sparseX) for (let i = 0; i < xs.length; i++) if (i % 5 !== 0) xs[i] = 0;
  const x = Tensor.fromArray(xs, [c.n, c.in], "float32").requiresGrad_(true);
  const w = Tensor.fromArray(lcgValues(2000 + c.index, c.outF * c.in), [c.outF, c.in], "float32").requiresGrad_(true);
  const b = Tensor.fromArray(lcgValues(3000 + c.index, c.outF), [c.outF], "float32").requiresGrad_(true);
  const y = linear(x, w, b);
  y.backward(Tensor.fromArray(lcgValues(4000 + c.index, c.n * c.outF), [c.n, c.outF], "float32"));
  const values = (t: Tensor) => t.contiguous().toArray() as Float32Array;
  return { y: values(y.detach()), gx: values(x.grad!), gw: values(w.grad!), gb: values(b.grad!) };
}

/** One run with wasm forced on for every product (threshold 0) or turned off. */
function withWasm<T>(on: boolean, run: () => T): T {
  const threshold = setWasmThreshold(0);
  setWasmEnabled(on);
  try {
    return run();
  } finally {
    setWasmEnabled(true);
    setWasmThreshold(threshold);
  }
}

const cases = fixture.cases.map((c) => [`${c.n}x${c.in}x${c.outF}`, c] as const);

test("the fixture covers small and large shapes", () => {
  expect(cases).toHaveLength(13);
  expect(wasmAvailable()).toBe(true);
});

describe.each([true, false])("wasm %s", (onWasm) => {
  test.each(cases)("%s: PyTorch's bits for the output, grad_input and grad_weight", (_, c) => {
    const got = withWasm(onWasm, () => linearRun(c));
    for (const key of ["y", "gx", "gw"] as const) expect([key, Array.from(got[key])]).toEqual([key, Array.from(decoded(c[key] as string))]);
  });
});

test.each(cases)("%s: the bias's gradient is the float64 sum over the batch (PyTorch's cascaded sum follows another order)", (_, c) => {
  const got = linearRun(c).gb;
  const gs = lcgValues(4000 + c.index, c.n * c.outF);
  for (let o = 0; o < c.outF; o++) {
    let sum = 0;
    for (let r = 0; r < c.n; r++) sum += gs[r * c.outF + o];
    expect(got[o]).toBe(Math.fround(sum));
  }
});

/** (M x N) summed over k in order in float32 from zero, each product and sum rounded: the rule. */
function inOrder32(M: number, N: number, K: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(a(i, k) * b(k, j)));
      out.push(s);
    }
  }
  return out;
}

test.each(cases.filter(([, c]) => c.outF > 1))("%s: a mostly-zero x (the sparse loops) sums by the same rule", (_, c) => {
  const got = linearRun(c, true);
  const xs = lcgValues(1000 + c.index, c.n * c.in).map((v, i) => (i % 5 === 0 ? v : 0));
  const ws = lcgValues(2000 + c.index, c.outF * c.in);
  const bs = lcgValues(3000 + c.index, c.outF);
  const gs = lcgValues(4000 + c.index, c.n * c.outF);
  const out = inOrder32(
    c.n,
    c.outF,
    c.in,
    (r, i) => xs[r * c.in + i],
    (i, o) => ws[o * c.in + i],
  ).map((v, p) => Math.fround(v + bs[p % c.outF]));
  const gw = inOrder32(
    c.outF,
    c.in,
    c.n,
    (o, r) => gs[r * c.outF + o],
    (r, i) => xs[r * c.in + i],
  );
  expect(Array.from(got.y)).toEqual(out);
  expect(Array.from(got.gw)).toEqual(gw);
});
