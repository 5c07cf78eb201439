/**
 * Runs a fork experiment end to end from its spec: data, model, training configuration,
 * the fork grid (resumable), and the result files — result.json (schema, resolved spec,
 * seeds, provenance, timings, every cell, summaries over repeats), cells.csv, curves.csv,
 * summary.csv and a self-contained
 * report.html.
 */
import type { Backend } from '../backend.ts';
import { featureCount } from '../data/dataset.ts';
import { loadDataset } from '../data/registry.ts';
import type { FileStore } from '../io.ts';
import { runFork } from '../lmc/fork.ts';
import { forkFinding, summarizeCells } from '../lmc/fork_summary.ts';
import { createModel } from '../nn/registry.ts';
import type { Progress } from '../progress.ts';
import { cellsCsv, curvesCsv, summaryCsv } from '../report/csv.ts';
import { forkReportHtml } from '../report/html.ts';
import { loadWeights } from '../train/checkpoint.ts';
import type { TrainConfig } from '../train/config.ts';
import type { ForkSpec } from './fork_spec.ts';
import { forkCells } from './fork_spec.ts';
import { type ForkResult, type PhaseTiming, RESULT_SCHEMA_VERSION } from './result_schema.ts';
import { RunStore } from './run_store.ts';
import { trainingLoader } from './train_loader.ts';

export interface RunHost {
  files: FileStore;
  progress: Progress;
  runtime: string;
  version: string;
  gitCommit: string | null;
}

/** The optimisation settings of a spec, with epoch quantities converted to steps. */
export function trainConfigOf(spec: ForkSpec, stepsPerEpoch: number, totalSteps: number): TrainConfig {
  return {
    optimizer: spec.optimizer,
    momentum: spec.momentum,
    dampening: spec.dampening,
    nesterov: spec.nesterov,
    weightDecay: spec.weightDecay,
    beta1: spec.beta1,
    beta2: spec.beta2,
    eps: spec.eps,
    clip: spec.clip,
    batch: spec.batch,
    schedule: {
      kind: spec.schedule,
      lr: spec.lr,
      warmupSteps: Math.round(spec.warmup * stepsPerEpoch),
      milestones: spec.milestones.map((e) => Math.round(e * stepsPerEpoch)),
      gamma: 0.1,
      totalSteps,
    },
  };
}

export async function runForkExperiment(spec: ForkSpec, outDir: string, backend: Backend, host: RunHost): Promise<ForkResult> {
  const startedAt = new Date().toISOString();
  const timings: PhaseTiming[] = [];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    timings.push({ phase, seconds: (performance.now() - t0) / 1000 });
    return r;
  };
  const store = new RunStore(host.files, outDir);
  const dataset = await timed('load data', () => loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize }));
  const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
  trainingLoader(dataset, spec, spec.seedOrder); // refuses a batch larger than the training split
  // Only now, with data, model, batch and --from checked, is the directory claimed: a refused start writes nothing.
  const fromFile = spec.from ? await loadWeights(host.files, spec.from, model) : null;
  const resumed = await store.claim(spec as unknown as Record<string, unknown>);
  if (resumed) host.progress.log(`resuming the run in ${outDir}: finished cells and checkpoints are reused`);
  store.drainDamaged((m) => host.progress.log(m));
  const stepsPerEpoch = Math.floor(dataset.train.n / spec.batch);
  const lastStep = Math.max(...forkCells(spec).map((c) => (spec.unit === 'steps' ? c.k1 + c.k2 : Math.round((c.k1 + c.k2) * stepsPerEpoch))));
  const train = trainConfigOf(spec, stepsPerEpoch, lastStep);
  const initWeights = async (seed: number) => fromFile ?? model.init(seed);
  const outcome = await timed('fork grid', () => runFork({ backend, model, dataset, spec, train, store, initWeights, progress: host.progress }));
  const finding = forkFinding(outcome.cells);
  const result: ForkResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'fork',
    task: model.task,
    spec: {
      ...spec,
      resolved: {
        modelDescription: model.description,
        parameters: model.parameterCount,
        bufferValues: model.stateSize - model.parameterCount,
        dataset: dataset.name,
        dataSource: dataset.source,
        trainExamples: dataset.train.n,
        testExamples: dataset.test.n,
        normalization: dataset.normalization,
        stepsPerEpoch,
        train,
      },
    },
    seeds: { init: spec.seedInit, order: spec.seedOrder, children: outcome.repeats[0].children, repeats: outcome.repeats },
    units: spec.unit,
    stepsPerEpoch,
    provenance: {
      backend: backend.kind,
      adapter: backend.description,
      runtime: host.runtime,
      ridgelineVersion: host.version,
      gitCommit: host.gitCommit,
      startedAt,
      finishedAt: new Date().toISOString(),
    },
    timings,
    parentLoss: outcome.parentLoss,
    cells: outcome.cells,
    summary: summarizeCells(outcome.cells),
    ...(finding ? { finding } : {}),
  };
  // Published together: everything is rendered first, and result.json — the file that says
  // "this run is finished" — is written last, so a failure (a full disk) never leaves a new
  // result.json beside missing or stale tables and report.
  const outputs: [string, string][] = [
    ['cells.csv', cellsCsv(result)], ['curves.csv', curvesCsv(result)], ['summary.csv', summaryCsv(result)],
    ['report.html', forkReportHtml(result)], ['result.json', JSON.stringify(result, null, 1)],
  ];
  for (const [name, text] of outputs) await host.files.write(store.path(name), text);
  return result;
}
