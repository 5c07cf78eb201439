/**
 * Computes one node of the graph into its object directory: a training segment (resuming
 * from the node's own partial checkpoint when a killed or preempted worker left one, else
 * from the line's previous checkpoint, else from the line's start), a path evaluation, or
 * a fork cell. Inputs are read through the store's verified `read`: a damaged input is set
 * aside and the node is abandoned (DependencyDamaged), so the input is computed again first.
 */
import type { Backend } from '../backend.ts';
import type { Dataset } from '../data/dataset.ts';
import { loadDataset } from '../data/registry.ts';
import { RidgelineError } from '../errors.ts';
import { matchNetworks } from '../align/match.ts';
import { permuteState } from '../align/permute.ts';
import type { AlignedPair, ForkCell } from '../experiments/result_schema.ts';
import { trainingLoader } from '../experiments/train_loader.ts';
import { fnv1a64Hex } from '../hash.ts';
import { joinPath } from '../io.ts';
import { alphaGrid } from '../lmc/barrier.ts';
import { layerDistances, weightDistance } from '../lmc/distances.ts';
import { pairMetrics } from '../lmc/metrics.ts';
import { evaluatePath, type PathEvaluation } from '../lmc/path_eval.ts';
import type { Model } from '../nn/model.ts';
import { createModel } from '../nn/registry.ts';
import type { Progress } from '../progress.ts';
import type { ObjectStore } from '../store/object_store.ts';
import { canonicalJson } from '../store/sealed.ts';
import { checkpointIdentity, loadCheckpoint, loadWeights, saveCheckpoint, WEIGHTS_SUFFIX } from '../train/checkpoint.ts';
import { disposeState, stateFromWeights, type TrainState } from '../train/state.ts';
import { trainSteps } from '../train/trainer.ts';
import type { AlignId, CellTask, CheckpointTask, DataId, EvalTask, GraphNode, ModelId } from './graph.ts';

/** A checkpoint object's files: `checkpoint.safetensors` (PyTorch names) and its optimizer state. */
export const CHECKPOINT_BASE = 'checkpoint';
export const CHECKPOINT_FILES = [`${CHECKPOINT_BASE}${WEIGHTS_SUFFIX}`, `${CHECKPOINT_BASE}.optim.safetensors`];

/** A training node's payload: its step and the loss of every 10th step it trained (for the report). */
export interface CheckpointPayload {
  step: number;
  lossLog: { step: number; loss: number }[];
}

/** An input object failed verification and was set aside: the node waits for it to be recomputed. */
export class DependencyDamaged extends Error {
  constructor(readonly dependency: string) {
    super(`input ${dependency} was damaged and set aside`);
  }
}

/** Datasets and models, loaded once per worker. */
export class Resources {
  private readonly datasets = new Map<string, Promise<Dataset>>();
  private readonly models = new Map<string, Model>();
  constructor(readonly files: ObjectStore['files']) {}

  dataset(d: DataId): Promise<Dataset> {
    const key = canonicalJson(d);
    if (!this.datasets.has(key)) {
      this.datasets.set(
        key,
        loadDataset(d.data, this.files, { limit: d.limit ?? undefined, normalize: d.normalize as 'standard' | 'none' }),
      );
    }
    return this.datasets.get(key)!;
  }

  async model(m: ModelId, d: DataId): Promise<Model> {
    const key = canonicalJson({ m, d });
    if (!this.models.has(key)) {
      const ds = await this.dataset(d);
      this.models.set(key, createModel(m.model, ds.inputShape, ds.classes, { width: m.width, slope: m.slope }));
    }
    return this.models.get(key)!;
  }
}

export interface ExecContext {
  store: ObjectStore;
  backend: Backend;
  resources: Resources;
  progress: Progress;
  /** Save a partial checkpoint of a training node at least this often (ms of training). */
  partialEveryMs: number;
  /** Renews the claim; throws when the node was taken over (the worker was presumed dead). */
  keepAlive: () => Promise<void>;
  now: () => number;
}

export interface NodeOutput {
  files: string[];
  payload: unknown;
}

/** Steps trained between looks at the lease and the partial-checkpoint clock. */
const CHUNK_STEPS = 50;

export function checkpointBase(store: ObjectStore, id: string): string {
  return joinPath(store.objectDir(id), CHECKPOINT_BASE);
}

async function requireObject<P>(store: ObjectStore, id: string): Promise<P> {
  const record = await store.read<P>(id);
  if (!record) throw new DependencyDamaged(id);
  return record.payload;
}

