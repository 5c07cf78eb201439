/**
 * Kernel shape choices as plain functions of the problem shape and the device limits, so
 * they can be unit-tested without a device. Each result is part of the pipeline-cache key
 * (the numbers are substituted into the WGSL as constants).
 */

/** The device limits the choices depend on (a subset of `GPUSupportedLimits`). */
export interface TileLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupStorageSize: number;
}

/** WebGPU's guaranteed minimum limits: every conforming device offers at least these. */
export const DEFAULT_TILE_LIMITS: TileLimits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupStorageSize: 16384,
};

/** A matmul tiling: WG_X × WG_Y threads, each computing TM rows × 4 columns of C. */
export interface MatmulTiles {
  wgX: number;
  wgY: number;
  /** Rows per thread: 4 or 8. */
  tm: number;
  /** Depth of the k-slices staged in workgroup memory, a multiple of 4. */
  bk: number;
  /** Tile of C per workgroup: bm = wgY·tm rows, bn = 4·wgX columns. */
  bm: number;
  bn: number;
}

function tiles(wgX: number, wgY: number, tm: number, bk: number): MatmulTiles {
  return { wgX, wgY, tm, bk, bm: wgY * tm, bn: 4 * wgX };
}

/** Workgroup memory of a tiling, in bytes (f32 tiles of A and B). */
export function tileBytes(t: MatmulTiles): number {
  return 4 * t.bk * (t.bm + t.bn);
}

function fits(t: MatmulTiles, limits: TileLimits): boolean {
  return t.wgX * t.wgY <= limits.maxComputeInvocationsPerWorkgroup &&
    t.wgX <= limits.maxComputeWorkgroupSizeX && t.wgY <= limits.maxComputeWorkgroupSizeY &&
    tileBytes(t) <= limits.maxComputeWorkgroupStorageSize;
}

/**
 * Tile sizes for an M×N×K product. Measured with bench/webgpu_matmul.ts --variants
 * (2026-11-23, 2 busy cores; GFLOP/s on SwiftShader / lavapipe): 16×16 threads × 8×4
 * outputs with 16-deep k-slices (128×64 tiles) gave 0.53 / 7.7 at N = 256, 1.25 / 7.4 at
 * 512 and 1.37 / 8.5 at 1024 — best or within noise of the best everywhere; TM = 4 gave
 * 0.37 / 3.2, 0.82 / 6.1, 0.59 / 6.6, and BK = 32 collapsed at N = 256 (0.21 / 2.0).
 * Skinny products (N or M ≤ 16, as in a 10-class output layer) would waste most of such a
 * tile, so they get a 16-wide one that is long in the other dimension (the backend now runs
 * skinny products on the direct kernel instead: see chooseMatmul). Every choice fits
 * WebGPU's minimum limits (256 invocations, 16 KiB of workgroup memory); smaller limits
 * halve the workgroup.
 */
export function chooseTiles(m: number, n: number, k: number, limits: TileLimits = DEFAULT_TILE_LIMITS): MatmulTiles {
  void k; // depth does not change the tiling: every k-slice has the same shape
  let t: MatmulTiles;
  if (n <= 16 && m > 16) t = tiles(4, 32, 4, 16); // 128 × 16
  else if (m <= 16 && n > 16) t = tiles(32, 4, 4, 16); // 16 × 128
  else if (m <= 16 && n <= 16) t = tiles(4, 4, 4, 16); // 16 × 16
  else t = tiles(16, 16, 8, 16); // 128 × 64
  while (!fits(t, limits) && t.wgX * t.wgY > 1) {
    t = t.wgX >= t.wgY ? tiles(Math.max(1, t.wgX / 2), t.wgY, t.tm, t.bk) : tiles(t.wgX, Math.max(1, t.wgY / 2), t.tm, t.bk);
  }
  if (!fits(t, limits)) t = tiles(1, 1, 4, 4);
  return t;
}

/**
 * The direct kernel (wgsl/matmul_direct.wgsl): each thread, in workgroups of `wg`, computes
 * tm rows × tn columns of C from global memory over one of `splits` chunks of k, `kChunk`
 * long (splits = 1: all of k, written straight to C).
 */
export interface DirectMatmul {
  /** Rows and columns per thread: 1, 2, 4 or 8. */
  tm: number;
  tn: number;
  wg: number;
  splits: number;
  kChunk: number;
}

export type MatmulPlan = { kernel: 'tiled'; tiles: MatmulTiles } | ({ kernel: 'direct' } & DirectMatmul);

/** Threads of the direct kernel's workgroups (one dimension). */
const DIRECT_WG = 64;
/** Split-k only when fewer threads than this would cover C… */
const SPLIT_BELOW_THREADS = 512;
/** …into at most this many chunks of at least this many steps of k. */
const SPLIT_MAX = 64;
const SPLIT_MIN_CHUNK = 256;

/**
 * Rows or columns per direct-kernel thread for an extent d: the power of two ≥ d, up to 8.
 * Of 4×4, 4×8, 4×16 and 8×8 per thread, 8×8 was the fastest or within 15 % of it on each
 * of LeNet-5's conv products and on 512² (SwiftShader, 2026-11-23).
 */
