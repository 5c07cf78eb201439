// Batched matmul C = op(A)·op(B), any transposes, by a 4×8 register tile.
//
// B is copied into contiguous panels (8 columns per k) so the micro-kernel reads it
// sequentially whatever its layout; short edges are zero-padded so the kernel never
// branches. Blocks of KC × NC of B stay in L2 while every 4-row panel of A streams past.
// A is packed too (4 rows interleaved per k) when its panel serves many column tiles; for
// skinny products (n ≤ DIRECT_A_COLS, one or two tiles) it is read where it lies, as the
// copy cost as much as the products it fed: LeNet-5's 100352×25·25×6 product ran at
// 6 GFLOP/s packing A (2026-12-04, bench/profile.ts), 14 in place; reading A in place
// everywhere cost square products a quarter of their rate (more address arithmetic in
// the inner loop). A row-major B used by at most DIRECT_B_ROWS rows of A is read in place
// too: each element serves so few multiply-adds that copying it costs as much as using it.
// An optional bias (one float per column) is added to each element after its last K-block,
// as its own f32 addition: the bits of the product followed by a broadcast add, without a
// second pass over C.
// Deterministic: each C element sums its k products in increasing k, in f32, no FMA (the
// default build of madd.ts; the opt-in relaxed build fuses, in the same order),
// K-blocks added in increasing order; splitting rows or columns between threads, packing or
// not, changes no element's operation order, so every path gives the same bits
// (test/kernel_order_cpu.test.ts).

import { loadPartial, storePartial } from './lanes';
import { madd } from './madd';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 64;
const NC = 512;
/**
 * Edge tiles at most this wide run a 4×4 kernel: the 4×8 one spent a whole tile's work on
 * mlp-2's last 2 of 10 columns and LeNet-5's last 1 of 25. 10-wide forward products
 * (mlp-2's, mlp-toeplitz's, LeNet-5's last layer) took 0.90–0.91× the time; the 4×4 kernel
 * costs more than half the 4×8 one (the same loop overhead), so the gain is less than the
 * work saved (2026-12-05, 1 thread, both builds timed alternately in one process).
 */
const NARROW_COLS = 4;
/**
 * Row ranges up to this many rows read a row-major B in place instead of packing it (if B
 * is below STREAMED_FLOATS).
 */
const DIRECT_B_ROWS = 16;
/** Products at most this wide read A in place instead of packing it ... */
const DIRECT_A_COLS = 2 * NR;
/**
 * ... unless A holds at least this many floats (32 MiB, more than a last-level cache): it
 * then streams from memory, where packing it reads it once, in order. ResNet-20's
 * 131072×144·144×16 forward products (75 MB of im2col windows) took 0.81× the time in its
 * training step packed; LeNet-5's 12800×150·150×16 (7.7 MB) and mlp-2's 10-wide products
 * took 1.0–1.13× packed, so they stay in place (2026-12-05, 1 thread). The same holds for
 * a B read in place: ResNet-20's 16×131072·131072×144 weight gradients took 0.94× packed.
 */
const STREAMED_FLOATS: u64 = 1 << 23;
/**
 * Column ranges at least this wide also copy each packed A value into a whole vector: the
 * micro-kernel then loads it with its offset folded into the instruction, where a splat
 * load's offset costs V8 an extra address computation (2 of the ~32 instructions of a
 * k-step). 1024² and mlp-2's large products took 0.94–0.96× the time; over fewer columns
 * the 4× copy costs more than it saves (LeNet-5's 150- and 25-wide weight gradients
 * 1.15–1.18×). Only in the strict build: with fused multiply-adds the loop is short enough
 * that reading 4× the A bytes costs more (relaxed products 1.03–1.05×). (2026-12-04.)
 */
const BROADCAST_A_COLS = ASC_FEATURE_RELAXED_SIMD ? i32.MAX_VALUE : 256;

/**
 * Floats of scratch each thread must pass to matmul: packed panels of A and B, and A's
 * broadcast copy. Scratch is per call, never static, so two threads can run matmul at once.
 */
export const MATMUL_SCRATCH_FLOATS: i32 = MC * KC + KC * NC + MR * MC * KC;

