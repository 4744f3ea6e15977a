/**
 * The matrix product as a WebAssembly SIMD kernel (AssemblyScript), for float32 and float64
 * operands; the host side is src/kernels/matmul.ts.
 *
 * C (M x N, row-major, ldc = N, of the operands' type) = A (M x K) @ B (K x N), where A's element
 * (i, k) is at `a + size * (i * ars + k * acs)` and B's (k, j) at `b + size * (k * brs + j * bcs)`
 * (size 4 for `sgemm`, 8 for `dgemm`). The host owns the memory (this module allocates nothing):
 * it copies the operands in, passes a workspace of `workspaceBytes()` bytes, and copies C out.
 *
 * Precision: each element of C is the sum over k in order, in the operands' type: float32 sums
 * for float32 operands, as PyTorch's CPU sgemm accumulates (here without fused multiply-adds,
 * which WebAssembly SIMD lacks: each product is rounded, then each sum). The order depends on no
 * block size: a block of k after the first starts from the C the previous block left, so any
 * split of the rows or columns, and the TypeScript kernel's plain loops, give the same bits.
 *
 * Goto's scheme: B is packed by blocks of KC x NC into panels of NR columns interleaved by k, A
 * by blocks of MC x KC into strips of MR = 5 rows interleaved by k (both zero-padded), and a
 * 5 x NR micro-kernel keeps ten accumulators in registers: per step of k, two loads of B, five
 * broadcasts of A, ten multiplies and ten adds. A panel row is 32 bytes in both types: NR = 8
 * floats (two f32x4) or 4 doubles (two f64x2), so float32 does twice the work per step.
 *
 * Why five rows, not six: without a fused multiply-add each product needs a register of its own
 * before it is added, so a 6-row tile (twelve accumulators, two B vectors, one broadcast, one
 * product) needs sixteen, and V8 keeps one of x64's sixteen for itself: it spilled an accumulator
 * to the stack every step. Measured on the 2-core AMD machine at 1024^3 float32, in alternation:
 * 6 x 8 ran 30-33 GFLOPS, 4 x 8 about 50, 5 x 8 about 58; block sizes (KC 256-1024, MC 40-320)
 * moved it by less than the noise.
 */

/** Rows per micro-tile and per packed strip of A. */
const MR: i32 = 5;
/** Bytes of one k-step of a packed B panel: two v128. */
const PANEL_ROW: i32 = 32;

/** Columns of B per panel for element type T: 8 floats or 4 doubles. */
// @ts-ignore: decorator
@inline
function nrOf<T>(): i32 {
  return PANEL_ROW / sizeof<T>();
}

/** Depth of a block of k: a B panel (32 bytes per k) and an A strip (5 elements per k) together fit in L1. */
// @ts-ignore: decorator
@inline
function kcOf<T>(): i32 {
  return sizeof<T>() == 4 ? 512 : 256;
}

/** Rows of A per packed block (a multiple of MR; the block stays in L2 while B's panels pass). */
const MC: i32 = 80;
/** Columns of B per packed block (a multiple of both panel widths). */
const NC: i32 = 1024;

/** Bytes of workspace either product needs: packed A and B, and one spill tile for edges. */
export function workspaceBytes(): i32 {
  const f32 = MC * kcOf<f32>() + kcOf<f32>() * NC;
  const f64 = (MC * kcOf<f64>() + kcOf<f64>() * NC) << 1;
  return ((f32 > f64 ? f32 : f64) << 2) + MR * PANEL_ROW + 64;
}

/** C = A @ B over float32 operands, summed in float32 (strided as above; C float32, ldc = N). */
export function sgemm(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize,
): void {
  gemm<f32>(M, N, K, a, ars, acs, b, brs, bcs, c, ws);
}

/** C = A @ B over float64 operands, summed in float64 (C float64, ldc = N). */
export function dgemm(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize,
): void {
  gemm<f64>(M, N, K, a, ars, acs, b, brs, bcs, c, ws);
}

function gemm<T>(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ws: usize,
): void {
  const NR = nrOf<T>();
  const KC = kcOf<T>();
  const shift = alignof<T>();
  const ap = ws;
  const bp = ws + (<usize>(MC * KC) << shift);
  const tile = bp + (<usize>(KC * NC) << shift);
  const ldc = <usize>N << shift;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      packB<T>(b, brs, bcs, pc, jc, kc, nc, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA<T>(a, ars, acs, ic, pc, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = bp + <usize>(jr * kc * PANEL_ROW / NR);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const astrip = ap + (<usize>(ir * kc) << shift);
            const cp = c + (<usize>((ic + ir) * N + jc + jr) << shift);
            if (mr == MR && nr == NR) {
              tileKernel<T>(astrip, bpanel, kc, cp, ldc, pc == 0);
            } else {
              // An edge tile runs in the spill tile: C's live part copied in, and back out.
              if (pc > 0) copyTile<T>(cp, ldc, tile, PANEL_ROW, mr, nr);
              tileKernel<T>(astrip, bpanel, kc, tile, PANEL_ROW, pc == 0);
              copyTile<T>(tile, PANEL_ROW, cp, ldc, mr, nr);
            }
          }
        }
      }
    }
  }
}

