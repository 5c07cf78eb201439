/**
 * Local convexity between stochastic updates (Yunis App. B, docs/metrics.md#second-order).
 * - logreg is convex, so g = L(mid) − mean(L(ends)) ≤ 0 for every pair: P(g < 0) = 1, and
 *   g equals its second-order value −⅛·ΔᵀH(mid)Δ (Δ = ΔW1 − ΔW2) computed independently
 *   from the documented minibatches and a dataset HVP;
 * - on mlp-2 the probability is a count over K pairs, deterministic by seed, and measuring
 *   leaves the training state untouched;
 * - the CLI: tracking and checkpoint modes, files, and bad input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { FORK_DEFAULTS, type ForkSpec } from '../core/experiments/fork_spec.ts';
import { localConvexity, measureAlongTraining, pairOrderSeeds } from '../core/lmc/convexity.ts';
import { DatasetDerivatives, datasetGradient, flattenWeights, subsetOf, unflattenWeights } from '../core/lmc/dataset_derivatives.ts';
import { createModel } from '../core/nn/registry.ts';
import { disposeState, readWeights, stateFromWeights, type TrainState } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const be = await createCpuBackend();
const data = await loadDataset('mnist', nodeFileStore());
const train = { split: data.train, inputShape: data.inputShape };
const subset = subsetOf(data.train, 1000);

/**
 * Rounding of a dataset loss: per-example f32 losses (a few ulp of the logits' scale)
 * summed in f64; 1e-6 of the loss bounds it with a wide margin. |g| here is ≥ 1e-4.
 */
const LOSS_ROUNDING = 1e-6;

async function trained(modelName: string, width: number, steps: number, spec: Partial<ForkSpec> = {}) {
  const model = createModel(modelName, 784, 10, { width });
  const loader = new BatchLoader(data.train, data.inputShape, { batchSize: 64, orderSeed: 0 });
  const config = trainConfigOf({ ...FORK_DEFAULTS, ...spec }, loader.stepsPerEpoch, 1000);
  const state = stateFromWeights(be, model, model.init(0), config);
  await trainSteps(be, model, state, loader, steps, config);
  return { model, loader, config, state };
}

async function snapshot(s: TrainState) {
  return {
    step: s.step,
    steps: s.optimizer.steps,
    weights: await readWeights(s),
    opt: await Promise.all(s.optimizer.state().map((t) => t.data())),
  };
}

test('logreg (convex): every pair has g ≤ 0, so P(g < 0) = 1, and g = −⅛·ΔᵀH(mid)Δ to second order', async () => {
  // Plain SGD (no momentum) so that ΔW_i = −lr·∇L_batch_i exactly and Δ = −lr·(g1 − g2).
  const lr = 0.05;
  const { model, config, state } = await trained('logreg', 1, 30, { momentum: 0, lr });
  try {
    const r = await localConvexity(be, model, state, config, train, subset, { pairs: 12, seed: 0 });
    assert.equal(r.pairs.length, 12);
    for (const p of r.pairs) assert.ok(p.gap <= LOSS_ROUNDING * p.lossMid, `pair ${p.pair}: g = ${p.gap} > 0 on a convex loss`);
    assert.equal(r.pNegative, 1, `gaps ${r.pairs.map((p) => p.gap)}`);
    // Independent second-order check of pair 0 from the documented minibatches.
    const [sa, sb] = pairOrderSeeds(0, 0);
    assert.deepEqual(r.pairs[0].orderSeeds, [sa, sb]);
    const w = flattenWeights(model, await readWeights(state));
    const grads: Float64Array[] = [];
    for (const orderSeed of [sa, sb]) {
      const batch = new BatchLoader(data.train, data.inputShape, { batchSize: config.batch, orderSeed }).batchAt(state.step);
      grads.push(
        await datasetGradient(be, model, await readWeights(state), { x: batch.x, y: batch.y, n: batch.size }, { batch: batch.size }),
      );
    }
    const delta = grads[0].map((g, i) => -lr * (g - grads[1][i]));
    const mid = unflattenWeights(model, w.map((x, i) => x - 0.5 * lr * (grads[0][i] + grads[1][i])));
    const d = new DatasetDerivatives(be, model, mid, subset);
    const Hd = await d.hvp(delta);
    d.dispose();
    const predicted = -delta.reduce((s, x, i) => s + x * Hd[i], 0) / 8;
    const g = r.pairs[0].gap;
    assert.ok(Math.abs(g - predicted) <= 0.05 * Math.abs(predicted), `g = ${g}, −⅛ΔᵀHΔ = ${predicted}`);
  } finally {
    disposeState(state);
  }
});

