/**
 * The batch loader (pure function of (orderSeed, step, batchSize, n), drop_last epochs),
 * `--limit`, and normalization (train-split statistics per channel, applied to both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Dataset, Split } from '../core/data/dataset.ts';
import { BatchLoader, batchOrder } from '../core/data/loader.ts';
import { channelStats, normalizeDataset } from '../core/data/normalize.ts';
import { loadDataset } from '../core/data/registry.ts';
import { rngStream } from '../core/rng.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError } from './fixtures/data/idx_bytes.ts';
import { randomF32, RUNS } from './util.ts';

const files = nodeFileStore();

/** A split whose row i is (i, i + 0.5, …) and label i, so a batch shows where it came from. */
function indexedSplit(n: number, features: number): Split {
  const x = new Float32Array(n * features);
  for (let i = 0; i < n; i++) for (let j = 0; j < features; j++) x[i * features + j] = i + j / 2;
  return { x, y: Float32Array.from({ length: n }, (_, i) => i), n };
}

const loaderCase = fc.record({
  n: fc.integer({ min: 1, max: 300 }),
  batchFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  seed: fc.maxSafeNat(),
}).map(({ n, batchFrac, seed }) => ({ n, batch: 1 + Math.floor(batchFrac * (n - 1)), seed }));

test('batchOrder is the Philox permutation of stream order/epoch-<e>', () => {
  assert.deepEqual(batchOrder(50, 7, 3), rngStream(7, 'order/epoch-3').permutation(50));
  assert.notDeepEqual(batchOrder(50, 7, 3), batchOrder(50, 7, 4));
});

test('batchAt is a pure function of (orderSeed, step, batchSize, n): any access order, any loader instance', () => {
  fc.assert(
    fc.property(loaderCase, fc.array(fc.nat(2000), { minLength: 1, maxLength: 12 }), ({ n, batch, seed }, steps) => {
      const split = indexedSplit(n, 3);
      const a = new BatchLoader(split, [3], { batchSize: batch, orderSeed: seed });
      const answers = steps.map((s) => a.batchAt(s));
      // A fresh loader, visiting the steps backwards (different cache history), agrees.
      const b = new BatchLoader(split, [3], { batchSize: batch, orderSeed: seed });
      for (let k = steps.length - 1; k >= 0; k--) {
        const got = b.batchAt(steps[k]!);
        assert.deepEqual(got.indices, answers[k]!.indices);
        assert.deepEqual(got.x, answers[k]!.x);
        assert.deepEqual(got.y, answers[k]!.y);
      }
      // And the batch is what the documented rule says.
      for (const s of steps) {
        const per = Math.floor(n / batch);
        const epoch = Math.floor(s / per);
        const pos = s % per;
        const want = batchOrder(n, seed, epoch).slice(pos * batch, (pos + 1) * batch);
        const got = a.batchAt(s);
        assert.deepEqual(got.indices, want);
        assert.equal(got.epoch, epoch);
        assert.equal(got.size, batch);
      }
    }),
    { numRuns: RUNS.kernel },
  );
});

test('batches gather the rows and targets of their indices', () => {
  const split = { x: randomF32(3, 40 * 6), y: randomF32(4, 40), n: 40 };
  const loader = new BatchLoader(split, [2, 3], { batchSize: 7, orderSeed: 11 });
  for (const step of [0, 4, 5, 17]) {
    const b = loader.batchAt(step);
    b.indices.forEach((k, i) => {
      assert.deepEqual(b.x.subarray(i * 6, i * 6 + 6), split.x.subarray(k * 6, k * 6 + 6));
      assert.equal(b.y[i], split.y[k]);
    });
  }
});

test("batchInto refills one pair of arrays with batchAt's values, augmented or not; wrong sizes are refused", () => {
  const split = { x: randomF32(5, 50 * 12), y: randomF32(6, 50), n: 50 };
  for (const augment of [undefined, { seed: 3, maxShift: 1, flip: true }]) {
    const loader = new BatchLoader(split, [3, 2, 2], { batchSize: 8, orderSeed: 21, augment });
    const out = { x: new Float32Array(8 * 12), y: new Float32Array(8) };
    // Steps across an epoch boundary (6 steps per epoch) and back.
    for (const step of [0, 1, 5, 6, 13, 2]) {
      loader.batchInto(step, out);
      const want = loader.batchAt(step);
      assert.deepEqual(out.x, want.x, `x at step ${step}`);
      assert.deepEqual(out.y, want.y, `y at step ${step}`);
    }
    assert.throws(
      () => loader.batchInto(0, { x: new Float32Array(8 * 12 - 1), y: new Float32Array(8) }),
      ridgelineError('E_ARG', 'batchInto'),
    );
  }
});