export async function executeNode(node: GraphNode, ctx: ExecContext): Promise<NodeOutput> {
  switch (node.task.kind) {
    case 'checkpoint':
      return runCheckpoint(node, node.task, ctx);
    case 'eval':
      return runEval(node.task, ctx);
    case 'cell':
      return runCell(node.task, ctx);
  }
}

/** The newest partial checkpoint of `id` that passes its checksums and identity, or null. */
async function latestPartial(ctx: ExecContext, id: string): Promise<{ base: string; lossLog: CheckpointPayload['lossLog'] } | null> {
  const dir = ctx.store.partialDir(id);
  const steps = (await ctx.store.files.list(dir)).map((n) => /^step-(\d+)\.safetensors$/.exec(n)).filter((m) => m !== null).map((m) =>
    Number(m![1])
  ).sort((a, b) => b - a);
  for (const step of steps) {
    const base = joinPath(dir, `step-${step}`);
    try {
      const { weights, optim } = await checkpointIdentity(ctx.store.files, base);
      if (weights.node !== id || optim.node !== id || weights.step !== String(step)) continue;
      const lossLog = JSON.parse(await ctx.store.files.readText(`${base}.loss.json`)) as CheckpointPayload['lossLog'];
      return { base, lossLog };
    } catch {
      // a damaged partial checkpoint is skipped: an older one, or the segment's start, is used
    }
  }
  return null;
}

async function startState(t: CheckpointTask, ctx: ExecContext, model: Model): Promise<TrainState> {
  const { store, backend } = ctx;
  if (t.from) {
    await requireObject(store, t.from);
    return loadCheckpoint(store.files, checkpointBase(store, t.from), backend, model, t.line.train);
  }
  const start = t.line.start;
  if ('checkpoint' in start) {
    await requireObject(store, start.checkpoint);
    return loadCheckpoint(store.files, checkpointBase(store, start.checkpoint), backend, model, t.line.train);
  }
  if ('file' in start) {
    const sum = fnv1a64Hex(await store.files.read(start.file));
    if (sum !== start.checksum) {
      throw new RidgelineError(
        'E_SPEC',
        `--from ${start.file} changed since the sweep was planned (checksum ${sum}, planned ${start.checksum}); plan the sweep again`,
      );
    }
    return stateFromWeights(backend, model, await loadWeights(store.files, start.file, model), t.line.train, 0);
  }
  return stateFromWeights(backend, model, model.init(start.init), t.line.train, 0);
}

async function runCheckpoint(node: GraphNode, t: CheckpointTask, ctx: ExecContext): Promise<NodeOutput> {
  const { store } = ctx;
  const dataset = await ctx.resources.dataset(t.line.data);
  const model = await ctx.resources.model(t.line.model, t.line.data);
  const partial = await latestPartial(ctx, node.id);
  const state = partial
    ? await loadCheckpoint(store.files, partial.base, ctx.backend, model, t.line.train)
    : await startState(t, ctx, model);
  const lossLog = partial ? partial.lossLog : [];
  if (partial) ctx.progress.log(`${node.label}: resuming from its partial checkpoint at step ${state.step}`);
  // The files' bytes depend on the node id alone (so a node recomputed anywhere is the same file).
  const meta = (step: number) => ({ node: node.id, step: String(step) });
  try {
    const loader = trainingLoader(dataset, {
      batch: t.line.train.batch,
      augment: t.line.augmentSeed !== null,
      seedAugment: t.line.augmentSeed ?? 0,
    }, t.line.orderSeed);
    let lastPartial = ctx.now();
    ctx.progress.start(node.label, t.step);
    ctx.progress.update(state.step);
    while (state.step < t.step) {
      const target = Math.min(t.step, state.step + CHUNK_STEPS);
      await trainSteps(ctx.backend, model, state, loader, target, t.line.train, {
        onSync: (first, losses) => {
          losses.forEach((l, i) => {
            if ((first + i) % 10 === 0) lossLog.push({ step: first + i, loss: l });
          });
          ctx.progress.update(first + losses.length, `loss ${losses[losses.length - 1].toFixed(4)}`);
        },
      });
      await ctx.keepAlive();
      if (state.step < t.step && ctx.now() - lastPartial >= ctx.partialEveryMs) {
        const base = joinPath(store.partialDir(node.id), `step-${state.step}`);
        await store.files.write(`${base}.loss.json`, JSON.stringify(lossLog));
        await saveCheckpoint(store.files, base, model, state, meta(state.step));
        lastPartial = ctx.now();
      }
    }
    await saveCheckpoint(store.files, checkpointBase(store, node.id), model, state, meta(t.step));
    ctx.progress.finish();
    const payload: CheckpointPayload = { step: t.step, lossLog };
    return { files: CHECKPOINT_FILES, payload };
  } finally {
    disposeState(state);
  }
}

