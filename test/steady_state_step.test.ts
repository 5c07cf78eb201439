/**
 * A training step in steady state takes no new memory on the CPU backend: after the
 * first steps every buffer it allocates (activations, gradients, im2col windows,
 * optimizer temporaries) is a freed buffer of the same size, handed back as it is, and
 * nothing stays live from one step to the next. Checked on the trainer itself
 * (core/train/trainer.ts, the loop every fork child runs) for an MLP and LeNet-5, SGD
 * with momentum and Adam, with and without the helper thread. A regression (a buffer
 * whose size drifts, a leak, a growing cache) makes `freshAllocations` or `liveBytes`
 * move here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { createModel } from '../core/nn/registry.ts';
import { disposeState, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const data = await loadDataset('mnist', nodeFileStore());

const CASES = [
  { model: 'mlp-2', width: 64, optimizer: 'sgd' },
  { model: 'lenet5', width: undefined, optimizer: 'sgd' },
  { model: 'lenet5', width: undefined, optimizer: 'adam' },
] as const;

for (const threads of [1, 2]) {
  for (const c of CASES) {
    test(`${c.model} with ${c.optimizer}, ${threads} thread(s): steady-state steps reuse every buffer and keep none`, async () => {
      const be = await createCpuBackend(threads === 2 ? { spawnWorker: spawnKernelWorker } : {});
      const model = createModel(c.model, data.inputShape, 10, c.width ? { width: c.width } : {});
      const loader = new BatchLoader(data.train, data.inputShape, { batchSize: 32, orderSeed: 0 });
      const config = trainConfigOf(
        { ...FORK_DEFAULTS, optimizer: c.optimizer, lr: c.optimizer === 'adam' ? 1e-3 : 0.05 },
        loader.stepsPerEpoch,
        1000,
      );
      const state = stateFromWeights(be, model, model.init(0), config);
      try {
        // The first steps create the optimizer's state and each size's first buffer.
        await trainSteps(be, model, state, loader, 3, config, { syncEvery: 3 });
        const fresh = be.freshAllocations;
        const live = be.liveBytes;
        assert.ok(fresh > 0, 'the first steps take fresh buffers (the counter counts)');
        await trainSteps(be, model, state, loader, 15, config, { syncEvery: 3 });
        assert.equal(state.step, 15);
        assert.equal(be.freshAllocations - fresh, 0, 'buffers not served by a freed one of their size in 12 steady-state steps');
        assert.equal(be.liveBytes, live, 'live bytes after 12 more steps');
      } finally {
        disposeState(state);
      }
    });
  }
}
