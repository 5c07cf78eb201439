/**
 * Runs a fork experiment as a one-point sweep: the spec is planned into the graph's nodes
 * (trunk and child segments, path evaluations, cells) in a verified content-addressed store
 * — `DIR/store` unless `--store` names a shared one — the nodes are computed by workers (in
 * this process, or a pool), and the result files are assembled from the published cells:
 * result.json (schema, resolved spec, seeds, provenance, timings, cells, summaries over
 * repeats), cells.csv, curves.csv, summary.csv and a self-contained report.html.
 *
 * A killed run started again re-plans the same nodes (same ids), finds the published ones,
 * and resumes training nodes from their partial checkpoints; work shared with other runs or
 * sweeps on the same store is computed once.
 */
import { checkAlignable } from '../align/match.ts';
import type { Backend } from '../backend.ts';
import { RidgelineError } from '../errors.ts';
import { FORK_DEFAULTS, type ForkSpec } from '../experiments/fork_spec.ts';
import { type ForkCell, type ForkResult, type PhaseTiming, RESULT_SCHEMA_VERSION } from '../experiments/result_schema.ts';
import type { RunHost } from '../experiments/run_host.ts';
import { RunStore } from '../experiments/run_store.ts';
import { trainConfigOf } from '../experiments/train_config.ts';
import { repeatSeeds } from '../experiments/repeat_seeds.ts';
import { joinPath } from '../io.ts';
import { recordedSpec, resultsKey } from '../math_mode.ts';
import { forkFinding, summarizeCells } from '../lmc/fork_summary.ts';
import { cellsCsv, curvesCsv, summaryCsv } from '../report/csv.ts';
import { forkReportHtml } from '../report/html.ts';
import { ObjectStore } from '../store/object_store.ts';
import { loadWeights } from '../train/checkpoint.ts';
import { planSweep, type SweepManifest, writeManifest } from './manifest.ts';
import { type CheckpointPayload, Resources } from './node_exec.ts';
import { clearFailures, rethrowFailure } from './sweep_failures.ts';
import { verifySweep } from './sweep_status.ts';
import { runWorker, WORKER_DEFAULTS } from './worker.ts';

export type { RunHost };

/** How the nodes of a planned sweep get computed: in this process, or by a pool of workers. */
export type SweepExecutor = (store: ObjectStore, manifest: SweepManifest) => Promise<void>;

export interface ForkRunOptions {
  /** The store's directory (default DIR/store): forks and sweeps on one store share work. */
  store?: string;
  /** Computes the nodes (default: one worker in this process, on `backend`). */
  executor?: SweepExecutor;
}

/** A worker in this process: the executor of a plain fork and of the browser. */
export function inProcessExecutor(backend: Backend, host: RunHost, resources?: Resources): SweepExecutor {
  return async (store, manifest) => {
    const report = await runWorker(store, manifest, backend, {
      resources,
      owner: `fork-${Math.random().toString(36).slice(2, 10)}`,
      ...WORKER_DEFAULTS,
      progress: host.progress,
      log: (m) => host.progress.log(m),
    });
    if (report.failed.length > 0) rethrowFailure(report.failed[0]);
  };
}

/** `path` (under the store) as the result records it: relative to the run directory when the store lies inside it. */
function relativeTo(dir: string, storeRoot: string, path: string): string {
  const full = joinPath(storeRoot, path);
  const prefix = dir.replace(/\/+$/, '') + '/';
  return full.startsWith(prefix) ? full.slice(prefix.length) : full;
}

