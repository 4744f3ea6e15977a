/**
 * The float32 matrix product as a WebAssembly SIMD kernel (AssemblyScript; compiled at build time by
 * `npm run build:wasm` to src/kernels/matmul.wasm, loaded by wasm-matmul.ts).
 *
 * C (M x N float64, row-major, ldc = N) = A (M x K) @ B (K x N), where A's element (i, k) is the
 * f32 at `a + 4 * (i * ars + k * acs)` and B's (k, j) at `b + 4 * (k * brs + j * bcs)`. The host
 * owns the memory (this module allocates nothing): it copies the operands in, passes a workspace
 * of `workspaceBytes64()` bytes, and rounds C to float32 as it copies it out.
 *
 * Precision: torchlet promises float32 products summed in doubles and rounded once (the TypeScript
 * kernel does that, and tests/ops-behaviour.test.ts checks it). A float32 x float32 product is
 * exact in a double, so the operands are widened when packed and the sums run in f64x2 lanes.
 * (Summing in f32x4, as sgemm does, passes PyTorch's golden tolerances but not that promise; on
 * the 2-core machine it was not clearly faster at 1024^3.)
 *
 * Goto's scheme: B is packed by blocks of KC x NC into panels of NR = 4 columns interleaved by k,
 * A by blocks of MC x KC into strips of MR = 6 rows interleaved by k (both zero-padded), and a
 * 6 x 4 micro-kernel keeps twelve f64x2 accumulators in registers: per step of k, two loads of B,
 * six broadcasts of A, twelve multiplies and twelve adds. Each element is summed over k in order,
 * one block of KC after the other (partial sums per block added to C, as the TypeScript kernel).
 */

/** Where the host may start placing data (after this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

const DMR: i32 = 6;
const DNR: i32 = 4;
const DMC: i32 = 96;
const DKC: i32 = 256;
const DNC: i32 = 1024;

/** Bytes of workspace `dgemm32` needs: packed A and B (in float64) and one spill tile. */
export function workspaceBytes64(): i32 {
  return (DMC * DKC + DKC * DNC + DMR * DNR + 16) << 3;
}

/**
 * C (M x N float64, row-major, ldc = N) = A @ B for float32 operands (strided as above), the
 * operands widened to float64 when packed (a product of two floats is exact in a double) and
 * summed in float64, so rounding C to float32 afterwards rounds each result once.
 */
export function dgemm32(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize,
): void {
  dgemm(M, N, K, a, ars, acs, b, brs, bcs, c, ws, false);
}

/** The same for float64 operands (A(i, k) at `a + 8 * (i * ars + k * acs)`, B likewise). */
export function dgemm64(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize,
): void {
  dgemm(M, N, K, a, ars, acs, b, brs, bcs, c, ws, true);
}

function dgemm(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize, wide: bool,
): void {
  const ap = ws;
  const bp = ws + (<usize>(DMC * DKC) << 3);
  const tile = bp + (<usize>(DKC * DNC) << 3);
  for (let jc = 0; jc < N; jc += DNC) {
    const nc = min(DNC, N - jc);
    for (let pc = 0; pc < K; pc += DKC) {
      const kc = min(DKC, K - pc);
      if (wide) packB<f64>(b, brs, bcs, pc, jc, kc, nc, bp);
      else packB<f32>(b, brs, bcs, pc, jc, kc, nc, bp);
      for (let ic = 0; ic < M; ic += DMC) {
        const mc = min(DMC, M - ic);
        if (wide) packA<f64>(a, ars, acs, ic, pc, mc, kc, ap);
        else packA<f32>(a, ars, acs, ic, pc, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += DNR) {
          const nr = min(DNR, nc - jr);
          const bpanel = bp + (<usize>(jr * kc) << 3);
          for (let ir = 0; ir < mc; ir += DMR) {
            const mr = min(DMR, mc - ir);
            const cp = c + (<usize>((ic + ir) * N + jc + jr) << 3);
            kernel6x4d(ap + (<usize>(ir * kc) << 3), bpanel, kc, cp, N, pc > 0, mr, nr, tile);
          }
        }
      }
    }
  }
}

/**
 * B[pc:pc+kc, jc:jc+nc] (element type T: f32 or f64) into float64 panels of DNR columns,
 * k-interleaved, zero-padded. Rows of contiguous columns take a SIMD path.
 */
