/**
 * Training steps replayed from their kernel calls (core/train/step_replay.ts) give the bits
 * of steps run through autograd: weights, optimizer state and step count, and every loss,
 * on the trainer itself (SGD at a constant rate, a rate that changes at a milestone mid-run,
 * Adam whose bias corrections change every step, AdamW under a cosine schedule, a warm-up
 * over the whole run; 1 and 2 threads; MLP and LeNet-5). A step whose calls change though
 * its key did not stops the run with one line; buffers that moved between steps are learned
 * again without error; optimizer scalars are replaced only where the step declared them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallLog } from '../core/call_log.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { FORK_DEFAULTS, type ForkSpec } from '../core/experiments/fork_spec.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, tidy } from '../core/tensor.ts';
import { disposeState, readWeights, stateFromWeights } from '../core/train/state.ts';
import { CHECK_EVERY, StepReplay } from '../core/train/step_replay.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const data = await loadDataset('mnist', nodeFileStore(), { limit: 2000 });

interface Case {
  name: string;
  model: string;
  width?: number;
  spec: Partial<ForkSpec>;
  steps: number;
  /** Steps must be replayed (at least 3 in 4). */
  replays: true;
  /** A source without `batchInto`: every batch is a new pair of arrays, uploaded as the step's inputs. */
  batchAtOnly?: boolean;
}

const CASES: Case[] = [
  { name: 'mlp-2, SGD with momentum', model: 'mlp-2', width: 64, spec: {}, steps: 130, replays: true },
  {
    name: 'mlp-2, Nesterov, weight decay, clipping, a milestone at step 60',
    model: 'mlp-2',
    width: 64,
    spec: { nesterov: true, weightDecay: 5e-4, clip: 1, schedule: 'step', milestones: [60 / 62] },
    steps: 130,
    replays: true,
  },
  { name: 'lenet5, SGD with momentum', model: 'lenet5', spec: {}, steps: 70, replays: true },
  {
    name: 'mlp-2, a source that only makes batches (no batchInto)',
    model: 'mlp-2',
    width: 64,
    spec: {},
    steps: 60,
    replays: true,
    batchAtOnly: true,
  },
  // The optimizer's scalars change every step below; CHECK_EVERY replays and a check each.
  {
    name: 'mlp-2, Adam (bias corrections change every step)',
    model: 'mlp-2',
    width: 64,
    spec: { optimizer: 'adam', lr: 1e-3 },
    steps: 70,
    replays: true,
  },
  {
    name: 'mlp-2, AdamW with weight decay under a cosine schedule',
    model: 'mlp-2',
    width: 64,
    spec: { optimizer: 'adamw', lr: 1e-3, weightDecay: 0.01, schedule: 'cosine' },
    steps: 70,
    replays: true,
  },
  {
    name: 'mlp-2, a warm-up over the whole run (the rate changes every step)',
    model: 'mlp-2',
    width: 64,
    spec: { warmup: 100 / 62 },
    steps: 70,
    replays: true,
  },
  { name: 'lenet5, Adam', model: 'lenet5', spec: { optimizer: 'adam', lr: 1e-3 }, steps: 60, replays: true },
];

/** Trains `steps` steps from model.init(0) and returns every bit a run keeps. */
async function train(c: Case, threads: number, replay: boolean) {
  const be = await createCpuBackend(threads === 2 ? { spawnWorker: spawnKernelWorker } : {});
  try {
    const model = createModel(c.model, data.inputShape, 10, c.width ? { width: c.width } : {});
    const loader = new BatchLoader(data.train, data.inputShape, { batchSize: 32, orderSeed: 3 });
    const source = c.batchAtOnly ? { features: loader.features, orderSeed: 3, batchAt: (s: number) => loader.batchAt(s) } : loader;
    const config = trainConfigOf({ ...FORK_DEFAULTS, ...c.spec }, loader.stepsPerEpoch, c.steps);
    const state = stateFromWeights(be, model, model.init(0), config);
    const losses: number[] = [];
    const r = replay ? StepReplay.for(be) : false;
    try {
      await trainSteps(be, model, state, source, c.steps, config, { replay: r, onSync: (_f, l) => losses.push(...l) });
      const bits = (arrays: Float32Array[]) => arrays.map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));
      const optimizerState = await Promise.all(state.optimizer.state().map((t) => t.data()));
      return {
        weights: bits(await readWeights(state)),
        optimizerState: bits(optimizerState),
        optimizerSteps: state.optimizer.steps,
        losses,
        counts: r ? { ...r.counts } : null,
      };
    } finally {
      disposeState(state);
    }
  } finally {
    be.close();
  }
}

