/**
 * The permutation conjecture across widths (git re-basin's direction): at each width, two
 * networks trained from independent initialisations (and data orders), their barrier as
 * trained, and after aligning B to A by weight matching and by activation matching. Wider
 * networks should lose more of their barrier to alignment.
 */
import { ALIGN_METHODS as MATCHINGS, checkAlignable, matchNetworks } from '../align/match.ts';
import { permuteState } from '../align/permute.ts';
import { objectiveOf } from '../align/weight_matching.ts';
import type { Backend } from '../backend.ts';
import { loadDataset } from '../data/registry.ts';
import type { MathMode } from '../math_mode.ts';
import { joinPath } from '../io.ts';
import { alphaGrid } from '../lmc/barrier.ts';
import { weightDistance } from '../lmc/distances.ts';
import { pairMetrics } from '../lmc/metrics.ts';
import { evaluatePath } from '../lmc/path_eval.ts';
import { createModel } from '../nn/registry.ts';
import { saveWeights } from '../train/checkpoint.ts';
import { disposeState, readWeights, stateFromWeights } from '../train/state.ts';
import { trainSteps } from '../train/trainer.ts';
import type { ForkSpec } from './fork_spec.ts';
import { repeatSeeds } from './repeat_seeds.ts';
import type { SplitMetrics } from './result_schema.ts';
import type { RunHost } from './run_host.ts';
import { trainConfigOf } from './train_config.ts';
import { trainingLoader } from './train_loader.ts';

/** 'none': the pair as trained. */
export const ALIGN_METHODS = ['none', ...MATCHINGS] as const;

export interface RebasinRow {
  width: number;
  method: (typeof ALIGN_METHODS)[number];
  /** The path after REPAIR (spec.repair; rows of the matchings only). */
  repaired?: boolean;
  train: SplitMetrics;
  test: SplitMetrics;
  weightDistance: number;
  /** Σ⟨W_A, π(W_B)⟩ (π = identity for 'none'). */
  objective: number;
  /** Seconds the matching took (0 for 'none'). */
  seconds: number;
}

export interface RebasinResult {
  kind: 'rebasin';
  spec: ForkSpec & { widths: number[] };
  seeds: { a: { init: number; order: number }; b: { init: number; order: number } };
  rows: RebasinRow[];
  provenance: {
    backend: string;
    math: MathMode;
    runtime: string;
    ridgelineVersion: string;
    gitCommit: string | null;
    finishedAt: string;
  };
}

export async function runRebasin(
  spec: ForkSpec,
  widths: number[],
  outDir: string,
  backend: Backend,
  host: RunHost,
): Promise<RebasinResult> {
  const dataset = await loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
  const stepsPerEpoch = Math.floor(dataset.train.n / spec.batch);
  const steps = spec.unit === 'steps' ? spec.total! : Math.round(spec.total! * stepsPerEpoch);
  const train = trainConfigOf(spec, stepsPerEpoch, steps);
  // Independent networks: repeat 0's seeds for A, repeat 1's (all drawn anew) for B.
  const seeds = [repeatSeeds(spec, 0), repeatSeeds(spec, 1)];
  const alphas = alphaGrid(spec.alphas);
  const rows: RebasinRow[] = [];
  for (const width of widths) {
    const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width, slope: spec.slope });
    checkAlignable(model, { align: 'weight', repair: spec.repair });
    const nets: Float32Array[][] = [];
    for (const [k, s] of seeds.entries()) {
      const state = stateFromWeights(backend, model, model.init(s.init), train, 0);
      try {
        host.progress.start(`width ${width}: network ${'AB'[k]} (init seed ${s.init}, order seed ${s.order})`, steps);
        await trainSteps(backend, model, state, trainingLoader(dataset, { ...spec, seedAugment: s.augment }, s.order), steps, train, {
          onSync: (first, losses) => host.progress.update(first + losses.length, `loss ${losses[losses.length - 1].toFixed(4)}`),
        });
        host.progress.finish();
        nets.push(await readWeights(state));
      } finally {
        disposeState(state);
      }
      await saveWeights(host.files, joinPath(outDir, `width-${width}`, `${'ab'[k]}.safetensors`), model, nets[k], {
        initSeed: String(s.init),
        orderSeed: String(s.order),
      });
    }
    const [a, b] = nets;
    for (const method of ALIGN_METHODS) {
      const t0 = performance.now();
      const match = method === 'none' ? null : await matchNetworks(backend, model, a, b, method, dataset.train);
      const seconds = (performance.now() - t0) / 1000;
      const bb = match ? permuteState(model, b, match.perms) : b;
      if (match) {
        await saveWeights(host.files, joinPath(outDir, `width-${width}`, `b-${method}-aligned.safetensors`), model, bb, {
          method,
          objective: String(match.objective),
        });
      }
      host.progress.log(`width ${width}: evaluating the path ${method === 'none' ? 'as trained' : `after ${method} matching`}`);
      const metrics = pairMetrics(
        await evaluatePath(backend, model, a, bb, alphas, dataset.train, spec.evalBatch),
        await evaluatePath(backend, model, a, bb, alphas, dataset.test, spec.evalBatch),
      );
      rows.push({
        width,
        method,
        ...metrics,
        weightDistance: weightDistance(a, bb),
        objective: match ? match.objective : objectiveOf(a, b),
        seconds,
      });
      if (match && spec.repair) {
        host.progress.log(`width ${width}: evaluating the path after ${method} matching and REPAIR`);
        const repair = { split: dataset.train };
        const repaired = pairMetrics(
          await evaluatePath(backend, model, a, bb, alphas, dataset.train, spec.evalBatch, undefined, repair),
          await evaluatePath(backend, model, a, bb, alphas, dataset.test, spec.evalBatch, undefined, repair),
        );
        rows.push({
          width,
          method,
          repaired: true,
          ...repaired,
          weightDistance: weightDistance(a, bb),
          objective: match.objective,
          seconds,
        });
      }
    }
  }
  return {
    kind: 'rebasin',
    spec: { ...spec, widths },
    seeds: { a: { init: seeds[0].init, order: seeds[0].order }, b: { init: seeds[1].init, order: seeds[1].order } },
    rows,
    provenance: {
      backend: backend.description,
      math: backend.math,
      runtime: host.runtime,
      ridgelineVersion: host.version,
      gitCommit: host.gitCommit,
      finishedAt: new Date().toISOString(),
    },
  };
}