test('each epoch visits every example once; drop_last skips n mod batch of them', () => {
  fc.assert(
    fc.property(loaderCase, fc.nat(5), ({ n, batch, seed }, epoch) => {
      const loader = new BatchLoader(indexedSplit(n, 1), [1], { batchSize: batch, orderSeed: seed });
      assert.equal(loader.stepsPerEpoch, Math.floor(n / batch));
      const count = new Uint8Array(n);
      for (let s = epoch * loader.stepsPerEpoch; s < (epoch + 1) * loader.stepsPerEpoch; s++) {
        const b = loader.batchAt(s);
        assert.equal(b.epoch, epoch);
        assert.equal(b.indices.length, batch);
        for (const k of b.indices) count[k]! += 1;
      }
      const visited = count.reduce((a, c) => a + c, 0);
      assert.equal(visited, loader.stepsPerEpoch * batch);
      assert.ok(count.every((c) => c <= 1), 'no example twice in one epoch');
      // The skipped ones are the tail of that epoch's permutation.
      const tail = batchOrder(n, seed, epoch).slice(visited);
      assert.deepEqual([...tail].filter((k) => count[k] === 0).length, n - visited);
      if (n % batch === 0) assert.ok(count.every((c) => c === 1));
    }),
    { numRuns: RUNS.kernel },
  );
});

test('different order seeds give different orders; the same seed the same', () => {
  const split = indexedSplit(200, 2);
  const orders = [1, 2, 3].map((seed) => new BatchLoader(split, [2], { batchSize: 20, orderSeed: seed }).indicesAt(0));
  assert.notDeepEqual(orders[0], orders[1]);
  assert.notDeepEqual(orders[1], orders[2]);
  assert.deepEqual(new BatchLoader(split, [2], { batchSize: 20, orderSeed: 2 }).indicesAt(0), orders[1]);
  // Epochs differ too: step 0 and step stepsPerEpoch start different permutations.
  const loader = new BatchLoader(split, [2], { batchSize: 20, orderSeed: 1 });
  assert.notDeepEqual(loader.indicesAt(0), loader.indicesAt(10));
});

test('loader options are validated: batch in [1, n], integer seed and step', () => {
  const split = indexedSplit(10, 1);
  for (const batchSize of [0, 11, 2.5, -1, NaN]) {
    assert.throws(
      () => new BatchLoader(split, [1], { batchSize, orderSeed: 0 }),
      ridgelineError('E_SPEC', 'batch size must be an integer in [1, 10]'),
    );
  }
  assert.throws(() => new BatchLoader(split, [1], { batchSize: 2, orderSeed: -1 }), ridgelineError('E_SPEC', 'order seed'));
  assert.throws(() => new BatchLoader(split, [3], { batchSize: 2, orderSeed: 0 }), ridgelineError('E_ARG', 'expected 10×3'));
  const loader = new BatchLoader(split, [1], { batchSize: 10, orderSeed: 0 });
  assert.equal(loader.stepsPerEpoch, 1);
  assert.throws(() => loader.batchAt(-1), ridgelineError('E_ARG', 'step'));
  assert.throws(() => loader.batchAt(1.5), ridgelineError('E_ARG', 'step'));
});

test('--limit keeps the first N examples of each split (normalized with the kept train data)', async () => {
  const name = 'synthetic:gauss:n=500,test=120,dim=3';
  const full = await loadDataset(name, files, { normalize: 'none' });
  const limited = await loadDataset(name, files, { normalize: 'none', limit: 100 });
  assert.deepEqual([limited.train.n, limited.test.n], [100, 100]);
  assert.deepEqual(limited.train.x, full.train.x.slice(0, 300));
  assert.deepEqual(limited.train.y, full.train.y.slice(0, 100));
  assert.deepEqual(limited.test.x, full.test.x.slice(0, 300));
  const partly = await loadDataset(name, files, { normalize: 'none', limit: 200 });
  assert.deepEqual([partly.train.n, partly.test.n], [200, 120], 'a split smaller than the limit is kept whole');
  const standard = await loadDataset(name, files, { limit: 100 });
  const stats = channelStats(limited.train, [3]);
  assert.deepEqual(standard.normalization, { mode: 'standard', mean: stats.mean, std: stats.std });
  for (const limit of [0, -3, 1.5]) {
    await assert.rejects(loadDataset(name, files, { limit }), ridgelineError('E_SPEC', '--limit must be an integer ≥ 1'));
  }
  await assert.rejects(loadDataset(name, files, { normalize: 'minmax' as 'none' }), ridgelineError('E_SPEC', 'valid: standard, none'));
});

