/**
 * The transcendentals and lane helpers shared by the log-softmax and BCEWithLogits kernels
 * (AssemblyScript, inlined into them; compiled with the rest by `npm run build:wasm`).
 *
 * Precision: the f32x4 functions (exp, log1p) are each within about an ulp (1.2e-7 relative), as
 * PyTorch's own vectorised float32 kernels; the f64x2 ones are accurate to a few double ulps and
 * serve the tails of fewer than four elements and whatever must be exact in float32 after one
 * rounding. Callers form everything the transcendentals feed in float64 lanes and round to float32
 * once, as the TypeScript loops do.
 */

const LOG2E: f64 = 1.4426950408889634;
/** ln 2 split so that k * LN2HI is exact for |k| < 2^20 (fdlibm's constants). */
const LN2HI: f64 = 6.93147180369123816490e-01;
const LN2LO: f64 = 1.90821492927058770002e-10;

/**
 * exp of both lanes: x = k ln2 + r with |r| <= ln2 / 2 (k rounded by adding 1.5 * 2^52, which
 * leaves k in the low bits), exp(r) by its Taylor polynomial of degree 12 (truncation below 2e-16
 * relative), times 2^k built from k's bits. Below -708 the result is 0 (exp is then under 4e-308,
 * nothing in float32 and nothing added to a sum of at least 1); above 709, +inf. NaN gives NaN.
 */
// @ts-ignore: decorator
@inline export function expd2(x: v128): v128 {
  const t = f64x2.add(f64x2.mul(x, f64x2.splat(LOG2E)), f64x2.splat(6755399441055744.0));
  const kf = f64x2.sub(t, f64x2.splat(6755399441055744.0));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(kf, f64x2.splat(LN2HI))), f64x2.mul(kf, f64x2.splat(LN2LO)));
  let p = f64x2.splat(2.08767569878681e-9); // 1/12!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.505210838544172e-8)); // 1/11!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.755731922398589e-7)); // 1/10!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.7557319223985893e-6)); // 1/9!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.48015873015873e-5)); // 1/8!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.984126984126984e-4)); // 1/7!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.3888888888888889e-3)); // 1/6!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(8.333333333333333e-3)); // 1/5!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(4.1666666666666664e-2)); // 1/4!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.6666666666666666e-1)); // 1/3!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  const scale = i64x2.shl(i64x2.add(t, i64x2.splat(1023)), 52);
  const e = v128.andnot(f64x2.mul(p, scale), f64x2.lt(x, f64x2.splat(-708.0)));
  return v128.bitselect(f64x2.splat(Infinity), e, f64x2.gt(x, f64x2.splat(709.0)));
}

// Float32 constants of the f32x4 loops are read from memory: V8 builds a v128.const afresh at each
// use inside a loop (three or four instructions), a splat from memory is one instruction.
const EXP_LOG2E = memory.data<f32>([1.44269504]);
const EXP_ROUND = memory.data<f32>([12582912.0]); // 1.5 * 2^23: adding it rounds to an integer
const EXP_LN2_HI = memory.data<f32>([0.693359375]);
const EXP_LN2_LO = memory.data<f32>([-2.12194440e-4]);
const EXP_POLY = memory.data<f32>([1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
const EXP_BIAS = memory.data<i32>([127]);
const EXP_UNDER = memory.data<f32>([-87.0]);
const EXP_OVER = memory.data<f32>([88.0]);
export const ONE_F32 = memory.data<f32>([1.0]);
const INF_F32 = memory.data<f32>([Infinity]);
const LOG1P_SQRT2_M1 = memory.data<f32>([0.41421356]);
const LOG1P_SHIFTS = memory.data<f32>([2.0, 3.0]);
const LOG1P_POLY = memory.data<f32>([<f32>(1.0 / 9.0), <f32>(1.0 / 7.0), <f32>(1.0 / 5.0), <f32>(1.0 / 3.0)]);
const LN2_F32 = memory.data<f32>([0.693147182]);

/** The f32 (or i32) at p in all four lanes. */
// @ts-ignore: decorator
@inline export function splatAt(p: usize, index: i32 = 0): v128 {
  return v128.load32_splat(p + (<usize>index << 2));
}

/**
 * exp of four float32 lanes (Cephes' expf): x = k ln2 + r with ln 2 in two parts, a degree-7
 * polynomial for exp(r) (relative error about 1e-7, an ulp), times 2^k from k's bits. Below -87
 * the result is 0 (under 2e-38: nothing against a sum of at least 1, and a float32 subnormal at
 * most once multiplied); above 88, +inf. NaN gives NaN, -inf 0.
 */
// @ts-ignore: decorator
@inline export function expf4(x: v128): v128 {
  const t = f32x4.add(f32x4.mul(x, splatAt(EXP_LOG2E)), splatAt(EXP_ROUND));
  const kf = f32x4.sub(t, splatAt(EXP_ROUND));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(kf, splatAt(EXP_LN2_HI))), f32x4.mul(kf, splatAt(EXP_LN2_LO)));
  let p = splatAt(EXP_POLY, 0);
  p = f32x4.add(f32x4.mul(p, r), splatAt(EXP_POLY, 1));
  p = f32x4.add(f32x4.mul(p, r), splatAt(EXP_POLY, 2));
  p = f32x4.add(f32x4.mul(p, r), splatAt(EXP_POLY, 3));
  p = f32x4.add(f32x4.mul(p, r), splatAt(EXP_POLY, 4));
  p = f32x4.add(f32x4.mul(p, r), splatAt(EXP_POLY, 5));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), splatAt(ONE_F32));
  const scale = i32x4.shl(i32x4.add(t, splatAt(EXP_BIAS)), 23);
  const e = v128.andnot(f32x4.mul(p, scale), f32x4.lt(x, splatAt(EXP_UNDER)));
  return v128.bitselect(splatAt(INF_F32), e, f32x4.gt(x, splatAt(EXP_OVER)));
}

