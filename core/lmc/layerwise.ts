/**
 * Layer-wise linear mode connectivity (Adilova et al., as in Singh et al. App. A.2;
 * docs/metrics.md#second-order). For a set 𝒫 of layers with mask P and Δ = θ2 − θ1:
 *   θ_{2→1}(α) = θ1 + α·PΔ,  θ_{1→2}(α) = θ2 − (1−α)·PΔ,
 *   B_𝒫(α) = (1−α)·L(θ_{2→1}) + α·L(θ_{1→2}) − [(1−α)·L(θ1) + α·L(θ2)].
 * Predictions: Prop. 2, α(1−α)/2 · (PΔ)ᵀ(α·H1 + (1−α)·H2)(PΔ), and Eq. 21,
 * ⅛·(PΔ)ᵀ H1 (PΔ). Both interpolations are linear combinations of θ1 and θ2 with
 * per-tensor coefficients, so every point is evaluated batched (combination_eval.ts).
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { argError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import { evaluateCombinations } from './combination_eval.ts';
import { type PairCurvature, prop1Prediction } from './predict.ts';

export interface LayerSet {
  /** e.g. `0` for one layer or `0+2` for a cumulative set (PyTorch module names). */
  name: string;
  /** Indices into model.layers. */
  layers: number[];
}

/** Each layer alone, then the cumulative sets {1}, {1,2}, … (the last one is every layer). */
export function layerSets(model: Model): { single: LayerSet[]; cumulative: LayerSet[] } {
  const single = model.layers.map((l, i) => ({ name: l.name, layers: [i] }));
  const cumulative = model.layers.map((_, i) => ({
    name: model.layers.slice(0, i + 1).map((l) => l.name).join('+'),
    layers: Array.from({ length: i + 1 }, (_, j) => j),
  }));
  return { single, cumulative };
}

/** The mask P of a layer set over the flat parameter vector. */
export function layerMask(model: Model, set: LayerSet): Uint8Array {
  const mask = new Uint8Array(model.stateSize);
  for (const l of set.layers) {
    const slice = model.layers[l];
    if (!slice) argError('layerwise', `layer ${l} does not exist (model has ${model.layers.length})`);
    mask.fill(1, slice.offset, slice.offset + slice.length);
  }
  return mask;
}

export interface LayerwiseCurve {
  set: LayerSet;
  alphas: number[];
  /** Measured B_𝒫(α), exactly 0 at α = 0 and 1. */
  barrier: number[];
}

/** Measured layer-wise barrier curves of every set on a data split. */
export async function layerwiseBarriers(
  backend: Backend,
  model: Model,
  w1: Float32Array[],
  w2: Float32Array[],
  sets: readonly LayerSet[],
  alphas: readonly number[],
  split: Split,
  batch = 1000,
): Promise<LayerwiseCurve[]> {
  const tensorsIn = sets.map((s) => new Set(s.layers.flatMap((l) => model.layers[l].params)));
  const interior = alphas.filter((a) => a > 0 && a < 1);
  // Points: θ1, θ2, then for each set and interior α the two interpolations.
  const points: number[][][] = [model.params.map(() => [1, 0]), model.params.map(() => [0, 1])];
  for (const inSet of tensorsIn) {
    for (const a of interior) {
      points.push(model.params.map((_, t) => (inSet.has(t) ? [1 - a, a] : [1, 0])));
      points.push(model.params.map((_, t) => (inSet.has(t) ? [1 - a, a] : [0, 1])));
    }
  }
  const { points: r } = await evaluateCombinations(backend, model, [w1, w2], points, split, { batch });
  const [l1, l2] = [r[0].loss, r[1].loss];
  return sets.map((set, s) => ({
    set,
    alphas: [...alphas],
    barrier: alphas.map((a) => {
      const k = interior.indexOf(a);
      if (k < 0) return 0;
      const base = 2 + 2 * (s * interior.length + k);
      return (1 - a) * r[base].loss + a * r[base + 1].loss - ((1 - a) * l1 + a * l2);
    }),
  }));
}

/** Prop. 2 curve and the Eq. 21 estimate from the masked curvature of a layer set. */
export function layerwisePrediction(alphas: readonly number[], c: PairCurvature): { prop2: number[]; eq21: number } {
  return { prop2: alphas.map((a) => prop1Prediction(a, c)), eq21: c.q1 / 8 };
}
