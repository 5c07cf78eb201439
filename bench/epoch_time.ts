/**
 * Seconds per training epoch of mlp-2 (width 512) on the MNIST digits (8 000 training
 * examples, batch 64, SGD with momentum) on a given backend: `steps` steps are timed after
 * a warm-up step and scaled to an epoch of floor(8000 / 64) = 125 steps.
 */
import type { Backend } from '../core/backend.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { createModel } from '../core/nn/registry.ts';
import { disposeState, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

export async function secondsPerEpoch(
  backend: Backend,
  steps: number,
): Promise<{ secondsPerEpoch: number; stepsTimed: number; stepsPerEpoch: number }> {
  const data = await loadDataset('mnist', nodeFileStore());
  const model = createModel('mlp-2', data.inputShape, data.classes, { width: 512 });
  const spec = { ...FORK_DEFAULTS, lr: 0.05, momentum: 0.9, batch: 64 };
  const loader = new BatchLoader(data.train, data.inputShape, { batchSize: spec.batch, orderSeed: 0 });
  const config = trainConfigOf(spec, loader.stepsPerEpoch, steps + 1);
  const state = stateFromWeights(backend, model, model.init(0), config);
  try {
    await trainSteps(backend, model, state, loader, 1, config);
    const t0 = performance.now();
    // Losses are read back once at the end (syncEvery > steps): no readback inside a step.
    await trainSteps(backend, model, state, loader, steps + 1, config, { syncEvery: steps + 1 });
    const s = (performance.now() - t0) / 1000;
    return { secondsPerEpoch: (s / steps) * loader.stepsPerEpoch, stepsTimed: steps, stepsPerEpoch: loader.stepsPerEpoch };
  } finally {
    disposeState(state);
  }
}