export async function runForkExperiment(
  spec: ForkSpec,
  outDir: string,
  backend: Backend,
  host: RunHost,
  o: ForkRunOptions = {},
): Promise<ForkResult> {
  const startedAt = new Date().toISOString();
  const timings: PhaseTiming[] = [];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    timings.push({ phase, seconds: (performance.now() - t0) / 1000 });
    return r;
  };
  // One load of the data and one model serve the checks, the planning and the in-process worker.
  const resources = new Resources(host.files);
  const data = { data: spec.data, limit: spec.limit, normalize: spec.normalize };
  const dataset = await timed('load data', () => resources.dataset(data));
  const model = await resources.model({ model: spec.model, width: spec.width, slope: spec.slope }, data);
  if (spec.batch > dataset.train.n) {
    throw new RidgelineError('E_SPEC', `--batch ${spec.batch} is larger than the ${dataset.train.n} training examples of ${spec.data}`);
  }
  if (spec.from) await loadWeights(host.files, spec.from, model);
  checkAlignable(model, spec);
  // Only now, with data, model, batch and --from checked, is the directory claimed: a refused start writes nothing.
  const run = new RunStore(host.files, outDir);
  // A run without alignment records its spec as runs did before --align existed, so run
  // directories written then still resume (a resume compares every recorded key).
  const { align, alignSeed, repair, ...unaligned } = spec;
  const plain = align === null && !repair && alignSeed === FORK_DEFAULTS.alignSeed;
  const resumed = await run.claim(recordedSpec(plain ? unaligned : spec, backend.math) as unknown as Record<string, unknown>);
  if (resumed) host.progress.log(`resuming the run in ${outDir}: published nodes of its store are reused`);
  run.drainDamaged((m) => host.progress.log(m));
  const storeRoot = o.store ?? joinPath(outDir, 'store');
  const store = await ObjectStore.open(host.files, storeRoot);
  const manifest = await timed(
    'plan',
    () => planSweep({ name: `fork ${outDir}`, base: {}, grid: {} }, [], [{ point: {}, spec }], host.files, resultsKey(backend), resources),
  );
  await writeManifest(store, manifest);
  await verifySweep(store, manifest);
  store.drainDamaged((m) => host.progress.log(m));
  // A failure recorded by an earlier attempt (a lost device, a full disk) is tried again.
  await clearFailures(store, manifest);
  await timed('fork grid', () => (o.executor ?? inProcessExecutor(backend, host, resources))(store, manifest));

  const point = manifest.points[0];
  const cells: ForkCell[] = [];
  for (const c of point.plan.cells) {
    const record = await store.read<ForkCell>(c.node);
    if (!record) {
      throw new RidgelineError(
        'E_DAMAGED',
        `cell k1 = ${c.k1}, k2 = ${c.k2} of ${outDir} was damaged after it was computed; run the same fork again to recompute it`,
      );
    }
    const cell = record.payload;
    cells.push({
      ...cell,
      checkpointA: relativeTo(outDir, storeRoot, cell.checkpointA),
      checkpointB: relativeTo(outDir, storeRoot, cell.checkpointB),
      ...(cell.checkpointFork ? { checkpointFork: relativeTo(outDir, storeRoot, cell.checkpointFork) } : {}),
    });
  }
  const parentLoss = new Map<number, number>();
  for (const id of point.plan.trunk) {
    const record = await store.read<CheckpointPayload>(id, { verifyFiles: false });
    for (const p of record?.payload.lossLog ?? []) parentLoss.set(p.step, p.loss);
  }
  store.drainDamaged((m) => host.progress.log(m));
  const stepsPerEpoch = point.plan.stepsPerEpoch;
  const lastStep = Math.max(...cells.map((c) => (spec.unit === 'steps' ? c.k1 + c.k2 : Math.round((c.k1 + c.k2) * stepsPerEpoch))));
  const repeats = Array.from({ length: spec.repeats }, (_, r) => repeatSeeds(spec, r));
  const finding = forkFinding(cells);
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
        train: trainConfigOf(spec, stepsPerEpoch, lastStep),
      },
    },
    seeds: { init: spec.seedInit, order: spec.seedOrder, children: repeats[0].children, repeats },
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
    store: { root: storeRoot, sweepId: manifest.sweepId, nodes: manifest.nodes.length },
    timings,
    parentLoss: [...parentLoss].sort(([a], [b]) => a - b).map(([step, loss]) => ({ step, loss })),
    cells,
    summary: summarizeCells(cells),
    ...(finding ? { finding } : {}),
  };
  // Published together: everything is rendered first, and result.json — the file that says
  // "this run is finished" — is written last, so a failure (a full disk) never leaves a new
  // result.json beside missing or stale tables and report.
  const outputs: [string, string][] = [
    ['cells.csv', cellsCsv(result)],
    ['curves.csv', curvesCsv(result)],
    ['summary.csv', summaryCsv(result)],
    ['report.html', forkReportHtml(result)],
    ['result.json', JSON.stringify(result, null, 1)],
  ];
  for (const [name, text] of outputs) await host.files.write(run.path(name), text);
  return result;
}