async function weightsOf(ctx: ExecContext, id: string, model: Model): Promise<Float32Array[]> {
  await requireObject(ctx.store, id);
  return loadWeights(ctx.store.files, checkpointBase(ctx.store, id) + WEIGHTS_SUFFIX, model);
}

/** An aligned evaluation's record of its matching, beside the path. */
export interface AlignedEvaluation extends PathEvaluation {
  alignment: { objectiveBefore: number; objective: number; passes: number; weightDistance: number };
}

async function runEval(t: EvalTask, ctx: ExecContext): Promise<NodeOutput> {
  const dataset = await ctx.resources.dataset(t.data);
  const model = await ctx.resources.model(t.model, t.data);
  const wA = await weightsOf(ctx, t.a, model);
  let wB = await weightsOf(ctx, t.b, model);
  const resetBn = t.resetBnBatch === null ? undefined : { split: dataset.train, batch: t.resetBnBatch };
  // The matching is deterministic (seeded, fixed data), so each aligned evaluation of a pair
  // computes the same permutations on its own: no node needs another's output.
  const match = t.align ? await matchNetworks(ctx.backend, model, wA, wB, t.align.method, dataset.train, { seed: t.align.seed }) : null;
  if (match) wB = permuteState(model, wB, match.perms);
  const repair = t.repair ? { split: dataset.train, examples: t.repair.examples } : undefined;
  const path = await evaluatePath(ctx.backend, model, wA, wB, alphaGrid(t.alphas), dataset[t.split], t.evalBatch, resetBn, repair);
  const payload = match
    ? {
      ...path,
      alignment: {
        objectiveBefore: match.objectiveBefore,
        objective: match.objective,
        passes: match.passes,
        weightDistance: weightDistance(wA, wB),
      },
    }
    : path;
  return { files: [], payload };
}

/** Where a checkpoint object's weights live, relative to the store's root. */
export function checkpointPath(store: ObjectStore, id: string): string {
  return checkpointBase(store, id).slice(store.root.replace(/\/+$/, '').length + 1) + WEIGHTS_SUFFIX;
}

async function runCell(t: CellTask, ctx: ExecContext): Promise<NodeOutput> {
  const model = await ctx.resources.model(t.model, t.data);
  const train = await requireObject<PathEvaluation>(ctx.store, t.evalTrain);
  const test = await requireObject<PathEvaluation>(ctx.store, t.evalTest);
  const wA = await weightsOf(ctx, t.checkpointA, model);
  const wB = await weightsOf(ctx, t.checkpointB, model);
  const metrics = pairMetrics(train, test);
  const cell: ForkCell = {
    k1: t.k1,
    k2: t.k2,
    repeat: t.repeat,
    seeds: t.seeds,
    a: t.labelA,
    b: t.labelB,
    checkpointA: checkpointPath(ctx.store, t.checkpointA),
    checkpointB: checkpointPath(ctx.store, t.checkpointB),
    ...(t.checkpointFork ? { checkpointFork: checkpointPath(ctx.store, t.checkpointFork) } : {}),
    ...metrics,
    weightDistance: weightDistance(wA, wB),
    weightDistanceByLayer: layerDistances(model, wA, wB),
    connected: metrics.test.errorBarrier < t.threshold,
    ...(t.align && t.evalAligned ? { aligned: await alignedPair(ctx, t.align, t.evalAligned, t.evalRepaired) } : {}),
  };
  return { files: [], payload: cell };
}

/** A cell's pair after alignment, from its aligned (and repaired) evaluations. */
async function alignedPair(
  ctx: ExecContext,
  align: AlignId,
  evals: { train: string; test: string },
  repairedEvals?: { train: string; test: string },
): Promise<AlignedPair> {
  const train = await requireObject<AlignedEvaluation>(ctx.store, evals.train);
  const test = await requireObject<AlignedEvaluation>(ctx.store, evals.test);
  const { objectiveBefore, objective, weightDistance: distance } = train.alignment;
  const repaired = repairedEvals
    ? pairMetrics(
      await requireObject<PathEvaluation>(ctx.store, repairedEvals.train),
      await requireObject<PathEvaluation>(ctx.store, repairedEvals.test),
    )
    : null;
  return {
    method: align.method,
    seed: align.seed,
    objectiveBefore,
    objective,
    ...pairMetrics(train, test),
    weightDistance: distance,
    ...(repaired ? { repaired } : {}),
  };
}