// One k-step of a panel: `valid` floats read `step` bytes apart from src, then zeros up
// to the panel's `width`.
@inline function packEdge(src: usize, step: usize, valid: i32, width: i32, dst: usize): void {
  let q = 0;
  for (; q < valid; q++) {
    store<f32>(dst + (<usize>q << 2), load<f32>(src));
    src += step;
  }
  for (; q < width; q++) store<f32>(dst + (<usize>q << 2), 0);
}

function packA(a: usize, rs: i32, cs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const panel = dst + (<usize>(ip * kc) << 2);
    if (rs == 1 && ip + MR <= mc) {
      // Transposed A: the panel's 4 rows are adjacent at every k.
      const src = a + (<usize>(i0 + ip + k0 * cs) << 2);
      for (let p = 0; p < kc; p++) v128.store(panel + (<usize>(p * MR) << 2), v128.load(src + (<usize>(p * cs) << 2)));
      continue;
    }
    let p = 0;
    const rowStep = <usize>rs << 2;
    if (cs == 1 && ip + MR <= mc) {
      // Row-major A: 4 k-steps of each of the 4 rows are adjacent; one 4×4 transpose in
      // registers per 4 k-steps. One float at a time, packing took ~10 % of LeNet-5's
      // 6400×16·16×150 input gradient.
      const src = a + (<usize>((i0 + ip) * rs + k0) << 2);
      for (; p + 4 <= kc; p += 4) transpose4(src + (<usize>p << 2), rowStep, panel + (<usize>(p * MR) << 2), MR << 2);
    }
    // Edge panel, or the k-steps the fast path left: per k-step the valid rows, then zeros.
    const valid = min(MR, mc - ip);
    for (; p < kc; p++) {
      const o = panel + (<usize>(p * MR) << 2);
      packEdge(a + (<usize>((i0 + ip) * rs + (k0 + p) * cs) << 2), rowStep, valid, MR, o);
    }
  }
}

// Each of the `count` floats of packed A at src as a whole vector at dst.
function broadcastPanels(src: usize, count: i32, dst: usize): void {
  for (let q = 0; q < count; q++) v128.store(dst + (<usize>q << 4), v128.load32_splat(src + (<usize>q << 2)));
}

// Packs columns [jFrom, nc) of the KC-block (panels of NR, zero-padded at the edge).
function packB(b: usize, rs: i32, cs: i32, k0: i32, kc: i32, j0: i32, nc: i32, jFrom: i32, dst: usize): void {
  for (let jp = jFrom; jp < nc; jp += NR) {
    const panel = dst + (<usize>(jp * kc) << 2);
    const full = jp + NR <= nc;
    let p = 0;
    if (full && cs == 1) {
      // Row-major B: the 8 columns are adjacent in memory.
      for (; p < kc; p++) {
        const o = panel + (<usize>(p * NR) << 2);
        const src = b + (<usize>((k0 + p) * rs + j0 + jp) << 2);
        v128.store(o, v128.load(src));
        v128.store(o, v128.load(src, 16), 16);
      }
    } else if (full && rs == 1) {
      // Transposed B (a weight used as xWᵀ): 4 k-steps of each of the 8 columns are
      // adjacent; two 4×4 transposes in registers. The scalar path made the forward product
      // of mlp-2's first layer run at 73 % of the square rate (2026-12-04).
      const col = b + (<usize>((j0 + jp) * cs + k0) << 2);
      const colStride = <usize>cs << 2;
      for (; p + 4 <= kc; p += 4) {
        const o = panel + (<usize>(p * NR) << 2);
        const src = col + (<usize>p << 2);
        transpose4(src, colStride, o, NR << 2);
        transpose4(src + 4 * colStride, colStride, o + 16, NR << 2);
      }
    }
    // The rest: an edge panel (its valid columns, then zeros), or the k-steps the fast
    // paths left. One pointer per k-step instead of an index product and a bounds test per
    // float: LeNet-5's first weight gradient (6×50176·50176×25, one column in its edge
    // panel) ran 1.03–1.25× faster (2026-12-04, 1 thread, alternating processes).
    const valid = min(NR, nc - jp);
    const colStep = <usize>cs << 2;
    for (; p < kc; p++) {
      const o = panel + (<usize>(p * NR) << 2);
      packEdge(b + (<usize>((k0 + p) * rs + (j0 + jp) * cs) << 2), colStep, valid, NR, o);
    }
  }
}

