// Batched matmul C[b] = op(A[b]) · op(B[b]), any transposes, any m/n/k (1 and odd included).
//
// Measured (2026-11-23, N×N f32, 2·N³ flops / median time, 2-core x86 VM, bench/webgpu_matmul.ts):
//   GFLOP/s           N = 256   512   1024     naive one-thread-per-output (bench/naive_matmul.wgsl)
//   SwiftShader/Dawn    @SS256  @SS512 @SS1024   @NS256 @NS512 @NS1024
//   lavapipe/wgpu       @LV256  @LV512 @LV1024   @NL256 @NL512 @NL1024
//
// Tiled through workgroup memory with register blocking: a workgroup of WG_X × WG_Y
// threads computes a BM × BN tile of C (BM = WG_Y·TM, BN = WG_X·4); each thread keeps a
// TM × 4 block of accumulators (TM vec4s) and reads one vec4 of B and TM/4 vec4s of A
// from workgroup memory per k. Tiles of A and B (BK deep) are staged in workgroup memory,
// A stored k-major so a thread's TM rows are adjacent. Global loads are vec4 when the
// operand's contiguous dimension and batch stride are multiples of 4 (VEC_A / VEC_B),
// else four guarded scalar loads; out-of-range elements load as 0, so the inner loop never
// branches. Tile sizes come from chooseTiles (core/gpu/tiles.ts) and are substituted for
// the constants below; they are part of the pipeline-cache key.
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
const TM: u32 = 4u;
const BK: u32 = 16u;

const BM: u32 = WG_Y * TM;
const BN: u32 = WG_X * 4u;
const THREADS: u32 = WG_X * WG_Y;

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

// As[kk][row] and Bs[kk][col], in vec4 groups along row / col.
var<workgroup> As: array<vec4<f32>, BK * BM / 4u>;
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>;

// Four consecutive elements from flat index i, of which `valid` exist (the rest are 0).
fn loadA4(i: u32, valid: u32) -> vec4<f32> {
  if (VEC_A && valid == 4u) { return a[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (j < valid) { v[j] = a[(i + j) >> 2u][(i + j) & 3u]; }
  }
  return v;
}

fn loadB4(i: u32, valid: u32) -> vec4<f32> {
  if (VEC_B && valid == 4u) { return b[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (j < valid) { v[j] = b[(i + j) >> 2u][(i + j) & 3u]; }
  }
  return v;
}

fn validCount(inRange: bool, limit: u32, start: u32) -> u32 {
  if (!inRange) { return 0u; }
  return min(4u, limit - start);
}

fn loadTiles(tid: u32, aBase: u32, bBase: u32, m0: u32, n0: u32, k0: u32) {
  let M = u.m;
  let N = u.n;
  let K = u.k;
  for (var g = tid; g < BM * BK / 4u; g += THREADS) {
    if (TRANS_A) {
      // A is stored k × m: a group is 4 adjacent rows of C at one k.
      let kk = g / (BM / 4u);
      let mq = g % (BM / 4u);
      let kr = k0 + kk;
      let mc = m0 + mq * 4u;
      As[kk * (BM / 4u) + mq] = loadA4(aBase + kr * M + mc, validCount(kr < K && mc < M, M, mc));
    } else {
      // A is stored m × k: a group is 4 adjacent k of one row, scattered into k-major As.
      let row = g / (BK / 4u);
      let kq = g % (BK / 4u);
      let mr = m0 + row;
      let kc = k0 + kq * 4u;
      let v = loadA4(aBase + mr * K + kc, validCount(mr < M && kc < K, K, kc));
      for (var j = 0u; j < 4u; j++) {
        As[(kq * 4u + j) * (BM / 4u) + row / 4u][row % 4u] = v[j];
      }
    }
  }
  for (var g = tid; g < BN * BK / 4u; g += THREADS) {
    if (TRANS_B) {
      // B is stored n × k: a group is 4 adjacent k of one column.
      let col = g / (BK / 4u);
      let kq = g % (BK / 4u);
      let nc = n0 + col;
      let kc = k0 + kq * 4u;
      let v = loadB4(bBase + nc * K + kc, validCount(nc < N && kc < K, K, kc));
      for (var j = 0u; j < 4u; j++) {
        Bs[(kq * 4u + j) * (BN / 4u) + col / 4u][col % 4u] = v[j];
      }
    } else {
      let kk = g / (BN / 4u);
      let nq = g % (BN / 4u);
      let kr = k0 + kk;
      let nc = n0 + nq * 4u;
      Bs[kk * (BN / 4u) + nq] = loadB4(bBase + kr * N + nc, validCount(kr < K && nc < N, N, nc));
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  // A linear tile index over a 2-D grid: more than 65535 tiles split across y.
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= u.tiles) { return; }
  let item = tile / u.tilesPerItem;
  let inItem = tile % u.tilesPerItem;
  let m0 = (inItem / u.tilesN) * BM;
  let n0 = (inItem % u.tilesN) * BN;
  let aBase = item * u.strideA;
  let bBase = item * u.strideB;

  var acc: array<vec4<f32>, TM>;
  for (var k0 = 0u; k0 < u.k; k0 += BK) {
    loadTiles(tid, aBase, bBase, m0, n0, k0);
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let bv = Bs[kk * (BN / 4u) + lid.x];
      for (var q = 0u; q < TM / 4u; q++) {
        let av = As[kk * (BM / 4u) + lid.y * (TM / 4u) + q];
        acc[q * 4u] += av.x * bv;
        acc[q * 4u + 1u] += av.y * bv;
        acc[q * 4u + 2u] += av.z * bv;
        acc[q * 4u + 3u] += av.w * bv;
      }
    }
    workgroupBarrier();
  }

  let N = u.n;
  let cBase = item * u.m * N;
  let col = n0 + lid.x * 4u;
  for (var i = 0u; i < TM; i++) {
    let row = m0 + lid.y * TM + i;
    if (row < u.m) {
      for (var j = 0u; j < 4u; j++) {
        if (col + j < N) { c[cBase + row * N + col + j] = acc[i][j]; }
      }
    }
  }
}
