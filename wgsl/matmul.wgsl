// Batched matmul C[b] = op(A[b]) · op(B[b]), any transposes, any m/n/k (1 and odd included).
// The backend runs this kernel for products at least one 128×64 tile wide each way with
// k > 32; skinny, short-k and small products go to matmul_direct.wgsl (chooseMatmul).
//
// Measured 2026-11-23 (bench/webgpu_matmul.ts: N×N f32, GFLOP/s = 2·N³ / median of 5,
// 2-core x86 VM with other jobs running, load ≈ 2):
//                                 N = 256    512   1024
//   SwiftShader (Node 20 + Dawn)     0.72   1.31   1.45   naive 0.28  0.29  0.28
//   lavapipe (Deno 2.9 + wgpu)       6.65   8.55   8.83   naive 1.39  1.42  0.92
// naive = bench/naive_matmul.wgsl (one thread per output). For scale, the WebAssembly CPU
// backend runs ~20 GFLOP/s on one core of the same machine.
//
// Tiled through workgroup memory with register blocking: a workgroup of WG_X × WG_Y threads
// computes a BM × BN tile of C (BM = WG_Y·TM, BN = 4·WG_X); each thread keeps TM (4 or 8)
// rows × 4 columns of accumulators in named vec4 registers. Per 4-deep step of k a thread
// reads 4 vec4s of B and TM vec4s of A from workgroup memory for 16·TM multiply-adds. The
// tiles of A (row-major, vec4 along k) and B (vec4 along n) are staged BK deep; global loads
// are vec4 when the operand's contiguous dimension and batch stride are multiples of 4
// (VEC_A / VEC_B), else up to four guarded scalar loads; out-of-range elements load as 0,
// so the inner loop never branches. Transposed operands are scattered into the same tile
// layout while loading. Tile sizes come from chooseTiles (core/gpu/tiles.ts) and are
// substituted for the constants below; they are part of the pipeline-cache key.
//
// Why this shape (N = 512): software drivers run invocations in SIMD lanes and turn every
// per-lane workgroup-memory access and every dynamically indexed private array into
// gathers. The first version (accumulators in an array<vec4, TM>, A staged k-major with
// per-component scatter) ran 0.11 GFLOP/s on SwiftShader and 2.0 on lavapipe; named
// accumulators gave 0.5–0.85 / 1.6–3.0; staging A row-major (plain vec4 stores) and
// stepping k by 4 gave 1.1–1.3 / 5–8.5, with TM = 8 ahead of TM = 4 on both.
//
// Deterministic: every C element is one thread's sum of its k products in increasing k
// (zero padding adds exact zeros); no atomics, no split-k. Same shapes + same device ⇒
// same bits. (A driver may contract a·b + acc into an FMA; WGSL permits it.)

const TRANS_A: bool = false;
const TRANS_B: bool = false;
const VEC_A: bool = false;
const VEC_B: bool = false;
const WG_X: u32 = 16u;
const WG_Y: u32 = 16u;
const TM: u32 = 4u; // 4 or 8
const BK: u32 = 16u;

const BM: u32 = WG_Y * TM;
const BN: u32 = WG_X * 4u;
const THREADS: u32 = WG_X * WG_Y;
const KQ: u32 = BK / 4u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  strideA: u32,
  strideB: u32,
  tilesN: u32,
  tilesPerItem: u32,
  tiles: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

// As[row][k] (vec4 along k), Bs[k][col] (vec4 along col).
var<workgroup> As: array<vec4<f32>, BM * KQ>;
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>;

// Four consecutive elements from flat index i, of which `valid` exist (the rest are 0).
fn loadA4(i: u32, valid: u32) -> vec4<f32> {
  if (VEC_A && valid == 4u) { return a[i >> 2u]; }
  var v = vec4<f32>(0.0);
  if (valid > 0u) { v.x = a[i >> 2u][i & 3u]; }
  if (valid > 1u) { v.y = a[(i + 1u) >> 2u][(i + 1u) & 3u]; }
  if (valid > 2u) { v.z = a[(i + 2u) >> 2u][(i + 2u) & 3u]; }
  if (valid > 3u) { v.w = a[(i + 3u) >> 2u][(i + 3u) & 3u]; }
  return v;
}

fn loadB4(i: u32, valid: u32) -> vec4<f32> {
  if (VEC_B && valid == 4u) { return b[i >> 2u]; }
  var v = vec4<f32>(0.0);
  if (valid > 0u) { v.x = b[i >> 2u][i & 3u]; }
  if (valid > 1u) { v.y = b[(i + 1u) >> 2u][(i + 1u) & 3u]; }
  if (valid > 2u) { v.z = b[(i + 2u) >> 2u][(i + 2u) & 3u]; }
  if (valid > 3u) { v.w = b[(i + 3u) >> 2u][(i + 3u) & 3u]; }
  return v;
}

fn validCount(inRange: bool, limit: u32, start: u32) -> u32 {
  return select(0u, min(4u, limit - start), inRange);
}