// Rows src, src + stride, … (4 floats each) stored as 4 columns at dst: the 4 transposed
// vectors `dstStep` bytes apart (a row of a panel).
@inline function transpose4(src: usize, stride: usize, dst: usize, dstStep: usize): void {
  const v0 = v128.load(src), v1 = v128.load(src + stride);
  const v2 = v128.load(src + 2 * stride), v3 = v128.load(src + 3 * stride);
  const t0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = f32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = f32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStep, f32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStep, f32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStep, f32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

// acc(4×8) = A(4×kc) · Bpanel(kc×8), then C tile (+)= acc; `cols` clips the tile at the
// matrix edge (rows past `rows` are computed and dropped); `accumulate` is false for the
// first k-block. B rows are `bStep` bytes apart. Packed A: 4 interleaved rows at `ap`.
function microKernelPacked(
  ap: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
): void {
  packedKernel(ap, bp, bStep, kc, c, ldc, rows, cols, accumulate, false, true);
}

// The same with each A value stored as a whole vector (16 bytes; see BROADCAST_A_COLS).
function microKernelBroadcastA(
  ap: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
): void {
  packedKernel(ap, bp, bStep, kc, c, ldc, rows, cols, accumulate, true, true);
}

// The 4×4 halves of those two, for edge tiles of at most 4 columns (see NARROW_COLS).
function microKernelPackedNarrow(
  ap: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
): void {
  packedKernel(ap, bp, bStep, kc, c, ldc, rows, cols, accumulate, false, false);
}

function microKernelBroadcastANarrow(
  ap: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
): void {
  packedKernel(ap, bp, bStep, kc, c, ldc, rows, cols, accumulate, true, false);
}

// `wide` (a constant at every call, so the untaken half is compiled away): the 4×8 tile, or
// only its left 4 columns, which do the same per-lane operations in the same order.
@inline function packedKernel(
  ap: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
  broadcastA: bool, wide: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // V8 (Node 20) compiles one k-step to ~31 x64 instructions for its 16 multiplies and
  // adds: 2 zero-extending moves, 2 address computations (a splat load's offset is not
  // folded), pointer bumps, a stack check on every back-edge. The loop is front-end bound:
  // looping on an end pointer instead of a counter (one add fewer) made products 8 % faster.
  // Unrolled by two, V8's scheduler hoists both steps' loads and spills accumulators (0.70×
  // the rate). (2026-12-04, seen with --print-wasm-code.)
  const aStep: usize = broadcastA ? MR << 4 : MR << 2;
  const apEnd = ap + <usize>kc * aStep;
  while (ap < apEnd) {
    const b0 = v128.load(bp);
    const b1 = wide ? v128.load(bp, 16) : b0;
    let a = broadcastA ? v128.load(ap) : v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    if (wide) c01 = madd(a, b1, c01);
    a = broadcastA ? v128.load(ap, 16) : v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    if (wide) c11 = madd(a, b1, c11);
    a = broadcastA ? v128.load(ap, 32) : v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    if (wide) c21 = madd(a, b1, c21);
    a = broadcastA ? v128.load(ap, 48) : v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    if (wide) c31 = madd(a, b1, c31);
    ap += aStep;
    bp += bStep;
  }
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, c, ldc, rows, cols, accumulate);
}

// The same with A read in place: `a` points at A[i, k0], rows `aRow` bytes apart and
// k-steps `aStep` apart (rows past `rows` repeat the last valid row).
function microKernelInPlace(
  a: usize, aRow: usize, aStep: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32,
  accumulate: bool,
): void {
  inPlaceKernel(a, aRow, aStep, bp, bStep, kc, c, ldc, rows, cols, accumulate, true);
}

function microKernelInPlaceNarrow(
  a: usize, aRow: usize, aStep: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32,
  accumulate: bool,
): void {
  inPlaceKernel(a, aRow, aStep, bp, bStep, kc, c, ldc, rows, cols, accumulate, false);
}

