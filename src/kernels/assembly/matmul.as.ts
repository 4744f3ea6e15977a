/**
 * The matrix product as a WebAssembly SIMD kernel (AssemblyScript), for float32 and float64
 * operands; the host side is src/kernels/matmul.ts.
 *
 * C (M x N float64, row-major, ldc = N) = A (M x K) @ B (K x N), where A's element (i, k) is the
 * float at `a + size * (i * ars + k * acs)` and B's (k, j) at `b + size * (k * brs + j * bcs)`
 * (size 4 or 8). The host owns the memory (this module allocates nothing): it copies the operands
 * in, passes a workspace of `workspaceBytes64()` bytes, and rounds C to float32 (for float32
 * storage) as it copies it out.
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