for (const threads of [1, 2]) {
  for (const c of CASES) {
    test(`${c.name}, ${threads} thread(s): replayed steps give the bits of steps run through autograd`, { timeout: 300_000 }, async () => {
      const plain = await train(c, threads, false);
      const replayed = await train(c, threads, true);
      const counts = replayed.counts!;
      assert.equal(counts.replayed + counts.normal, c.steps);
      assert.ok(counts.replayed >= c.steps * 0.75, `only ${counts.replayed} of ${c.steps} steps were replayed`);
      assert.equal(replayed.optimizerSteps, c.steps);
      assert.deepEqual(replayed.losses, plain.losses);
      assert.deepEqual(replayed.optimizerState, plain.optimizerState);
      assert.deepEqual(replayed.weights, plain.weights);
    });
  }
}

test('a step whose calls change while its key does not stops the run at the next check, naming the difference', async () => {
  const be = await createCpuBackend();
  const x = be.alloc(64);
  const input = new Float32Array(64);
  let scale = 2;
  // A "step" with a hidden dependency: the scalar of its kernel changes without the key changing.
  const step = () => tidy(() => be.unary('scale', x, x, 64, scale));
  const replay = StepReplay.for(be);
  let calls = 0;
  const run = () => replay.run('same key', [input], () => (calls++, step()));
  for (let i = 0; i < 3; i++) run();
  assert.equal(replay.counts.replayed, 1, 'two equal steps make a log; the third is replayed');
  scale = 3;
  for (let i = 0; i < CHECK_EVERY - 1; i++) run();
  assert.equal(calls, 2, 'replayed steps do not run the JavaScript');
  assert.throws(
    run,
    /^RidgelineError: E_STATE: step replay: .*no longer makes the calls replayed for the 50 steps before it \(call 0: kernel unary vs kernel unary\)/,
  );
  be.free(x);
});

test('buffers that move between steps (another allocation) make the next step run normally and learn again, without error', async () => {
  const be = await createCpuBackend();
  const replay = StepReplay.for(be);
  const input = new Float32Array([1, 2, 3, 4]);
  const step = () => tidy(() => void fromArray(be, input, [4]));
  for (let i = 0; i < 4; i++) replay.run('k', [input], step);
  assert.equal(replay.counts.replayed, 2);
  const held = be.alloc(4); // takes the block the step's upload used
  replay.run('k', [input], step);
  assert.equal(replay.counts.normal, 3, 'the step after the move ran normally');
  replay.run('k', [input], step);
  replay.run('k', [input], step);
  assert.equal(replay.counts.replayed, 3, 'and a new log was learned from two steps at the new addresses');
  be.free(held);
});

test('call logs compare their bytes: an upload of other contents is another call', () => {
  const log = (bytes: number[]) => new CallLog([{ kind: 'upload', ptr: 64, bytes: new Uint8Array(bytes) }]);
  assert.ok(log([1, 2, 3]).sameAs(log([1, 2, 3])));
  assert.equal(log([1, 2, 3]).firstDifference(log([1, 2, 4])), 'call 0: upload vs upload');
  assert.equal(log([1]).firstDifference(new CallLog([])), 'call 0: upload vs none');
});

test("an optimizer kernel's scalars are replaceable only when they are the step's declared ones, and replay needs them", async () => {
  const be = await createCpuBackend();
  const [p, g, m] = [be.alloc(8), be.alloc(8), be.alloc(8)];
  const params = (lr: number) => ({ lr, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false });
  const record = (declared: number, used: number) =>
    be.recordCalls(() => be.sgd(p, g, m, 8, params(used)), [], { kind: 'sgd', params: params(declared) }).log!;
  const declared = record(0.1, 0.1);
  const entry = declared.entries[0];
  assert.ok(entry.kind === 'kernel' && entry.stepScalarsFrom === 4, 'the lr, momentum … arguments are marked');
  assert.ok(declared.sameAs(record(0.2, 0.2)), 'logs of two rates are the same calls but for the replaced scalars');
  const undeclared = record(0.1, 0.2);
  const other = undeclared.entries[0];
  assert.ok(other.kind === 'kernel' && other.stepScalarsFrom === undefined, 'scalars other than the declared ones stay fixed');
  assert.equal(declared.firstDifference(undeclared), 'call 0: kernel sgd vs kernel sgd');
  assert.throws(
    () => be.replayCalls(declared, []),
    /^RidgelineError: E_STATE: cpu\.replayCalls: the recorded sgd call needs the step's sgd parameters/,
  );
  // Replayed with lr 0.3: the update of a plain sgd call at 0.3, bit for bit.
  const start = Float32Array.from({ length: 8 }, (_, i) => i / 7 - 0.5);
  const grad = Float32Array.from({ length: 8 }, (_, i) => (i % 3) - 1.25);
  const after = async (run: () => void) => {
    be.upload(p, start);
    be.upload(g, grad);
    be.fill(m, 0.5);
    run();
    return Array.from(await be.download(p));
  };
  assert.deepEqual(
    await after(() => be.replayCalls(declared, [], { kind: 'sgd', params: params(0.3) })),
    await after(() => be.sgd(p, g, m, 8, params(0.3))),
  );
  for (const b of [p, g, m]) be.free(b);
  be.close();
});
