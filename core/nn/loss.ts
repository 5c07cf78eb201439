/** The training loss of a model's task (docs/fork.md#training): softmax cross-entropy or mean squared error. */
import * as ag from '../autograd/mod.ts';
import type { Reduction } from '../autograd/losses.ts';
import type { Tensor } from '../tensor.ts';
import type { Model } from './model.ts';

export function taskLoss(model: Model, out: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (model.task === 'regression') {
    const err = ag.mse(out, ag.reshape(y, out.shape), reduction === 'mean' ? 'none' : reduction);
    // Mean over examples of the summed squared error per example (one output: plain MSE).
    return reduction === 'mean' ? ag.scale(ag.sum(err), 1 / out.shape[0]) : err;
  }
  return ag.softmaxCrossEntropy(out, y, reduction);
}

/** `params` with the trainable entries (at `indices`) replaced by `trainable`. */
export function withTrainable(params: readonly Tensor[], indices: readonly number[], trainable: readonly Tensor[]): Tensor[] {
  const out = [...params];
  indices.forEach((i, k) => (out[i] = trainable[k]));
  return out;
}
