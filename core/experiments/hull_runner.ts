/**
 * The convex-hull experiment (docs/metrics.md#convex-hulls, Yunis et al. Algorithm 1) end to end: a parent
 * trained once with the parent order seed and checkpointed at every split point k; at each
 * k, H hulls of P children forked from the parent's checkpoint (weights, optimizer state
 * and step) and trained T steps; per hull, Algorithm 1 and the singular values; across the
 * hulls, functional diversity. Writes DIR/hull.json, DIR/hull.csv and DIR/hull.html.
 *
 * Child order seeds: child i of hull h uses seedOrder + 1 + h·P + i (P = children per
 * hull), the same at every split point — the fork experiment's rule (s0 + 1, s0 + 2)
 * extended to H·P children, so hulls never share a data order with each other or with the
 * parent. Hull h's random draws use the hull seed with streams `hull/<k>/<h>/…` (k the
 * split's global step; see core/lmc/hull.ts).
 *
 * Resume: the spec is claimed in the RunStore; every line keeps its checkpoints
 * (`parent-step-k`, `split-k/hull-h/child-i-step-(k+T)`), and a finished split is a cell
 * (`cells/split-k.json`), so a killed run started again retrains nothing finished and
 * re-evaluates only the split that was cut short. Children always start from the parent's
 * checkpoint file, so a resumed run and an uninterrupted one take the same path.
 */
import type { Backend } from '../backend.ts';
import { recordedSpec } from '../math_mode.ts';
import { BatchLoader } from '../data/loader.ts';
import { loadDataset } from '../data/registry.ts';
import { RidgelineError } from '../errors.ts';
import { type Diversity, diversity, evaluateHull, type HullMetrics, type Proportion, proportion } from '../lmc/hull.ts';
import type { Model } from '../nn/model.ts';
import { createModel } from '../nn/registry.ts';
import { hullCsv, hullReportHtml } from '../report/hull_html.ts';
import { loadCheckpoint, loadWeights, saveCheckpoint, WEIGHTS_SUFFIX } from '../train/checkpoint.ts';
import type { TrainConfig } from '../train/config.ts';
import { disposeState, stateFromWeights, type TrainState } from '../train/state.ts';
import { trainSteps } from '../train/trainer.ts';
import type { RunHost } from './run_host.ts';
import { trainConfigOf } from './train_config.ts';
import { applyOptions, FORK_DEFAULTS, type ForkSpec } from './fork_spec.ts';
import type { PhaseTiming, Provenance } from './result_schema.ts';
import { RunStore } from './run_store.ts';

export const HULL_SCHEMA_VERSION = 1;

/** Fork-spec fields with the same meaning here (model, data, optimizer, seeds, …). */
type SharedFields = Omit<ForkSpec, 'k1' | 'k2' | 'total' | 'mode' | 'repeats' | 'alphas' | 'threshold'>;

export interface HullSpec extends SharedFields {
  /** Split points k in `unit` (sorted, distinct). */
  splits: number[];
  /** Child training length T after the split, in `unit`. */
  train: number;
  /** Endpoints per hull P (≥ 2). */
  children: number;
  /** Convex / random samples per hull J (≥ 1). */
  samples: number;
  /** Independent hulls per split H (≥ 1), for the inter-hull S*. */
  hulls: number;
  seedHull: number;
}

const SHARED_DEFAULTS: SharedFields = (({ k1: _a, k2: _b, total: _c, mode: _d, repeats: _e, alphas: _f, threshold: _g, ...rest }) => rest)(
  FORK_DEFAULTS,
);

/** Defaults; `splits` and `train` have none (empty / 0) and must be given. */
export const HULL_DEFAULTS: HullSpec = { ...SHARED_DEFAULTS, splits: [], train: 0, children: 6, samples: 50, hulls: 2, seedHull: 0 };

/** Hull-only options; every other option is a shared fork-spec option. */
export const HULL_ONLY_OPTIONS = ['splits', 'train', 'children', 'samples', 'hulls', 'seed-hull'] as const;

