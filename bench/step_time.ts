/**
 * Seconds per training step of a model on any backend, the step a trainer runs, on seeded
 * random data of a dataset's shape (shared by bench/model_epoch.ts and bench/gpu.ts).
 */
import * as ag from '../core/autograd/mod.ts';
import type { Backend } from '../core/backend.ts';
import { taskLoss } from '../core/nn/loss.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, keep, type Tensor, tidy } from '../core/tensor.ts';
import { Sgd } from '../core/train/optimizers.ts';

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
 * Seconds per step of our training on `backend`: the step a trainer runs (forward in
 * training mode, fused cross-entropy, gradients of the trainable tensors only, the fused
 * SGD kernel; BN running statistics are updated by the forward), with no readback inside
 * the timed loop; the last loss is read at the end, so every queued kernel has run.
 * `data` gives the batch of step s (3 warm-up steps, then the timed ones from step 3):
 * by default eight fixed random batches; a real data set's batches are gathered inside
 * the timed loop, as a training epoch gathers them.
 */
export async function ourSecondsPerStep(
  backend: Backend,
  w: Workload,
  data?: (s: number) => { x: Float32Array; y: Float32Array },
): Promise<{ secondsPerStep: number; finalLoss: number }> {
  const model = createModel(w.model, w.input, w.classes);
  const init = model.init(0);
  const state = model.params.map((p, i) => keep(fromArray(backend, init[i], p.shape)));
  const trainIdx = model.params.flatMap((p, i) => (p.trainable === false ? [] : [i]));
  const trainable = trainIdx.map((i) => ag.param(state[i]));
  const opt = new Sgd({ lr: 0.01, momentum: 0.9 });
  const batches = data ? [] : randomBatches(w, model.inputSize);
  const step = (s: number): Tensor =>
    tidy(() => {
      const b = data ? data(s) : batches[s % batches.length];
      const x = fromArray(backend, b.x, [w.batch, model.inputSize]);
      const y = fromArray(backend, b.y, [w.batch]);
      const { value, grads } = ag.valueAndGrad((tp) => {
        const ps = state.slice();
        trainIdx.forEach((j, k) => (ps[j] = tp[k]));
        return taskLoss(model, model.forward(ps, x, { train: true, noiseSeed: 0, step: s }), y);
      }, trainable);
      opt.step(trainable, grads);
      return value;
    });
  try {
    for (let s = 0; s < 3; s++) step(s).dispose(); // warm-up: tier-up, buffer pools, the helper thread
    await state[0].data();
    const t0 = performance.now();
    let last: Tensor | null = null;
    for (let s = 0; s < w.steps; s++) {
      last?.dispose();
      last = step(3 + s);
    }
    const finalLoss = (await last!.data())[0];
    const seconds = (performance.now() - t0) / 1000;
    last!.dispose();
    return { secondsPerStep: seconds / w.steps, finalLoss };
  } finally {
    state.forEach((t) => t.dispose());
    opt.dispose();
  }
}
