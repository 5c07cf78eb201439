/** The training-data loader of one line (parent or child) of an experiment. */
import type { Dataset } from '../data/dataset.ts';
import { BatchLoader } from '../data/loader.ts';

export interface LoaderSpec {
  batch: number;
  augment: boolean;
  seedAugment: number;
}

/**
 * Pixels shifted in by augmentation are black, as with torchvision's RandomCrop(padding=4)
 * applied before Normalize: the normalized value of 0, i.e. −mean/std per channel.
 */
export function blackFill(dataset: Dataset): number[] {
  const norm = dataset.normalization;
  const channels = dataset.inputShape.length === 3 ? dataset.inputShape[0] : 1;
  if (!norm || norm.mode === 'none') return Array(channels).fill(0);
  return norm.mean.map((m, c) => -m / norm.std[c]);
}

/** Batches of the training split in the order of `orderSeed`, augmented when asked. */
export function trainingLoader(dataset: Dataset, spec: LoaderSpec, orderSeed: number): BatchLoader {
  return new BatchLoader(dataset.train, dataset.inputShape, {
    batchSize: spec.batch,
    orderSeed,
    ...(spec.augment ? { augment: { seed: spec.seedAugment + orderSeed, fill: blackFill(dataset) } } : {}),
  });
}