function packB<T>(b: usize, brs: i32, bcs: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const shift = alignof<T>();
  for (let jr = 0; jr < nc; jr += DNR) {
    const nr = min(DNR, nc - jr);
    let q = dst + (<usize>(jr * kc) << 3);
    if (nr == DNR && bcs == 1) {
      let src = b + (<usize>(pc * brs + jc + jr) << shift);
      const step = <usize>brs << shift;
      for (let k = 0; k < kc; k++) {
        if (sizeof<T>() == 4) {
          const v = v128.load(src);
          v128.store(q, f64x2.promote_low_f32x4(v));
          v128.store(q, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), 16);
        } else {
          v128.store(q, v128.load(src));
          v128.store(q, v128.load(src, 16), 16);
        }
        src += step;
        q += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const row = (pc + k) * brs;
        for (let j = 0; j < DNR; j++) {
          store<f64>(q + (<usize>j << 3), j < nr ? <f64>load<T>(b + (<usize>(row + (jc + jr + j) * bcs) << shift)) : 0);
        }
        q += 32;
      }
    }
  }
}

/** A[ic:ic+mc, pc:pc+kc] (element type T: f32 or f64) into float64 strips of DMR rows, k-interleaved, zero-padded. */
function packA<T>(a: usize, ars: i32, acs: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const shift = alignof<T>();
  for (let ir = 0; ir < mc; ir += DMR) {
    const mr = min(DMR, mc - ir);
    let q = dst + (<usize>(ir * kc) << 3);
    const i0 = ic + ir;
    if (mr == DMR) {
      const rstep = <usize>ars << shift;
      const kstep = <usize>acs << shift;
      let src = a + (<usize>(i0 * ars + pc * acs) << shift);
      for (let k = 0; k < kc; k++) {
        store<f64>(q, <f64>load<T>(src));
        store<f64>(q, <f64>load<T>(src + rstep), 8);
        store<f64>(q, <f64>load<T>(src + 2 * rstep), 16);
        store<f64>(q, <f64>load<T>(src + 3 * rstep), 24);
        store<f64>(q, <f64>load<T>(src + 4 * rstep), 32);
        store<f64>(q, <f64>load<T>(src + 5 * rstep), 40);
        src += kstep;
        q += 48;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const col = (pc + k) * acs;
        for (let r = 0; r < DMR; r++) {
          store<f64>(q + (<usize>r << 3), r < mr ? <f64>load<T>(a + (<usize>((i0 + r) * ars + col) << shift)) : 0);
        }
        q += 48;
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function fmad(acc: v128, x: v128, y: v128): v128 {
  return f64x2.add(acc, f64x2.mul(x, y));
}

/** C tile (mr x nr of 6 x 4 doubles) = (or +=) A strip (6 x kc) @ B panel (kc x 4). */
function kernel6x4d(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, accumulate: bool, mr: i32, nr: i32, tile: usize): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  let c40 = f64x2.splat(0), c41 = f64x2.splat(0);
  let c50 = f64x2.splat(0), c51 = f64x2.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load64_splat(ap);
    c00 = fmad(c00, x, b0);
    c01 = fmad(c01, x, b1);
    x = v128.load64_splat(ap, 8);
    c10 = fmad(c10, x, b0);
    c11 = fmad(c11, x, b1);
    x = v128.load64_splat(ap, 16);
    c20 = fmad(c20, x, b0);
    c21 = fmad(c21, x, b1);
    x = v128.load64_splat(ap, 24);
    c30 = fmad(c30, x, b0);
    c31 = fmad(c31, x, b1);
    x = v128.load64_splat(ap, 32);
    c40 = fmad(c40, x, b0);
    c41 = fmad(c41, x, b1);
    x = v128.load64_splat(ap, 40);
    c50 = fmad(c50, x, b0);
    c51 = fmad(c51, x, b1);
    ap += 48;
    bp += 32;
  }
  const ldb = <usize>ldc << 3;
  if (mr == DMR && nr == DNR) {
    let p = c;
    if (accumulate) {
      v128.store(p, f64x2.add(v128.load(p), c00)); v128.store(p, f64x2.add(v128.load(p, 16), c01), 16); p += ldb;
      v128.store(p, f64x2.add(v128.load(p), c10)); v128.store(p, f64x2.add(v128.load(p, 16), c11), 16); p += ldb;
      v128.store(p, f64x2.add(v128.load(p), c20)); v128.store(p, f64x2.add(v128.load(p, 16), c21), 16); p += ldb;
      v128.store(p, f64x2.add(v128.load(p), c30)); v128.store(p, f64x2.add(v128.load(p, 16), c31), 16); p += ldb;
      v128.store(p, f64x2.add(v128.load(p), c40)); v128.store(p, f64x2.add(v128.load(p, 16), c41), 16); p += ldb;
      v128.store(p, f64x2.add(v128.load(p), c50)); v128.store(p, f64x2.add(v128.load(p, 16), c51), 16);
    } else {
      v128.store(p, c00); v128.store(p, c01, 16); p += ldb;
      v128.store(p, c10); v128.store(p, c11, 16); p += ldb;
      v128.store(p, c20); v128.store(p, c21, 16); p += ldb;
      v128.store(p, c30); v128.store(p, c31, 16); p += ldb;
      v128.store(p, c40); v128.store(p, c41, 16); p += ldb;
      v128.store(p, c50); v128.store(p, c51, 16);
    }
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144);
  v128.store(tile, c50, 160); v128.store(tile, c51, 176);
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ldb;
    const src = tile + (<usize>(r * DNR) << 3);
    for (let j = 0; j < nr; j++) {
      const q = row + (<usize>j << 3);
      const v = load<f64>(src + (<usize>j << 3));
      store<f64>(q, accumulate ? load<f64>(q) + v : v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Row-wise log-softmax (forward and backward) and BCEWithLogits over float32 data (the hot loops
// of cross entropy and BCEWithLogitsLoss). Like the product above they work on memory the host
// fills, and every kernel may run in place (its output over one of its inputs).
//
// Precision: the transcendentals (exp, log1p, e / (1 + e)) run in f32x4 lanes, each within about
// an ulp (1.2e-7 relative), as PyTorch's own vectorised float32 kernels; everything they feed
// (row sums, x - max - log(sum), g - exp(y) * sum(g), the losses and their sum, sigmoid(x) - y) is
// formed in float64 lanes and rounded to float32 once, as the TypeScript loops in ops/activation.ts
// and ops/loss.ts do. The column NLL picked is recomputed with the float64 exp (where
// v - exp(y) v cancels). NaN and infinities come out where the TypeScript loops put them
// (tests/wasm-kernels.test.ts). Tails of fewer than four use the float64 exp.
// ---------------------------------------------------------------------------------------------

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
@inline function expd2(x: v128): v128 {
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
const ONE_F32 = memory.data<f32>([1.0]);
const INF_F32 = memory.data<f32>([Infinity]);
const LOG1P_SQRT2_M1 = memory.data<f32>([0.41421356]);
const LOG1P_SHIFTS = memory.data<f32>([2.0, 3.0]);
const LOG1P_POLY = memory.data<f32>([<f32>(1.0 / 9.0), <f32>(1.0 / 7.0), <f32>(1.0 / 5.0), <f32>(1.0 / 3.0)]);
const LN2_F32 = memory.data<f32>([0.693147182]);

/** The f32 (or i32) at p in all four lanes. */
// @ts-ignore: decorator
@inline function splatAt(p: usize, index: i32 = 0): v128 {
  return v128.load32_splat(p + (<usize>index << 2));
}

/**
 * exp of four float32 lanes (Cephes' expf): x = k ln2 + r with ln 2 in two parts, a degree-7
 * polynomial for exp(r) (relative error about 1e-7, an ulp), times 2^k from k's bits. Below -87
 * the result is 0 (under 2e-38: nothing against a sum of at least 1, and a float32 subnormal at
 * most once multiplied); above 88, +inf. NaN gives NaN, -inf 0.
 */
// @ts-ignore: decorator
@inline function expf4(x: v128): v128 {
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
@inline function log1pUnitf4(u: v128): v128 {
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
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/**
 * log1p(u) of both lanes for u in [0, 1] (or NaN): with f = 1 + u, or f = (1 + u) / 2 plus ln 2
 * when 1 + u > sqrt 2, log f = 2 atanh(s) where s = (f - 1) / (f + 1) is formed from u without
 * rounding 1 + u (|s| <= 0.1716), and 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ... + s^20/21).
 */
// @ts-ignore: decorator
@inline function log1pUnit2(u: v128): v128 {
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
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** The two lanes of an f64x2 rounded to float32 and stored at p. */
// @ts-ignore: decorator
@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/** One float32 at p widened to f64x2 (lane 1 is 0). */
// @ts-ignore: decorator
@inline function load1(p: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(0), 0, <f64>load<f32>(p));
}

const ONE_F64 = memory.data<f64>([1.0]);

/** Two f64x2 rounded to float32 and packed into one f32x4 (lo in lanes 0, 1). */
// @ts-ignore: decorator
@inline function demote4(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

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