fn loadTileA(g: u32, aBase: u32, m0: u32, k0: u32) {
  let M = u.m;
  let K = u.k;
  if (TRANS_A) {
    // stored k × m: 4 adjacent rows at one k, scattered into the row-major tile.
    let kk = g / (BM / 4u);
    let mq = g % (BM / 4u);
    let kr = k0 + kk;
    let mc = m0 + mq * 4u;
    let v = loadA4(aBase + kr * M + mc, validCount(kr < K && mc < M, M, mc));
    let at = mq * 4u * KQ + kk / 4u;
    let lane = kk % 4u;
    As[at][lane] = v.x;
    As[at + KQ][lane] = v.y;
    As[at + 2u * KQ][lane] = v.z;
    As[at + 3u * KQ][lane] = v.w;
  } else {
    let row = g / KQ;
    let kq = g % KQ;
    let mr = m0 + row;
    let kc = k0 + kq * 4u;
    As[g] = loadA4(aBase + mr * K + kc, validCount(mr < M && kc < K, K, kc));
  }
}

fn loadTileB(g: u32, bBase: u32, n0: u32, k0: u32) {
  let N = u.n;
  let K = u.k;
  if (TRANS_B) {
    let col = g / KQ;
    let kq = g % KQ;
    let nc = n0 + col;
    let kc = k0 + kq * 4u;
    let v = loadB4(bBase + nc * K + kc, validCount(nc < N && kc < K, K, kc));
    let at = kq * 4u * (BN / 4u) + col / 4u;
    let lane = col % 4u;
    Bs[at][lane] = v.x;
    Bs[at + BN / 4u][lane] = v.y;
    Bs[at + 2u * (BN / 4u)][lane] = v.z;
    Bs[at + 3u * (BN / 4u)][lane] = v.w;
  } else {
    let kk = g / (BN / 4u);
    let nq = g % (BN / 4u);
    let kr = k0 + kk;
    let nc = n0 + nq * 4u;
    Bs[g] = loadB4(bBase + kr * N + nc, validCount(kr < K && nc < N, N, nc));
  }
}

// acc += a·[b0; b1; b2; b3], one k at a time in increasing k.
fn addProducts(acc: vec4<f32>, av: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
  return (((acc + av.x * b0) + av.y * b1) + av.z * b2) + av.w * b3;
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  // A linear tile index over a 3-D grid: more than 65535 tiles spill into y (and z).
  let tile = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (tile >= u.tiles) { return; }
  let item = tile / u.tilesPerItem;
  let inItem = tile % u.tilesPerItem;
  let m0 = (inItem / u.tilesN) * BM;
  let n0 = (inItem % u.tilesN) * BN;
  let aBase = item * u.strideA;
  let bBase = item * u.strideB;

  // Named accumulators (rows lid.y·TM + 0…7): an indexed array would live in memory.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  let rowA = lid.y * TM * KQ;
  for (var k0 = 0u; k0 < u.k; k0 += BK) {
    // Constant trip counts, so the loads unroll and need no per-lane loop control.
    for (var i = 0u; i < (BM * KQ + THREADS - 1u) / THREADS; i++) {
      let g = tid + i * THREADS;
      if ((BM * KQ) % THREADS == 0u || g < BM * KQ) { loadTileA(g, aBase, m0, k0); }
    }
    for (var i = 0u; i < (BK * BN / 4u + THREADS - 1u) / THREADS; i++) {
      let g = tid + i * THREADS;
      if ((BK * BN / 4u) % THREADS == 0u || g < BK * BN / 4u) { loadTileB(g, bBase, n0, k0); }
    }
    workgroupBarrier();
    for (var kq = 0u; kq < KQ; kq++) {
      let bRow = kq * 4u * (BN / 4u) + lid.x;
      let b0 = Bs[bRow];
      let b1 = Bs[bRow + BN / 4u];
      let b2 = Bs[bRow + 2u * (BN / 4u)];
      let b3 = Bs[bRow + 3u * (BN / 4u)];
      let at = rowA + kq;
      acc0 = addProducts(acc0, As[at], b0, b1, b2, b3);
      acc1 = addProducts(acc1, As[at + KQ], b0, b1, b2, b3);
      acc2 = addProducts(acc2, As[at + 2u * KQ], b0, b1, b2, b3);
      acc3 = addProducts(acc3, As[at + 3u * KQ], b0, b1, b2, b3);
      if (TM == 8u) {
        acc4 = addProducts(acc4, As[at + 4u * KQ], b0, b1, b2, b3);
        acc5 = addProducts(acc5, As[at + 5u * KQ], b0, b1, b2, b3);
        acc6 = addProducts(acc6, As[at + 6u * KQ], b0, b1, b2, b3);
        acc7 = addProducts(acc7, As[at + 7u * KQ], b0, b1, b2, b3);
      }
    }
    workgroupBarrier();
  }

  let cBase = item * u.m * u.n;
  let col = n0 + lid.x * 4u;
  let row0 = m0 + lid.y * TM;
  storeRow(cBase, row0, col, acc0);
  storeRow(cBase, row0 + 1u, col, acc1);
  storeRow(cBase, row0 + 2u, col, acc2);
  storeRow(cBase, row0 + 3u, col, acc3);
  if (TM == 8u) {
    storeRow(cBase, row0 + 4u, col, acc4);
    storeRow(cBase, row0 + 5u, col, acc5);
    storeRow(cBase, row0 + 6u, col, acc6);
    storeRow(cBase, row0 + 7u, col, acc7);
  }
}

fn storeRow(cBase: u32, row: u32, col: u32, v: vec4<f32>) {
  let N = u.n;
  if (row >= u.m) { return; }
  let at = cBase + row * N + col;
  if (col < N) { c[at] = v.x; }
  if (col + 1u < N) { c[at + 1u] = v.y; }
  if (col + 2u < N) { c[at + 2u] = v.z; }
  if (col + 3u < N) { c[at + 3u] = v.w; }
}
