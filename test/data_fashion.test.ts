/**
 * Fashion-MNIST from Debian's dataset-fashion-mnist (skipped, with the reason, where it is
 * not installed) and the errors for missing, empty, partial or short folders, which need
 * no installed data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from '../core/data/fashion_mnist.ts';
import { loadDataset } from '../core/data/registry.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { idxFolderFiles, ridgelineError, withTempDir, writeFiles } from './fixtures/data/idx_bytes.ts';

const files = nodeFileStore();
const installed = existsSync(join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'));
const skip = installed ? false : `${FASHION_MNIST_DEFAULT_DIR} is absent (apt-get install dataset-fashion-mnist)`;

test('fashion-mnist: 60 000 / 10 000 images of 28×28, 10 balanced classes, pixels in [0, 1]', { skip }, async (t) => {
  const start = performance.now();
  const ds = await loadFashionMnist(files);
  const seconds = (performance.now() - start) / 1000;
  t.diagnostic(`read + gunzip + parse of 70 000 images: ${seconds.toFixed(2)} s`);
  assert.ok(seconds < 10, `loading took ${seconds} s`);
  assert.deepEqual([ds.train.n, ds.test.n, ds.classes], [60000, 10000, 10]);
  assert.deepEqual(ds.inputShape, [1, 28, 28]);
  assert.equal(ds.train.x.length, 60000 * 784);
  assert.equal(ds.source, FASHION_MNIST_DEFAULT_DIR);
  // The published set has exactly 6 000 train and 1 000 test images per class.
  for (const [split, per] of [[ds.train, 6000], [ds.test, 1000]] as const) {
    const counts = new Array<number>(10).fill(0);
    for (const y of split.y) counts[y]! += 1;
    assert.deepEqual(counts, new Array(10).fill(per));
    let min = Infinity;
    let max = -Infinity;
    for (const v of split.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.deepEqual([min, max], [0, 1]);
  }
});

test('fashion-mnist: standard normalization uses the published train statistics (mean 0.2860, std 0.3530)', { skip }, async () => {
  const ds = await loadDataset('fashion-mnist', files, { limit: 60000 });
  assert.equal(ds.normalization?.mode, 'standard');
  assert.ok(Math.abs(ds.normalization!.mean[0]! - 0.2860) < 5e-4, `mean ${ds.normalization!.mean[0]}`);
  assert.ok(Math.abs(ds.normalization!.std[0]! - 0.3530) < 5e-4, `std ${ds.normalization!.std[0]}`);
});

test('fashion-mnist: a missing or empty directory names the expected files and the Debian package', async () => {
  await withTempDir(async (dir) => {
    for (const where of [join(dir, 'does-not-exist'), dir]) {
      await assert.rejects(
        loadDataset(`fashion-mnist:${where}`, files),
        ridgelineError(
          'E_DATA_FORMAT',
          `directory ${where} is missing or empty`,
          'train-images-idx3-ubyte.gz',
          'train-labels-idx1-ubyte.gz',
          't10k-images-idx3-ubyte.gz',
          't10k-labels-idx1-ubyte.gz',
          "Debian's dataset-fashion-mnist",
        ),
      );
    }
  });
});

test('fashion-mnist: a partial folder lists what is missing; a small one fails the 60 000 / 10 000 check', async () => {
  await withTempDir(async (dir) => {
    const parts = idxFolderFiles(6, 2);
    await writeFiles(dir, { 'train-images-idx3-ubyte': parts['train-images-idx3-ubyte']! });
    await assert.rejects(
      loadFashionMnist(files, dir),
      ridgelineError('E_DATA_FORMAT', 'lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte'),
    );
    await writeFiles(dir, parts);
    await assert.rejects(
      loadFashionMnist(files, dir),
      ridgelineError('E_DATA_FORMAT', join(dir, 'train-images-idx3-ubyte'), 'should have 60000 examples, found 6'),
    );
  });
});
