/**
 * The models of docs/models.md: parameter counts against the papers' figures, the App. D
 * correspondence (Toeplitz embedding, tied weights) on both backends, batch-norm
 * statistics as interpolated state (default) or recomputed (--reset-bn), and dropout's
 * determinism through training and resume.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../core/backend.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { RidgelineError } from '../core/errors.ts';
import { evaluateCombinations } from '../core/lmc/combination_eval.ts';
import { toeplitzEmbedding } from '../core/nn/app_d.ts';
import type { Model } from '../core/nn/model.ts';
import { createModel } from '../core/nn/registry.ts';
import { logitsOf } from './model_eval.ts';
import { memoryFileStore } from '../core/io_memory.ts';
import { loadCheckpoint, loadWeights, saveCheckpoint } from '../core/train/checkpoint.ts';
import type { TrainConfig } from '../core/train/config.ts';
import { cloneState, disposeState, readWeights, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { createNodeBackend } from './gpu/node_gpu.ts';
import { assertClose, randomF32, seeded } from './util.ts';

const CIFAR = [3, 32, 32];

/** Rounds to the precision a paper quotes (e.g. 0.09 M → 2 decimals of millions). */
const inMillions = (n: number, decimals: number) => Number((n / 1e6).toFixed(decimals));

describe('parameter counts match the papers (docs/models.md)', () => {
  test('App. D on CIFAR-10: cnn 0.09 M, lc-cnn 0.48 M, mlp-toeplitz 25.26 M (exact values pinned)', () => {
    const counts = Object.fromEntries(['cnn', 'lc-cnn', 'mlp-toeplitz'].map((m) => [m, createModel(m, CIFAR, 10).parameterCount]));
    assert.equal(inMillions(counts.cnn, 2), 0.09);
    assert.equal(inMillions(counts['lc-cnn'], 2), 0.48);
    assert.equal(inMillions(counts['mlp-toeplitz'], 2), 25.26);
    // The values by hand: 128·(3·16) + 128 + 8192·10 + 10; 128·64·48 + 128·64 + …; 3072·8192 + 8192 + …
    assert.deepEqual(counts, { cnn: 88_202, 'lc-cnn': 483_338, 'mlp-toeplitz': 25_255_946 });
  });

  test('LeNet-5 62 K on MNIST, reduced VGG ≈ 855 K and ResNet-20 ≈ 0.27 M on CIFAR-10', () => {
    const lenet = createModel('lenet5', [1, 28, 28], 10).parameterCount;
    assert.equal(Math.round(lenet / 1000), 62);
    const vgg = createModel('vgg-reduced', CIFAR, 10).parameterCount;
    assert.equal(Math.round(vgg / 1000), 855);
    const resnet = createModel('resnet20', CIFAR, 10);
    assert.equal(inMillions(resnet.parameterCount, 2), 0.27);
    // Buffers are state, not parameters: 2 per channel of each of the 19 batch norms.
    assert.equal(resnet.stateSize - resnet.parameterCount, 2 * (16 + 6 * 16 + 6 * 32 + 6 * 64));
    assert.equal(createModel('resnet20-nobn', CIFAR, 10).stateSize, createModel('resnet20-nobn', CIFAR, 10).parameterCount);
  });

  test('vit-lite: ≈ 1.08 M on CIFAR-10 at the default embedding width 648 (8 heads × 48); the timm-style width 384 gives 0.64 M', () => {
    // Disentangling App. D quotes ≈ 1.08 M without the embedding width; the default is the
    // width that reaches it (checked against PyTorch in models_torch.test.ts).
    assert.equal(createModel('vit-lite', CIFAR, 10).parameterCount, 1_080_730);
    assert.equal(inMillions(createModel('vit-lite', CIFAR, 10).parameterCount, 2), 1.08);
    // 1666 parameters per embedding unit + 1162, whatever the width.
    assert.equal(createModel('vit-lite', CIFAR, 10, { width: 384 }).parameterCount, 1666 * 384 + 1162);
  });

  test('alexnet is defined and counted on TinyImageNet shapes (≈ 58 M for 200 classes); too-small images are a clear E_SPEC', () => {
    const m = createModel('alexnet', [3, 64, 64], 200);
    assert.equal(inMillions(m.parameterCount, 1), 57.8);
    assert.throws(
      () => createModel('alexnet', CIFAR, 10),
      (e: unknown) => e instanceof RidgelineError && e.code === 'E_SPEC' && /larger images/.test(e.message),
    );
    assert.throws(() => createModel('lenet5', [784], 10), (e: unknown) => e instanceof RidgelineError && /image data/.test(e.message));
    assert.throws(
      () => createModel('siren', [1, 28, 28], 10),
      (e: unknown) => e instanceof RidgelineError && /regression dataset/.test(e.message),
    );
  });
});

