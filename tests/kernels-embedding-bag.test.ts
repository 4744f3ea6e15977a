/**
 * kernels/embedding-bag.ts: the weight's gradient holds the rows the bags used, in first-use
 * order, whatever ran before. Its deduplication uses one scratch buffer shared by every table
 * (no state on the weight tensor), so tables of different sizes are interleaved here, forward and
 * backward, and each gradient is checked against plain loops.
 */
import * as torch from "torchlet";
import { type Bags, embeddingBagForward, embeddingBagWeightGrad } from "../src/kernels/embedding-bag";
import { Rng } from "./helpers/random-cases";

const rng = new Rng(17);

interface Case {
  rows: number;
  dim: number;
  idx: number[];
  offsets: number[];
}

function randomCase(rows: number, dim: number, length: number, bags: number): Case {
  const idx = Array.from({ length }, () => Math.floor(rng.next() * rows));
  const offsets = [0];
  for (let b = 1; b < bags; b++) offsets.push(Math.min(length, offsets[b - 1] + Math.floor(rng.next() * ((2 * length) / bags))));
  return { rows, dim, idx, offsets };
}

/** The weight's dense gradient by plain loops, for the upstream gradient `g` (bags, dim) in float64. */
function expectedGrad(c: Case, mode: "sum" | "mean", g: Float64Array): Float64Array {
  const out = new Float64Array(c.rows * c.dim);
  for (let b = 0; b < c.offsets.length; b++) {
    const stop = b + 1 < c.offsets.length ? c.offsets[b + 1] : c.idx.length;
    const scale = mode === "mean" && stop > c.offsets[b] ? 1 / (stop - c.offsets[b]) : 1;
    for (let i = c.offsets[b]; i < stop; i++) {
      for (let j = 0; j < c.dim; j++) out[c.idx[i] * c.dim + j] += scale * g[b * c.dim + j];
    }
  }
  return out;
}

function gradOf(c: Case, mode: "sum" | "mean", g: Float64Array): number[] {
  const w = torch.randn([c.rows, c.dim], { dtype: "float64" }).requiresGrad_();
  const out = torch.embeddingBag(w, torch.tensor(c.idx, { dtype: "int64" }), torch.tensor(c.offsets, { dtype: "int64" }), { mode });
  out.backward(torch.tensor(Array.from(g), { dtype: "float64" }).reshape(out.shape));
  return Array.from(w.grad!.toArray());
}

test("tables of different sizes, interleaved, each get their own rows' gradients", () => {
  const cases = [randomCase(5000, 3, 400, 30), randomCase(7, 5, 40, 6), randomCase(300, 8, 200, 10), randomCase(20000, 2, 50, 4)];
  for (let round = 0; round < 2; round++) {
    for (const c of cases) {
      for (const mode of ["sum", "mean"] as const) {
        // Dyadic upstream values, so that every sum is exact and the loops' order cannot matter.
        const g = Float64Array.from({ length: c.offsets.length * c.dim }, () => Math.floor(rng.next() * 64) / 8);
        const want = expectedGrad(c, mode, g);
        const got = gradOf(c, mode, g);
        // Sums of dyadic values are exact; a mean's 1 / count is not, so allow its rounding there.
        const tolerance = mode === "sum" ? 0 : 1e-12;
        for (let k = 0; k < want.length; k++) {
          if (!(Math.abs(got[k] - want[k]) <= tolerance))
            throw new Error(`${c.rows} rows, ${mode}: element ${k} is ${got[k]}, want ${want[k]}`);
        }
      }
    }
  }
});

test("the compact gradient lists the rows used, in first-use order, and only them", () => {
  const idx = Int32Array.from([9, 3, 9, 0, 3, 7]);
  const bags: Bags = { idx, offsets: Int32Array.from([0, 2]), stops: Int32Array.from([2, 6]), used: 6, pad: 7, mode: "sum", weights: null };
  const w = Float32Array.from({ length: 10 * 2 }, (_, i) => i);
  const pooled = embeddingBagForward(w, bags, 2, new Float32Array(4));
  const g = Float32Array.from([1, 2, 3, 4]);
  for (let run = 0; run < 2; run++) {
    const { rows, values } = embeddingBagWeightGrad(g, bags, pooled, 10, 2, "float32");
    expect(Array.from(rows)).toEqual([9, 3, 0]); // 7 is the padding row
    // Row 9: bag 0 and bag 1; row 3: bag 0 and bag 1; row 0: bag 1.
    expect(Array.from(values)).toEqual([1 + 3, 2 + 4, 1 + 3, 2 + 4, 3, 4]);
  }
  // A smaller table next: the scratch buffer holds nothing from the run before.
  const small: Bags = {
    idx: Int32Array.from([1, 0, 1]),
    offsets: Int32Array.from([0]),
    stops: Int32Array.from([3]),
    used: 3,
    pad: -1,
    mode: "sum",
    weights: null,
  };
  const smallPooled = embeddingBagForward(new Float64Array(4), small, 2, new Float64Array(2));
  const { rows, values } = embeddingBagWeightGrad(Float64Array.from([5, 6]), small, smallPooled, 2, 2, "float64");
  expect(Array.from(rows)).toEqual([1, 0]);
  expect(Array.from(values)).toEqual([10, 12, 5, 6]);
});
