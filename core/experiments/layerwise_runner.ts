/**
 * Layer-wise barriers (measured) next to their Prop. 2 and Eq. 21 predictions, for each
 * layer alone and for the cumulative sets {1}, {1,2}, …, for every pair of a source.
 */
import type { Backend } from '../backend.ts';
import type { FileStore } from '../io.ts';
import { alphaGrid } from '../lmc/barrier.ts';
import { subsetOf } from '../lmc/dataset_derivatives.ts';
import { DatasetOracle } from '../lmc/dataset_oracle.ts';
import { flatten } from '../lmc/geometry.ts';
import { layerMask, layerSets, layerwiseBarriers, layerwisePrediction } from '../lmc/layerwise.ts';
import { pairCurvature } from '../lmc/predict.ts';
import type { Progress } from '../progress.ts';
import { loadPair, type PairSource } from './pair_source.ts';

export interface LayerSetResult {
  set: string;
  kind: 'single' | 'cumulative';
  measured: number[];
  prop2: number[];
  eq21: number;
  measuredMax: number;
  prop2Max: number;
}

export interface LayerwisePair {
  label: string;
  k1: number | null;
  k2: number | null;
  alphas: number[];
  sets: LayerSetResult[];
}

export async function layerwisePairs(
  backend: Backend,
  files: FileStore,
  source: PairSource,
  o: { subset: number; alphas: number; batch: number },
  progress: Progress,
): Promise<{ subset: number; pairs: LayerwisePair[] }> {
  const split = subsetOf(source.dataset.train, o.subset);
  const alphas = alphaGrid(o.alphas);
  const { single, cumulative } = layerSets(source.model);
  const sets = [...single.map((s) => ({ s, kind: 'single' as const })), ...cumulative.map((s) => ({ s, kind: 'cumulative' as const }))];
  const out: LayerwisePair[] = [];
  progress.start('layer-wise', source.pairs.length);
  for (const [i, pair] of source.pairs.entries()) {
    const [wA, wB] = await loadPair(files, source, pair);
    const curves = await layerwiseBarriers(backend, source.model, wA, wB, sets.map((x) => x.s), alphas, split, o.batch);
    const oracle = new DatasetOracle(backend, source.model, split, o.batch);
    const [t1, t2] = [flatten(wA), flatten(wB)];
    const results: LayerSetResult[] = [];
    try {
      for (const [k, { s, kind }] of sets.entries()) {
        const c = await pairCurvature(oracle, t1, t2, layerMask(source.model, s));
        const { prop2, eq21 } = layerwisePrediction(alphas, c);
        results.push({
          set: s.name,
          kind,
          measured: curves[k].barrier,
          prop2,
          eq21,
          measuredMax: Math.max(...curves[k].barrier.slice(1, -1)),
          prop2Max: Math.max(...prop2.slice(1, -1)),
        });
      }
    } finally {
      oracle.dispose();
    }
    out.push({ label: pair.label, k1: pair.k1, k2: pair.k2, alphas, sets: results });
    progress.update(i + 1, pair.label);
  }
  progress.finish();
  return { subset: split.n, pairs: out };
}
