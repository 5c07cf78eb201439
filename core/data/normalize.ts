/**
 * Input normalization (docs/data.md: inputs scaled to [0, 1], then standardized per channel).
 *
 * - `standard` (default): per channel, the mean and population std over every value of
 *   that channel in the TRAIN split (so no test information leaks into the inputs), applied
 *   as (x − mean) / std to both splits. [C, H, W] inputs have C channels; [d] inputs are
 *   one channel (one mean and std over all features), which keeps the relative scale of
 *   the features as the data set defines it.
 * - `none`: inputs as read (pixels in [0, 1]; synthetic sets as generated).
 *
 * Statistics are summed in f64 in a fixed order, so they are identical in every runtime.
 * A channel with zero variance (e.g. a blank border, or a one-example split) is divided
 * by 1 instead of 0, so it becomes 0 rather than NaN.
 */
import { RidgelineError } from '../errors.ts';
import { type Dataset, featureCount, type NormalizationRecord, type Split } from './dataset.ts';

export type NormalizeMode = 'standard' | 'none';
export const NORMALIZE_MODES: readonly NormalizeMode[] = ['standard', 'none'];

/** Channels of an example shape: C for [C, H, W] (or [C, L]), 1 for [d]. */
export function channelCount(inputShape: readonly number[]): number {
  return inputShape.length >= 2 ? inputShape[0]! : 1;
}

/** Per-channel mean and population std of a split (f64, fixed summation order). */
export function channelStats(split: Split, inputShape: readonly number[]): { mean: number[]; std: number[] } {
  const channels = channelCount(inputShape);
  const perChannel = featureCount(inputShape) / channels;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  const x = split.x;
  // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − E[x]².
  for (let i = 0, at = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let j = 0; j < perChannel; j++) s += x[at++]!;
      sum[c] = sum[c]! + s;
    }
  }
  const count = split.n * perChannel;
  const mean = Array.from(sum, (s) => (count > 0 ? s / count : 0));
  for (let i = 0, at = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      const m = mean[c]!;
      let s = 0;
      for (let j = 0; j < perChannel; j++) {
        const d = x[at++]! - m;
        s += d * d;
      }
      sumSq[c] = sumSq[c]! + s;
    }
  }
  const std = Array.from(sumSq, (s) => (count > 0 ? Math.sqrt(s / count) : 0));
  return { mean, std };
}

/** Applies (x − mean[c]) / std[c] to a split in place. */
function applyStats(split: Split, inputShape: readonly number[], mean: number[], divisor: number[]): void {
  const channels = mean.length;
  const perChannel = featureCount(inputShape) / channels;
  const x = split.x;
  for (let i = 0, at = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      const m = mean[c]!;
      const d = divisor[c]!;
      for (let j = 0; j < perChannel; j++, at++) x[at] = (x[at]! - m) / d;
    }
  }
}

/**
 * Normalizes both splits IN PLACE (a second copy of a 188 MB training set is not worth
 * it) and returns the data set with `normalization` recording what was applied.
 */
export function normalizeDataset(dataset: Dataset, mode: NormalizeMode): Dataset {
  if (mode === 'none') return { ...dataset, normalization: { mode, mean: [], std: [] } };
  if (mode !== 'standard') {
    throw new RidgelineError('E_SPEC', `unknown normalization '${String(mode)}'; valid: ${NORMALIZE_MODES.join(', ')}`);
  }
  const { mean, std } = channelStats(dataset.train, dataset.inputShape);
  const divisor = std.map((s) => (s > 0 ? s : 1));
  applyStats(dataset.train, dataset.inputShape, mean, divisor);
  applyStats(dataset.test, dataset.inputShape, mean, divisor);
  const normalization: NormalizationRecord = { mode, mean, std: divisor };
  return { ...dataset, normalization };
}