/** Random state arrays for a model (uniform, small), deterministic in `seed`. */
function randomWeights(model: Model, seed: number): Float32Array[] {
  return model.params.map((p, i) => randomF32(seed + i, p.size, -0.3, 0.3));
}

function correspondenceTests(name: string, create: () => Promise<Backend | string>): void {
  describe(`App. D correspondence on ${name}`, async () => {
    const made = await create();
    if (typeof made === 'string') {
      test(`${name} correspondence`, { skip: made }, () => {});
      return;
    }
    const be = made;
    // Fashion-MNIST's shape and a small colour image with a 3×3 grid of windows.
    for (const shape of [[1, 28, 28], [3, 12, 12]]) {
      const n = 3;
      const x = randomF32(7, n * shape.reduce((a, b) => a * b, 1), -1, 1);
      const dense = createModel('mlp-toeplitz', shape, 10);

      for (const kind of ['cnn', 'lc-cnn'] as const) {
        test(`${shape.join('×')}: mlp-toeplitz with the Toeplitz embedding of a ${kind}'s weights computes the ${kind}'s outputs`, async () => {
          const model = createModel(kind, shape, 10);
          const w = randomWeights(model, 100);
          const embedded = toeplitzEmbedding(kind, shape, w[0], w[1]);
          const want = await logitsOf(be, model, w, x, n);
          const got = await logitsOf(be, dense, [embedded.weight, embedded.bias, w[2], w[3]], x, n);
          // Same products in another summation order: f32 rounding of ≤ c·16 + hidden terms.
          const scale = Math.max(...want.map(Math.abs));
          assertClose(got, want, 2e-5 * Math.max(scale, 1), `${kind} vs its Toeplitz MLP`);
          // A broken embedding (one weight moved) must be caught by this comparison.
          const broken = Float32Array.from(embedded.weight);
          const nz = broken.findIndex((v) => v !== 0);
          broken[nz + 1] = broken[nz];
          broken[nz] = 0;
          const off = await logitsOf(be, dense, [broken, embedded.bias, w[2], w[3]], x, n);
          assert.ok(off.some((v, i) => Math.abs(v - want[i]) > 1e-4), 'moving one weight changes the outputs');
        });
      }

      test(`${shape.join('×')}: cnn is lc-cnn with tied weights (every position gets the same kernel and bias)`, async () => {
        const cnn = createModel('cnn', shape, 10);
        const lc = createModel('lc-cnn', shape, 10);
        const w = randomWeights(cnn, 200);
        const [filters, c, k] = [cnn.params[0].shape[0], cnn.params[0].shape[1], cnn.params[0].shape[2]];
        const [, oh, ow] = lc.params[0].shape;
        const tiedW = new Float32Array(lc.params[0].size);
        const tiedB = new Float32Array(lc.params[1].size);
        for (let o = 0; o < filters; o++) {
          for (let pos = 0; pos < oh * ow; pos++) {
            tiedB[o * oh * ow + pos] = w[1][o];
            tiedW.set(w[0].subarray(o * c * k * k, (o + 1) * c * k * k), (o * oh * ow + pos) * c * k * k);
          }
        }
        const want = await logitsOf(be, cnn, w, x, n);
        const got = await logitsOf(be, lc, [tiedW, tiedB, w[2], w[3]], x, n);
        assertClose(got, want, 1e-5 * Math.max(...want.map(Math.abs), 1), 'lc-cnn with tied weights vs cnn');
      });
    }
  });
}

correspondenceTests('cpu', () => createCpuBackend());
correspondenceTests('webgpu', () => createNodeBackend());

/** A small image classification split (random pixels, labels from a fixed linear rule). */
function imageSplit(n: number, shape: number[], classes: number, seed: number): Split {
  const f = shape.reduce((a, b) => a * b, 1);
  const x = randomF32(seed, n * f, -1, 1);
  const r = seeded(seed + 1);
  const w = Float32Array.from({ length: f }, () => r() - 0.5);
  const y = Float32Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < f; j++) s += w[j] * x[i * f + j];
    return Math.min(classes - 1, Math.max(0, Math.floor((s + 1.5) * classes / 3)));
  });
  return { x, y, n };
}

const SGD: TrainConfig = {
  optimizer: 'sgd',
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  clip: null,
  batch: 16,
  schedule: { kind: 'constant', lr: 0.05, warmupSteps: 0, milestones: [], gamma: 0.1, totalSteps: 100 },
};

