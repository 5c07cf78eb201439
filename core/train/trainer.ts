/**
 * The training loop: a minibatch step queues its kernels with no readback; losses are
 * copied on the device into a small history buffer and read back every `syncEvery` steps
 * (and at the end), which is also when divergence is detected, naming the exact step:
 * a loss that is not finite, or that grows past a bound relative to the segment's first
 * loss (docs/fork.md#training), or a weight norm that does (checked once per sync, one scalar read).
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import { RidgelineError } from '../errors.ts';
import { taskLoss, withTrainable } from '../nn/loss.ts';
import { type Model, trainableIndices } from '../nn/model.ts';
import { fromArray, keep, type Tensor, tidy, zeros } from '../tensor.ts';
import { StepReplay } from './step_replay.ts';
import type { TrainConfig } from './config.ts';
import { learningRate } from './schedule.ts';
import type { TrainState } from './state.ts';

/** Where minibatches come from: the batch of global step `step`, a pure function of it. */
export interface BatchSource {
  readonly features: number;
  /** The data-order seed; it also seeds dropout masks, so a child's SGD noise is all its own. */
  readonly orderSeed?: number;
  batchAt(step: number): { x: Float32Array; y: Float32Array; size: number };
  /** Optional: `batchAt`'s x and y written into the arrays of an earlier batch of this source. */
  batchInto?(step: number, out: { x: Float32Array; y: Float32Array }): void;
}

export interface TrainHooks {
  /** Read losses back every this many steps (default 50). */
  syncEvery?: number;
  /** Called at each sync with the losses of the steps since the previous one. */
  onSync?: (firstStep: number, losses: Float32Array) => void;
  /**
   * Steady-state steps replayed from their kernel calls (core/train/step_replay.ts), the
   * same bits faster: on by default where the backend can record; `false` runs every step
   * through autograd; a StepReplay of the caller's shows its counts afterwards.
   */
  replay?: StepReplay | false;
}

/**
 * A run segment has diverged when a loss exceeds LOSS_GROWTH_BOUND × max(first loss, 1).
 * Why 1e4: cross-entropy starts near ln(classes) ≤ ln(1000) ≈ 7 and a training run that
 * recovers from a spike (high-LR SGD, Adam presets at lr 1e-3…1e-2) stays within 10–100×
 * of it; a regression loss (SIREN's MSE on samples in [−1, 1]) starts below 1, where the
 * floor of 1 applies, and cannot exceed ~4 while predictions stay in range. A loss of 1e4
 * (logits 1e4 apart) is not a phase of training but its end; f32 overflow (1e30 losses)
 * is far beyond it, so the bound fires steps before Inf/NaN would.
 */
export const LOSS_GROWTH_BOUND = 1e4;
/**
 * The same for the global L2 weight norm relative to the segment's start. Why 1e4: SGD
 * without weight decay grows norms by a few × over a whole run (scale-invariant BN nets
 * included), never by four orders of magnitude; the floor of 1 keeps a near-zero start
 * (e.g. zero-initialised logreg) from making any learning look like growth.
 */
export const WEIGHT_GROWTH_BOUND = 1e4;

/**
 * Writes the global L2 norm of `params` into `dst[at]` on the device, so that it travels
 * back with the losses of a sync in the same download (no extra readback).
 */
