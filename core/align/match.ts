/** Aligning B to A by either method: the one entry point of the align, barrier and rebasin commands. */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import type { Model } from '../nn/model.ts';
import { activationMatching } from './activation_matching.ts';
import { permutationsOf } from './permute.ts';
import { repairLayers } from './repair.ts';
import { backendGram, type MatchResult, weightMatching } from './weight_matching.ts';

export const ALIGN_METHODS = ['weight', 'activation'] as const;
export type AlignMethod = (typeof ALIGN_METHODS)[number];

/**
 * Weight matching (cost matrices on `backend`) or activation matching on the first
 * `examples` of `train`; seeded, so the same call gives the same permutations.
 */
export async function matchNetworks(
  backend: Backend,
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  method: AlignMethod,
  train: Split,
  o: { seed?: number; examples?: number } = {},
): Promise<MatchResult> {
  return method === 'weight'
    ? weightMatching(model, a, b, { seed: o.seed, gram: backendGram(backend) })
    : activationMatching(backend, model, a, b, train, { limit: o.examples, seed: o.seed });
}

/**
 * Refuses, before any work, a model that cannot be aligned (no derived symmetry) or, with
 * `repair`, repaired (batch norm, residual streams): E_SPEC naming why.
 */
export function checkAlignable(model: Model, o: { align: AlignMethod | null; repair: boolean }): void {
  if (o.align) permutationsOf(model);
  if (o.repair) repairLayers(model);
}
