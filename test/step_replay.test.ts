/**
 * Training steps replayed from their kernel calls (core/train/step_replay.ts) give the bits
 * of steps run through autograd: weights, optimizer state and step count, and every loss,
 * on the trainer itself, for the configurations where replay engages (SGD at a constant
 * rate, a rate that changes at a milestone mid-run, 1 and 2 threads, MLP and LeNet-5) and
 * where it must not (Adam's bias corrections, a warm-up's changing rate). A step whose calls
 * change though its key did not stops the run with one line, and buffers that moved between
 * steps are learned again without error.
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
  /** Whether steps must be replayed (true) or never (false). */
  replays: boolean;
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
  {
    name: 'mlp-2, Adam (bias corrections change every step)',
    model: 'mlp-2',
    width: 64,
    spec: { optimizer: 'adam', lr: 1e-3 },
    steps: 40,
    replays: false,
  },
  {
    name: 'mlp-2, a warm-up over the whole run (the rate changes every step)',
    model: 'mlp-2',
    width: 64,
    spec: { warmup: 100 / 62 },
    steps: 40,
    replays: false,
  },
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
      if (c.replays) assert.ok(counts.replayed >= c.steps * 0.75, `only ${counts.replayed} of ${c.steps} steps were replayed`);
      else assert.equal(counts.replayed, 0, 'steps that differ from each other were replayed');
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
