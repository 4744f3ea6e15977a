/**
 * BCEWithLogits without weights over float32 logits and targets, as a WebAssembly SIMD kernel
 * (AssemblyScript): the hot loop of BCEWithLogitsLoss, run on memory the host fills
 * (src/kernels/bce-with-logits.ts), its outputs written over its inputs.
 *
 * Precision: exp, log1p and e / (1 + e) run in f32x4 lanes (simd-math.as.ts), each within about
 * an ulp; the losses, their sum and sigmoid(x) - y are formed in float64 lanes and rounded to
 * float32 once, as the TypeScript loop does. NaN and infinities come out where it puts them
 * (tests/wasm-kernels.test.ts). Tails of fewer than four use the float64 exp and log1p.
 */
import { demote4, expd2, expf4, load2, log1pUnit2, log1pUnitf4, ONE_F32, ONE_F64, promoteHigh, splatAt, store2 } from "./simd-math.as";

/** sigmoid(x) - y from en = e / (1 + e), e = exp(-|x|): (1 - y) - en for x >= 0, else en - y. */
// @ts-ignore: decorator
@inline function sigmoidMinusTarget2(x: v128, y: v128, en: v128, one: v128): v128 {
  return v128.bitselect(f64x2.sub(f64x2.sub(one, y), en), f64x2.sub(en, y), f64x2.ge(x, f64x2.splat(0)));
}

/**
 * BCEWithLogits without weights over n float32 logits x and targets y: per element, with
 * e = exp(-|x|), the loss max(x, 0) - x y + log1p(e) and the gradient factor sigmoid(x) - y
 * (1 / (1 + e) for x >= 0, else e / (1 + e)). Losses are written over x when `storeLoss`; when
 * `storeGrad`, round(scale * round(sigmoid(x) - y)) is written over y (the gradient for an
 * upstream of 1, rounded where the TypeScript loop rounds it). Returns the float64 sum of the losses.
 */
export function bceWithLogits32(x: usize, y: usize, n: i32, storeLoss: bool, storeGrad: bool, scale: f64): f64 {
  const zero = f64x2.splat(0);
  const one = v128.load64_splat(ONE_F64);
  const scale2 = f64x2.splat(scale);
  let acc = f64x2.splat(0);
  const even = n & ~1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    // e, log1p(e) and e / (1 + e) in float32 lanes (each within about an ulp), the rest in float64:
    // sigmoid(x) - y is (1 - y) - e / (1 + e) for x >= 0 (no cancellation in 1 / (1 + e)), else e / (1 + e) - y.
    const q = <usize>i << 2;
    const x4 = v128.load(x + q);
    const y4 = v128.load(y + q);
    const e4 = expf4(f32x4.neg(f32x4.abs(x4)));
    const lp4 = log1pUnitf4(e4);
    const xLo = f64x2.promote_low_f32x4(x4);
    const xHi = promoteHigh(x4);
    const yLo = f64x2.promote_low_f32x4(y4);
    const yHi = promoteHigh(y4);
    const lLo = f64x2.add(f64x2.sub(f64x2.pmax(xLo, zero), f64x2.mul(xLo, yLo)), f64x2.promote_low_f32x4(lp4));
    const lHi = f64x2.add(f64x2.sub(f64x2.pmax(xHi, zero), f64x2.mul(xHi, yHi)), promoteHigh(lp4));
    acc = f64x2.add(f64x2.add(acc, lLo), lHi);
    if (storeLoss) v128.store(x + q, demote4(lLo, lHi));
    if (storeGrad) {
      const en4 = f32x4.div(e4, f32x4.add(splatAt(ONE_F32), e4));
      const dLo = sigmoidMinusTarget2(xLo, yLo, f64x2.promote_low_f32x4(en4), one);
      const dHi = sigmoidMinusTarget2(xHi, yHi, promoteHigh(en4), one);
      v128.store(y + q, demote4(scaledRounded2(dLo, scale2), scaledRounded2(dHi, scale2)));
    }
  }
  for (; i < even; i += 2) {
    const q = <usize>i << 2;
    const xv = load2(x + q);
    const yv = load2(y + q);
    const e = expd2(f64x2.neg(f64x2.abs(xv)));
    const l = f64x2.add(f64x2.sub(f64x2.max(xv, zero), f64x2.mul(xv, yv)), log1pUnit2(e));
    acc = f64x2.add(acc, l);
    if (storeLoss) store2(x + q, l);
    if (storeGrad) {
      const num = v128.bitselect(one, e, f64x2.ge(xv, zero));
      store2(y + q, scaledRounded2(f64x2.sub(f64x2.div(num, f64x2.add(one, e)), yv), scale2));
    }
  }
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < n) {
    const q = <usize>i << 2;
    const xs = <f64>load<f32>(x + q);
    const ys = <f64>load<f32>(y + q);
    const xv = f64x2.splat(xs);
    const e = expd2(f64x2.neg(f64x2.abs(xv)));
    const l = f64x2.extract_lane(f64x2.add(f64x2.sub(f64x2.max(xv, zero), f64x2.mul(xv, f64x2.splat(ys))), log1pUnit2(e)), 0);
    sum += l;
    if (storeLoss) store<f32>(x + q, <f32>l);
    if (storeGrad) {
      const es = f64x2.extract_lane(e, 0);
      store<f32>(y + q, <f32>(scale * <f64><f32>((xs >= 0 ? 1 / (1 + es) : es / (1 + es)) - ys)));
    }
  }
  return sum;
}

/** scale * round32(d) in both lanes (the caller rounds the product to float32 as it stores it). */
// @ts-ignore: decorator
@inline function scaledRounded2(d: v128, scale: v128): v128 {
  return f64x2.mul(f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(d)), scale);
}