function bad(option: string, message: string): never {
  throw new RidgelineError('E_SPEC', `--${option}: ${message}`);
}

function count(option: string, text: string, min: number, why: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(v)) bad(option, `expected an integer, got '${text}'`);
  if (v < min) bad(option, `must be ≥ ${min} (${why}), got ${v}`);
  return v;
}

function amount(option: string, text: string, integer: boolean, unit: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) bad(option, `expected a number ≥ 0 (in ${unit}), got '${text}'`);
  if (integer && !Number.isSafeInteger(v)) bad(option, `expected a whole number of steps, got '${text}' (use --unit epochs for fractions)`);
  return v;
}

/** Applies command-line style options on top of a base spec and validates the result. */
export function applyHullOptions(base: HullSpec, o: Record<string, string>): HullSpec {
  const shared: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (!(HULL_ONLY_OPTIONS as readonly string[]).includes(k)) shared[k] = v;
  // The fork spec's parser validates the shared options; its fork-only fields are dummies.
  const f = applyOptions({ ...FORK_DEFAULTS, ...base, k1: [0], k2: null, total: 1 }, shared);
  const { k1: _a, k2: _b, total: _c, mode: _d, repeats: _e, alphas: _f, threshold: _g, ...rest } = f;
  const s: HullSpec = { ...base, ...rest };
  const steps = s.unit === 'steps';
  if (o.splits !== undefined) {
    const list = o.splits.split(',').filter((t) => t.trim() !== '').map((t) => amount('splits', t, steps, s.unit));
    if (list.length === 0) bad('splits', `expected a comma-separated list of split points in ${s.unit}, got '${o.splits}'`);
    s.splits = [...new Set(list)].sort((a, b) => a - b);
  }
  if (o.train !== undefined) s.train = amount('train', o.train, steps, s.unit);
  if (o.children !== undefined) s.children = count('children', o.children, 2, 'a hull needs at least two endpoints');
  if (o.samples !== undefined) s.samples = count('samples', o.samples, 1, 'J convex samples per hull');
  if (o.hulls !== undefined) s.hulls = count('hulls', o.hulls, 1, 'independent hulls per split');
  if (o['seed-hull'] !== undefined) s.seedHull = count('seed-hull', o['seed-hull'], 0, 'a seed');
  return validateHull(s);
}

export function validateHull(s: HullSpec): HullSpec {
  if (s.splits.length === 0) bad('splits', `give the split points k as a list in ${s.unit}, e.g. --splits 0,0.25,1,2`);
  if (!(s.train > 0)) bad('train', `the children's training length after the split must be > 0 ${s.unit}, got ${s.train}`);
  if (s.children < 2) bad('children', `must be ≥ 2 (a hull needs at least two endpoints), got ${s.children}`);
  if (s.samples < 1) bad('samples', `must be ≥ 1, got ${s.samples}`);
  if (s.hulls < 1) bad('hulls', `must be ≥ 1, got ${s.hulls}`);
  if (s.nesterov && (s.optimizer !== 'sgd' || s.momentum === 0)) bad('nesterov', 'needs --optimizer sgd with --momentum > 0');
  return s;
}

/** Order seed of child i of hull h (see the module comment). */
export function childSeed(spec: HullSpec, hull: number, child: number): number {
  return spec.seedOrder + 1 + hull * spec.children + child;
}

export interface HullRecord extends Omit<HullMetrics, 'samples'> {
  hull: number;
  childSeeds: number[];
  /** Endpoint weight files, relative to the run directory. */
  checkpoints: string[];
  samples: HullMetrics['samples'];
}

/** One split point: every hull, and the pooled numbers the tables and plots show. */
export interface HullSplitResult {
  /** The split point in `units`, its global step, and the children's final step. */
  split: number;
  step: number;
  endStep: number;
  /** Pooled over the H·J samples of all hulls. */
  pConv: Proportion;
  pRand: Proportion;
  accuracy: HullMetrics['accuracy'];
  loss: HullMetrics['loss'];
  distance: HullMetrics['distance'];
  /** Mean over hulls of the k-th singular value (raw and centered). */
  singularValues: number[];
  singularValuesCentered: number[];
  diversity: Diversity;
  hulls: HullRecord[];
}

