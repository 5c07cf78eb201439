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
 * tile, so they get a 16-wide one that is long in the other dimension. Every choice fits
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