@inline function inPlaceKernel(
  a: usize, aRow: usize, aStep: usize, bp: usize, bStep: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32,
  accumulate: bool, wide: bool,
): void {
  let a0 = a;
  let a1 = a + (rows > 1 ? aRow : 0);
  let a2 = a + (rows > 2 ? 2 * aRow : rows > 1 ? aRow : 0);
  let a3 = a + <usize>(min(rows, MR) - 1) * aRow;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = wide ? v128.load(bp, 16) : b0;
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    if (wide) c01 = madd(x, b1, c01);
    x = v128.load32_splat(a1);
    c10 = madd(x, b0, c10);
    if (wide) c11 = madd(x, b1, c11);
    x = v128.load32_splat(a2);
    c20 = madd(x, b0, c20);
    if (wide) c21 = madd(x, b1, c21);
    x = v128.load32_splat(a3);
    c30 = madd(x, b0, c30);
    if (wide) c31 = madd(x, b1, c31);
    a0 += aStep;
    a1 += aStep;
    a2 += aStep;
    a3 += aStep;
    bp += bStep;
  }
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, c, ldc, rows, cols, accumulate);
}

@inline function storeTile(
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool,
): void {
  const ld = <usize>ldc << 2;
  if (cols == NR) {
    storeRow(c, c00, c01, accumulate);
    if (rows > 1) storeRow(c + ld, c10, c11, accumulate);
    if (rows > 2) storeRow(c + 2 * ld, c20, c21, accumulate);
    if (rows > 3) storeRow(c + 3 * ld, c30, c31, accumulate);
    return;
  }
  // Edge tile (1–7 columns): each row as one or two partial vectors, with the same per-lane
  // adds; the lanes past the edge are computed and never stored. (Spilling the tile and
  // copying floats one at a time took ~40 % of LeNet-5's first convolution, n = 6, k = 25.)
  const loCols = min(cols, 4), hiCols = cols - loCols;
  storeRowPartial(c, c00, c01, loCols, hiCols, accumulate);
  if (rows > 1) storeRowPartial(c + ld, c10, c11, loCols, hiCols, accumulate);
  if (rows > 2) storeRowPartial(c + 2 * ld, c20, c21, loCols, hiCols, accumulate);
  if (rows > 3) storeRowPartial(c + 3 * ld, c30, c31, loCols, hiCols, accumulate);
}

// The bias epilogue: C = C + bias on a stored tile (still in L1), after its last K-block.
// A pass of its own rather than a parameter of the micro-kernels: one more value live
// across their loop made mlp-2's 10-wide products 5–20 % slower (V8's register allocation).
function addBiasToTile(c: usize, ldc: i32, rows: i32, cols: i32, bias: usize): void {
  const ld = <usize>ldc << 2;
  const loCols = min(cols, 4), hiCols = cols - loCols;
  const blo = loadPartial(bias, loCols);
  const bhi = hiCols > 0 ? loadPartial(bias + 16, hiCols) : f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ld;
    storePartial(row, f32x4.add(loadPartial(row, loCols), blo), loCols);
    if (hiCols > 0) storePartial(row + 16, f32x4.add(loadPartial(row + 16, hiCols), bhi), hiCols);
  }
}