export interface HullResult {
  schemaVersion: number;
  kind: 'hull';
  spec: Record<string, unknown>;
  seeds: { init: number; order: number; hull: number; children: number[][] };
  units: 'steps' | 'epochs';
  stepsPerEpoch: number;
  provenance: Provenance;
  timings: PhaseTiming[];
  parentLoss: { step: number; loss: number }[];
  splits: HullSplitResult[];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const meanOf = <T>(xs: readonly T[], f: (x: T) => number) => mean(xs.map(f));
const ckpt = (line: string, step: number) => `${line}-step-${step}`;

/** Pools the hulls of one split. */
function poolSplit(split: number, step: number, endStep: number, hulls: HullRecord[], div: Diversity): HullSplitResult {
  const samples = hulls.flatMap((h) => h.samples);
  const p = hulls[0].singularValues.length;
  const sv = (f: (h: HullRecord) => number[]) => Array.from({ length: p }, (_, k) => meanOf(hulls, (h) => f(h)[k]));
  return {
    split,
    step,
    endStep,
    pConv: proportion(samples.map((s) => s.conv)),
    pRand: proportion(samples.map((s) => s.rand)),
    accuracy: {
      endpoints: meanOf(hulls, (h) => h.accuracy.endpoints),
      convex: meanOf(samples, (s) => s.accuracyConv),
      random: meanOf(samples, (s) => s.accuracyRand),
    },
    loss: {
      endpoints: meanOf(hulls, (h) => h.loss.endpoints),
      convex: meanOf(samples, (s) => s.lossConv),
      random: meanOf(samples, (s) => s.lossRand),
    },
    distance: {
      endpointEndpoint: meanOf(hulls, (h) => h.distance.endpointEndpoint),
      convEnd: meanOf(samples, (s) => s.distanceConvEnd),
      randEnd: meanOf(samples, (s) => s.distanceRandEnd),
    },
    singularValues: sv((h) => h.singularValues),
    singularValuesCentered: sv((h) => h.singularValuesCentered),
    diversity: div,
    hulls,
  };
}

interface Ctx {
  backend: Backend;
  model: Model;
  train: TrainConfig;
  store: RunStore;
  host: RunHost;
}

/**
 * Makes sure `line` has a checkpoint at every step of `needed`, training from the latest
 * checkpoint before the first missing one (or from `start`) with `orderSeed`.
 */
async function trainLine(
  ctx: Ctx,
  loader: BatchLoader,
  line: string,
  start: () => Promise<TrainState>,
  needed: number[],
  onLoss?: (first: number, l: Float32Array) => void,
  onCheckpoint?: () => Promise<void>,
): Promise<void> {
  const { store, host } = ctx;
  const want = [...new Set(needed)].sort((a, b) => a - b);
  const have = await Promise.all(want.map((s) => store.hasCheckpoint(ckpt(line, s), line, s)));
  store.drainDamaged((m) => host.progress.log(m));
  const firstMissing = have.indexOf(false);
  if (firstMissing < 0) return;
  const state = firstMissing > 0 ? await loadStep(ctx, ckpt(line, want[firstMissing - 1]), want[firstMissing - 1]) : await start();
  try {
    host.progress.start(`${line} (order seed ${loader.orderSeed})`, want[want.length - 1]);
    for (const target of want.slice(firstMissing)) {
      await trainSteps(ctx.backend, ctx.model, state, loader, target, ctx.train, {
        onSync: (first, losses) => {
          onLoss?.(first, losses);
          host.progress.update(first + losses.length, `loss ${losses[losses.length - 1].toFixed(4)}`);
        },
      });
      await saveCheckpoint(store.files, store.checkpointBase(ckpt(line, target)), ctx.model, state, {
        ...store.checkpointMeta(line, target),
        orderSeed: String(loader.orderSeed),
      });
      await onCheckpoint?.();
    }
    host.progress.finish();
  } finally {
    disposeState(state);
  }
}

/** A checkpoint's full training state, checked to be at `step` (a foreign file is not). */
async function loadStep(ctx: Ctx, name: string, step: number): Promise<TrainState> {
  const state = await loadCheckpoint(ctx.store.files, ctx.store.checkpointBase(name), ctx.backend, ctx.model, ctx.train);
  if (state.step !== step) {
    disposeState(state);
    throw new RidgelineError(
      'E_SPEC',
      `checkpoint ${
        ctx.store.checkpointBase(name)
      } holds step ${state.step}, but this run needs step ${step}: the run directory does not belong to this spec; use another --out`,
    );
  }
  return state;
}

export async function runHullExperiment(spec: HullSpec, outDir: string, backend: Backend, host: RunHost): Promise<HullResult> {
  validateHull(spec);
  const startedAt = new Date().toISOString();
  const timings: PhaseTiming[] = [];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const prev = timings.find((t) => t.phase === phase);
    if (prev) prev.seconds += (performance.now() - t0) / 1000;
    else timings.push({ phase, seconds: (performance.now() - t0) / 1000 });
    return r;
  };
  const store = new RunStore(host.files, outDir);
  const dataset = await timed(
    'load data',
    () => loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize }),
  );
  const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
  const loader = (seed: number) => new BatchLoader(dataset.train, dataset.inputShape, { batchSize: spec.batch, orderSeed: seed });
  const stepsPerEpoch = loader(spec.seedOrder).stepsPerEpoch;
  // Only now, with data, model and batch size checked, is the directory claimed (nothing written before).
  if (await store.claim(recordedSpec(spec, backend.math) as unknown as Record<string, unknown>)) {
    host.progress.log(`resuming the run in ${outDir}: finished splits and checkpoints are reused`);
  }
  store.drainDamaged((m) => host.progress.log(m));
  const toSteps = (v: number) => (spec.unit === 'steps' ? v : Math.round(v * stepsPerEpoch));
  const splitSteps = spec.splits.map(toSteps);
  const T = toSteps(spec.train);
  if (T < 1) bad('train', `${spec.train} ${spec.unit} is 0 steps at ${stepsPerEpoch} steps per epoch; the children would not train`);
  splitSteps.forEach((k, i) => {
    const j = splitSteps.indexOf(k);
    if (j !== i) {
      bad(
        'splits',
        `split points ${spec.splits[j]} and ${
          spec.splits[i]
        } ${spec.unit} both fall at step ${k} (${stepsPerEpoch} steps per epoch); give distinct points`,
      );
    }
  });
  const lastStep = Math.max(...splitSteps) + T;
  const forkLike: ForkSpec = { ...FORK_DEFAULTS, ...spec, k1: splitSteps, k2: [T], total: null };
  const ctx: Ctx = { backend, model, train: trainConfigOf(forkLike, stepsPerEpoch, lastStep), store, host };
  const initWeights = spec.from ? await loadWeights(host.files, spec.from, model) : model.init(spec.seedInit);

  const lossFile = store.path('logs', 'parent-loss.json');
  const parentLoss = await store.readLossLog(lossFile, (m) => host.progress.log(m));
  const cellName = (k: number) => `split-${k}`;
  const pending = (await Promise.all(splitSteps.map(async (k) => ((await store.readCell(cellName(k))) === null ? k : -1)))).filter((k) =>
    k >= 0
  );
  await timed(
    'parent',
    () =>
      trainLine(
        ctx,
        loader(spec.seedOrder),
        'parent',
        async () => stateFromWeights(backend, model, initWeights, ctx.train, 0),
        pending,
        (first, losses) => {
          // Every 10th step's loss, for the report; saved with each checkpoint so a resume keeps it.
          losses.forEach((l, i) => {
            if ((first + i) % 10 === 0 && !parentLoss.some((q) => q.step === first + i)) parentLoss.push({ step: first + i, loss: l });
          });
        },
        () => host.files.write(lossFile, JSON.stringify(parentLoss)),
      ),
  );

  const seeds = Array.from({ length: spec.hulls }, (_, h) => Array.from({ length: spec.children }, (_, i) => childSeed(spec, h, i)));
  const results: HullSplitResult[] = [];
  for (const [n, k] of splitSteps.entries()) {
    const done = await store.readCell<HullSplitResult>(cellName(k));
    store.drainDamaged((m) => host.progress.log(m));
    if (done) {
      results.push(done);
      continue;
    }
    const line = (h: number, i: number) => `split-${k}/hull-${h}/child-${i}`;
    await timed('children', async () => {
      for (let h = 0; h < spec.hulls; h++) {
        for (let i = 0; i < spec.children; i++) {
          await trainLine(ctx, loader(seeds[h][i]), line(h, i), () => loadStep(ctx, ckpt('parent', k), k), [k + T]);
        }
      }
    });
    const records: HullRecord[] = [];
    const correct: Uint8Array[][] = [];
    await timed('hull evaluation', async () => {
      for (let h = 0; h < spec.hulls; h++) {
        const files = seeds[h].map((_, i) => store.checkpointBase(ckpt(line(h, i), k + T)) + WEIGHTS_SUFFIX);
        const endpoints = await Promise.all(files.map((f) => loadWeights(host.files, f, model)));
        host.progress.start(
          `split ${spec.splits[n]} ${spec.unit}: hull ${h + 1}/${spec.hulls}, ${spec.samples} convex + ${spec.samples} random samples`,
          spec.samples,
        );
        const r = await evaluateHull(backend, model, endpoints, dataset.train, {
          samples: spec.samples,
          seed: spec.seedHull,
          stream: `hull/${k}/${h}`,
          batch: spec.evalBatch,
          onChunk: (d) => host.progress.update(d),
        });
        host.progress.finish(`P_conv ${r.metrics.pConv.mean.toFixed(2)}, P_rand ${r.metrics.pRand.mean.toFixed(2)}`);
        records.push({ hull: h, childSeeds: seeds[h], checkpoints: files.map((f) => f.slice(store.dir.length + 1)), ...r.metrics });
        correct.push(r.correct);
      }
    });
    const result = poolSplit(spec.splits[n], k, k + T, records, diversity(correct));
    await store.writeCell(cellName(k), result);
    results.push(result);
  }

  const result: HullResult = {
    schemaVersion: HULL_SCHEMA_VERSION,
    kind: 'hull',
    spec: {
      ...spec,
      resolved: {
        modelDescription: model.description,
        parameters: model.parameterCount,
        dataset: dataset.name,
        dataSource: dataset.source,
        trainExamples: dataset.train.n,
        normalization: dataset.normalization,
        stepsPerEpoch,
        splitSteps,
        trainSteps: T,
        train: ctx.train,
        lossSplit: 'train (indicators, accuracies and correct sets are all on the train split)',
      },
    },
    seeds: { init: spec.seedInit, order: spec.seedOrder, hull: spec.seedHull, children: seeds },
    units: spec.unit,
    stepsPerEpoch,
    provenance: {
      backend: backend.kind,
      adapter: backend.description,
      math: backend.math,
      runtime: host.runtime,
      ridgelineVersion: host.version,
      gitCommit: host.gitCommit,
      startedAt,
      finishedAt: new Date().toISOString(),
    },
    timings,
    parentLoss: [...parentLoss].sort((a, b) => a.step - b.step),
    splits: results,
  };
  await host.files.write(store.path('hull.json'), JSON.stringify(result, null, 1));
  await host.files.write(store.path('hull.csv'), hullCsv(result));
  await host.files.write(store.path('hull.html'), hullReportHtml(result));
  return result;
}
