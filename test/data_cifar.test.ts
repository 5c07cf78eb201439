/**
 * CIFAR-10/100 binary reader: small files written record by record from the format's
 * definition (label byte(s), then 1024 R, 1024 G, 1024 B bytes, each 32×32 row-major), exact
 * round trips of pixels and labels, and one test per fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCifarRecords } from '../core/data/cifar.ts';
import { DATASET_HELP, DATASET_NAMES, loadDataset, parseDatasetName } from '../core/data/registry.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError, withTempDir, writeFiles } from './fixtures/data/idx_bytes.ts';
import { RUNS } from './util.ts';

const files = nodeFileStore();

interface Rec {
  labels: number[];
  r: Uint8Array;
  g: Uint8Array;
  b: Uint8Array;
}

/** A record with distinct, position-dependent planes. */
function makeRecord(seed: number, labels: number[]): Rec {
  const plane = (k: number) => Uint8Array.from({ length: 1024 }, (_, i) => (i * 31 + seed * 7 + k * 101) % 256);
  return { labels, r: plane(0), g: plane(1), b: plane(2) };
}

function fileOf(records: Rec[]): Uint8Array {
  const parts: number[] = [];
  for (const rec of records) parts.push(...rec.labels, ...rec.r, ...rec.g, ...rec.b);
  return Uint8Array.from(parts);
}

/** Pixel (c, h, w) of a record as the byte the file holds, c = 0 red, 1 green, 2 blue. */
function pixel(rec: Rec, c: number, h: number, w: number): number {
  return [rec.r, rec.g, rec.b][c]![h * 32 + w]!;
}

function checkSplit(x: Float32Array, y: Float32Array, recs: Rec[], label: (r: Rec) => number): void {
  assert.equal(y.length, recs.length);
  assert.equal(x.length, recs.length * 3072);
  recs.forEach((rec, k) => {
    assert.equal(y[k], label(rec));
    for (let c = 0; c < 3; c++) {
      for (let h = 0; h < 32; h++) {
        for (let w = 0; w < 32; w++) {
          const got = x[k * 3072 + c * 1024 + h * 32 + w]!;
          if (got !== Math.fround(pixel(rec, c, h, w) / 255)) assert.fail(`record ${k} pixel (${c}, ${h}, ${w}): ${got}`);
        }
      }
    }
  });
}

const C10 = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

function cifar10Folder(perBatch = 7): { files: Record<string, Uint8Array>; train: Rec[]; test: Rec[] } {
  const out: Record<string, Uint8Array> = {};
  const train: Rec[] = [];
  let test: Rec[] = [];
  C10.forEach((name, f) => {
    const recs = Array.from({ length: perBatch }, (_, i) => makeRecord(f * 100 + i, [(f * 3 + i) % 10]));
    out[name] = fileOf(recs);
    if (name === 'test_batch.bin') test = recs;
    else train.push(...recs);
  });
  return { files: out, train, test };
}

test('cifar10:DIR round-trips pixels (channel-major R, G, B; row-major 32×32) and labels exactly, batches in order', async () => {
  const folder = cifar10Folder(7);
  await withTempDir(async (dir) => {
    await writeFiles(dir, folder.files);
    const ds = await loadDataset(`cifar10:${dir}`, files, { normalize: 'none' });
    assert.deepEqual(ds.inputShape, [3, 32, 32]);
    assert.equal(ds.classes, 10);
    assert.equal(ds.train.n, 35);
    assert.equal(ds.test.n, 7);
    assert.equal(ds.name, `cifar10:${dir}`);
    checkSplit(ds.train.x, ds.train.y, folder.train, (r) => r.labels[0]!);
    checkSplit(ds.test.x, ds.test.y, folder.test, (r) => r.labels[0]!);
    const limited = await loadDataset(`cifar10:${dir}`, files, { limit: 3 });
    assert.equal(limited.train.n, 3);
    assert.equal(limited.normalization?.mean.length, 3);
  });
});

test('cifar100:DIR uses the fine label (second byte), 100 classes', async () => {
  const train = Array.from({ length: 7 }, (_, i) => makeRecord(i, [i % 20, (i * 13 + 90) % 100]));
  const testRecs = Array.from({ length: 4 }, (_, i) => makeRecord(50 + i, [19 - i, 99 - i]));
  await withTempDir(async (dir) => {
    await writeFiles(dir, { 'train.bin': fileOf(train), 'test.bin': fileOf(testRecs) });
    const ds = await loadDataset(`cifar100:${dir}`, files, { normalize: 'none' });
    assert.equal(ds.classes, 100);
    assert.deepEqual(ds.inputShape, [3, 32, 32]);
    checkSplit(ds.train.x, ds.train.y, train, (r) => r.labels[1]!);
    checkSplit(ds.test.x, ds.test.y, testRecs, (r) => r.labels[1]!);
  });
});