describe('batch-norm statistics and dropout in training and on paths', async () => {
  const be = await createCpuBackend();
  const shape = [3, 8, 8];
  const data = imageSplit(64, shape, 4, 3);
  const model = createModel('resnet20', shape, 4);
  const buffers = model.params.flatMap((p, i) => (p.trainable ? [] : [i]));

  const trained = async (orderSeed: number, steps: number) => {
    const state = stateFromWeights(be, model, model.init(1), SGD);
    const loader = new BatchLoader(data, shape, { batchSize: 16, orderSeed });
    await trainSteps(be, model, state, loader, steps, SGD);
    const w = await readWeights(state);
    disposeState(state);
    return w;
  };

  test('training updates running statistics in the forward pass, not through the optimizer; they are saved with the weights', async () => {
    const init = model.init(1);
    const w = await trained(0, 4);
    for (const i of buffers) assert.ok(w[i].some((v, j) => v !== init[i][j]), `${model.params[i].name} changed`);
    // running_var stays positive (an optimizer step on a zero gradient with momentum would not move it,
    // and the EMA of positive variances is positive).
    for (const i of buffers.filter((i) => model.params[i].name.endsWith('running_var'))) assert.ok(w[i].every((v) => v > 0));
  });

  test('checkpoints carry the statistics under PyTorch names; optimizer state covers parameters only; resume is exact', async () => {
    const files = memoryFileStore();
    const state = stateFromWeights(be, model, model.init(1), SGD);
    const loader = new BatchLoader(data, shape, { batchSize: 16, orderSeed: 7 });
    await trainSteps(be, model, state, loader, 2, SGD);
    await saveCheckpoint(files, 'ck', model, state);
    const saved = await loadWeights(files, 'ck.safetensors', model);
    assert.ok(model.params.some((p) => p.name === 'layer1.0.bn1.running_mean'));
    assert.deepEqual(saved, await readWeights(state));
    const resumed = await loadCheckpoint(files, 'ck', be, model, SGD);
    assert.equal(
      resumed.optimizer.state().length,
      model.params.filter((p) => p.trainable).length,
      'one momentum buffer per trainable tensor',
    );
    await trainSteps(be, model, state, loader, 4, SGD);
    await trainSteps(be, model, resumed, loader, 4, SGD);
    assert.deepEqual(await readWeights(resumed), await readWeights(state));
    disposeState(state);
    disposeState(resumed);
  });

  test('by default a path interpolates the statistics like weights; --reset-bn recomputes them on training data', async () => {
    const a = await trained(1, 4);
    const b = await trained(2, 4);
    const mid = [[0.5, 0.5]];
    const plain = (await evaluateCombinations(be, model, [a, b], mid, data, { batch: 32 })).points[0];
    // The same point from explicitly averaged state (weights and statistics).
    const avg = a.map((t, i) => t.map((v, j) => v + 0.5 * (b[i][j] - v)));
    const direct = (await evaluateCombinations(be, model, [avg], [[1]], data, { batch: 32 })).points[0];
    assert.ok(
      Math.abs(plain.loss - direct.loss) < 1e-5 * Math.max(1, direct.loss),
      `interpolated ${plain.loss} vs averaged ${direct.loss}`,
    );

    const resetOpts = { batch: 32, resetBn: { split: data, batch: 16 } };
    const reset = (await evaluateCombinations(be, model, [a, b], mid, data, resetOpts)).points[0];
    assert.notEqual(reset.loss, plain.loss, 'recomputed statistics differ from interpolated ones');
    // Recomputed statistics do not depend on the endpoints' stored ones.
    const scrambled = [a, b].map((w) => w.map((t, i) => (model.params[i].trainable ? t : t.map((v) => v * 3 + 1))));
    const reset2 = (await evaluateCombinations(be, model, scrambled, mid, data, resetOpts)).points[0];
    assert.equal(reset2.loss, reset.loss);
    const plain2 = (await evaluateCombinations(be, model, scrambled, mid, data, { batch: 32 })).points[0];
    assert.notEqual(plain2.loss, plain.loss);
  });

  test('dropout masks follow (order seed, layer, step): reruns are identical, resumed runs continue exactly, other seeds differ', async () => {
    const vgg = createModel('vgg-reduced', shape, 4);
    const run = async (orderSeed: number, split?: number) => {
      const state = stateFromWeights(be, vgg, vgg.init(5), SGD);
      const loader = new BatchLoader(data, shape, { batchSize: 16, orderSeed });
      if (split !== undefined) {
        await trainSteps(be, vgg, state, loader, split, SGD);
        const resumed = cloneState(state, SGD);
        disposeState(state);
        await trainSteps(be, vgg, resumed, loader, 6, SGD);
        const w = await readWeights(resumed);
        disposeState(resumed);
        return w;
      }
      await trainSteps(be, vgg, state, loader, 6, SGD);
      const w = await readWeights(state);
      disposeState(state);
      return w;
    };
    const once = await run(3);
    assert.deepEqual(await run(3), once);
    assert.deepEqual(await run(3, 2), once);
    const other = await run(4);
    assert.ok(other.some((t, i) => t.some((v, j) => v !== once[i][j])));
    // Evaluation mode has no dropout: the same input twice gives the same logits.
    const x = data.x.subarray(0, 4 * 192);
    assert.deepEqual(await logitsOf(be, vgg, once, x, 4), await logitsOf(be, vgg, once, x, 4));
  });
});
