/**
 * A sweep as a graph of content-addressed nodes. Each node's id is the SHA-256 of the
 * canonical JSON of exactly what determines its output — with every default written out, the
 * graph's schema version and the numerics version (which changes whenever kernels change
 * results) and the backend — so equal work in two cells, or in two sweeps, is one node,
 * computed once.
 *
 *  - checkpoint: the state (weights, optimizer state) of a training line at a step. A line
 *    is its start (initial weights of a seed, a weights file's checksum, or a parent
 *    checkpoint node), its order seed, augmentation, data, model and optimisation settings.
 *    A checkpoint at step s is computed from the line's previous checkpoint in the graph (a
 *    trunk segment: init → k1; a child segment: parent checkpoint → k1 + k2), but its id
 *    depends only on (line, s), so sweeps that stop the same line at other steps share it.
 *  - eval: the linear path between two checkpoints on one split (α grid, batch, BN reset),
 *    optionally after aligning B to A (method, seed) and after REPAIR.
 *  - cell: a fork cell (k1, k2, repeat) from its two checkpoints and two evaluations.
 *
 * The fork procedure (which lines, which steps, which pairs) is docs/fork.md's, as in lmc/fork.ts
 * before the graph; seeds of repeat r come from experiments/repeat_seeds.ts.
 */
import type { AlignMethod } from '../align/match.ts';
import { REPAIR_EXAMPLES } from '../align/repair.ts';
import type { ForkSpec } from '../experiments/fork_spec.ts';
import { forkCells } from '../experiments/fork_spec.ts';
import { trainConfigOf } from '../experiments/train_config.ts';
import { type RepeatSeeds, repeatSeeds } from '../experiments/repeat_seeds.ts';
import type { TrainConfig } from '../train/config.ts';
import { canonicalJson } from '../store/sealed.ts';

/** Bumped when the node kinds or their identity objects change shape. */
export const GRAPH_SCHEMA = 1;
/** Bumped when a kernel, optimizer or evaluation change alters computed values. */
export const NUMERICS_VERSION = 1;

export interface DataId {
  data: string;
  limit: number | null;
  normalize: string;
}

export interface ModelId {
  model: string;
  width: number | null;
  slope: number;
}

export type LineStart = { init: number } | { file: string; checksum: string } | { checkpoint: string };

/** What a training line is: everything its batches and updates depend on. */
export interface LineSpec {
  start: LineStart;
  orderSeed: number;
  /** The augmentation seed base (a line uses base + orderSeed), or null without augmentation. */
  augmentSeed: number | null;
  data: DataId;
  model: ModelId;
  train: TrainConfig;
}

export interface CheckpointTask {
  kind: 'checkpoint';
  line: LineSpec;
  step: number;
  /** The line's previous checkpoint in this graph to train from, or null to start at the line's start. */
  from: string | null;
}

export interface EvalTask {
  kind: 'eval';
  a: string;
  b: string;
  split: 'train' | 'test';
  alphas: number;
  evalBatch: number;
  /** Batch size of the batch-norm statistics reset at each α, or null to interpolate them. */
  resetBnBatch: number | null;
  data: DataId;
  model: ModelId;
  /**
   * Present only for an aligned path: B is first permuted into A's basis by this matching
   * (absent, not null, otherwise, so the ids of unaligned evaluations stay what they were).
   */
  align?: AlignId;
  /** Present only for a path after REPAIR (align/repair.ts), with the examples its statistics use. */
  repair?: { examples: number };
}

/** An alignment of B to A: what decides its permutations. */
export interface AlignId {
  method: AlignMethod;
  seed: number;
}

export interface CellTask {
  kind: 'cell';
  k1: number;
  k2: number;
  repeat: number;
  seeds: { init: number; order: number; children: number[]; augment: number };
  labelA: string;
  labelB: string;
  checkpointA: string;
  checkpointB: string;
  /** The parent checkpoint the children were forked from (pairs mode), for the analyses. */
  checkpointFork: string | null;
  evalTrain: string;
  evalTest: string;
  /** With --align (absent otherwise): the alignment and the aligned paths (and, with --repair, those after REPAIR). */
  align?: AlignId;
  evalAligned?: { train: string; test: string };
  evalRepaired?: { train: string; test: string };
  threshold: number;
  model: ModelId;
  data: DataId;
}

export type Task = CheckpointTask | EvalTask | CellTask;

export interface GraphNode {
  id: string;
  task: Task;
  deps: string[];
  /** Estimated work in example passes (a training step of batch B costs 3B; an evaluation α·n). */
  cost: number;
  label: string;
}

/** What planning needs to know that the spec does not say. */
export interface PlanFacts {
  backend: string;
  /** Training examples of the spec's data (with its limit). */
  trainExamples: (spec: ForkSpec) => number;
  testExamples: (spec: ForkSpec) => number;
  /** Checksum of a --from weights file. */
  fileChecksum: (path: string) => string;
}