function writeWeightNorm(params: Tensor[], dst: Tensor, at: number): void {
  tidy(() =>
    ag.noGrad(() => {
      let t = ag.sum(ag.square(params[0]));
      for (let i = 1; i < params.length; i++) t = ag.add(t, ag.sum(ag.square(params[i])));
      dst.backend.copy(ag.sqrt(t).buf, dst.buf, 1, 0, at);
    })
  );
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
  backend: Backend,
  model: Model,
  state: TrainState,
  source: BatchSource,
  toStep: number,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<void> {
  const syncEvery = hooks.syncEvery ?? 50;
  // Buffers (batch-norm statistics) are updated by the forward pass itself, not by the optimizer.
  const trainable = trainableIndices(model);
  const trainableParams = trainable.map((i) => state.params[i]);
  // Losses of the steps since the last sync, then the current weight norm, then the
  // norm the segment started from: one download per sync carries all of them.
  const history = keep(zeros(backend, [syncEvery + 2]));
  // Each step writes its loss here first: the same call every step, so a step can be replayed.
  const lastLoss = keep(zeros(backend, [1]));
  const replay = hooks.replay === false ? StepReplay.off() : hooks.replay ?? StepReplay.for(backend);
  const NORM = syncEvery;
  const START_NORM = syncEvery + 1;
  const checkNorms = trainableParams.length > 0;
  let pending = 0;
  const segmentStart = state.step;
  // This segment's yardsticks, known at its first sync: its first loss and start norm.
  let firstLoss: number | null = null;
  let startNorm = 0;
  const flush = async () => {
    if (pending === 0) return;
    if (checkNorms) writeWeightNorm(trainableParams, history, NORM);
    const read = await history.data();
    const losses = read.slice(0, pending);
    const first = state.step - pending;
    pending = 0;
    if (firstLoss === null) {
      firstLoss = losses[0];
      startNorm = read[START_NORM];
      // The first loss of a segment comes from the starting weights and the data, before
      // any update: lowering the learning rate would not help.
      if (!Number.isFinite(firstLoss) || !Number.isFinite(startNorm)) {
        throw new RidgelineError(
          'E_DIVERGED',
          `at step ${first}, before any update of this run, the loss is ${firstLoss} and the weight norm ${startNorm}: the starting weights or the data hold non-finite or huge values, not the optimisation`,
        );
      }
    }
    const bound = LOSS_GROWTH_BOUND * Math.max(firstLoss, 1);
    const bad = losses.findIndex((l) => !Number.isFinite(l) || l > bound);
    if (bad >= 0) {
      const what = Number.isFinite(losses[bad])
        ? `loss ${losses[bad]} exceeds ${LOSS_GROWTH_BOUND} × max(first loss ${firstLoss} at step ${segmentStart}, 1)`
        : `loss ${losses[bad]}`;
      throw new RidgelineError('E_DIVERGED', `training diverged at step ${first + bad} (${what}); lower the learning rate or add --clip`);
    }
    const norm = read[NORM];
    const normBound = WEIGHT_GROWTH_BOUND * Math.max(startNorm, 1);
    if (checkNorms && !(norm <= normBound)) {
      throw new RidgelineError(
        'E_DIVERGED',
        `training diverged by step ${
          state.step - 1
        }: weight norm ${norm} exceeds ${WEIGHT_GROWTH_BOUND} × max(norm ${startNorm} at step ${segmentStart}, 1); lower the learning rate or add --clip`,
      );
    }
    hooks.onSync?.(first, losses);
  };
  try {
    if (checkNorms) writeWeightNorm(trainableParams, history, START_NORM);
    // The first batch's arrays are reused for the next ones when the source can refill
    // them: each batch is uploaded before the next is gathered.
    let staging: { x: Float32Array; y: Float32Array; size: number } | null = null;
    while (state.step < toStep) {
      let batch: { x: Float32Array; y: Float32Array; size: number };
      if (staging && source.batchInto) {
        source.batchInto(state.step, staging);
        batch = staging;
      } else {
        batch = staging = source.batchAt(state.step);
      }
      const lr = learningRate(config.schedule, state.step);
      const step = state.step;
      // One key for every step: the learning rate reaches only the optimizer's kernels,
      // whose scalars the replay computes from the step's declared parameters.
      const replayed = replay.run('train', [batch.x, batch.y], () =>
        tidy(() => {
          const x = fromArray(backend, batch.x, [batch.size, source.features]);
          const y = fromArray(backend, batch.y, [batch.size]);
          const options = { train: true, noiseSeed: source.orderSeed ?? 0, step };
          const { value, grads } = ag.valueAndGrad(
            (tp) => taskLoss(model, model.forward(withTrainable(state.params, trainable, tp), x, options), y),
            trainableParams,
          );
          state.optimizer.step(trainableParams, config.clip === null ? grads : clipGlobalNorm(grads, config.clip), lr);
          backend.copy(value.buf, lastLoss.buf, 1);
        }), state.optimizer.kernelStep(lr));
      if (replayed) state.optimizer.advance();
      backend.copy(lastLoss.buf, history.buf, 1, 0, pending);
      state.step++;
      if (++pending === syncEvery) await flush();
    }
    await flush();
  } finally {
    history.dispose();
    lastLoss.dispose();
  }
}
