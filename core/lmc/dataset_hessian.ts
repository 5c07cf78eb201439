/**
 * λ_max, λ_min and their ratio of the dataset loss's Hessian at given weights (docs/metrics.md,
 * "Second order"): exact Hessian-vector products (double backward) fed to Lanczos or power
 * iteration. What `ridgeline hessian --checkpoint` measures, as one call for library users.
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import type { Model } from '../nn/model.ts';
import { DatasetDerivatives, type DerivativeOptions } from './dataset_derivatives.ts';
import { type EigenOptions, type ExtremeEigenvalues, extremeEigenvalues } from './hessian.ts';

/** The extreme eigenvalues of ∇²L(weights), L the mean loss over `split` (pass a fixed subset to bound the cost). */
export async function hessianEigenvalues(
  backend: Backend,
  model: Model,
  weights: readonly Float32Array[],
  split: Split,
  options: EigenOptions & DerivativeOptions = {},
): Promise<ExtremeEigenvalues> {
  const d = new DatasetDerivatives(backend, model, weights, split, { batch: options.batch });
  try {
    return await extremeEigenvalues((v) => d.hvp(v), d.dim, options);
  } finally {
    d.dispose();
  }
}
