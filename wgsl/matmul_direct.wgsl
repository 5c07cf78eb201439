// Batched matmul C[b] = op(A[b]) · op(B[b]) without workgroup memory, for the products the
// tiled kernel (matmul.wgsl) serves badly: skinny outputs (m or n ≤ 16, as in the im2col
// products of a convolution with few channels), short k, and few outputs over a long k.
// chooseMatmul (core/gpu/tiles.ts) picks between the two kernels and sets the constants.
//
// Each thread computes TM rows × TN columns of C (TM, TN ∈ {1, 2, 4, 8}, so a 6-column
// output wastes 2 of 8 columns instead of 58 of 64) straight from global memory: per step of
// k it loads TM values of A and TN of B and does TM·TN multiply-adds. Rows and columns past
// the edge of C read the last valid row/column, so the loop has no bounds branches, and are
// not stored.
//
// Why no workgroup memory (measured 2026-11-23, SwiftShader, 2 vCPUs): the tiled kernel's
// time on m = 50176 was 392 workgroups × (≈ 1.3 ms + 0.16 ms per 16-deep k-slice) — a fixed
// cost per workgroup worth eight k-slices (we suspect the barriers: SwiftShader runs a
// workgroup that synchronises as coroutines), so k = 6, 16 or 25 all took 190–560 ms. This
// kernel has no barrier and ran LeNet-5's conv products 5–35× faster on SwiftShader and
// 1.3–5× on lavapipe. At 1024² it ran 3.3 GFLOP/s against the tiled 1.5 on SwiftShader and
// level (9.8 / 9.1) on lavapipe; square products stay tiled all the same, the layout that
// reuses operands through workgroup memory as GPUs need.
//
// Split-k: when there are few threads and a long k, `splits` threads share each TM × TN
// block, thread s summing k in [s·kChunk, (s+1)·kChunk). Each writes its partial block to a
// scratch buffer laid out [split][batch][m][n] (binding c), and `sumSplits` adds the
// partials of every output in increasing split order.
//
// Deterministic: each partial is one thread's sum in increasing k, and the partials are
// added in a fixed order; the split count is a function of the shape. Same shapes + same
// device ⇒ same bits. The order differs from matmul.wgsl's (and the CPU backend's), within
// the usual γ_k·Σ|a||b| bound.

const TRANS_A: bool = false;
const TRANS_B: bool = false;
const TM: u32 = 8u; // rows per thread: 1, 2, 4 or 8
const TN: u32 = 8u; // columns per thread: 1, 2, 4 or 8
const WG: u32 = 64u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  strideA: u32,
  strideB: u32,
  tilesN: u32,
  tilesPerItem: u32,
  // TM × TN blocks over the whole batch (threads per split)
  tiles: u32,
  kChunk: u32,
  splits: u32,
  // batch · m · n: the size of C, and of one split's slice of the scratch buffer
  outputs: u32,
}

// sumSplits binds the scratch buffer as `a` and C as `c`.
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

// Flat index of op(A)[row, kk] and op(B)[kk, col] of the item whose operands start at base.
fn aAt(base: u32, row: u32, kk: u32) -> u32 {
  if (TRANS_A) { return base + kk * u.m + row; }
  return base + row * u.k + kk;
}

fn bAt(base: u32, kk: u32, col: u32) -> u32 {
  if (TRANS_B) { return base + col * u.k + kk; }
  return base + kk * u.n + col;
}

// A linear index over a 3-D grid of WG-thread workgroups (more than 65535 workgroups spill
// into y and z; see grid() in tiles.ts).
fn linearIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
}