/**
 * log1p(u) of four float32 lanes for u in [0, 1] (or NaN), as `log1pUnit2` with the series cut
 * after s^8/9 (truncation below 3e-9 relative; float32 rounding dominates, about 1e-7).
 */
// @ts-ignore: decorator
@inline export function log1pUnitf4(u: v128): v128 {
  const big = f32x4.gt(u, splatAt(LOG1P_SQRT2_M1));
  const num = v128.bitselect(f32x4.sub(u, splatAt(ONE_F32)), u, big);
  const den = f32x4.add(u, v128.bitselect(splatAt(LOG1P_SHIFTS, 1), splatAt(LOG1P_SHIFTS, 0), big));
  const s = f32x4.div(num, den);
  const z = f32x4.mul(s, s);
  let p = splatAt(LOG1P_POLY, 0);
  p = f32x4.add(f32x4.mul(p, z), splatAt(LOG1P_POLY, 1));
  p = f32x4.add(f32x4.mul(p, z), splatAt(LOG1P_POLY, 2));
  p = f32x4.add(f32x4.mul(p, z), splatAt(LOG1P_POLY, 3));
  const s2 = f32x4.add(s, s);
  const lg = f32x4.add(s2, f32x4.mul(s2, f32x4.mul(p, z)));
  return f32x4.add(v128.and(splatAt(LN2_F32), big), lg);
}

/** The upper two lanes of an f32x4 widened to f64x2. */
// @ts-ignore: decorator
@inline export function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/**
 * log1p(u) of both lanes for u in [0, 1] (or NaN): with f = 1 + u, or f = (1 + u) / 2 plus ln 2
 * when 1 + u > sqrt 2, log f = 2 atanh(s) where s = (f - 1) / (f + 1) is formed from u without
 * rounding 1 + u (|s| <= 0.1716), and 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ... + s^20/21).
 */
// @ts-ignore: decorator
@inline export function log1pUnit2(u: v128): v128 {
  const one = f64x2.splat(1.0);
  const big = f64x2.gt(u, f64x2.splat(0.41421356237309503));
  const num = v128.bitselect(f64x2.sub(u, one), u, big);
  const den = v128.bitselect(f64x2.add(u, f64x2.splat(3.0)), f64x2.add(u, f64x2.splat(2.0)), big);
  const s = f64x2.div(num, den);
  const z = f64x2.mul(s, s);
  let p = f64x2.splat(1.0 / 21.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 19.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 17.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 15.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 13.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 3.0));
  const t = f64x2.mul(f64x2.add(s, s), f64x2.mul(p, z));
  // 2s + 2s * (p z), adding the small part last; plus ln 2 for the halved f.
  const lg = f64x2.add(f64x2.add(s, s), t);
  const ln2 = v128.and(f64x2.splat(0.6931471805599453), big);
  return f64x2.add(ln2, lg);
}

/** Two float32s at p widened to f64x2. */
// @ts-ignore: decorator
@inline export function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** The two lanes of an f64x2 rounded to float32 and stored at p. */
// @ts-ignore: decorator
@inline export function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/** One float32 at p widened to f64x2 (lane 1 is 0). */
// @ts-ignore: decorator
@inline export function load1(p: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(0), 0, <f64>load<f32>(p));
}

export const ONE_F64 = memory.data<f64>([1.0]);

/** Two f64x2 rounded to float32 and packed into one f32x4 (lo in lanes 0, 1). */
// @ts-ignore: decorator
@inline export function demote4(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
