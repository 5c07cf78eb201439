/**
 * Where a sweep stands in its store (done, running, pending, failed with reasons), and
 * its finished cells gathered for `sweep collect`.
 */
import { RidgelineError } from '../errors.ts';
import type { ForkCell } from '../experiments/result_schema.ts';
import type { ObjectStore } from '../store/object_store.ts';
import type { GraphNode } from './graph.ts';
import type { SweepManifest } from './manifest.ts';
import type { SweepCollection } from './sweep_result.ts';
import { scanSweep } from './worker.ts';

export interface SweepStatus {
  nodes: number;
  done: GraphNode[];
  running: { node: GraphNode; owner: string; heartbeatAgeMs: number }[];
  pending: GraphNode[];
  failed: { node: GraphNode; reason: string }[];
  /** Pending nodes that cannot run because an input failed. */
  blocked: GraphNode[];
  /** Work done (in cost units) and the measured seconds per unit, when any node has a record. */
  doneCost: number;
  totalCost: number;
  secondsPerCost: number | null;
}

export async function sweepStatus(store: ObjectStore, m: SweepManifest, now = Date.now()): Promise<SweepStatus> {
  const { published, failed } = await scanSweep(store, m.nodes);
  const status: SweepStatus = {
    nodes: m.nodes.length,
    done: [],
    running: [],
    pending: [],
    failed: [],
    blocked: [],
    doneCost: 0,
    totalCost: 0,
    secondsPerCost: null,
  };
  const bad = new Set(failed.keys());
  let seconds = 0;
  let timedCost = 0;
  for (const n of m.nodes) {
    status.totalCost += n.cost;
    if (published.has(n.id)) {
      status.done.push(n);
      status.doneCost += n.cost;
      const record = await store.read<unknown>(n.id, { verifyFiles: false });
      if (record && n.task.kind === 'checkpoint') {
        seconds += record.seconds;
        timedCost += n.cost;
      }
      continue;
    }
    if (failed.has(n.id)) {
      status.failed.push({ node: n, reason: failed.get(n.id)! });
      continue;
    }
    if (n.deps.some((d) => bad.has(d))) {
      bad.add(n.id);
      status.blocked.push(n);
      continue;
    }
    const claim = await store.currentClaim(n.id);
    if (claim && store.isLive(claim)) status.running.push({ node: n, owner: claim.owner, heartbeatAgeMs: now - claim.heartbeat });
    else status.pending.push(n);
  }
  if (timedCost > 0) status.secondsPerCost = seconds / timedCost;
  return status;
}

/**
 * Reads every published node of the sweep with its files' checksums: a damaged one (a
 * truncated checkpoint, an edited record) is set aside and will be computed again. Workers
 * only look for a record's presence; this pass, run when a sweep or fork starts, is what
 * finds damage in nodes nothing would read again. Returns how many were set aside.
 */
export async function verifySweep(store: ObjectStore, m: SweepManifest): Promise<number> {
  let setAside = 0;
  for (const n of m.nodes) {
    if (!(await store.isPublished(n.id))) continue;
    if ((await store.read(n.id)) === null) setAside++;
  }
  return setAside;
}

/** Every point's cells, verified; E_STATE naming how much is missing when the sweep is not finished. */
export async function collectSweep(
  store: ObjectStore,
  m: SweepManifest,
  provenance: SweepCollection['provenance'],
): Promise<SweepCollection> {
  const points: SweepCollection['points'] = [];
  let missing = 0;
  for (const p of m.points) {
    const cells: ForkCell[] = [];
    for (const c of p.plan.cells) {
      const record = await store.read<ForkCell>(c.node);
      if (record) cells.push(record.payload);
      else missing++;
    }
    points.push({ point: p.point, spec: p.spec, task: p.task, cells });
  }
  store.drainDamaged(() => {});
  if (missing > 0) {
    const total = m.points.reduce((a, p) => a + p.plan.cells.length, 0);
    throw new RidgelineError(
      'E_STATE',
      `sweep ${
        m.sweepId.slice(0, 12)
      } is not finished: ${missing} of ${total} cells are not computed (or were damaged and set aside); 'ridgeline sweep status' shows why, 'sweep run' or 'sweep work' computes them`,
    );
  }
  return { sweepId: m.sweepId, name: m.name, gridKeys: m.gridKeys, points, provenance };
}
