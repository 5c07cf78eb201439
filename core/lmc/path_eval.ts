/**
 * The linear path θ(α) = (1 − α)·θA + α·θB on a data split: losses, errors and the
 * prediction distances of its endpoints, evaluated batched over α (combination_eval.ts).
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import type { Model } from '../nn/model.ts';
import type { ResetBnOptions } from './reset_bn.ts';
import { repairedPath, type RepairOptions } from '../align/repair.ts';
import { evaluateCombinations } from './combination_eval.ts';

export interface PathPoint {
  alpha: number;
  loss: number;
  error: number;
}

export interface PathEvaluation {
  points: PathPoint[];
  /** Mean H(pA, pB) over the split (docs/metrics.md#distances-and-geometry). */
  predictionDistance: number;
  /** Mean ½(H(pA, pB) + H(pB, pA)). */
  predictionDistanceSymmetric: number;
}

export async function evaluatePath(
  backend: Backend,
  model: Model,
  weightsA: Float32Array[],
  weightsB: Float32Array[],
  alphas: readonly number[],
  split: Split,
  batchSize = 1000,
  resetBn?: ResetBnOptions,
  repair?: RepairOptions,
): Promise<PathEvaluation> {
  const last = alphas.length - 1;
  // REPAIR: every point is a network of its own (θ(α) with corrected channels), evaluated as itself.
  const [basis, points] = repair
    ? [
      await repairedPath(backend, model, weightsA, weightsB, alphas, repair),
      alphas.map((_, k) => alphas.map((__, j) => (j === k ? 1 : 0))),
    ]
    : [[weightsA, weightsB], alphas.map((a) => [1 - a, a])];
  const r = await evaluateCombinations(backend, model, basis, points, split, {
    batch: batchSize,
    crossEntropyPairs: [[0, last], [last, 0]],
    resetBn,
  });
  const [hAB, hBA] = r.crossEntropies;
  return {
    points: alphas.map((alpha, k) => ({ alpha, loss: r.points[k].loss, error: r.points[k].error })),
    predictionDistance: hAB,
    predictionDistanceSymmetric: (hAB + hBA) / 2,
  };
}
