/**
 * How many examples fit in one evaluation or derivative batch. A convolution's im2col
 * buffer holds kh·kw copies of its input, so a batch size that suits an MLP (1 000 rows)
 * needs gigabytes for ResNet-20, and a single WebGPU binding is limited to 128 MiB. The
 * model's per-example footprint is measured once by a probe forward pass (what it
 * allocates for two examples, halved) and batches are capped to stay within a budget.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import { measureAllocations, tidy, zeros } from '../tensor.ts';
import type { Model } from './model.ts';

/** Largest tensor of an evaluation batch: 2^24 floats (64 MiB), half the default WebGPU binding limit. */
export const EVAL_TENSOR_BUDGET = 2 ** 24;
/** Everything a batch's gradient graph holds (about three forward passes for an HVP): 2^27 floats (512 MiB). */
export const GRAPH_BUDGET = 2 ** 27;

const footprints = new WeakMap<Model, { largest: number; total: number }>();

/** Floats per example: the largest single tensor and all tensors of one forward pass. */
export function footprint(model: Model, backend: Backend): { largest: number; total: number } {
  let f = footprints.get(model);
  if (!f) {
    let measured = { largest: 0, total: 0 };
    tidy(() =>
      ag.noGrad(() => {
        // Zero weights suffice to see the shapes (and cost nothing to generate).
        const ps = model.params.map((p) => zeros(backend, p.shape));
        const x = zeros(backend, [2, model.inputSize]);
        measured = measureAllocations(() => {
          model.forward(ps, x);
        });
      })
    );
    f = { largest: Math.ceil(measured.largest / 2), total: Math.ceil(measured.total / 2) };
    footprints.set(model, f);
  }
  return f;
}

/** Rows per evaluation batch: at most `requested`, and the largest tensor within EVAL_TENSOR_BUDGET. */
export function evalRows(model: Model, backend: Backend, requested: number): number {
  return Math.max(1, Math.min(requested, Math.floor(EVAL_TENSOR_BUDGET / Math.max(1, footprint(model, backend).largest))));
}

/** Rows per batch of gradients / HVPs: the recorded graph (≈ 3 forward passes) within GRAPH_BUDGET. */
export function graphRows(model: Model, backend: Backend, requested: number): number {
  return Math.max(1, Math.min(requested, Math.floor(GRAPH_BUDGET / Math.max(1, 3 * footprint(model, backend).total))));
}
