/**
 * Training: hand-computed PyTorch-semantics updates and schedules, exact resume from a
 * checkpoint, divergence detection, clipping, and checkpoint validation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { RidgelineError } from '../core/errors.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { FORK_DEFAULTS, type ForkSpec } from '../core/experiments/fork_spec.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, keep, tidy } from '../core/tensor.ts';
import { loadCheckpoint, loadWeights, saveCheckpoint, saveWeights } from '../core/train/checkpoint.ts';
import { Adam, Sgd } from '../core/train/optimizers.ts';
import { learningRate } from '../core/train/schedule.ts';
import { disposeState, readWeights, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const be = await createCpuBackend();
const files = nodeFileStore();
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-train-'));

test('SGD with momentum and Adam give the hand-computed PyTorch values', async () => {
  // torch.optim.SGD([p], lr=0.1, momentum=0.9), p = 1, grads 0.5 then 0.5:
  // step 1: buf = 0.5, p = 1 − 0.1·0.5 = 0.95; step 2: buf = 0.9·0.5 + 0.5 = 0.95, p = 0.95 − 0.095 = 0.855.
  const p = keep(fromArray(be, [1], [1]));
  const sgd = new Sgd({ lr: 0.1, momentum: 0.9 });
  for (let i = 0; i < 2; i++) tidy(() => sgd.step([p], [fromArray(be, [0.5], [1])]));
  assert.equal((await p.data())[0], Math.fround(0.855));
  // weight decay 0.1 (coupled), no momentum: g' = 0.5 + 0.1·1 = 0.6, p = 1 − 0.1·0.6 = 0.94.
  be.upload(p.buf, new Float32Array([1]));
  tidy(() => new Sgd({ lr: 0.1, weightDecay: 0.1 }).step([p], [fromArray(be, [0.5], [1])]));
  assert.equal((await p.data())[0], Math.fround(0.94));
  // torch.optim.Adam(lr=0.001): the first step moves every coordinate by lr·g/(|g| + ε) ≈ lr·sign(g).
  be.upload(p.buf, new Float32Array([1]));
  const adam = new Adam({ lr: 0.001 });
  tidy(() => adam.step([p], [fromArray(be, [0.5], [1])]));
  assert.ok(Math.abs((await p.data())[0] - 0.999) < 1e-7);
  // Step 2 with g = −0.5: m = 0.9·0.05 − 0.05 = −0.005, v = 0.999·0.00025 + 0.001·0.25 = 0.00049975,
  // m̂ = −0.005/0.19 = −0.0263158, v̂ = 0.00049975/0.001999 = 0.25, p = 0.999 + 0.001·0.0263158/0.5 = 0.99905263.
  tidy(() => adam.step([p], [fromArray(be, [-0.5], [1])]));
  assert.ok(Math.abs((await p.data())[0] - 0.99905263) < 2e-7, String((await p.data())[0]));
  p.dispose();
  sgd.dispose();
  adam.dispose();
});

test('learning-rate schedules: warm-up, step decay and cosine give the hand-computed rates', () => {
  const base = { kind: 'constant' as const, lr: 0.1, warmupSteps: 0, milestones: [], gamma: 0.1, totalSteps: 100 };
  assert.equal(learningRate(base, 57), 0.1);
  assert.equal(learningRate({ ...base, warmupSteps: 4 }, 0), 0.025);
  // LinearLR(start_factor=1/4, total_iters=4): 1/4 + (3/4)·s/4 of the rate, 1 from step 4.
  assert.ok(Math.abs(learningRate({ ...base, warmupSteps: 4 }, 3) - 0.08125) < 1e-17);
  assert.equal(learningRate({ ...base, warmupSteps: 4 }, 4), 0.1);
  const step = { ...base, kind: 'step' as const, milestones: [10, 20] };
  assert.equal(learningRate(step, 9), 0.1);
  assert.ok(Math.abs(learningRate(step, 10) - 0.01) < 1e-17);
  assert.ok(Math.abs(learningRate(step, 25) - 0.001) < 1e-17);
  const cosine = { ...base, kind: 'cosine' as const };
  assert.equal(learningRate(cosine, 0), 0.1);
  assert.ok(Math.abs(learningRate(cosine, 50) - 0.05) < 1e-15);
  assert.ok(Math.abs(learningRate(cosine, 100)) < 1e-15);
  assert.throws(() => learningRate(base, -1), /E_ARG/);
});

const spec = (over: Partial<ForkSpec>): ForkSpec => ({
  ...FORK_DEFAULTS,
  data: 'synthetic:gauss:n=600,dim=12,classes=4',
  width: 24,
  batch: 32,
  ...over,
});

for (const optimizer of ['sgd', 'adam'] as const) {
  test(`resume is exact (${optimizer}): k1 + k2 steps straight = k1 steps, checkpoint, reload, k2 steps — bit for bit`, async () => {
    const s = spec({
      optimizer,
      lr: optimizer === 'sgd' ? 0.05 : 0.003,
      momentum: 0.9,
      weightDecay: 1e-3,
      warmup: 0.5,
      schedule: 'cosine',
    });
    const data = await loadDataset(s.data, files);
    const model = createModel('mlp-2', 12, 4, { width: s.width });
    const loader = new BatchLoader(data.train, data.inputShape, { batchSize: s.batch, orderSeed: 3 });
    const config = trainConfigOf(s, loader.stepsPerEpoch, 60);
    const init = model.init(1);
    const straight = stateFromWeights(be, model, init, config);
    await trainSteps(be, model, straight, loader, 60, config, { syncEvery: 7 });
    const split = stateFromWeights(be, model, init, config);
    await trainSteps(be, model, split, loader, 23, config);
    const dir = tmp();
    await saveCheckpoint(files, join(dir, 'k1'), model, split);
    disposeState(split);
    const resumed = await loadCheckpoint(files, join(dir, 'k1'), be, model, config);
    assert.equal(resumed.step, 23);
    await trainSteps(be, model, resumed, loader, 60, config);
    const [a, b] = [await readWeights(straight), await readWeights(resumed)];
    a.forEach((w, i) => assert.deepEqual(new Uint32Array(b[i].buffer), new Uint32Array(w.buffer), `parameter ${model.params[i].name}`));
    const [sa, sb] = [straight.optimizer.state(), resumed.optimizer.state()];
    assert.equal(sa.length, optimizer === 'sgd' ? 4 : 8);
    for (let i = 0; i < sa.length; i++) assert.deepEqual(await sb[i].data(), await sa[i].data());
    assert.equal(resumed.optimizer.steps, straight.optimizer.steps);
    disposeState(straight);
    disposeState(resumed);
  });
}

test('diverging training stops with E_DIVERGED naming the first bad step', async () => {
  const s = spec({ lr: 1e6, momentum: 0.9 });
  const data = await loadDataset(s.data, files);
  const model = createModel('mlp-2', 12, 4, { width: s.width });
  const loader = new BatchLoader(data.train, data.inputShape, { batchSize: s.batch, orderSeed: 0 });
  const config = trainConfigOf(s, loader.stepsPerEpoch, 100);
  const state = stateFromWeights(be, model, model.init(0), config);
  const seen: number[] = [];
  await assert.rejects(
    trainSteps(be, model, state, loader, 100, config, { syncEvery: 10, onSync: (first, l) => l.forEach((_x, i) => seen.push(first + i)) }),
    (e: unknown) => {
      assert.ok(e instanceof RidgelineError && e.code === 'E_DIVERGED', String(e));
      const step = Number(/diverged at step (\d+)/.exec(e.message)?.[1]);
      assert.ok(step >= 1 && step < 100, e.message);
      assert.ok(!seen.includes(step), 'steps up to the bad one were reported, the bad one was not');
      return true;
    },
  );
  disposeState(state);
});

test('global-norm clipping bounds the update: with clip c, one SGD step moves θ by at most lr·c', async () => {
  const s = spec({ lr: 0.5, momentum: 0, clip: 0.01 });
  const data = await loadDataset(s.data, files);
  const model = createModel('mlp-2', 12, 4, { width: s.width });
  const loader = new BatchLoader(data.train, data.inputShape, { batchSize: s.batch, orderSeed: 0 });
  const config = trainConfigOf(s, loader.stepsPerEpoch, 1);
  const state = stateFromWeights(be, model, model.init(0), config);
  const before = await readWeights(state);
  await trainSteps(be, model, state, loader, 1, config);
  const after = await readWeights(state);
  let sq = 0;
  after.forEach((w, i) => w.forEach((v, j) => (sq += (v - before[i][j]) ** 2)));
  const moved = Math.sqrt(sq);
  assert.ok(moved <= 0.5 * 0.01 * (1 + 1e-4), `moved ${moved}`);
  assert.ok(moved >= 0.5 * 0.01 * 0.99, `an unclipped gradient of this net is larger than 0.01; moved ${moved}`);
  disposeState(state);
});

test('checkpoints: weights round-trip bit for bit; a file whose shapes do not fit the model is refused naming the tensor', async () => {
  const dir = tmp();
  const model = createModel('mlp-2', 12, 4, { width: 8 });
  const w = model.init(5);
  await saveWeights(files, join(dir, 'w.safetensors'), model, w);
  const back = await loadWeights(files, join(dir, 'w.safetensors'), model);
  w.forEach((x, i) => assert.deepEqual(back[i], x));
  const wider = createModel('mlp-2', 12, 4, { width: 9 });
  await assert.rejects(
    loadWeights(files, join(dir, 'w.safetensors'), wider),
    /E_SHAPE: .*w\.safetensors: tensor '0\.weight' has shape \[8, 12\] but model mlp-2 .* needs \[9, 12\]/,
  );
  const deeper = createModel('mlp-3', 12, 4, { width: 8 });
  await assert.rejects(
    loadWeights(files, join(dir, 'w.safetensors'), deeper),
    /tensor '2\.weight' has shape \[4, 8\] but .* needs \[8, 8\]/,
  );
  const logreg = createModel('logreg', 12, 4);
  await assert.rejects(loadWeights(files, join(dir, 'w.safetensors'), logreg), /E_SHAPE/);
  await assert.rejects(loadWeights(files, join(dir, 'missing.safetensors'), model), /E_DATA_FORMAT: cannot read .*missing\.safetensors/);
});
