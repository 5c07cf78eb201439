// Batched matmul C = op(A)·op(B), any transposes, by packing and a 4×8 register tile.
//
// Both operands are copied into contiguous panels first (A: 4 rows interleaved per k,
// B: 8 columns per k), so the micro-kernel reads memory strictly sequentially whatever the
// transposes, and short edges are zero-padded so it never branches. Blocks of KC × NC
// of B stay in L2 while every 4-row panel of A streams past them.
// Deterministic: each C element sums its k products in increasing k, in f32, no FMA.

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 64;
const NC = 512;

/**
 * Floats of scratch each thread must pass to matmul: packed panels of A and B and an edge
 * tile. Scratch is per call, never static, so two threads can run matmul at once.
 */
export const MATMUL_SCRATCH_FLOATS: i32 = MC * KC + KC * NC + MR * NR;

// Reads A[i, p] of an m×k operand stored either m×k (row-major) or k×m (transposed).
@inline function at(base: usize, i: i32, p: i32, rowStride: i32, colStride: i32): f32 {
  return load<f32>(base + (<usize>(i * rowStride + p * colStride) << 2));
}

function packA(a: usize, rs: i32, cs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const panel = dst + (<usize>(ip * kc) << 2);
    for (let p = 0; p < kc; p++) {
      const o = panel + (<usize>(p * MR) << 2);
      for (let r = 0; r < MR; r++) {
        const i = ip + r;
        store<f32>(o + (<usize>r << 2), i < mc ? at(a, i0 + i, k0 + p, rs, cs) : 0);
      }
    }
  }
}

function packB(b: usize, rs: i32, cs: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const panel = dst + (<usize>(jp * kc) << 2);
    const full = jp + NR <= nc;
    for (let p = 0; p < kc; p++) {
      const o = panel + (<usize>(p * NR) << 2);
      if (full && cs == 1) {
        // Row-major B: the 8 columns are adjacent in memory.
        const src = b + (<usize>((k0 + p) * rs + j0 + jp) << 2);
        v128.store(o, v128.load(src));
        v128.store(o, v128.load(src, 16), 16);
      } else {
        for (let c = 0; c < NR; c++) {
          const j = jp + c;
          store<f32>(o + (<usize>c << 2), j < nc ? at(b, k0 + p, j0 + j, rs, cs) : 0);
        }
      }
    }
  }
}

// acc(4×8) = Apanel(4×kc) · Bpanel(kc×8), then C tile (+)= acc. `rows`/`cols` clip the
// tile at the matrix edge; `accumulate` is false for the first k-block.
function microKernel(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    ap += MR << 2;
    bp += NR << 2;
  }
  if (rows == MR && cols == NR) {
    const ld = <usize>ldc << 2;
    storeRow(c, c00, c01, accumulate);
    storeRow(c + ld, c10, c11, accumulate);
    storeRow(c + 2 * ld, c20, c21, accumulate);
    storeRow(c + 3 * ld, c30, c31, accumulate);
    return;
  }
  // Edge tile: spill to the scratch tile and copy the valid part.
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const dst = c + (<usize>(r * ldc + j) << 2);
      const v = load<f32>(tile + (<usize>(r * NR + j) << 2));
      store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
    }
  }
}

@inline function storeRow(c: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(v128.load(c), lo);
    hi = f32x4.add(v128.load(c, 16), hi);
  }
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

// Rows [rowStart, rowEnd) of C = op(A)·op(B). Splitting by rows changes no element's
// summation order, so a threaded product is bit-identical to a single-threaded one.
function matmulOne(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool,
  rowStart: i32, rowEnd: i32, scratch: usize,
): void {
  // Row/column strides of the logical m×k A and k×n B.
  const ars = transA ? 1 : k, acs = transA ? m : 1;
  const brs = transB ? 1 : n, bcs = transB ? k : 1;
  const packedA = scratch;
  const packedB = scratch + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  if (k == 0) {
    for (let i = rowStart * n; i < rowEnd * n; i++) store<f32>(c + (<usize>i << 2), 0);
    return;
  }
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      packB(b, brs, bcs, k0, kc, j0, nc, packedB);
      for (let i0 = rowStart; i0 < rowEnd; i0 += MC) {
        const mc = min(MC, rowEnd - i0);
        packA(a, ars, acs, i0, mc, k0, kc, packedA);
        for (let ip = 0; ip < mc; ip += MR) {
          for (let jp = 0; jp < nc; jp += NR) {
            microKernel(
              packedA + (<usize>(ip * kc) << 2), packedB + (<usize>(jp * kc) << 2), kc,
              c + (<usize>((i0 + ip) * n + j0 + jp) << 2), n,
              min(MR, mc - ip), min(NR, nc - jp), k0 > 0, tile,
            );
          }
        }
      }
    }
  }
}

/**
 * The batched product restricted to rows [rowStart, rowEnd) of every batch item's C; the
 * CPU backend gives disjoint row ranges to its threads.
 */
export function matmul(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  transA: i32, transB: i32, strideA: i32, strideB: i32, rowStart: i32, rowEnd: i32, scratch: usize,
): void {
  for (let t = 0; t < batch; t++) {
    matmulOne(
      a + (<usize>(t * strideA) << 2), b + (<usize>(t * strideB) << 2), c + (<usize>(t * m * n) << 2),
      m, n, k, transA != 0, transB != 0, rowStart, rowEnd, scratch,
    );
  }
}
