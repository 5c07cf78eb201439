/**
 * A directory holding the four IDX files of an MNIST-style data set, under the names
 * LeCun's MNIST and Zalando's Fashion-MNIST both use. Each file may be gzip-compressed or
 * plain, and the `.idx3-ubyte` spelling some mirrors use is accepted too.
 */
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import type { Dataset } from './dataset.ts';
import { idxSplit, readIdx } from './idx.ts';

const PARTS = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The file names looked for, for error messages and help. */
export const IDX_FOLDER_FILES: readonly string[] = Object.values(PARTS).map((p) => `${p}.gz`);

/** The entry of `entries` that holds `base` (gzip preferred), or null. */
function findEntry(entries: readonly string[], base: string): string | null {
  const dotted = base.replace(/-(idx\d)/, '.$1'); // train-images.idx3-ubyte
  for (const name of [`${base}.gz`, base, `${dotted}.gz`, dotted]) {
    if (entries.includes(name)) return name;
  }
  return null;
}

export interface IdxFolderOptions {
  /** Data set name recorded in the Dataset, e.g. `fashion-mnist`. */
  name: string;
  /** Appended to the missing-files error: where the files can be obtained. */
  hint: string;
  classes: number;
  /** Expected example counts; a mismatch is an error (catches a half-copied folder). */
  expect?: { train: number; test: number };
}

/** Loads train and test splits from the IDX files in `dir` (pixels scaled to [0, 1]). */
export async function loadIdxFolder(files: FileStore, dir: string, options: IdxFolderOptions): Promise<Dataset> {
  const entries = await files.list(dir);
  const found: Partial<Record<keyof typeof PARTS, string>> = {};
  const missing: string[] = [];
  for (const [key, base] of Object.entries(PARTS) as [keyof typeof PARTS, string][]) {
    const entry = findEntry(entries, base);
    if (entry === null) missing.push(base);
    else found[key] = joinPath(dir, entry);
  }
  if (missing.length > 0) {
    const state = entries.length === 0 ? 'is missing or empty' : `lacks ${missing.join(', ')} (.gz or plain)`;
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${options.name}: directory ${dir} ${state}; expected the IDX files ${IDX_FOLDER_FILES.join(', ')} (gzip or plain). ${options.hint}`,
    );
  }
  const paths = found as Record<keyof typeof PARTS, string>;
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdx(files, paths.trainImages),
    readIdx(files, paths.trainLabels),
    readIdx(files, paths.testImages),
    readIdx(files, paths.testLabels),
  ]);
  const train = idxSplit(trainImages, trainLabels, { images: paths.trainImages, labels: paths.trainLabels }, options.classes);
  const test = idxSplit(testImages, testLabels, { images: paths.testImages, labels: paths.testLabels }, options.classes);
  if (train.inputShape.join('x') !== test.inputShape.join('x')) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${paths.testImages}: example shape [${test.inputShape.join(', ')}] differs from ${paths.trainImages}'s [${
        train.inputShape.join(', ')
      }]`,
    );
  }
  if (options.expect) {
    for (
      const [split, path, want] of [
        [train.split, paths.trainImages, options.expect.train],
        [test.split, paths.testImages, options.expect.test],
      ] as const
    ) {
      if (split.n !== want) {
        throw new RidgelineError('E_DATA_FORMAT', `${path}: ${options.name} should have ${want} examples, found ${split.n}`);
      }
    }
  }
  return {
    name: options.name,
    inputShape: train.inputShape,
    classes: options.classes,
    train: train.split,
    test: test.split,
    source: dir,
  };
}