// One row of an edge tile: `loCols` (1–4) columns from lo, then `hiCols` (0–3) from hi.
@inline function storeRowPartial(c: usize, lo: v128, hi: v128, loCols: i32, hiCols: i32, accumulate: bool): void {
  if (accumulate) lo = f32x4.add(loadPartial(c, loCols), lo);
  storePartial(c, lo, loCols);
  if (hiCols > 0) {
    if (accumulate) hi = f32x4.add(loadPartial(c + 16, hiCols), hi);
    storePartial(c + 16, hi, hiCols);
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

// Rows [rowStart, rowEnd) × columns [colStart, colEnd) of C = op(A)·op(B). Splitting by
// rows or columns changes no element's summation order, so a threaded product is
// bit-identical to a single-threaded one.
function matmulOne(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool,
  rowStart: i32, rowEnd: i32, colStart: i32, colEnd: i32, scratch: usize, bias: usize,
): void {
  // Row/column strides of the logical m×k A and k×n B.
  const ars = transA ? 1 : k, acs = transA ? m : 1;
  const brs = transB ? 1 : n, bcs = transB ? k : 1;
  const packedA = scratch;
  const packedB = scratch + (<usize>(MC * KC) << 2);
  const broadcastAt = packedB + (<usize>(KC * NC) << 2);
  if (k == 0) {
    // An empty sum is +0; the bias is still added to it (0 + −0 is +0, as the add gives).
    for (let i = rowStart; i < rowEnd; i++) {
      for (let j = colStart; j < colEnd; j++) {
        let v: f32 = 0;
        if (bias) v = v + load<f32>(bias + (<usize>j << 2));
        store<f32>(c + (<usize>(i * n + j) << 2), v);
      }
    }
    return;
  }
  const directB = !transB && rowEnd - rowStart <= DIRECT_B_ROWS && <u64>k * <u64>n < STREAMED_FLOATS;
  const directA = colEnd - colStart <= DIRECT_A_COLS && <u64>m * <u64>k < STREAMED_FLOATS;
  const broadcastA = colEnd - colStart >= BROADCAST_A_COLS;
  const aRow = <usize>ars << 2, aStep = <usize>acs << 2;
  for (let j0 = colStart; j0 < colEnd; j0 += NC) {
    const nc = min(NC, colEnd - j0);
    // In place, only the zero-padded edge panel is packed.
    const fullCols = nc - nc % NR;
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      // The bias goes on each tile after the last K-block's store.
      const lastBias: usize = bias && k0 + kc == k ? bias + (<usize>j0 << 2) : 0;
      packB(b, brs, bcs, k0, kc, j0, nc, directB ? fullCols : 0, packedB);
      for (let i0 = rowStart; i0 < rowEnd; i0 += MC) {
        const mc = min(MC, rowEnd - i0);
        if (!directA) packA(a, ars, acs, i0, mc, k0, kc, packedA);
        if (broadcastA) broadcastPanels(packedA, ((mc + MR - 1) / MR) * MR * kc, broadcastAt);
        for (let ip = 0; ip < mc; ip += MR) {
          for (let jp = 0; jp < nc; jp += NR) {
            const inPlace = directB && jp < fullCols;
            const bp = inPlace ? b + (<usize>(k0 * n + j0 + jp) << 2) : packedB + (<usize>(jp * kc) << 2);
            const bStep: usize = inPlace ? <usize>n << 2 : NR << 2;
            const cTile = c + (<usize>((i0 + ip) * n + j0 + jp) << 2);
            const rows = min(MR, mc - ip), cols = min(NR, nc - jp);
            const narrow = cols <= NARROW_COLS;
            if (directA) {
              const at = a + (<usize>((i0 + ip) * ars + k0 * acs) << 2);
              if (narrow) microKernelInPlaceNarrow(at, aRow, aStep, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
              else microKernelInPlace(at, aRow, aStep, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
            } else if (broadcastA) {
              const at = broadcastAt + (<usize>(ip * kc) << 4);
              if (narrow) microKernelBroadcastANarrow(at, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
              else microKernelBroadcastA(at, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
            } else {
              const at = packedA + (<usize>(ip * kc) << 2);
              if (narrow) microKernelPackedNarrow(at, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
              else microKernelPacked(at, bp, bStep, kc, cTile, n, rows, cols, k0 > 0);
            }
            if (lastBias) addBiasToTile(cTile, n, rows, cols, lastBias + (<usize>jp << 2));
          }
        }
      }
    }
  }
}

/**
 * The batched product restricted to rows [rowStart, rowEnd) and columns [colStart,
 * colEnd) of every batch item's C; the CPU backend gives disjoint ranges to its threads.
 * `bias` (0: none) holds n floats added to every row of every item's C.
 */
export function matmul(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  transA: i32, transB: i32, strideA: i32, strideB: i32, rowStart: i32, rowEnd: i32,
  colStart: i32, colEnd: i32, scratch: usize, bias: usize,
): void {
  for (let t = 0; t < batch; t++) {
    matmulOne(
      a + (<usize>(t * strideA) << 2), b + (<usize>(t * strideB) << 2), c + (<usize>(t * m * n) << 2),
      m, n, k, transA != 0, transB != 0, rowStart, rowEnd, colStart, colEnd, scratch, bias,
    );
  }
}
