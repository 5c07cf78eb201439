/**
 * Singh et al. Prop. 1 (and its gradient-corrected form) against the measured barrier
 * curve, for every pair of a source, on a fixed reported subset of the training set.
 */
import type { Backend } from '../backend.ts';
import { alphaGrid, interpolationGaps, lossBarrier } from '../lmc/barrier.ts';
import { subsetOf } from '../lmc/dataset_derivatives.ts';
import { DatasetOracle } from '../lmc/dataset_oracle.ts';
import { flatten, siblingAngle } from '../lmc/geometry.ts';
import { gradientCorrectedPrediction, type PairCurvature, pairCurvature, prop1Prediction } from '../lmc/predict.ts';
import { evaluatePath } from '../lmc/path_eval.ts';
import type { Progress } from '../progress.ts';
import type { FileStore } from '../io.ts';
import { loadPair, type PairSource } from './pair_source.ts';

export interface PredictedPair {
  label: string;
  k1: number | null;
  k2: number | null;
  alphas: number[];
  measured: number[];
  prop1: number[];
  corrected: number[];
  curvature: PairCurvature;
  measuredBarrier: number;
  prop1Barrier: number;
  correctedBarrier: number;
  /** Angle between the two networks seen from the origin, in degrees. */
  angleFromOrigin: number;
}

export async function predictPairs(
  backend: Backend,
  files: FileStore,
  source: PairSource,
  o: { subset: number; alphas: number; batch: number },
  progress: Progress,
): Promise<{ subset: number; pairs: PredictedPair[] }> {
  const split = subsetOf(source.dataset.train, o.subset);
  const alphas = alphaGrid(o.alphas);
  const out: PredictedPair[] = [];
  progress.start('predict', source.pairs.length);
  for (const [i, pair] of source.pairs.entries()) {
    const [wA, wB] = await loadPair(files, source, pair);
    const measuredPath = await evaluatePath(backend, source.model, wA, wB, alphas, split, o.batch);
    const measured = interpolationGaps(alphas, measuredPath.points.map((p) => p.loss));
    const oracle = new DatasetOracle(backend, source.model, split, o.batch);
    const [t1, t2] = [flatten(wA), flatten(wB)];
    let curvature: PairCurvature;
    try {
      curvature = await pairCurvature(oracle, t1, t2);
    } finally {
      oracle.dispose();
    }
    const prop1 = alphas.map((a) => prop1Prediction(a, curvature));
    const corrected = alphas.map((a) => gradientCorrectedPrediction(a, curvature));
    out.push({
      label: pair.label,
      k1: pair.k1,
      k2: pair.k2,
      alphas,
      measured,
      prop1,
      corrected,
      curvature,
      measuredBarrier: lossBarrier(alphas, measuredPath.points.map((p) => p.loss)).value,
      prop1Barrier: Math.max(...prop1.slice(1, -1)),
      correctedBarrier: Math.max(...corrected.slice(1, -1)),
      angleFromOrigin: siblingAngle(t1, t2),
    });
    progress.update(i + 1, pair.label);
  }
  progress.finish();
  return { subset: split.n, pairs: out };
}