test('standard normalization: per-channel train mean 0 and std 1; test uses the train statistics', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 40 }), fc.nat(1000), (channels, n, seed) => {
      const shape = [channels, 3, 2];
      const f = channels * 6;
      const offsets = randomF32(seed, channels, -5, 5);
      const scales = randomF32(seed + 1, channels, 0.1, 4);
      const make = (m: number, s: number): Split => {
        const x = randomF32(s, m * f);
        for (let i = 0; i < m * f; i++) {
          const c = Math.floor((i % f) / 6);
          x[i] = offsets[c]! + scales[c]! * x[i]!;
        }
        return { x, y: new Float32Array(m), n: m };
      };
      const ds: Dataset = { name: 't', inputShape: shape, classes: 2, train: make(n, seed + 2), test: make(5, seed + 3), source: 'test' };
      const rawTest = ds.test.x.slice();
      const out = normalizeDataset(ds, 'standard');
      const after = channelStats(out.train, shape);
      for (let c = 0; c < channels; c++) {
        assert.ok(Math.abs(after.mean[c]!) < 1e-5, `channel ${c} mean ${after.mean[c]}`);
        assert.ok(Math.abs(after.std[c]! - 1) < 1e-5, `channel ${c} std ${after.std[c]}`);
      }
      const { mean, std } = out.normalization!;
      assert.equal(mean.length, channels);
      for (let i = 0; i < rawTest.length; i++) {
        const c = Math.floor((i % f) / 6);
        assert.equal(out.test.x[i], Math.fround((rawTest[i]! - mean[c]!) / std[c]!));
      }
    }),
    { numRuns: RUNS.kernel },
  );
});

test('normalization: [d] inputs are one channel, a constant channel becomes 0 (not NaN), none leaves data as read', () => {
  const vec: Dataset = {
    name: 'v',
    inputShape: [2],
    classes: 2,
    source: 'test',
    train: { x: Float32Array.of(0, 10, 2, 12), y: new Float32Array(2), n: 2 },
    test: { x: Float32Array.of(6, 6), y: new Float32Array(1), n: 1 },
  };
  const out = normalizeDataset(vec, 'standard');
  assert.deepEqual(out.normalization, { mode: 'standard', mean: [6], std: [Math.sqrt(26)] });
  assert.deepEqual(Array.from(out.test.x), [0, 0]);
  const flat: Dataset = { ...vec, inputShape: [2, 1], train: { x: Float32Array.of(3, 1, 3, 2), y: new Float32Array(2), n: 2 } };
  const flatOut = normalizeDataset(flat, 'standard');
  assert.deepEqual(flatOut.normalization, { mode: 'standard', mean: [3, 1.5], std: [1, 0.5] });
  assert.deepEqual(Array.from(flatOut.train.x), [0, -1, 0, 1]);
  const raw = Float32Array.of(0.25, 0.5, 1, 0);
  const none = normalizeDataset({ ...vec, train: { x: raw.slice(), y: new Float32Array(2), n: 2 } }, 'none');
  assert.deepEqual(none.train.x, raw);
  assert.deepEqual(none.normalization, { mode: 'none', mean: [], std: [] });
});

test('mnist with standard normalization: train mean ≈ 0 and std ≈ 1 under the recorded statistics', async () => {
  const ds = await loadDataset('mnist', files, { limit: 3000 });
  const { mean, std } = channelStats(ds.train, ds.inputShape);
  assert.ok(Math.abs(mean[0]!) < 1e-6 && Math.abs(std[0]! - 1) < 1e-6, `mean ${mean[0]}, std ${std[0]}`);
  const rec = ds.normalization!;
  assert.ok(rec.mean[0]! > 0.1 && rec.mean[0]! < 0.16 && rec.std[0]! > 0.28 && rec.std[0]! < 0.34, JSON.stringify(rec));
});
