/**
 * Augmentation (random translate ±4 px with zero fill + horizontal flip): reproducible by
 * seed, a pure function of (augSeed, step, position), checked against an independent
 * shifted-image oracle, and wired into BatchLoader without changing the default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Split } from '../core/data/dataset.ts';
import { AUGMENT_WORDS, augmentBatch, type AugmentParams, augmentParams, transformImage } from '../core/data/augment.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { rngStream } from '../core/rng.ts';
import { ridgelineError } from './fixtures/data/idx_bytes.ts';
import { randomF32, RUNS } from './util.ts';

/** The oracle: out[c][h][w] = in[c][h - dy][w' - dx] with w' = flip ? W-1-w : w, zero outside. */
function oracle(img: Float32Array, [C, H, W]: number[], p: AugmentParams): Float32Array {
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const ww = p.flip ? W - 1 - w : w;
        const sh = h - p.dy;
        const sw = ww - p.dx;
        out[(c * H + h) * W + w] = sh >= 0 && sh < H && sw >= 0 && sw < W ? img[(c * H + sh) * W + sw]! : 0;
      }
    }
  }
  return out;
}

const shapeArb = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }));
const paramsArb = fc.record({ dy: fc.integer({ min: -10, max: 10 }), dx: fc.integer({ min: -10, max: 10 }), flip: fc.boolean() });

function apply(img: Float32Array, shape: number[], p: AugmentParams): Float32Array {
  const out = new Float32Array(img.length).fill(NaN);
  transformImage(img, 0, out, 0, shape, p);
  return out;
}

test('translated (and flipped) pixels match the shifted image with zero fill (property on random images)', () => {
  fc.assert(
    fc.property(shapeArb, paramsArb, fc.nat(), ([C, H, W], p, seed) => {
      const img = randomF32(seed, C * H * W, 0.1, 1);
      assert.deepEqual(apply(img, [C, H, W], p), oracle(img, [C, H, W], p));
    }),
    { numRuns: RUNS.kernel },
  );
  // One hand-checked case: a 1×2×3 image moved right by 1 and down by 1.
  const img = Float32Array.of(1, 2, 3, 4, 5, 6);
  assert.deepEqual(apply(img, [1, 2, 3], { dy: 1, dx: 1, flip: false }), Float32Array.of(0, 0, 0, 0, 1, 2));
  assert.deepEqual(apply(img, [1, 2, 3], { dy: 0, dx: 0, flip: true }), Float32Array.of(3, 2, 1, 6, 5, 4));
  assert.deepEqual(apply(img, [1, 2, 3], { dy: -1, dx: 0, flip: false }), Float32Array.of(4, 5, 6, 0, 0, 0));
});

test('zero translation without flip is the identity; flip twice is the identity (property)', () => {
  fc.assert(
    fc.property(shapeArb, fc.nat(), ([C, H, W], seed) => {
      const img = randomF32(seed, C * H * W);
      assert.deepEqual(apply(img, [C, H, W], { dy: 0, dx: 0, flip: false }), img);
      const once = apply(img, [C, H, W], { dy: 0, dx: 0, flip: true });
      assert.deepEqual(apply(once, [C, H, W], { dy: 0, dx: 0, flip: true }), img);
    }),
    { numRuns: RUNS.kernel },
  );
  // maxShift 0 and no flips: augmentBatch leaves any batch unchanged.
  const x = randomF32(3, 4 * 3 * 5 * 5);
  assert.deepEqual(augmentBatch(x.slice(), 4, [3, 5, 5], { seed: 9, maxShift: 0, flip: false }, 17), x);
});

test('augmentParams: documented draws, shifts within ±maxShift, both flips occur, reproducible by seed, different across seeds and steps', () => {
  const p = augmentParams(5, 3, 2);
  const rng = rngStream(5, 'augment/step-3').seek(AUGMENT_WORDS * 2);
  assert.deepEqual(p, { dy: rng.intBelow(9) - 4, dx: rng.intBelow(9) - 4, flip: rng.intBelow(2) === 1 });
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const q = augmentParams(11, 0, i);
    assert.ok(Math.abs(q.dx) <= 4 && Math.abs(q.dy) <= 4);
    seen.add(`${q.dx},${q.dy},${q.flip}`);
    assert.deepEqual(augmentParams(11, 0, i), q);
  }
  assert.ok(seen.size > 100, `only ${seen.size} distinct transforms`);
  const list = (seed: number, step: number) => Array.from({ length: 32 }, (_, i) => augmentParams(seed, step, i));
  assert.notDeepEqual(list(1, 0), list(2, 0));
  assert.notDeepEqual(list(1, 0), list(1, 1));
  // Turning flips off keeps the shifts.
  const noFlip = augmentParams(5, 3, 2, 4, false);
  assert.deepEqual({ ...noFlip, flip: p.flip }, p);
  assert.equal(noFlip.flip, false);
});