export interface PointPlan {
  /** The fork cells of this point in order, each with its cell node and its repeat-0 trunk checkpoints. */
  cells: { k1: number; k2: number; repeat: number; node: string }[];
  /** The trunk (parent) checkpoints of repeat 0, in step order: their payloads carry the loss history. */
  trunk: string[];
  stepsPerEpoch: number;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A node's id: 32 hex digits (128 bits) of SHA-256 over the canonical identity. */
export async function nodeId(identity: unknown): Promise<string> {
  return (await sha256Hex(canonicalJson(identity))).slice(0, 32);
}

/**
 * What identifies a node: its task without execution details (a checkpoint's `from` is only
 * where training resumes), plus the versions and the backend.
 */
export function identityOf(task: Task, backend: string): unknown {
  const versions = { schema: GRAPH_SCHEMA, numerics: NUMERICS_VERSION, backend };
  if (task.kind === 'checkpoint') {
    // A trunk's step 0 is its initial weights with a fresh optimizer: nothing of the
    // training settings is in it yet, so every line starting there (other learning rates,
    // orders, optimizers) shares it as the fork point of k1 = 0.
    const { start, data, model } = task.line;
    if (task.step === 0 && !('checkpoint' in start)) {
      return { kind: 'initial-state', start: lineIdentity(task.line).start, data, model, ...versions };
    }
    return { kind: 'checkpoint', line: lineIdentity(task.line), step: task.step, ...versions };
  }
  return { ...task, ...versions };
}

/** A line without what cannot change its batches or updates (a cosine-free schedule's total length). */
function lineIdentity(line: LineSpec): { start: unknown } & Record<string, unknown> {
  const { totalSteps: _totalSteps, ...schedule } = line.train.schedule;
  const start = 'file' in line.start ? { fileChecksum: line.start.checksum } : line.start;
  return { ...line, start, train: { ...line.train, schedule: line.train.schedule.kind === 'cosine' ? line.train.schedule : schedule } };
}

/** Builds the graph of one fork spec (a sweep point), adding its nodes to `nodes` (shared ones once). */
export async function planPoint(spec: ForkSpec, facts: PlanFacts, nodes: Map<string, GraphNode>, tag: string): Promise<PointPlan> {
  const trainN = facts.trainExamples(spec);
  const stepsPerEpoch = Math.floor(trainN / spec.batch);
  const steps = (v: number) => (spec.unit === 'steps' ? v : Math.round(v * stepsPerEpoch));
  const cells = forkCells(spec);
  const lastStep = Math.max(...cells.map((c) => steps(c.k1) + steps(c.k2)));
  const train = trainConfigOf(spec, stepsPerEpoch, lastStep);
  const data: DataId = { data: spec.data, limit: spec.limit, normalize: spec.normalize };
  const model: ModelId = { model: spec.model, width: spec.width, slope: spec.slope };
  const add = async (task: Task, deps: string[], cost: number, label: string): Promise<string> => {
    const id = await nodeId(identityOf(task, facts.backend));
    if (!nodes.has(id)) nodes.set(id, { id, task, deps: deps.filter((d) => d !== ''), cost, label });
    return id;
  };
  /** The checkpoint nodes of a line at `wanted` steps, chained; returns step → node id. */
  const line = async (spec_: LineSpec, startStep: number, startDep: string, wanted: number[], name: string) => {
    const ids = new Map<number, string>();
    let prev: string | null = null;
    let prevStep = startStep;
    for (const s of [...new Set(wanted)].sort((a, b) => a - b)) {
      const task: CheckpointTask = { kind: 'checkpoint', line: spec_, step: s, from: prev };
      const id: string = await add(
        task,
        [prev ?? startDep],
        3 * spec.batch * (s - prevStep),
        `${tag}${name} step ${s} (order seed ${spec_.orderSeed})`,
      );
      ids.set(s, id);
      prev = id;
      prevStep = s;
    }
    return ids;
  };
  const plan: PointPlan = { cells: [], trunk: [], stepsPerEpoch };
  const fromChecksum = spec.from ? facts.fileChecksum(spec.from) : null;
  for (let r = 0; r < spec.repeats; r++) {
    const seeds: RepeatSeeds = repeatSeeds(spec, r);
    const prefix = spec.repeats > 1 ? `r${r} ` : '';
    const lineOf = (start: LineStart, orderSeed: number): LineSpec => ({
      start,
      orderSeed,
      augmentSeed: spec.augment ? seeds.augment : null,
      data,
      model,
      train,
    });
    const trunkStart: LineStart = spec.from ? { file: spec.from, checksum: fromChecksum! } : { init: seeds.init };
    const parentNeeded = cells.flatMap((c) => (spec.mode === 'main-branch' ? [steps(c.k1), steps(c.k1) + steps(c.k2)] : [steps(c.k1)]));
    const trunk = await line(
      lineOf(trunkStart, seeds.order),
      0,
      '',
      parentNeeded,
      `${prefix}${spec.mode === 'pairs' ? 'parent' : 'main run'}`,
    );
    if (r === 0) plan.trunk = [...trunk.entries()].sort(([a], [b]) => a - b).map(([, id]) => id);
    for (const k1 of [...new Set(cells.map((c) => c.k1))]) {
      const k1Steps = steps(k1);
      const forkId = trunk.get(k1Steps)!;
      const here = cells.filter((c) => c.k1 === k1);
      const children = await Promise.all(
        seeds.children.map((seed, c) =>
          line(
            lineOf({ checkpoint: forkId }, seed),
            k1Steps,
            forkId,
            here.map((cell) => k1Steps + steps(cell.k2)),
            `${prefix}k1 ${k1} child ${c}`,
          )
        ),
      );
      for (const cell of here) {
        const at = k1Steps + steps(cell.k2);
        const [a, b, labelA, labelB] = spec.mode === 'pairs'
          ? [
            children[0].get(at)!,
            children[1].get(at)!,
            `child (order seed ${seeds.children[0]})`,
            `child (order seed ${seeds.children[1]})`,
          ]
          : [trunk.get(at)!, children[0].get(at)!, `main run (order seed ${seeds.order})`, `child (order seed ${seeds.children[0]})`];
        // Aligned and repaired paths are evaluations of their own, keyed by the alignment (and REPAIR).
        const evalOf = (split: 'train' | 'test', n: number, variant: { align?: AlignId; repair?: { examples: number } } = {}) =>
          add(
            {
              kind: 'eval',
              a,
              b,
              split,
              alphas: spec.alphas,
              evalBatch: spec.evalBatch,
              resetBnBatch: spec.resetBn ? spec.batch : null,
              data,
              model,
              ...variant,
            },
            [a, b],
            spec.alphas * (n + (variant.repair ? variant.repair.examples : 0)),
            `${tag}${prefix}k1 ${k1} k2 ${cell.k2} ${split} path${variant.align ? ` after ${variant.align.method} matching` : ''}${
              variant.repair ? ' and REPAIR' : ''
            }`,
          );
        const testN = facts.testExamples(spec);
        const evalTrain = await evalOf('train', trainN);
        const evalTest = await evalOf('test', testN);
        const align: AlignId | undefined = spec.align ? { method: spec.align, seed: spec.alignSeed } : undefined;
        const pathsOf = async (variant: { align?: AlignId; repair?: { examples: number } }) => ({
          train: await evalOf('train', trainN, variant),
          test: await evalOf('test', testN, variant),
        });
        const evalAligned = align ? await pathsOf({ align }) : undefined;
        const evalRepaired = align && spec.repair ? await pathsOf({ align, repair: { examples: REPAIR_EXAMPLES } }) : undefined;
        const cellTask: CellTask = {
          kind: 'cell',
          k1,
          k2: cell.k2,
          repeat: r,
          seeds: { init: seeds.init, order: seeds.order, children: seeds.children, augment: seeds.augment },
          labelA,
          labelB,
          checkpointA: a,
          checkpointB: b,
          checkpointFork: spec.mode === 'pairs' ? forkId : null,
          evalTrain,
          evalTest,
          ...(align ? { align, evalAligned, ...(evalRepaired ? { evalRepaired } : {}) } : {}),
          threshold: spec.threshold,
          model,
          data,
        };
        const variantEvals = [evalAligned, evalRepaired].flatMap((e) => (e ? [e.train, e.test] : []));
        const node = await add(cellTask, [a, b, evalTrain, evalTest, ...variantEvals], 1, `${tag}${prefix}cell k1 ${k1} k2 ${cell.k2}`);
        plan.cells.push({ k1, k2: cell.k2, repeat: r, node });
      }
    }
  }
  return plan;
}

/**
 * Links the checkpoints of each training line in step order across the whole graph: a line
 * stopped at k1 = 1 by one point and at k1 = 2 by another trains 0 → 1 → 2 once, not 0 → 1
 * and 0 → 2. (`from` is not part of a node's id, only where its training resumes.) Costs
 * and dependencies follow the new links.
 */
export function chainLines(nodes: Map<string, GraphNode>): void {
  const lines = new Map<string, GraphNode[]>();
  for (const n of nodes.values()) {
    if (n.task.kind !== 'checkpoint') continue;
    const key = canonicalJson(n.task.line);
    lines.set(key, [...(lines.get(key) ?? []), n]);
  }
  for (const line of lines.values()) {
    line.sort((a, b) => (a.task as CheckpointTask).step - (b.task as CheckpointTask).step);
    let prev: GraphNode | null = null;
    for (const n of line) {
      const t = n.task as CheckpointTask;
      const start = t.line.start;
      const startDep = 'checkpoint' in start ? start.checkpoint : null;
      const startStep = startDep ? (nodes.get(startDep)!.task as CheckpointTask).step : 0;
      const fromStep: number = prev ? (prev.task as CheckpointTask).step : startStep;
      n.task = { ...t, from: prev ? prev.id : null };
      n.deps = [prev?.id ?? startDep].filter((d): d is string => d !== null);
      n.cost = 3 * t.line.train.batch * (t.step - fromStep);
      prev = n;
    }
  }
}

/** The graph's nodes in dependency order (every node after its dependencies). */
export function topological(nodes: Map<string, GraphNode>): GraphNode[] {
  const out: GraphNode[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = nodes.get(id)!;
    for (const d of n.deps) visit(d);
    out.push(n);
  };
  for (const id of nodes.keys()) visit(id);
  return out;
}
