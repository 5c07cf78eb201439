/**
 * "Reset BN": recompute a network's batch-norm running statistics on training data instead
 * of interpolating them (docs/models.md). Like PyTorch's `torch.optim.swa_utils.update_bn`, the
 * statistics are the equal-weight average over the batches of the per-batch mean and
 * unbiased variance (momentum = None), with the network in training mode.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { evalRows } from '../nn/footprint.ts';
import type { Model } from '../nn/model.ts';
import { fromArray, type Tensor, tidy } from '../tensor.ts';

export interface ResetBnOptions {
  /** Training data the statistics are computed on. */
  split: Split;
  /** Rows per batch (the training batch size, like a training loader; capped to fit memory). */
  batch: number;
  /** Use at most this many examples (default: all). */
  examples?: number;
}

/** Overwrites the buffers among `params` (in place) with statistics recomputed on the data. */
export function recomputeBatchNorm(backend: Backend, model: Model, params: readonly Tensor[], o: ResetBnOptions): void {
  const n = Math.min(o.examples ?? o.split.n, o.split.n);
  const batch = evalRows(model, backend, o.batch);
  let seen = 0;
  for (let start = 0; start < n; start += batch, seen++) {
    const rows = Math.min(batch, n - start);
    tidy(() =>
      ag.noGrad(() => {
        const x = fromArray(backend, o.split.x.subarray(start * model.inputSize, (start + rows) * model.inputSize), [
          rows,
          model.inputSize,
        ]);
        model.forward(params, x, { train: true, bnUpdate: { kind: 'cumulative', seen } });
      })
    );
  }
}