/** Copies an mr x nr block of T between two row-major places with row strides in bytes. */
function copyTile<T>(src: usize, srcStride: usize, dst: usize, dstStride: usize, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) {
    memory.copy(dst + <usize>r * dstStride, src + <usize>r * srcStride, <usize>nr << alignof<T>());
  }
}

/**
 * B[pc:pc+kc, jc:jc+nc] into panels of NR columns, k-interleaved (32 bytes per k), zero-padded.
 * Rows of contiguous columns are copied as two v128 per k.
 */
function packB<T>(b: usize, brs: i32, bcs: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const NR = nrOf<T>();
  const shift = alignof<T>();
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    let q = dst + <usize>(jr * kc * PANEL_ROW / NR);
    if (nr == NR && bcs == 1) {
      let src = b + (<usize>(pc * brs + jc + jr) << shift);
      const step = <usize>brs << shift;
      for (let k = 0; k < kc; k++) {
        v128.store(q, v128.load(src));
        v128.store(q, v128.load(src, 16), 16);
        src += step;
        q += PANEL_ROW;
      }
    } else {
      const cstep = <usize>bcs << shift;
      for (let k = 0; k < kc; k++) {
        const row = b + (<usize>((pc + k) * brs + (jc + jr) * bcs) << shift);
        for (let j = 0; j < NR; j++) {
          store<T>(q + (<usize>j << shift), j < nr ? load<T>(row + <usize>j * cstep) : <T>0);
        }
        q += PANEL_ROW;
      }
    }
  }
}

/** A[ic:ic+mc, pc:pc+kc] into strips of MR rows, k-interleaved, zero-padded. */
function packA<T>(a: usize, ars: i32, acs: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const shift = alignof<T>();
  const size = <usize>sizeof<T>();
  const rstep = <usize>ars << shift;
  const kstep = <usize>acs << shift;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    let q = dst + (<usize>(ir * kc) << shift);
    let src = a + (<usize>((ic + ir) * ars + pc * acs) << shift);
    if (mr == MR) {
      for (let k = 0; k < kc; k++) {
        store<T>(q, load<T>(src));
        store<T>(q + size, load<T>(src + rstep));
        store<T>(q + 2 * size, load<T>(src + 2 * rstep));
        store<T>(q + 3 * size, load<T>(src + 3 * rstep));
        store<T>(q + 4 * size, load<T>(src + 4 * rstep));
        src += kstep;
        q += <usize>MR * size;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) store<T>(q + <usize>r * size, r < mr ? load<T>(src + <usize>r * rstep) : <T>0);
        src += kstep;
        q += <usize>MR * size;
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function madd<T>(acc: v128, x: v128, y: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.add(acc, f32x4.mul(x, y)) : f64x2.add(acc, f64x2.mul(x, y));
}

/**
 * The 5 x NR tile at c (row stride ldc bytes) = (first block) or += A strip (5 x kc) @ B panel
 * (kc x NR), in ten accumulators (f32x4 or f64x2, two per row). They start at zero for the first
 * block of k and from C after it, so each element's sum runs over k in order whatever the blocks,
 * and are written back to C at the end. (Generic, so compiled once per type; the broadcasts take
 * immediate offsets, which ran 5-15% faster than computed addresses.)
 */
function tileKernel<T>(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, first: bool): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
  let c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0);
  let c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  let c40 = i32x4.splat(0), c41 = i32x4.splat(0);
  if (!first) {
    let p = c;
    c00 = v128.load(p); c01 = v128.load(p, 16); p += ldc;
    c10 = v128.load(p); c11 = v128.load(p, 16); p += ldc;
    c20 = v128.load(p); c21 = v128.load(p, 16); p += ldc;
    c30 = v128.load(p); c31 = v128.load(p, 16); p += ldc;
    c40 = v128.load(p); c41 = v128.load(p, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = sizeof<T>() == 4 ? v128.load32_splat(ap, 0) : v128.load64_splat(ap, 0);
    c00 = madd<T>(c00, x, b0);
    c01 = madd<T>(c01, x, b1);
    x = sizeof<T>() == 4 ? v128.load32_splat(ap, 4) : v128.load64_splat(ap, 8);
    c10 = madd<T>(c10, x, b0);
    c11 = madd<T>(c11, x, b1);
    x = sizeof<T>() == 4 ? v128.load32_splat(ap, 8) : v128.load64_splat(ap, 16);
    c20 = madd<T>(c20, x, b0);
    c21 = madd<T>(c21, x, b1);
    x = sizeof<T>() == 4 ? v128.load32_splat(ap, 12) : v128.load64_splat(ap, 24);
    c30 = madd<T>(c30, x, b0);
    c31 = madd<T>(c31, x, b1);
    x = sizeof<T>() == 4 ? v128.load32_splat(ap, 16) : v128.load64_splat(ap, 32);
    c40 = madd<T>(c40, x, b0);
    c41 = madd<T>(c41, x, b1);
    ap += MR * sizeof<T>();
    bp += PANEL_ROW;
  }
  let p = c;
  v128.store(p, c00); v128.store(p, c01, 16); p += ldc;
  v128.store(p, c10); v128.store(p, c11, 16); p += ldc;
  v128.store(p, c20); v128.store(p, c21, 16); p += ldc;
  v128.store(p, c30); v128.store(p, c31, 16); p += ldc;
  v128.store(p, c40); v128.store(p, c41, 16);
}
