/**
 * The Fashion-MNIST training batches the benches train on (Debian's dataset-fashion-mnist,
 * standardized as the trainer does, the loader's seeded order 0), or uniform noise of the
 * same shape when the data set is not installed and cannot be (root with apt installs it:
 * a fresh machine measures the goals on the real data). One source, so that ours and a
 * peer fed from it (bench/jaxjs_peer.ts) see the same batch at the same step.
 */
import { FASHION_MNIST_DEFAULT_DIR } from '../core/data/fashion_mnist.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { aptInstall, canAptInstall } from './harness.ts';

export interface BatchSource {
  /** What the batches are: the data set, or why they are noise. */
  source: string;
  /** True for Fashion-MNIST; false for the noise fallback (a peer cannot show learning on it). */
  real: boolean;
  /** The IDX files' directory, when real: a peer in another language reads the same files. */
  dir?: string;
  /** Full batches per epoch (floor(60 000 / batch), the loader's drop_last epoch). */
  stepsPerEpoch: number;
  /**
   * The batch of global step s: batch × features inputs (784 for Fashion-MNIST), batch class
   * labels (as floats), valid until the next call (the arrays are refilled).
   */
  at: (s: number) => { x: Float32Array; y: Float32Array };
}

const FEATURES = 28 * 28;
const CLASSES = 10;
const TRAIN_EXAMPLES = 60_000;

const DATASET_PACKAGE = 'dataset-fashion-mnist';

/** Loads Fashion-MNIST, installing Debian's package first when it is missing and we may. */
async function loadFashionMnist(): ReturnType<typeof loadDataset> {
  const store = nodeFileStore();
  try {
    return await loadDataset('fashion-mnist', store);
  } catch (e) {
    if (!canAptInstall()) throw e;
    console.error(`Fashion-MNIST is missing (${(e as Error).message}); installing ${DATASET_PACKAGE} with apt-get…`);
    if (!aptInstall([DATASET_PACKAGE], (s) => console.error(s))) throw e;
    return await loadDataset('fashion-mnist', store);
  }
}

/** Fashion-MNIST batches of `batch` examples, or (`fallback`, the default) noise when it is missing. */
export async function fashionBatches(batch: number, fallback = true): Promise<BatchSource> {
  let reason: string;
  try {
    const data = await loadFashionMnist();
    const loader = new BatchLoader(data.train, data.inputShape, { batchSize: batch, orderSeed: 0 });
    // Every consumer copies a batch before asking for the next (an upload, np.array), so
    // one pair of arrays is refilled, as the trainer does (core/train/trainer.ts).
    const staging = { x: new Float32Array(batch * FEATURES), y: new Float32Array(batch) };
    return {
      source: 'Fashion-MNIST (train split, standardized, order seed 0)',
      real: true,
      dir: FASHION_MNIST_DEFAULT_DIR,
      stepsPerEpoch: loader.stepsPerEpoch,
      at: (s) => (loader.batchInto(s, staging), staging),
    };
  } catch (e) {
    reason = (e as Error).message;
  }
  if (!fallback) throw new Error(`Fashion-MNIST is not available (${reason}); install Debian's ${DATASET_PACKAGE}`);
  const noise = noiseBatches(batch, FEATURES, CLASSES, TRAIN_EXAMPLES);
  return { ...noise, source: `uniform noise of Fashion-MNIST shape (${DATASET_PACKAGE} not installed: ${reason})` };
}

/**
 * Eight fixed batches of uniform noise in [0, 1) with random labels, cycled: timing data for
 * a data set that is not on this machine (a step's time does not depend on the values).
 */
export function noiseBatches(batch: number, features: number, classes: number, trainExamples: number): BatchSource {
  let seed = 12345;
  const rand = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const fixed = Array.from({ length: 8 }, () => ({
    x: Float32Array.from({ length: batch * features }, rand),
    y: Float32Array.from({ length: batch }, () => Math.floor(rand() * classes)),
  }));
  return {
    source: `uniform noise (${features} features, ${classes} classes)`,
    real: false,
    stepsPerEpoch: Math.floor(trainExamples / batch),
    at: (s) => fixed[s % fixed.length],
  };
}
