/**
 * Batch and layer normalization, composed of differentiable ops (so their gradients and
 * HVPs come from the ops' rules). Channels are the last axis: NHWC feature maps or [N, F].
 */
import * as ag from '../../autograd/mod.ts';
import type { Tensor } from '../../tensor.ts';

/** PyTorch's defaults for nn.BatchNorm2d / nn.LayerNorm. */
export const NORM_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormState {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor;
  runningVar: Tensor;
}

/**
 * How running statistics are maintained in training mode: `ema` is PyTorch's exponential
 * average (momentum 0.1); `cumulative` is its `momentum=None` equal-weight average over
 * the batches seen (`seen` before this one), used to recompute statistics ("reset BN").
 */
export type RunningUpdate = { kind: 'ema' } | { kind: 'cumulative'; seen: number } | { kind: 'none' };

/**
 * nn.BatchNorm in training mode (batch statistics, biased variance for normalizing;
 * running statistics updated in place with the unbiased variance, as PyTorch does) or in
 * evaluation mode (running statistics).
 */
export function batchNorm(x: Tensor, s: BatchNormState, train: boolean, update: RunningUpdate = { kind: 'ema' }): Tensor {
  return ag.layer(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    let xhat: Tensor;
    if (train) {
      const mu = ag.mean(x, axes);
      const centered = ag.sub(x, mu);
      const variance = ag.mean(ag.square(centered), axes);
      xhat = ag.mul(centered, ag.powScalar(ag.addScalar(variance, NORM_EPS), -0.5));
      const count = x.size / x.shape[x.shape.length - 1];
      updateRunning(s, mu, variance, count, update);
    } else {
      xhat = ag.mul(ag.sub(x, s.runningMean), ag.powScalar(ag.addScalar(s.runningVar, NORM_EPS), -0.5));
    }
    return affine(xhat, s.weight, s.bias);
  });
}

function affine(x: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  const scaled = weight ? ag.mul(x, weight) : x;
  return bias ? ag.add(scaled, bias) : scaled;
}

/** Writes the new running statistics into the running tensors' buffers (no readback). */
function updateRunning(s: BatchNormState, mu: Tensor, variance: Tensor, count: number, update: RunningUpdate): void {
  if (update.kind === 'none') return;
  ag.noGrad(() => {
    const unbiased = ag.scale(variance, count / Math.max(count - 1, 1));
    const rate = update.kind === 'ema' ? BN_MOMENTUM : 1 / (update.seen + 1);
    const mix = (old: Tensor, fresh: Tensor) => ag.add(ag.scale(old, 1 - rate), ag.scale(fresh, rate));
    const newMean = mix(s.runningMean, mu);
    const newVar = mix(s.runningVar, unbiased);
    s.runningMean.backend.copy(newMean.buf, s.runningMean.buf, newMean.size);
    s.runningVar.backend.copy(newVar.buf, s.runningVar.buf, newVar.size);
    newMean.dispose();
    newVar.dispose();
  });
}

/** nn.LayerNorm over the last axis with an elementwise affine map. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
  return ag.layer(() => {
    const mu = ag.mean(x, [-1], true);
    const centered = ag.sub(x, mu);
    const variance = ag.mean(ag.square(centered), [-1], true);
    return affine(ag.mul(centered, ag.powScalar(ag.addScalar(variance, NORM_EPS), -0.5)), weight, bias);
  });
}
