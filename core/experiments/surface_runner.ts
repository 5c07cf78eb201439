/**
 * The 2-D loss surface on the plane through θA, θB and the fork point θF (docs/metrics.md#distances-and-geometry, k1/k2
 * paper Fig. 5): θ(s, t) = θF + s·(θA − θF) + t·(θB − θF) on an R × R grid in these affine
 * coordinates, so F = (0, 0), A = (1, 0) and B = (0, 1) are grid points. Every grid point is
 * a linear combination of the three networks and is evaluated batched.
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { argError } from '../errors.ts';
import { evaluateCombinations } from '../lmc/combination_eval.ts';
import { cosine, flatten, norm, subtract } from '../lmc/geometry.ts';
import type { Model } from '../nn/model.ts';

export interface SurfaceResult {
  /** Grid coordinates along (θA − θF) and (θB − θF). */
  s: number[];
  t: number[];
  /** loss[i][j] at (s[j], t[i]); error likewise. */
  loss: number[][];
  error: number[][];
  /** ‖θA − θF‖, ‖θB − θF‖ and the angle between the two directions (degrees). */
  lengthA: number;
  lengthB: number;
  angle: number;
}

/** `count` points from lo to hi with exact multiples of the step (so 0 and 1 are hit). */
export function surfaceAxis(lo: number, hi: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 2) argError('surface', `--grid must be an integer ≥ 2, got ${count}`);
  const step = (hi - lo) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round((lo + i * step) * 1e9) / 1e9);
}

export async function lossSurface(
  backend: Backend,
  model: Model,
  fork: Float32Array[],
  a: Float32Array[],
  b: Float32Array[],
  axis: number[],
  split: Split,
  batch = 1000,
): Promise<SurfaceResult> {
  const coefs = axis.flatMap((t) => axis.map((s) => [1 - s - t, s, t]));
  const { points } = await evaluateCombinations(backend, model, [fork, a, b], coefs, split, { batch });
  const rows = (f: (k: number) => number) => axis.map((_, i) => axis.map((__, j) => f(i * axis.length + j)));
  const [fF, fA, fB] = [flatten(fork), flatten(a), flatten(b)];
  const [u, w] = [subtract(fA, fF), subtract(fB, fF)];
  return {
    s: axis,
    t: axis,
    loss: rows((k) => points[k].loss),
    error: rows((k) => points[k].error),
    lengthA: norm(u),
    lengthB: norm(w),
    angle: (Math.acos(cosine(u, w)) * 180) / Math.PI,
  };
}
