/**
 * The barrier between two networks on a data set's train and test splits (docs/metrics.md):
 * both linear paths evaluated, turned into a cell's metrics, with the weight distances. What
 * `ridgeline barrier` prints, as one call for library users.
 */
import type { Backend } from '../backend.ts';
import type { Dataset } from '../data/dataset.ts';
import type { LayerDistance, SplitMetrics } from '../experiments/result_schema.ts';
import type { Model } from '../nn/model.ts';
import { alphaGrid } from './barrier.ts';
import { layerDistances, weightDistance } from './distances.ts';
import { pairMetrics } from './metrics.ts';
import { evaluatePath } from './path_eval.ts';
import type { ResetBnOptions } from './reset_bn.ts';

export interface BarrierOptions {
  /** Equidistant points on the path, ends included (default 11, the fork experiment's). */
  alphas?: number;
  /** Rows per evaluation batch (default 1000); results do not depend on it beyond f32 rounding of the forward pass. */
  evalBatch?: number;
  /** Recompute batch-norm statistics at every point instead of interpolating them. */
  resetBn?: ResetBnOptions;
  /** Called before each split's path is evaluated (for progress). */
  onPath?: (split: 'train' | 'test') => void;
}

export interface PairBarrier {
  /** Loss and error barriers, endpoint floor, curves and prediction distances on the train split. */
  train: SplitMetrics;
  /** The same on the test split (whose endpoint accuracies normalise both splits' barriers). */
  test: SplitMetrics;
  /** ‖θA − θB‖₂ over every state value. */
  weightDistance: number;
  weightDistanceByLayer: LayerDistance[];
}

/** Evaluates θ(α) = (1 − α)·θA + α·θB on both splits of `dataset` and measures its barriers. */
export async function measureBarrier(
  backend: Backend,
  model: Model,
  weightsA: Float32Array[],
  weightsB: Float32Array[],
  dataset: Dataset,
  options: BarrierOptions = {},
): Promise<PairBarrier> {
  const alphas = alphaGrid(options.alphas ?? 11);
  const evalBatch = options.evalBatch ?? 1000;
  options.onPath?.('train');
  const train = await evaluatePath(backend, model, weightsA, weightsB, alphas, dataset.train, evalBatch, options.resetBn);
  options.onPath?.('test');
  const test = await evaluatePath(backend, model, weightsA, weightsB, alphas, dataset.test, evalBatch, options.resetBn);
  return {
    ...pairMetrics(train, test),
    weightDistance: weightDistance(weightsA, weightsB),
    weightDistanceByLayer: layerDistances(model, weightsA, weightsB),
  };
}
