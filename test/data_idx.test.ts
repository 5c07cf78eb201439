/**
 * IDX reader: round trips of files built byte by byte from the format's definition (plain
 * and gzip, every element type), and one test per fault, each checking that the error is
 * E_DATA_FORMAT, names the file and says what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { idxSplit, parseIdx, readIdx } from '../core/data/idx.ts';
import { loadDataset } from '../core/data/registry.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { gzip, idxBytes, idxFolderFiles, ridgelineError, ubyteIdx, withTempDir, writeFiles } from './fixtures/data/idx_bytes.ts';
import { RUNS } from './util.ts';

const files = nodeFileStore();

test('ubyte IDX round-trips, plain and gzipped, for any dims and values', async () => {
  const arb = fc
    .array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 })
    .chain((dims) =>
      fc.tuple(
        fc.constant(dims),
        fc.uint8Array({
          minLength: dims.reduce((a, b) => a * b, 1),
          maxLength: dims.reduce((a, b) => a * b, 1),
        }),
      )
    );
  await fc.assert(
    fc.asyncProperty(arb, fc.boolean(), async ([dims, values], zipped) => {
      const plain = ubyteIdx(dims, values);
      const bytes = zipped ? await gzip(plain) : plain;
      assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, zipped);
      const got = await parseIdx(bytes, 'mem.idx');
      assert.equal(got.dtype, 'ubyte');
      assert.deepEqual(got.dims, dims);
      assert.deepEqual(Array.from(got.data), Array.from(values));
    }),
    { numRuns: RUNS.kernel },
  );
});

test('big-endian element types decode to their values', async () => {
  const be = (size: number, write: (v: DataView, i: number) => void, n: number) => {
    const b = new Uint8Array(size * n);
    const v = new DataView(b.buffer);
    for (let i = 0; i < n; i++) write(v, i);
    return b;
  };
  const cases: [number, string, Uint8Array, number[]][] = [
    [0x09, 'sbyte', Uint8Array.of(0xff, 0x7f, 0x80), [-1, 127, -128]],
    [0x0b, 'short', be(2, (v, i) => v.setInt16(2 * i, [-2, 300][i]!), 2), [-2, 300]],
    [0x0c, 'int', be(4, (v, i) => v.setInt32(4 * i, [-70000, 1 << 30][i]!), 2), [-70000, 1 << 30]],
    [0x0d, 'float', be(4, (v, i) => v.setFloat32(4 * i, [1.5, -0.25][i]!), 2), [1.5, -0.25]],
    [0x0e, 'double', be(8, (v, i) => v.setFloat64(8 * i, [Math.PI, -1e300][i]!), 2), [Math.PI, -1e300]],
  ];
  for (const [code, name, payload, want] of cases) {
    const got = await parseIdx(idxBytes(code, [want.length], payload), `${name}.idx`);
    assert.equal(got.dtype, name);
    assert.deepEqual(Array.from(got.data), want, name);
  }
});

test('readIdx reads through the FileStore, gzip detected by content not name', async () => {
  await withTempDir(async (dir) => {
    const plain = ubyteIdx([2, 2], [1, 2, 3, 4]);
    await writeFiles(dir, { 'a.idx': await gzip(plain), 'b.gz': plain });
    for (const name of ['a.idx', 'b.gz']) {
      const got = await readIdx(files, join(dir, name));
      assert.deepEqual(Array.from(got.data), [1, 2, 3, 4], name);
    }
    await assert.rejects(readIdx(files, join(dir, 'absent')), ridgelineError('E_DATA_FORMAT', 'absent'));
  });
});

test('bad magic is rejected, naming the file and the bytes', async () => {
  const bytes = ubyteIdx([3], [1, 2, 3]);
  bytes[1] = 0x08;
  await assert.rejects(parseIdx(bytes, 'x.idx'), ridgelineError('E_DATA_FORMAT', 'x.idx', /bad IDX magic 00 08 08 01/));
});

test('unsupported element types are rejected, listing the valid ones', async () => {
  for (const code of [0x00, 0x0a, 0x0f, 0xff]) {
    const hex = code.toString(16).padStart(2, '0');
    await assert.rejects(
      parseIdx(idxBytes(code, [1], Uint8Array.of(0)), 'y.idx'),
      ridgelineError('E_DATA_FORMAT', 'y.idx', `unsupported IDX element type 0x${hex}`, '0x08 ubyte', '0x0e double'),
    );
  }
});

test('truncated header and zero dimensions are rejected', async () => {
  await assert.rejects(parseIdx(Uint8Array.of(0, 0), 'h.idx'), ridgelineError('E_DATA_FORMAT', 'h.idx', /too short/));
  await assert.rejects(
    parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1), 'h.idx'),
    ridgelineError('E_DATA_FORMAT', 'h.idx', /truncated IDX header: 3 dimensions need 16 bytes, file has 8/),
  );
  await assert.rejects(parseIdx(Uint8Array.of(0, 0, 8, 0), 'h.idx'), ridgelineError('E_DATA_FORMAT', /0 dimensions/));
});

test('truncated data and trailing bytes: the message gives expected vs found byte counts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: -40, max: 40 }).filter((d) => d !== 0), async (n, delta) => {
      const size = Math.max(0, n * 16 + delta); // int32 elements: n·2·2·4 bytes expected
      fc.pre(size !== n * 16);
      const bytes = idxBytes(0x0c, [n, 2, 2], new Uint8Array(size));
      const kind = size < n * 16 ? 'truncated data' : 'trailing bytes';
      await assert.rejects(
        parseIdx(bytes, 'z.idx'),
        ridgelineError('E_DATA_FORMAT', 'z.idx', kind, `need ${n * 16} data bytes`, `found ${size}`),
      );
    }),
    { numRuns: RUNS.kernel },
  );
});

test('corrupt or truncated gzip streams are E_DATA_FORMAT naming the file', async () => {
  const zipped = await gzip(ubyteIdx([50, 20], Array.from({ length: 1000 }, (_, i) => (i * 37) % 251)));
  const flipped = zipped.slice();
  for (let i = 12; i < flipped.length - 8; i += 5) flipped[i] = flipped[i]! ^ 0x5a; // damage the deflate body
  const badCrc = zipped.slice();
  badCrc[badCrc.length - 6] = badCrc[badCrc.length - 6]! ^ 1; // stored CRC32 no longer matches
  for (const [what, bytes] of [['flipped', flipped], ['truncated', zipped.slice(0, zipped.length >> 1)], ['crc', badCrc]] as const) {
    await assert.rejects(parseIdx(bytes, `${what}.gz`), ridgelineError('E_DATA_FORMAT', `${what}.gz`, /corrupt gzip stream/), what);
  }
});

test('pairing: image/label count mismatch, wrong ranks and labels out of range are rejected', async () => {
  const names = { images: 'imgs.idx', labels: 'lbls.idx' };
  const images = await parseIdx(ubyteIdx([5, 2, 2], new Array(20).fill(255)), names.images);
  const labels4 = await parseIdx(ubyteIdx([4], [0, 1, 2, 3]), names.labels);
  assert.throws(
    () => idxSplit(images, labels4, names, 10),
    ridgelineError('E_DATA_FORMAT', 'lbls.idx: has 4 labels but imgs.idx has 5 images'),
  );
  const labels5 = await parseIdx(ubyteIdx([5], [0, 1, 2, 3, 10]), names.labels);
  assert.throws(
    () => idxSplit(images, labels5, names, 10),
    ridgelineError('E_DATA_FORMAT', 'lbls.idx', 'label 10 at index 4 is outside [0, 10)'),
  );
  const rank4 = await parseIdx(ubyteIdx([1, 1, 2, 2], [1, 2, 3, 4]), names.images);
  assert.throws(() => idxSplit(rank4, labels4, names, 10), ridgelineError('E_DATA_FORMAT', 'imgs.idx', /dims \[n, H, W\]/));
  const floats = await parseIdx(idxBytes(0x0d, [5, 1], new Uint8Array(20)), names.images);
  assert.throws(() => idxSplit(floats, labels4, names, 10), ridgelineError('E_DATA_FORMAT', 'imgs.idx', /must be ubyte/));
  // The good case: pixels p/255, labels as given, example shape [1, H, W].
  const good = idxSplit(images, await parseIdx(ubyteIdx([5], [9, 0, 1, 2, 3]), names.labels), names, 10);
  assert.deepEqual(good.inputShape, [1, 2, 2]);
  assert.equal(good.split.n, 5);
  assert.deepEqual(Array.from(good.split.y), [9, 0, 1, 2, 3]);
  assert.ok(good.split.x.every((v) => v === 1));
});

test('an IDX folder (mnist:DIR) loads plain or gzip files and reports a count mismatch by file name', async () => {
  await withTempDir(async (dir) => {
    const parts = idxFolderFiles(12, 5);
    parts['train-labels-idx1-ubyte'] = await gzip(parts['train-labels-idx1-ubyte']!);
    await writeFiles(dir, {
      'train-images-idx3-ubyte': parts['train-images-idx3-ubyte']!,
      'train-labels-idx1-ubyte.gz': parts['train-labels-idx1-ubyte'],
      't10k-images-idx3-ubyte': parts['t10k-images-idx3-ubyte']!,
      't10k-labels-idx1-ubyte': parts['t10k-labels-idx1-ubyte']!,
    });
    const ds = await loadDataset(`mnist:${dir}`, files, { normalize: 'none' });
    assert.deepEqual([ds.train.n, ds.test.n, ds.classes], [12, 5, 10]);
    assert.deepEqual(ds.inputShape, [1, 4, 3]);
    assert.equal(ds.train.x[1], Math.fround(7 / 255));
    assert.deepEqual(Array.from(ds.test.y), [0, 1, 2, 3, 4]);
    await writeFiles(dir, { 't10k-labels-idx1-ubyte': ubyteIdx([4], [0, 1, 2, 3]) });
    await assert.rejects(
      loadDataset(`mnist:${dir}`, files),
      ridgelineError(
        'E_DATA_FORMAT',
        join(dir, 't10k-labels-idx1-ubyte'),
        'has 4 labels but',
        join(dir, 't10k-images-idx3-ubyte'),
        'has 5 images',
      ),
    );
  });
});