test('augmentBatch: position i gets augmentParams(seed, step, i); reproducible; differs across seeds', () => {
  const shape = [2, 6, 6];
  const f = 72;
  const x = randomF32(1, 5 * f, 0.5, 1);
  const a = augmentBatch(x.slice(), 5, shape, { seed: 42 }, 7);
  for (let i = 0; i < 5; i++) {
    const want = oracle(x.subarray(i * f, (i + 1) * f), shape, augmentParams(42, 7, i));
    assert.deepEqual(a.subarray(i * f, (i + 1) * f), want);
  }
  assert.deepEqual(augmentBatch(x.slice(), 5, shape, { seed: 42 }, 7), a);
  assert.notDeepEqual(augmentBatch(x.slice(), 5, shape, { seed: 43 }, 7), a);
  // A non-zero fill value per channel.
  const filled = augmentBatch(x.slice(0, f), 1, shape, { seed: 0, fill: [-1, -2] }, 0);
  const p = augmentParams(0, 0, 0);
  const zeroFilled = oracle(x.subarray(0, f), shape, p);
  for (let k = 0; k < f; k++) {
    if (zeroFilled[k] === 0) assert.equal(filled[k], k < 36 ? -1 : -2);
    else assert.equal(filled[k], zeroFilled[k]);
  }
});

function imageSplit(n: number, f: number): Split {
  return { x: randomF32(77, n * f, 0.25, 1), y: Float32Array.from({ length: n }, (_, i) => i), n };
}

test('BatchLoader with augmentation: batchAt is a pure function of the step, equals the plain batch augmented', () => {
  const shape = [3, 8, 8];
  const split = imageSplit(23, 192);
  fc.assert(
    fc.property(
      fc.array(fc.nat(200), { minLength: 1, maxLength: 8 }),
      fc.nat(1000),
      fc.integer({ min: 1, max: 23 }),
      (steps, seed, batch) => {
        const opts = { batchSize: batch, orderSeed: 3, augment: { seed } };
        const a = new BatchLoader(split, shape, opts);
        const plain = new BatchLoader(split, shape, { batchSize: batch, orderSeed: 3 });
        const answers = steps.map((s) => a.batchAt(s));
        const b = new BatchLoader(split, shape, opts);
        for (let k = steps.length - 1; k >= 0; k--) {
          const s = steps[k]!;
          const got = b.batchAt(s);
          assert.deepEqual(got.x, answers[k]!.x);
          const base = plain.batchAt(s);
          assert.deepEqual(got.indices, base.indices);
          assert.deepEqual(got.y, base.y);
          assert.deepEqual(got.x, augmentBatch(base.x, batch, shape, { seed }, s));
        }
      },
    ),
    { numRuns: RUNS.heavy },
  );
  // Off by default: the plain loader's batches are the split's rows.
  const plain = new BatchLoader(split, shape, { batchSize: 4, orderSeed: 1 });
  assert.equal(plain.augment, null);
  const batch = plain.batchAt(5);
  batch.indices.forEach((k, i) => assert.deepEqual(batch.x.subarray(i * 192, (i + 1) * 192), split.x.subarray(k * 192, (k + 1) * 192)));
  // And augmentation does change a batch, differently for another seed.
  const aug1 = new BatchLoader(split, shape, { batchSize: 4, orderSeed: 1, augment: { seed: 1 } }).batchAt(5);
  const aug2 = new BatchLoader(split, shape, { batchSize: 4, orderSeed: 1, augment: { seed: 2 } }).batchAt(5);
  assert.notDeepEqual(aug1.x, batch.x);
  assert.notDeepEqual(aug1.x, aug2.x);
});

test('augmentation options are validated (E_SPEC): seed, maxShift, fill length, [C, H, W] input', () => {
  const split = imageSplit(4, 12);
  const make = (shape: number[], augment: object) => () =>
    new BatchLoader(split, shape, { batchSize: 2, orderSeed: 0, augment: augment as { seed: number } });
  assert.throws(make([12], { seed: 1 }), ridgelineError('E_SPEC', 'needs [C, H, W] images', '[12]'));
  assert.throws(make([3, 2, 2], { seed: -1 }), ridgelineError('E_SPEC', 'augmentation seed'));
  assert.throws(make([3, 2, 2], { seed: 1, maxShift: 1.5 }), ridgelineError('E_SPEC', 'maxShift'));
  assert.throws(make([3, 2, 2], { seed: 1, fill: [0] }), ridgelineError('E_SPEC', 'fill has 1 values', '(3)'));
});
