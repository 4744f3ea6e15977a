/**
 * Row-wise log-softmax over float32 data, forward and backward (the dense backward, and the one
 * after NLL's one-hot gradient): the hot loops of cross entropy, as a WebAssembly SIMD kernel
 * (AssemblyScript). Like the product they work on memory the host fills (src/kernels/log-softmax.ts),
 * and every kernel may run in place (its output over one of its inputs).
 *
 * Precision: exp runs in f32x4 lanes (simd-math.as.ts); the row sums, x - max - log(sum) and
 * g - exp(y) * sum(g) are formed in float64 lanes and rounded to float32 once, as the TypeScript
 * loops in src/kernels/log-softmax.ts do. The column NLL picked is recomputed with the float64 exp
 * (where v - exp(y) v cancels). NaN and infinities come out where the TypeScript loops put them
 * (tests/wasm-kernels.test.ts). Tails of fewer than four use the float64 exp.
 */
import { demote4, expd2, expf4, load1, load2, promoteHigh, store2 } from "./simd-math.as";

/**
 * out = x - max - log(sum exp(x - max)) along each of `rows` contiguous rows of `cols` float32s
 * at `src`, written to `dst` (which may be `src`). The maximum is NaN if any value is; the sum
 * is in float64.
 */
export function logSoftmaxRows32(src: usize, dst: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const even = cols & ~1;
  for (let r = 0; r < rows; r++) {
    const a = src + <usize>r * rowBytes;
    const o = dst + <usize>r * rowBytes;
    const m = rowMax(a, cols);
    const md = f64x2.splat(<f64>m);
    // The exps in float32 lanes, summed in float64 (two sums, so that consecutive adds overlap).
    let acc0 = f64x2.splat(0);
    let acc1 = f64x2.splat(0);
    let j = 0;
    const m4 = f32x4.splat(m);
    for (; j + 8 <= cols; j += 8) {
      const p = a + (<usize>j << 2);
      // x - m in float32 is exact or within an ulp of a value whose exp is tiny against the sum.
      const e0 = expf4(f32x4.sub(v128.load(p), m4));
      const e1 = expf4(f32x4.sub(v128.load(p, 16), m4));
      acc0 = f64x2.add(acc0, f64x2.add(f64x2.promote_low_f32x4(e0), promoteHigh(e0)));
      acc1 = f64x2.add(acc1, f64x2.add(f64x2.promote_low_f32x4(e1), promoteHigh(e1)));
    }
    for (; j + 4 <= cols; j += 4) {
      const e = expf4(f32x4.sub(v128.load(a + (<usize>j << 2)), m4));
      acc0 = f64x2.add(acc0, f64x2.add(f64x2.promote_low_f32x4(e), promoteHigh(e)));
    }
    for (; j < even; j += 2) acc0 = f64x2.add(acc0, expd2(f64x2.sub(load2(a + (<usize>j << 2)), md)));
    const acc = f64x2.add(acc0, acc1);
    let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    if (j < cols) s += f64x2.extract_lane(expd2(f64x2.sub(load1(a + (<usize>j << 2)), md)), 0);
    const shift = f64x2.splat(Math.log(s));
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const x4 = v128.load(a + q);
      const lo = f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(x4), md), shift);
      const hi = f64x2.sub(f64x2.sub(promoteHigh(x4), md), shift);
      v128.store(o + q, demote4(lo, hi));
    }
    for (; j < even; j += 2) store2(o + (<usize>j << 2), f64x2.sub(f64x2.sub(load2(a + (<usize>j << 2)), md), shift));
    if (j < cols) store<f32>(o + (<usize>j << 2), <f32>((<f64>load<f32>(a + (<usize>j << 2)) - <f64>m) - f64x2.extract_lane(shift, 0)));
  }
}

