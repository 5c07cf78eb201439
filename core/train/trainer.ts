/**
 * The training loop: a minibatch step queues its kernels with no readback; losses are
 * copied on the device into a small history buffer and read back every `syncEvery` steps
 * (and at the end), which is also when divergence is detected, naming the exact step.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import { RidgelineError } from '../errors.ts';
import { taskLoss, withTrainable } from '../nn/loss.ts';
import { type Model, trainableIndices } from '../nn/model.ts';
import { type Tensor, fromArray, keep, tidy, zeros } from '../tensor.ts';
import type { TrainConfig } from './config.ts';
import { learningRate } from './schedule.ts';
import type { TrainState } from './state.ts';

/** Where minibatches come from: the batch of global step `step`, a pure function of it. */
export interface BatchSource {
  readonly features: number;
  /** The data-order seed; it also seeds dropout masks, so a child's SGD noise is all its own. */
  readonly orderSeed?: number;
  batchAt(step: number): { x: Float32Array; y: Float32Array; size: number };
}

export interface TrainHooks {
  /** Read losses back every this many steps (default 50). */
  syncEvery?: number;
  /** Called at each sync with the losses of the steps since the previous one. */
  onSync?: (firstStep: number, losses: Float32Array) => void;
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm` (torch's clip_grad_norm_). */
function clipGlobalNorm(grads: Tensor[], maxNorm: number): Tensor[] {
  return ag.noGrad(() => {
    let total = ag.sum(ag.square(grads[0]));
    for (let i = 1; i < grads.length; i++) total = ag.add(total, ag.sum(ag.square(grads[i])));
    const coef = ag.scale(ag.reciprocal(ag.addScalar(ag.sqrt(total), 1e-6)), maxNorm);
    // min(coef, 1) = coef − relu(coef − 1), with the ops we have and no readback.
    const clamped = ag.sub(coef, ag.relu(ag.addScalar(coef, -1)));
    return grads.map((g) => ag.mul(g, clamped));
  });
}

/** Trains `state` from its current step up to global step `toStep`. */
export async function trainSteps(
  backend: Backend, model: Model, state: TrainState, source: BatchSource, toStep: number, config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<void> {
  const syncEvery = hooks.syncEvery ?? 50;
  // Buffers (batch-norm statistics) are updated by the forward pass itself, not by the optimizer.
  const trainable = trainableIndices(model);
  const trainableParams = trainable.map((i) => state.params[i]);
  const history = keep(zeros(backend, [syncEvery]));
  let pending = 0;
  const flush = async () => {
    if (pending === 0) return;
    const losses = (await history.data()).slice(0, pending);
    const first = state.step - pending;
    const bad = losses.findIndex((l) => !Number.isFinite(l));
    pending = 0;
    if (bad >= 0) {
      throw new RidgelineError('E_DIVERGED', `training diverged at step ${first + bad} (loss ${losses[bad]}); lower the learning rate or add --clip`);
    }
    hooks.onSync?.(first, losses);
  };
  try {
    while (state.step < toStep) {
      const batch = source.batchAt(state.step);
      const lr = learningRate(config.schedule, state.step);
      tidy(() => {
        const x = fromArray(backend, batch.x, [batch.size, source.features]);
        const y = fromArray(backend, batch.y, [batch.size]);
        const options = { train: true, noiseSeed: source.orderSeed ?? 0, step: state.step };
        const { value, grads } = ag.valueAndGrad(
          (tp) => taskLoss(model, model.forward(withTrainable(state.params, trainable, tp), x, options), y), trainableParams,
        );
        state.optimizer.step(trainableParams, config.clip === null ? grads : clipGlobalNorm(grads, config.clip), lr);
        backend.copy(value.buf, history.buf, 1, 0, pending);
      });
      state.step++;
      if (++pending === syncEvery) await flush();
    }
    await flush();
  } finally {
    history.dispose();
  }
}
