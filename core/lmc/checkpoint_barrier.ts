/**
 * The barrier between two checkpoint files on one data set: what `ridgeline barrier`
 * prints and what the browser's "barrier between two checkpoints" view draws. One function
 * for both, so the page's curve can only equal the CLI's (bit for bit on the CPU backend).
 */
import type { Backend } from '../backend.ts';
import { loadDataset } from '../data/registry.ts';
import type { Dataset } from '../data/dataset.ts';
import type { ForkSpec } from '../experiments/fork_spec.ts';
import type { FileStore } from '../io.ts';
import type { Model } from '../nn/model.ts';
import { createModel } from '../nn/registry.ts';
import { loadWeights } from '../train/checkpoint.ts';
import { measureBarrier } from './pair_barrier.ts';

/** The stages a measurement goes through, for a progress bar (the path evaluations dominate). */
export const BARRIER_STAGES = ['load data', 'read checkpoints', 'train path', 'test path'] as const;

export interface CheckpointPair {
  dataset: Dataset;
  model: Model;
  weightsA: Float32Array[];
  weightsB: Float32Array[];
}

/**
 * Loads the data, builds the model and reads both files (each checked against the model:
 * a foreign or damaged file is refused naming it), before any evaluation. `checkModel`
 * refuses a model the caller cannot use (e.g. one that cannot be aligned) before any file is read.
 */
export async function loadCheckpointPair(
  files: FileStore,
  spec: ForkSpec,
  fileA: string,
  fileB: string,
  onStage: (stage: number) => void = () => {},
  checkModel: (model: Model) => void = () => {},
): Promise<CheckpointPair> {
  onStage(0);
  const dataset = await loadDataset(spec.data, files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
  const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
  checkModel(model);
  onStage(1);
  return { dataset, model, weightsA: await loadWeights(files, fileA, model), weightsB: await loadWeights(files, fileB, model) };
}

/** Path metrics on train and test, and the weight distances, of a loaded pair (`measureBarrier` with the spec's settings). */
export async function measureCheckpointPair(
  backend: Backend,
  pair: CheckpointPair,
  spec: ForkSpec,
  onStage: (stage: number) => void = () => {},
) {
  const { model, dataset, weightsA, weightsB } = pair;
  const measured = await measureBarrier(backend, model, weightsA, weightsB, dataset, {
    alphas: spec.alphas,
    evalBatch: spec.evalBatch,
    onPath: (split) => onStage(split === 'train' ? 2 : 3),
  });
  return { model: model.name, modelDescription: model.description, data: dataset.name, ...measured };
}
