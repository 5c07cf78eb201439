/**
 * A data set from arrays the caller already holds (a library user's own data, a page's
 * upload): the same checks a file loader makes, then the same normalization, so that a
 * model trained on it sees what it would have seen through `loadDataset`.
 */
import { RidgelineError } from '../errors.ts';
import { type Dataset, featureCount, type Split } from './dataset.ts';
import { NORMALIZE_MODES, normalizeDataset, type NormalizeMode } from './normalize.ts';

/** One split as plain arrays: `x` row-major n × features, `y` a class index (or target) per row. */
export interface ArraySplit {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface ArrayDatasetOptions {
  /** Shape of one example: `[C, H, W]` for images (channels first, as PyTorch), `[d]` for vectors. */
  inputShape: readonly number[];
  /** Number of classes; 0 makes it a regression task (targets are used as they are). */
  classes: number;
  train: ArraySplit;
  test: ArraySplit;
  /** Recorded in results as the data set's name (default `arrays`). */
  name?: string;
  /** Default `standard`: per-channel mean and std of the train split, applied to both splits. */
  normalize?: NormalizeMode;
}

function splitOf(which: string, s: ArraySplit, features: number, classes: number): Split {
  const n = s.y.length;
  if (n < 1) throw new RidgelineError('E_DATA_FORMAT', `arrays: the ${which} split has no examples`);
  if (s.x.length !== n * features) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `arrays: the ${which} split has ${s.x.length} input values for ${n} labels; expected ${n} × ${features}`,
    );
  }
  const x = Float32Array.from(s.x);
  const y = Float32Array.from(s.y);
  const badX = x.findIndex((v) => !Number.isFinite(v));
  if (badX >= 0) throw new RidgelineError('E_DATA_FORMAT', `arrays: ${which} input ${badX} is ${x[badX]}`);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    // Labels travel as f32, exact for integers below 2^24; anything else is a wrong label, not a class.
    if (classes > 0 ? !(Number.isInteger(v) && v >= 0 && v < classes) : !Number.isFinite(v)) {
      throw new RidgelineError(
        'E_DATA_FORMAT',
        `arrays: ${which} label ${i} is ${s.y[i]}; expected ${classes > 0 ? `an integer in [0, ${classes})` : 'a finite target'}`,
      );
    }
  }
  return { x, y, n };
}

/** A validated, normalized {@link Dataset} from in-memory arrays (copied as f32). */
export function datasetFromArrays(o: ArrayDatasetOptions): Dataset {
  if (o.inputShape.length === 0 || !o.inputShape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new RidgelineError('E_SPEC', `arrays: inputShape must be positive integers, got [${o.inputShape.join(', ')}]`);
  }
  if (!Number.isSafeInteger(o.classes) || o.classes < 0) {
    throw new RidgelineError('E_SPEC', `arrays: classes must be an integer ≥ 0, got ${o.classes}`);
  }
  const normalize = o.normalize ?? 'standard';
  if (!NORMALIZE_MODES.includes(normalize)) {
    throw new RidgelineError('E_SPEC', `arrays: unknown normalization '${String(normalize)}'; valid: ${NORMALIZE_MODES.join(', ')}`);
  }
  const features = featureCount(o.inputShape);
  const dataset: Dataset = {
    name: o.name ?? 'arrays',
    inputShape: [...o.inputShape],
    classes: o.classes,
    train: splitOf('train', o.train, features, o.classes),
    test: splitOf('test', o.test, features, o.classes),
    source: 'arrays passed by the caller',
  };
  return normalizeDataset(dataset, normalize);
}
