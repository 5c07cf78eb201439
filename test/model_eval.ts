/** Eval-mode logits of a model for given weights and inputs (a test helper shared by model tests). */
import * as ag from '../core/autograd/mod.ts';
import type { Backend } from '../core/backend.ts';
import type { Model } from '../core/nn/model.ts';
import { fromArray, keep, tidy } from '../core/tensor.ts';

export async function logitsOf(
  be: Backend,
  model: Model,
  weights: readonly Float32Array[],
  x: Float32Array,
  n: number,
): Promise<Float32Array> {
  const out = tidy(() => {
    const ps = model.params.map((p, i) => fromArray(be, weights[i], p.shape));
    return keep(ag.noGrad(() => model.forward(ps, fromArray(be, x, [n, model.inputSize]))));
  });
  try {
    return await out.data();
  } finally {
    out.dispose();
  }
}