test('parseCifarRecords round-trips any record count and bytes (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 }), (n, hundred, seed) => {
      const recs = Array.from(
        { length: n },
        (_, i) => makeRecord(seed + i, hundred ? [(seed + i) % 20, (seed * 3 + i) % 100] : [(seed + i) % 10]),
      );
      const split = parseCifarRecords(fileOf(recs), 'mem.bin', hundred ? 'cifar100' : 'cifar10');
      assert.equal(split.n, n);
      checkSplit(split.x, split.y, recs, (r) => r.labels[hundred ? 1 : 0]!);
    }),
    { numRuns: RUNS.heavy },
  );
});

test('missing files: E_DATA_FORMAT listing the expected names', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      loadDataset(`cifar10:${join(dir, 'nope')}`, files),
      ridgelineError('E_DATA_FORMAT', 'is missing or empty', ...C10),
    );
    const folder = cifar10Folder(2);
    delete folder.files['data_batch_3.bin'];
    delete folder.files['test_batch.bin'];
    await writeFiles(dir, folder.files);
    await assert.rejects(
      loadDataset(`cifar10:${dir}`, files),
      ridgelineError('E_DATA_FORMAT', 'lacks data_batch_3.bin, test_batch.bin', 'cifar-10-binary'),
    );
    await assert.rejects(loadDataset(`cifar100:${dir}`, files), ridgelineError('E_DATA_FORMAT', 'lacks train.bin, test.bin'));
  });
});

test('a file that is not a whole number of records: E_DATA_FORMAT naming the file and the bytes left over', async () => {
  const folder = cifar10Folder(3);
  folder.files['data_batch_4.bin'] = folder.files['data_batch_4.bin']!.subarray(0, 3 * 3073 - 100);
  await withTempDir(async (dir) => {
    await writeFiles(dir, folder.files);
    await assert.rejects(
      loadDataset(`cifar10:${dir}`, files),
      ridgelineError(
        'E_DATA_FORMAT',
        join(dir, 'data_batch_4.bin'),
        'truncated',
        '2 whole records of 3073 bytes with 2973 bytes left over',
      ),
    );
  });
  // A CIFAR-10 file read as CIFAR-100 (3073 vs 3074-byte records).
  const ten = fileOf([makeRecord(1, [1]), makeRecord(2, [2])]);
  assert.throws(
    () => parseCifarRecords(ten, 'x.bin', 'cifar100'),
    ridgelineError('E_DATA_FORMAT', 'x.bin', '1 whole records of 3074 bytes with 3072 bytes left over'),
  );
});

test('labels out of range: E_DATA_FORMAT naming the file and the record', async () => {
  const recs = [makeRecord(0, [3]), makeRecord(1, [9]), makeRecord(2, [10])];
  assert.throws(
    () => parseCifarRecords(fileOf(recs), 'b.bin', 'cifar10'),
    ridgelineError('E_DATA_FORMAT', 'b.bin', 'record 2', 'label 10, outside [0, 9]'),
  );
  const hundred = [makeRecord(0, [0, 99]), makeRecord(1, [5, 100])];
  assert.throws(
    () => parseCifarRecords(fileOf(hundred), 'c.bin', 'cifar100'),
    ridgelineError('E_DATA_FORMAT', 'c.bin', 'record 1', 'fine label 100, outside [0, 99]'),
  );
  const coarse = [makeRecord(0, [20, 1])];
  assert.throws(
    () => parseCifarRecords(fileOf(coarse), 'c.bin', 'cifar100'),
    ridgelineError('E_DATA_FORMAT', 'record 0', 'coarse label 20'),
  );
  const folder = cifar10Folder(2);
  folder.files['test_batch.bin']![3073] = 200; // label byte of record 1
  await withTempDir(async (dir) => {
    await writeFiles(dir, folder.files);
    await assert.rejects(
      loadDataset(`cifar10:${dir}`, files),
      ridgelineError('E_DATA_FORMAT', join(dir, 'test_batch.bin'), 'record 1', 'label 200'),
    );
  });
});

test('names: cifar10:DIR and cifar100:DIR parse; bare cifar10 stays unknown; help and the full name list show them', () => {
  assert.deepEqual(parseDatasetName('cifar10:/d'), { kind: 'cifar', variant: 'cifar10', dir: '/d' });
  assert.deepEqual(parseDatasetName('cifar100:/d'), { kind: 'cifar', variant: 'cifar100', dir: '/d' });
  for (const name of ['cifar10', 'cifar100', 'cifar10:', 'cifar100:']) {
    assert.throws(
      () => parseDatasetName(name),
      ridgelineError('E_SPEC', `unknown dataset '${name}'`, 'cifar10:DIR, cifar100:DIR, waveform'),
    );
  }
  for (const form of ['cifar10:DIR', 'cifar100:DIR']) {
    assert.ok(DATASET_NAMES.includes(form), form);
    assert.ok(DATASET_HELP.includes(form), form);
  }
});