test('mlp-2: P(g < 0) is the fraction of K pairs, deterministic by seed, and the state is left unchanged', async () => {
  const { model, config, state } = await trained('mlp-2', 32, 40);
  try {
    const before = await snapshot(state);
    const run = () => localConvexity(be, model, state, config, train, subset, { pairs: 6, seed: 4 });
    const r = await run();
    assert.equal(r.pairs.length, 6);
    assert.ok(r.pNegative >= 0 && r.pNegative <= 1);
    assert.equal(r.pNegative, r.pairs.filter((p) => p.gap < 0).length / 6);
    assert.equal(r.step, 40);
    for (const p of r.pairs) assert.equal(p.gap, p.lossMid - 0.5 * (p.lossA + p.lossB));
    assert.ok(r.pairs.every((p) => p.lossA !== p.lossB), 'the two sides took different minibatches');
    assert.deepEqual(await run(), r, 'same seed, same result');
    const other = await localConvexity(be, model, state, config, train, subset, { pairs: 6, seed: 5 });
    assert.notDeepEqual(other.pairs.map((p) => p.orderSeeds), r.pairs.map((p) => p.orderSeeds));
    assert.deepEqual(await snapshot(state), before, 'weights, optimizer state and step are untouched');
  } finally {
    disposeState(state);
  }
});

test('measureAlongTraining measures at the start, every N steps and the end, without changing the training', async () => {
  const a = await trained('mlp-2', 16, 0);
  const b = await trained('mlp-2', 16, 0);
  try {
    const steps = await measureAlongTraining(be, a.model, a.state, a.loader, a.config, { every: 3, toStep: 7 }, async (s) => {
      await localConvexity(be, a.model, s, a.config, train, subsetOf(data.train, 50), { pairs: 1, seed: 0 });
      return s.step;
    });
    assert.deepEqual(steps, [0, 3, 6, 7]);
    await trainSteps(be, b.model, b.state, b.loader, 7, b.config);
    assert.deepEqual(await snapshot(a.state), await snapshot(b.state));
  } finally {
    disposeState(a.state);
    disposeState(b.state);
  }
});

// ---------- CLI ----------

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-convexity-'));
const SMALL = [
  '--data',
  'synthetic:gauss:n=400,dim=16,classes=4',
  '--model',
  'mlp-2',
  '--width',
  '16',
  '--batch',
  '32',
  '--backend',
  'cpu',
];
const ridgeline = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });

test('convexity CLI: tracking mode writes JSON and CSVs; checkpoint mode continues a train checkpoint', () => {
  const out = tmp();
  const r = ridgeline(['convexity', ...SMALL, '--every', '5', '--steps', '10', '--pairs', '4', '--subset', '200', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.kind, 'convexity');
  assert.equal(result.subset, 200);
  assert.deepEqual(result.points.map((p: { step: number }) => p.step), [0, 5, 10]);
  for (const p of result.points) assert.equal(p.pNegative, p.pairs.filter((q: { gap: number }) => q.gap < 0).length / 4);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'convexity.json'), 'utf8')), result);
  assert.equal(readFileSync(join(out, 'convexity.csv'), 'utf8').trim().split('\r\n').length, 1 + 3);
  assert.equal(readFileSync(join(out, 'convexity_pairs.csv'), 'utf8').trim().split('\r\n').length, 1 + 3 * 4);
  // Checkpoint mode: weights + optimizer state + step from `train`.
  const run = tmp();
  assert.equal(ridgeline(['train', ...SMALL, '--steps', '5', '--out', run]).status, 0);
  const c = ridgeline(['convexity', ...SMALL, '--checkpoint', join(run, 'final.safetensors'), '--pairs', '3', '--subset', '200']);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /P\(g<0\)/);
  assert.match(c.stdout, /^\s+5 /m, "measured at the checkpoint's step 5");
});

test('convexity CLI: bad input names the culprit', () => {
  const run = tmp();
  assert.equal(ridgeline(['train', ...SMALL, '--steps', '2', '--out', run]).status, 0);
  const cases: [string[], RegExp][] = [
    [['convexity', ...SMALL], /E_SPEC: convexity: give --checkpoint FILE, or --every N with exactly one of --steps N \/ --epochs N/],
    [
      ['convexity', ...SMALL, '--checkpoint', join(run, 'final.safetensors'), '--every', '3'],
      /E_SPEC: convexity: --every belongs to tracking mode/,
    ],
    [
      ['convexity', ...SMALL, '--every', '3', '--steps', '6', '--pairs', '0'],
      /E_SPEC: convexity: --pairs: expected an integer ≥ 1, got '0'/,
    ],
    [
      ['convexity', ...SMALL, '--every', '3', '--steps', '6', '--optimizer', 'lion'],
      /E_SPEC: --optimizer: unknown value 'lion'; valid: sgd, adam, adamw/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const r = ridgeline(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, pattern);
  }
  // Weights without the optimizer state beside them.
  const bare = tmp();
  const r = ridgeline(['convexity', ...SMALL, '--checkpoint', join(bare, 'missing.safetensors')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_SPEC: convexity: .*missing\.optim\.safetensors .* does not exist/);
  assert.ok(!existsSync(join(bare, 'convexity.json')));
});