/** The largest of n float32s at a (NaN if any is NaN; -inf for n = 0), in four running maxima. */
function rowMax(a: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let m2 = m0;
  let m3 = m0;
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const p = a + (<usize>j << 2);
    m0 = f32x4.max(m0, v128.load(p));
    m1 = f32x4.max(m1, v128.load(p, 16));
    m2 = f32x4.max(m2, v128.load(p, 32));
    m3 = f32x4.max(m3, v128.load(p, 48));
  }
  for (; j + 4 <= n; j += 4) m0 = f32x4.max(m0, v128.load(a + (<usize>j << 2)));
  const mv = f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < n; j++) m = max(m, load<f32>(a + (<usize>j << 2)));
  return m;
}

/**
 * The log-softmax backward along rows: grad = g - exp(y) * sum(g), g at `g` and y at `y` (rows x
 * cols float32s), grad written to `dst` (which may be `g`). The sum is in float64.
 */
export function logSoftmaxBackwardRows32(g: usize, y: usize, dst: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const even = cols & ~1;
  for (let r = 0; r < rows; r++) {
    const gr = g + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const o = dst + <usize>r * rowBytes;
    let acc = f64x2.splat(0);
    let j = 0;
    for (; j < even; j += 2) acc = f64x2.add(acc, load2(gr + (<usize>j << 2)));
    let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    if (j < cols) s += <f64>load<f32>(gr + (<usize>j << 2));
    const sv = f64x2.splat(s);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const e = expf4(v128.load(yr + q));
      store2(o + q, f64x2.sub(load2(gr + q), f64x2.mul(f64x2.promote_low_f32x4(e), sv)));
      store2(o + q + 8, f64x2.sub(load2(gr + q + 8), f64x2.mul(promoteHigh(e), sv)));
    }
    for (; j < even; j += 2) {
      const q = <usize>j << 2;
      store2(o + q, f64x2.sub(load2(gr + q), f64x2.mul(expd2(load2(yr + q)), sv)));
    }
    if (j < cols) {
      const q = <usize>j << 2;
      store<f32>(o + q, <f32>(<f64>load<f32>(gr + q) - f64x2.extract_lane(expd2(load1(yr + q)), 0) * s));
    }
  }
}

/**
 * The log-softmax backward when row r of the upstream gradient is zero except values[r] (f64) at
 * column cols[r] (i32; negative for a row NLL ignored, which then has v = 0): grad = 0 - exp(y) * v,
 * and v - exp(y) * v at that column. y at `y`, grad to `dst` (which may be `y`).
 */
export function logSoftmaxOneHotBackward32(y: usize, colsAt: usize, valuesAt: usize, dst: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const even = cols & ~1;
  const zero = f64x2.splat(0);
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    const o = dst + <usize>r * rowBytes;
    const c = load<i32>(colsAt + (<usize>r << 2));
    const v: f64 = c < 0 ? 0 : load<f64>(valuesAt + (<usize>r << 3));
    const yc: f64 = c < 0 ? 0 : <f64>load<f32>(yr + (<usize>c << 2));
    const vv = f64x2.splat(v);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const e = expf4(v128.load(yr + q));
      const lo = f64x2.sub(zero, f64x2.mul(f64x2.promote_low_f32x4(e), vv));
      const hi = f64x2.sub(zero, f64x2.mul(promoteHigh(e), vv));
      v128.store(o + q, demote4(lo, hi));
    }
    for (; j < even; j += 2) {
      const q = <usize>j << 2;
      store2(o + q, f64x2.sub(zero, f64x2.mul(expd2(load2(yr + q)), vv)));
    }
    if (j < cols) {
      const q = <usize>j << 2;
      store<f32>(o + q, <f32>(0 - f64x2.extract_lane(expd2(load1(yr + q)), 0) * v));
    }
    if (c >= 0) {
      store<f32>(o + (<usize>c << 2), <f32>(v - f64x2.extract_lane(expd2(f64x2.splat(yc)), 0) * v));
    }
  }
}