function perThread(d: number): number {
  return d >= 5 ? 8 : d >= 3 ? 4 : Math.max(1, d);
}

/**
 * Which matmul kernel runs an M×N×K product (batch items of it), and its shape.
 *
 * The tiled kernel (matmul.wgsl, tiles from chooseTiles) only when C holds at least one
 * full tile each way, neither side is skinny (≤ 16) and k spans more than two k-slices;
 * everything else — conv-shaped im2col products, short k, small outputs — runs the direct
 * kernel. Measured on SwiftShader (2026-11-23, ms, tiled → direct), LeNet-5 at batch 64:
 * conv1 forward [50176×25]·[6×25]ᵀ 192 → 9–12, its weight gradient [50176×6]ᵀ·[50176×25]
 * 214 → 9–11, its column gradient [50176×6]·[6×25] 493 → 14–20; conv2's three products
 * 61 / 60 / 190 → 12–13 / 13–14 / 19–25. The tiled kernel's fixed cost per workgroup
 * dominated them all (see matmul_direct.wgsl). On lavapipe the same products got 1.3–5×
 * faster. Square products keep the tiled kernel.
 *
 * Split-k: when the direct kernel would run fewer than 512 threads and k ≥ 512, k is cut
 * into ≤ 64 chunks of ≥ 256 so that ~512 threads work (a GPU would otherwise sit idle
 * behind a handful of long-running threads; on SwiftShader's 2 vCPUs it gains ≤ 15 %, as
 * one thread per core is already busy). The partials take splits·batch·M·N floats of
 * scratch, kept at most `largestOperand` (the larger of A's and B's bound elements, which
 * the caller has checked against the binding limit), so the split count — and with it
 * the summation order, the bits — depends on the call alone, never on the device.
 */
export function chooseMatmul(
  batch: number,
  m: number,
  n: number,
  k: number,
  largestOperand: number,
  limits: TileLimits = DEFAULT_TILE_LIMITS,
): MatmulPlan {
  const t = chooseTiles(m, n, k, limits);
  if (Math.min(m, n) > 16 && m >= t.bm && n >= t.bn && k > 2 * t.bk) return { kernel: 'tiled', tiles: t };
  const tm = perThread(m);
  const tn = perThread(n);
  const wg = Math.max(1, Math.min(DIRECT_WG, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const threads = batch * Math.ceil(m / tm) * Math.ceil(n / tn);
  const outputs = batch * m * n;
  let splits = 1;
  if (threads < SPLIT_BELOW_THREADS && k >= 2 * SPLIT_MIN_CHUNK) {
    splits = Math.min(
      Math.ceil(SPLIT_BELOW_THREADS / threads),
      SPLIT_MAX,
      Math.floor(k / SPLIT_MIN_CHUNK),
      Math.floor(largestOperand / outputs),
    );
    splits = Math.max(1, splits);
  }
  // Equal chunks; recounting drops chunks that would start past k.
  const kChunk = splits > 1 ? Math.ceil(k / splits) : Math.max(k, 1);
  if (splits > 1) splits = Math.ceil(k / kChunk);
  return { kernel: 'direct', tm, tn, wg, splits, kChunk };
}

export type ReduceStrategy = 'serial' | 'tree';

/**
 * One thread per output (serial) unless there are few outputs and long axes, where one
 * workgroup per output (tree) keeps the device busy. Depends on the shape only, so the
 * summation order — and the bits — are fixed for a shape.
 */
export function chooseReduce(outer: number, size: number, inner: number): ReduceStrategy {
  return size >= 1024 && outer * inner <= 4096 ? 'tree' : 'serial';
}

export interface SoftmaxLayout {
  mode: 'thread' | 'group';
  /** Threads per workgroup. */
  wg: number;
}

/** Short rows (≤ 64 columns, e.g. class logits) take one thread each; long rows a workgroup. */
export function chooseSoftmax(cols: number): SoftmaxLayout {
  return cols <= 64 ? { mode: 'thread', wg: 64 } : { mode: 'group', wg: 64 };
}

/**
 * A grid of `groups` workgroups within `maxPerDimension` per dimension: x up to the limit,
 * then y, then z. Kernels recover the linear index as `wid.x + nwg.x·(wid.y + nwg.y·wid.z)`
 * and skip indices past the end (the grid overshoots by less than one row of x, or one
 * x·y plane).
 */
export function grid(groups: number, maxPerDimension: number): [number, number, number] {
  if (groups <= maxPerDimension) return [groups, 1, 1];
  const rows = Math.ceil(groups / maxPerDimension);
  if (rows <= maxPerDimension) return [Math.ceil(groups / rows), rows, 1];
  const planes = Math.ceil(rows / maxPerDimension);
  if (planes > maxPerDimension) throw new RangeError(`grid: ${groups} workgroups exceed ${maxPerDimension}³`);
  return [maxPerDimension, Math.ceil(rows / planes), planes];
}
