/**
 * Seconds per training step of a model on any backend, the step a trainer runs, on seeded
 * random data of a dataset's shape (shared by bench/model_epoch.ts and bench/gpu.ts).
 */
import type { Backend } from '../core/backend.ts';
import { FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { createModel } from '../core/nn/registry.ts';
import { disposeState, stateFromWeights } from '../core/train/state.ts';
import { StepReplay } from '../core/train/step_replay.ts';
import { type BatchSource, trainSteps } from '../core/train/trainer.ts';

/** A benchmarked configuration: the dataset's example shape, its training-set size, the batch. */
export interface Workload {
  model: string;
  dataset: string;
  input: number[];
  classes: number;
  trainExamples: number;
  batch: number;
  /** Timed steps per measurement (after 3 untimed ones). */
  steps: number;
}

/** Eight fixed batches of uniform [−1, 1) inputs and random labels, as the peer draws (its own RNG). */
function randomBatches(w: Workload, inputSize: number): { x: Float32Array; y: Float32Array }[] {
  let seed = 12345;
  const rand = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: 8 }, () => ({
    x: Float32Array.from({ length: w.batch * inputSize }, () => 2 * rand() - 1),
    // Class labels, or regression targets in [−1, 1) (SIREN).
    y: Float32Array.from({ length: w.batch }, () => (w.classes > 0 ? Math.floor(rand() * w.classes) : 2 * rand() - 1)),
  }));
}

/**
 * Seconds per step of our training on `backend`: the trainer's own loop
 * (core/train/trainer.ts: forward in training mode, fused cross-entropy, gradients of the
 * trainable tensors only, the fused SGD kernel at lr 0.01 with momentum 0.9; BN running
 * statistics updated by the forward; steady-state steps replayed from their kernel calls
 * where the backend records them, core/train/step_replay.ts), with its loss history read
 * back every 50 steps and once at the end, so every queued kernel has run. `data` gives
 * the batch of step s (3 warm-up steps, then the timed ones from step 3): by default eight
 * fixed random batches; a real data set's batches are gathered inside the timed loop, as
 * a training epoch gathers them. `replay: false` times the autograd path of every step.
 */
export async function ourSecondsPerStep(
  backend: Backend,
  w: Workload,
  data?: (s: number) => { x: Float32Array; y: Float32Array },
  options: { replay?: boolean } = {},
): Promise<{ secondsPerStep: number; finalLoss: number; replayed: number }> {
  const model = createModel(w.model, w.input, w.classes);
  const batches = data ? [] : randomBatches(w, model.inputSize);
  const source: BatchSource = {
    features: model.inputSize,
    orderSeed: 0,
    batchAt: (s) => ({ ...(data ? data(s) : batches[s % batches.length]), size: w.batch }),
  };
  const warmup = 3;
  const config = trainConfigOf({ ...FORK_DEFAULTS, batch: w.batch, lr: 0.01 }, Math.floor(w.trainExamples / w.batch), warmup + w.steps);
  const state = stateFromWeights(backend, model, model.init(0), config);
  try {
    // Warm-up: tier-up, buffer pools, the helper thread.
    await trainSteps(backend, model, state, source, warmup, config, { replay: false });
    const replay = options.replay === false ? false : StepReplay.for(backend);
    let finalLoss = NaN;
    const t0 = performance.now();
    await trainSteps(backend, model, state, source, warmup + w.steps, config, {
      replay,
      onSync: (_first, losses) => (finalLoss = losses[losses.length - 1]),
    });
    const seconds = (performance.now() - t0) / 1000;
    return { secondsPerStep: seconds / w.steps, finalLoss, replayed: replay ? replay.counts.replayed : 0 };
  } finally {
    disposeState(state);
  }
}
