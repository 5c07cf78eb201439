/**
 * The in-memory form every data source is converted to. Data stay on the host as f32 rows
 * (a 60 000 × 784 set is 188 MB, above WebGPU's default 128 MiB binding limit), and the
 * loader uploads one batch at a time.
 */

/** One split: `n` examples, `x` row-major n × (product of inputShape), `y` one value per example. */
export interface Split {
  /** Row-major n × features; features in (C, H, W) order for images. */
  x: Float32Array;
  /** Class index stored as f32 (exact up to 2^24), or the regression target. */
  y: Float32Array;
  n: number;
}

/** Which normalization was applied, with the statistics used (for the resolved spec). */
export interface NormalizationRecord {
  mode: 'standard' | 'none';
  /** Per-channel mean subtracted (empty for `none`), computed on the train split. */
  mean: number[];
  /** Per-channel divisor (empty for `none`); a constant channel uses 1 (see normalize.ts). */
  std: number[];
}

export interface Dataset {
  /** Resolved name (synthetic sets spell out every parameter, defaults included). */
  name: string;
  /** Shape of one example: [C, H, W] for images, [d] for vectors. */
  inputShape: number[];
  /** Number of classes; 0 for regression. */
  classes: number;
  train: Split;
  test: Split;
  /** Where the data came from (file path or package and version), for provenance. */
  source: string;
  /** Set by `loadDataset`: the normalization applied to both splits. */
  normalization?: NormalizationRecord;
}

/** Number of features per example: the product of `inputShape`. */
export function featureCount(inputShape: readonly number[]): number {
  let f = 1;
  for (const d of inputShape) f *= d;
  return f;
}

/** The first `count` examples of a split, copied (so the full arrays can be released). */
export function headOfSplit(split: Split, count: number): Split {
  const n = Math.min(count, split.n);
  if (n === split.n) return split;
  const features = split.x.length / Math.max(split.n, 1);
  return { x: split.x.slice(0, n * features), y: split.y.slice(0, n), n };
}
