/**
 * Permutation symmetry derived from the models' own builder calls (alignment, issue 13):
 * for every model that declares it, a random permutation applied through the spec leaves
 * the outputs unchanged and its inverse restores the exact tensors; every other model is
 * refused with E_SPEC saying why, never permuted into a different function.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { identityPermutations, permutationsOf, permuteAxis, permuteState, unpermuteState } from '../core/align/permute.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { RidgelineError } from '../core/errors.ts';
import { ModelBuilder } from '../core/nn/builder.ts';
import { createModel, MODEL_NAMES } from '../core/nn/registry.ts';
import { rngStream } from '../core/rng.ts';
import { logitsOf } from './model_eval.ts';
import { randomF32 } from './util.ts';

const be = await createCpuBackend();

const randomPerm = (size: number, seed: number) => Int32Array.from(rngStream(seed, 'perm').permutation(size));

const SUPPORTED: [string, number[], number, { width?: number }][] = [
  ['mlp-3', [784], 10, { width: 24 }],
  ['mlp-1', [20], 4, { width: 9 }],
  ['linear-2', [16], 3, { width: 7 }],
  ['logreg', [12], 3, {}],
  ['lenet5', [1, 28, 28], 10, {}],
  ['vgg-reduced', [3, 12, 12], 10, { width: 20 }],
  ['cnn', [1, 12, 12], 10, {}],
  ['lc-cnn', [1, 8, 8], 10, {}],
  ['mlp-toeplitz', [1, 8, 8], 10, {}],
  ['siren', [1], 0, { width: 12 }],
  ['alexnet', [3, 64, 64], 7, {}],
  ['resnet20', [3, 8, 8], 10, {}],
  ['resnet20-nobn', [3, 8, 8], 10, {}],
  ['vit-lite', [3, 8, 8], 10, { width: 24 }],
];

for (const [name, inputShape, classes, options] of SUPPORTED) {
  test(`${name}: a random permutation through the spec leaves the outputs unchanged; the inverse restores the exact tensors`, async () => {
    const model = createModel(name, inputShape, classes, options);
    const perms = permutationsOf(model);
    // The model's own initialisation (SIREN's sines need its small weights), with every
    // vector (biases, batch-norm scales, shifts and statistics) made random so that moving
    // it wrongly shows; running variances stay positive.
    const weights = model.init(11).map((
      t,
      i,
    ) => (model.params[i].shape.length > 1
      ? t
      : randomF32(50 + i, t.length, -0.3, 0.3).map((v) => (model.params[i].name.endsWith('running_var') ? 0.5 + Math.abs(v) : v)))
    );
    const n = 5;
    const x = randomF32(99, n * model.inputSize, -1, 1);
    const before = await logitsOf(be, model, weights, x, n);
    for (let seed = 0; seed < 3; seed++) {
      const pi = Object.fromEntries(perms.map((p, k) => [p.name, randomPerm(p.size, 100 * seed + k)]));
      const permuted = permuteState(model, weights, pi);
      if (perms.length > 0) assert.ok(permuted.some((t, i) => t.some((v, j) => v !== weights[i][j])), 'the permutation moved something');
      const after = await logitsOf(be, model, permuted, x, n);
      const scale = Math.max(...before.map(Math.abs));
      for (let i = 0; i < before.length; i++) {
        assert.ok(Math.abs(after[i] - before[i]) <= 1e-5 * scale, `logit ${i}: ${after[i]} vs ${before[i]}`);
      }
      const restored = unpermuteState(model, permuted, pi);
      restored.forEach((t, i) => assert.deepEqual(t, weights[i], `${model.params[i].name} restored exactly`));
    }
    // Every hidden group acts on at least two tensors (it has a producer and a consumer).
    for (const p of perms) assert.ok(p.axes.length >= 2, `${p.name} acts on ${p.axes.length} axes`);
    assert.deepEqual(permuteState(model, weights, identityPermutations(model)), weights);
  });
}

test('every model in the registry declares its symmetry; a model that declares none is refused with E_SPEC naming it', () => {
  for (const name of MODEL_NAMES) {
    const model = name === 'siren'
      ? createModel(name, [1], 0)
      : name === 'alexnet'
      ? createModel(name, [3, 64, 64], 10)
      : createModel(name.replace(/-L$/, '-2'), [3, 16, 16], 10);
    assert.ok(permutationsOf(model).length > 0 || name === 'logreg', `${name} declares its groups`);
  }
  const bare = new ModelBuilder().build({
    name: 'bare',
    description: 'no declarations',
    inputShape: [2],
    classes: 2,
    forward: (_ps, x) => x,
  });
  assert.throws(
    () => permutationsOf(bare),
    (e: unknown) =>
      e instanceof RidgelineError && e.code === 'E_SPEC' &&
      /bare: alignment is not supported \(bare declares no permutation symmetry yet\)/.test(e.message),
  );
});

test('permuteAxis moves whole blocks along any axis and composes with its inverse to the identity', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.integer({ min: 1, max: 3 }),
      fc.nat(),
      (shape, axisSeed, block, seed) => {
        const axis = axisSeed % shape.length;
        const full = shape.map((d, i) => (i === axis ? d * block : d));
        const size = full.reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: size }, (_, i) => i);
        const perm = randomPerm(shape[axis], seed);
        const moved = permuteAxis(data, full, axis, block, perm);
        const inv = new Int32Array(perm.length);
        perm.forEach((p, i) => (inv[p] = i));
        assert.deepEqual(permuteAxis(moved, full, axis, block, inv), data);
        // Entry (…, i·block + r, …) of the result is entry (…, perm[i]·block + r, …) of the input.
        const strides = full.map((_, d) => full.slice(d + 1).reduce((a, b) => a * b, 1));
        for (let flat = 0; flat < size; flat++) {
          const idx = full.map((_, d) => Math.floor(flat / strides[d]) % full[d]);
          const unit = Math.floor(idx[axis] / block);
          const src = [...idx];
          src[axis] = perm[unit] * block + (idx[axis] % block);
          assert.equal(moved[flat], data[src.reduce((a, v, d) => a + v * strides[d], 0)]);
        }
      },
    ),
  );
});
