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
  /** Rows per thread, a multiple of 4. */
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
 * Tile sizes for an M×N×K product. Measured on SwiftShader and lavapipe (2 cores,
 * bench/webgpu_matmul.ts, 2026-11-23): 64×64 tiles of 16×16 threads × 4×4 outputs with
 * 16-deep k-slices were the fastest square tiling tried; skinny products (N or M ≤ 16, as
 * in a 10-class output layer) waste most of a 64-wide tile, so they get a 16-wide one
 * that is tall in the other dimension. Every choice fits WebGPU's minimum limits (256
 * invocations, 16 KiB of workgroup memory); smaller limits halve the workgroup.
 */
export function chooseTiles(m: number, n: number, k: number, limits: TileLimits = DEFAULT_TILE_LIMITS): MatmulTiles {
  void k; // depth does not change the tiling: every k-slice has the same shape
  let t: MatmulTiles;
  if (n <= 16 && m > 16) t = tiles(4, 32, 4, 16); // 128 × 16
  else if (m <= 16 && n > 16) t = tiles(32, 4, 4, 16); // 16 × 128
  else if (m <= 16 && n <= 16) t = tiles(4, 4, 4, 16); // 16 × 16
  else t = tiles(16, 16, 4, 16); // 64 × 64
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
 * the rest in y. Kernels recover the linear index as `wid.x + wid.y · nwg.x` and skip
 * indices past the end (x·y may exceed `groups` by less than one row of x).
 */
export function grid(groups: number, maxPerDimension: number): [number, number] {
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) throw new RangeError(`grid: ${groups} workgroups exceed ${maxPerDimension}² `);
  return [Math.ceil(groups / y), y];
}