@compute @workgroup_size(WG)
fn matmulDirect(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = linearIndex(wid, nwg, lid);
  if (g >= u.tiles * u.splits) { return; }
  let split = g / u.tiles;
  let tile = g % u.tiles;
  let item = tile / u.tilesPerItem;
  let inItem = tile % u.tilesPerItem;
  let m0 = (inItem / u.tilesN) * TM;
  let n0 = (inItem % u.tilesN) * TN;
  let k0 = split * u.kChunk;
  let k1 = min(u.k, k0 + u.kChunk);
  let aBase = item * u.strideA;
  let bBase = item * u.strideB;
  let lastRow = u.m - 1u;
  let lastCol = u.n - 1u;
  let aStep = select(1u, u.m, TRANS_A);
  let bStep = select(u.n, 1u, TRANS_B);

  // Named pointers and accumulators (an indexed array would live in memory); the ones past
  // TM / TN are dead code once the constants are substituted.
  var pa0 = aAt(aBase, min(m0, lastRow), k0);
  var pa1 = aAt(aBase, min(m0 + 1u, lastRow), k0);
  var pa2 = aAt(aBase, min(m0 + 2u, lastRow), k0);
  var pa3 = aAt(aBase, min(m0 + 3u, lastRow), k0);
  var pa4 = aAt(aBase, min(m0 + 4u, lastRow), k0);
  var pa5 = aAt(aBase, min(m0 + 5u, lastRow), k0);
  var pa6 = aAt(aBase, min(m0 + 6u, lastRow), k0);
  var pa7 = aAt(aBase, min(m0 + 7u, lastRow), k0);
  var pb0 = bAt(bBase, k0, min(n0, lastCol));
  var pb1 = bAt(bBase, k0, min(n0 + 1u, lastCol));
  var pb2 = bAt(bBase, k0, min(n0 + 2u, lastCol));
  var pb3 = bAt(bBase, k0, min(n0 + 3u, lastCol));
  var pb4 = bAt(bBase, k0, min(n0 + 4u, lastCol));
  var pb5 = bAt(bBase, k0, min(n0 + 5u, lastCol));
  var pb6 = bAt(bBase, k0, min(n0 + 6u, lastCol));
  var pb7 = bAt(bBase, k0, min(n0 + 7u, lastCol));
  // Row i, columns 0–3 (lo) and 4–7 (hi).
  var lo0 = vec4<f32>(0.0);
  var lo1 = vec4<f32>(0.0);
  var lo2 = vec4<f32>(0.0);
  var lo3 = vec4<f32>(0.0);
  var lo4 = vec4<f32>(0.0);
  var lo5 = vec4<f32>(0.0);
  var lo6 = vec4<f32>(0.0);
  var lo7 = vec4<f32>(0.0);
  var hi0 = vec4<f32>(0.0);
  var hi1 = vec4<f32>(0.0);
  var hi2 = vec4<f32>(0.0);
  var hi3 = vec4<f32>(0.0);
  var hi4 = vec4<f32>(0.0);
  var hi5 = vec4<f32>(0.0);
  var hi6 = vec4<f32>(0.0);
  var hi7 = vec4<f32>(0.0);

  // One k at a time in increasing k; columns past TN load nothing and stay 0.
  for (var kk = k0; kk < k1; kk++) {
    var bl = vec4<f32>(b[pb0], 0.0, 0.0, 0.0);
    if (TN > 1u) { bl.y = b[pb1]; }
    if (TN > 2u) { bl.z = b[pb2]; bl.w = b[pb3]; }
    var bh = vec4<f32>(0.0);
    if (TN > 4u) { bh = vec4<f32>(b[pb4], b[pb5], b[pb6], b[pb7]); }
    let a0 = a[pa0];
    lo0 += a0 * bl;
    if (TN > 4u) { hi0 += a0 * bh; }
    if (TM > 1u) {
      let a1 = a[pa1];
      lo1 += a1 * bl;
      if (TN > 4u) { hi1 += a1 * bh; }
    }
    if (TM > 2u) {
      let a2 = a[pa2];
      let a3 = a[pa3];
      lo2 += a2 * bl;
      lo3 += a3 * bl;
      if (TN > 4u) {
        hi2 += a2 * bh;
        hi3 += a3 * bh;
      }
    }
    if (TM > 4u) {
      let a4 = a[pa4];
      let a5 = a[pa5];
      let a6 = a[pa6];
      let a7 = a[pa7];
      lo4 += a4 * bl;
      lo5 += a5 * bl;
      lo6 += a6 * bl;
      lo7 += a7 * bl;
      if (TN > 4u) {
        hi4 += a4 * bh;
        hi5 += a5 * bh;
        hi6 += a6 * bh;
        hi7 += a7 * bh;
      }
    }
    pa0 += aStep;
    pa1 += aStep;
    pa2 += aStep;
    pa3 += aStep;
    pa4 += aStep;
    pa5 += aStep;
    pa6 += aStep;
    pa7 += aStep;
    pb0 += bStep;
    pb1 += bStep;
    pb2 += bStep;
    pb3 += bStep;
    pb4 += bStep;
    pb5 += bStep;
    pb6 += bStep;
    pb7 += bStep;
  }

  // Without split-k, split = 0 and this is C itself.
  let cBase = split * u.outputs + item * u.m * u.n;
  storeRow(cBase, m0, n0, lo0, hi0);
  if (TM > 1u) { storeRow(cBase, m0 + 1u, n0, lo1, hi1); }
  if (TM > 2u) {
    storeRow(cBase, m0 + 2u, n0, lo2, hi2);
    storeRow(cBase, m0 + 3u, n0, lo3, hi3);
  }
  if (TM > 4u) {
    storeRow(cBase, m0 + 4u, n0, lo4, hi4);
    storeRow(cBase, m0 + 5u, n0, lo5, hi5);
    storeRow(cBase, m0 + 6u, n0, lo6, hi6);
    storeRow(cBase, m0 + 7u, n0, lo7, hi7);
  }
}

fn storeRow(cBase: u32, row: u32, col: u32, lo: vec4<f32>, hi: vec4<f32>) {
  let N = u.n;
  if (row >= u.m) { return; }
  let at = cBase + row * N + col;
  if (col < N) { c[at] = lo.x; }
  if (TN > 1u && col + 1u < N) { c[at + 1u] = lo.y; }
  if (TN > 2u && col + 2u < N) { c[at + 2u] = lo.z; }
  if (TN > 2u && col + 3u < N) { c[at + 3u] = lo.w; }
  if (TN > 4u && col + 4u < N) { c[at + 4u] = hi.x; }
  if (TN > 4u && col + 5u < N) { c[at + 5u] = hi.y; }
  if (TN > 4u && col + 6u < N) { c[at + 6u] = hi.z; }
  if (TN > 4u && col + 7u < N) { c[at + 7u] = hi.w; }
}

// C[i] = Σ_s scratch[s·outputs + i], s = 0, 1, … in that order: one thread per output.
@compute @workgroup_size(WG)
fn sumSplits(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= u.outputs) { return; }
  var s = a[i];
  for (var q = 1u; q < u.splits; q++) {
    s += a[q * u.outputs + i];
  }
  c[i] = s;
}
