/**
 * Synthetic data sets (deterministic in the spec, train independent of the test size,
 * labels that carry signal) and name parsing: unknown data sets, keys and values are
 * E_SPEC errors that list what is valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Dataset } from '../core/data/dataset.ts';
import { DATASET_HELP, DATASET_NAMES, loadDataset, parseDatasetName } from '../core/data/registry.ts';
import { generateSynthetic, parseSyntheticSpec } from '../core/data/synthetic.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError } from './fixtures/data/idx_bytes.ts';

const files = nodeFileStore();
const gen = (text: string): Dataset => generateSynthetic(parseSyntheticSpec(text));
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('synthetic sets are deterministic in their spec and change with the seed', () => {
  fc.assert(
    fc.property(fc.constantFrom('gauss', 'teacher'), fc.maxSafeNat(), fc.integer({ min: 2, max: 5 }), (kind, seed, classes) => {
      const spec = `${kind}:classes=${classes},dim=3,n=40,test=10,seed=${seed}`;
      const a = gen(spec);
      const b = gen(spec);
      const c = gen(spec.replace(`seed=${seed}`, `seed=${seed === 0 ? 1 : seed - 1}`));
      for (const part of ['train', 'test'] as const) {
        assert.deepEqual(bytes(a[part].x), bytes(b[part].x));
        assert.deepEqual(bytes(a[part].y), bytes(b[part].y));
        assert.notDeepEqual(bytes(a[part].x), bytes(c[part].x));
        assert.ok(a[part].y.every((y) => Number.isInteger(y) && y >= 0 && y < classes));
        assert.ok(a[part].x.every(Number.isFinite));
      }
      assert.deepEqual([a.train.n, a.test.n, a.classes, a.inputShape], [40, 10, classes, [3]]);
    }),
    { numRuns: 30 },
  );
});

test('synthetic names resolve every default; the canonical name regenerates the same data', async () => {
  const gauss = await loadDataset('synthetic:gauss', files, { normalize: 'none' });
  assert.equal(gauss.name, 'synthetic:gauss:classes=10,dim=16,n=4000,test=1000,spread=1,seed=0');
  const teacher = gen('teacher:n=80');
  assert.equal(teacher.name, 'synthetic:teacher:dim=16,hidden=32,classes=10,n=80,test=20,seed=0');
  const again = await loadDataset(gauss.name, files, { normalize: 'none' });
  assert.deepEqual(bytes(again.train.x), bytes(gauss.train.x));
  assert.deepEqual(bytes(again.test.y), bytes(gauss.test.y));
});

test('train and test come from separate streams: train does not depend on the test size', () => {
  for (const kind of ['gauss', 'teacher']) {
    const small = gen(`${kind}:n=64,test=5,dim=4`);
    const large = gen(`${kind}:n=64,test=50,dim=4`);
    assert.deepEqual(bytes(small.train.x), bytes(large.train.x), kind);
    assert.deepEqual(bytes(small.train.y), bytes(large.train.y), kind);
    assert.deepEqual(bytes(small.test.x), bytes(large.test.x.subarray(0, 20)), `${kind}: test inputs are a prefix`);
    assert.notDeepEqual(bytes(small.test.x), bytes(small.train.x.subarray(0, 20)), `${kind}: test is drawn apart from train`);
  }
});

test('gauss: labels carry the signal (nearest train centroid classifies test > 90 %, < 60 % at large spread)', () => {
  const accuracy = (ds: Dataset): number => {
    const d = ds.inputShape[0]!;
    const k = ds.classes;
    const centroid = new Float64Array(k * d);
    const count = new Float64Array(k);
    for (let i = 0; i < ds.train.n; i++) {
      const c = ds.train.y[i]!;
      count[c]! += 1;
      for (let j = 0; j < d; j++) centroid[c * d + j]! += ds.train.x[i * d + j]!;
    }
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centroid[c * d + j]! /= count[c]!;
    let right = 0;
    for (let i = 0; i < ds.test.n; i++) {
      let best = 0;
      let bestDist = Infinity;
      for (let c = 0; c < k; c++) {
        let dist = 0;
        for (let j = 0; j < d; j++) dist += (ds.test.x[i * d + j]! - centroid[c * d + j]!) ** 2;
        if (dist < bestDist) [best, bestDist] = [c, dist];
      }
      if (best === ds.test.y[i]) right++;
    }
    return right / ds.test.n;
  };
  const easy = accuracy(gen('gauss'));
  const hard = accuracy(gen('gauss:spread=4'));
  assert.ok(easy > 0.9, `default spread: accuracy ${easy}`);
  assert.ok(hard < 0.6 && hard > 0.1, `spread 4: accuracy ${hard}`);
});

test('teacher: every class occurs with the defaults (centred output biases)', () => {
  const ds = gen('teacher');
  const counts = new Array<number>(10).fill(0);
  for (const y of ds.train.y) counts[y]! += 1;
  assert.ok(counts.every((c) => c > 0.02 * ds.train.n), counts.join(','));
});

test('bad synthetic keys and values are E_SPEC errors listing what is valid', () => {
  const cases: [string, string[]][] = [
    ['gauss:foo=1', ["unknown parameter 'foo'", 'valid keys: classes, dim, n, test, spread, seed']],
    ['gauss:hidden=4', ["unknown parameter 'hidden'"]],
    ['teacher:spread=2', ["unknown parameter 'spread'", 'valid keys: dim, hidden, classes, n, test, seed']],
    ['gauss:classes=1', ['classes=1 is invalid', 'integer in [2, 65536]']],
    ['gauss:n=0', ['n=0 is invalid']],
    ['gauss:n=1.5', ['n=1.5 is invalid']],
    ['gauss:n=-4', ['n=-4 is invalid']],
    ['gauss:n=1e3', ['n=1e3 is invalid']],
    ['gauss:dim=', ['dim= is invalid']],
    ['gauss:dim', ['dim= is invalid']],
    ['gauss:spread=0', ['spread=0 is invalid', 'a number in (0,']],
    ['gauss:spread=abc', ['spread=abc is invalid']],
    ['gauss:seed=9007199254740992', ['seed=9007199254740992 is invalid']],
    ['gauss:dim=2,dim=3', ["parameter 'dim' given twice"]],
    ['gauss:n=10000000,dim=1000', ['exceeds the limit']],
    ['blobs', ["unknown synthetic data set 'synthetic:blobs'", 'synthetic:gauss[:classes=10', 'synthetic:teacher[:dim=16']],
  ];
  for (const [text, patterns] of cases) {
    assert.throws(() => parseDatasetName(`synthetic:${text}`), ridgelineError('E_SPEC', ...patterns), text);
  }
  assert.equal(gen('gauss:spread=0.25').name.includes('spread=0.25'), true);
});

test('unknown data set names are E_SPEC errors listing every valid form', async () => {
  for (const name of ['cifar10', 'MNIST', 'fashion-mnist:', 'mnist:', 'synthetic', '']) {
    await assert.rejects(
      loadDataset(name, files),
      ridgelineError(
        'E_SPEC',
        `unknown dataset '${name}'`,
        'valid: mnist, mnist:DIR, fashion-mnist[:DIR], synthetic:gauss[...], synthetic:teacher[...], cifar10:DIR, cifar100:DIR, waveform, waveform:FILE.wav',
      ),
    );
  }
  assert.deepEqual(DATASET_NAMES.length, 9);
  for (const form of ['mnist', 'fashion-mnist[:DIR]', 'synthetic:gauss[', 'synthetic:teacher[']) {
    assert.ok(DATASET_HELP.includes(form), form);
  }
});
