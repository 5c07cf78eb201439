/**
 * A worker: pulls ready nodes of a sweep (not published, not failed, every input
 * published) from the store, claims one, computes it, publishes it, and repeats until the
 * sweep is done or only nodes it cannot run remain. Any number of workers — threads of a
 * local pool, Slurm array tasks, Kubernetes pods — run this same loop on one store; the
 * claims keep two live workers off one node, and the leases let a dead worker's node be
 * taken over. Dependencies need no scheduler: a node is simply not ready until its inputs
 * are published.
 */
import type { Backend } from '../backend.ts';
import { RidgelineError } from '../errors.ts';
import { resultsKey } from '../math_mode.ts';
import type { Progress } from '../progress.ts';
import type { Claim, ObjectStore } from '../store/object_store.ts';
import type { GraphNode } from './graph.ts';
import type { SweepManifest } from './manifest.ts';
import { ENVIRONMENT_CODES } from './sweep_failures.ts';
import { DependencyDamaged, type ExecContext, executeNode, Resources } from './node_exec.ts';

export interface WorkerOptions {
  /** Unique per worker process (host, pid, random): claims and executions carry it. */
  owner: string;
  /** A claim whose heartbeat is older than this is presumed dead and may be taken over. */
  leaseMs: number;
  /** How long to wait before looking again when every ready node is claimed by others. */
  pollMs: number;
  /** Partial checkpoints of long training nodes at least this often (for preemption). */
  partialEveryMs: number;
  progress: Progress;
  log: (line: string) => void;
  /** Called when the worker starts and finishes a node (the pool's progress lines). */
  onNode?: (event: { node: GraphNode; phase: 'start' | 'done' | 'failed'; seconds?: number }) => void;
  now?: () => number;
  /** Datasets and models already loaded (a fork's planning loaded them); default: loaded here. */
  resources?: Resources;
}

export interface WorkerReport {
  /** Nodes this worker computed and published. */
  executed: string[];
  /** Nodes that failed (here or in another worker), with the reason recorded in the store. */
  failed: { id: string; label: string; reason: string }[];
  /** Every node of the sweep is published. */
  done: boolean;
}

/** Timing defaults of every worker (the `sweep work` options override them). */
export const WORKER_DEFAULTS = { leaseMs: 60_000, pollMs: 500, partialEveryMs: 30_000 } as const;

class LostClaim extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The state of every node of a sweep in the store: published, failed, or pending. */
export async function scanSweep(
  store: ObjectStore,
  nodes: readonly GraphNode[],
  known: Set<string> = new Set(),
): Promise<{ published: Set<string>; failed: Map<string, string> }> {
  const published = known;
  const failed = new Map<string, string>();
  for (const n of nodes) {
    if (published.has(n.id)) continue;
    if (await store.isPublished(n.id)) published.add(n.id);
    else {
      const reason = await store.failure(n.id);
      if (reason !== null) failed.set(n.id, reason);
    }
  }
  return { published, failed };
}

/** Nodes that cannot run because they or an input (transitively) failed. */
function blockedByFailure(nodes: readonly GraphNode[], failed: Map<string, string>): Set<string> {
  const blocked = new Set(failed.keys());
  for (const n of nodes) if (n.deps.some((d) => blocked.has(d))) blocked.add(n.id);
  return blocked;
}

export async function runWorker(store: ObjectStore, manifest: SweepManifest, backend: Backend, o: WorkerOptions): Promise<WorkerReport> {
  if (resultsKey(backend) !== manifest.backend) {
    throw new RidgelineError(
      'E_SPEC',
      `sweep ${manifest.sweepId.slice(0, 12)} was planned for the ${manifest.backend} backend, but this worker has ${
        resultsKey(backend)
      }: results of the two differ in the last bits, so they may not share a sweep`,
    );
  }
  const now = o.now ?? Date.now;
  const resources = o.resources ?? new Resources(store.files);
  const executed: string[] = [];
  const nodes = manifest.nodes; // in dependency order
  let published = new Set<string>();
  for (;;) {
    const scan = await scanSweep(store, nodes, published);
    published = scan.published;
    const pending = nodes.filter((n) => !published.has(n.id));
    const blocked = blockedByFailure(nodes, scan.failed);
    const runnable = pending.filter((n) => !blocked.has(n.id));
    if (runnable.length === 0) {
      const failed = pending.filter((n) => scan.failed.has(n.id)).map((n) => ({
        id: n.id,
        label: n.label,
        reason: scan.failed.get(n.id)!,
      }));
      return { executed, failed, done: pending.length === 0 };
    }
    const ready = runnable.filter((n) => n.deps.every((d) => published.has(d)));
    let worked = false;
    for (const node of ready) {
      const claim = await store.claim(node.id, o.owner, o.leaseMs);
      if (!claim) continue;
      // Published by another worker between the scan and the claim: nothing to do.
      if (await store.isPublished(node.id)) {
        await store.release(claim);
        published.add(node.id);
        worked = true;
        break;
      }
      const outcome = await computeClaimed(store, node, claim, backend, resources, o, now);
      store.drainDamaged(o.log);
      if (outcome === 'published') {
        executed.push(node.id);
        published.add(node.id);
      } else if (outcome === 'input damaged') {
        // The damaged input was set aside: it is pending again, and computed before this node.
        published = new Set();
      }
      worked = true;
      break;
    }
    if (!worked) await sleep(o.pollMs);
  }
}

type Outcome = 'published' | 'failed' | 'input damaged' | 'lost';

async function computeClaimed(
  store: ObjectStore,
  node: GraphNode,
  claim: Claim,
  backend: Backend,
  resources: Resources,
  o: WorkerOptions,
  now: () => number,
): Promise<Outcome> {
  let lost = false;
  let lastBeat = now();
  // The beat in flight, so that publishing waits for it: a heartbeat rewriting the lock
  // while publish removes the claim directory would make that removal fail.
  let inFlight: Promise<void> = Promise.resolve();
  const beat = (): Promise<void> => {
    if (lost) return inFlight;
    lastBeat = now();
    inFlight = inFlight.then(async () => {
      if (!(await store.heartbeat(claim))) lost = true;
    });
    return inFlight;
  };
  // Long kernels can block the event loop past a timer; the training loop also renews at
  // chunk boundaries (keepAlive), so the lease holds either way.
  const timer = setInterval(() => void beat().catch(() => {}), Math.max(50, o.leaseMs / 4));
  const stopBeating = async () => {
    clearInterval(timer);
    await inFlight.catch(() => {});
  };
  const ctx: ExecContext = {
    store,
    backend,
    resources,
    progress: o.progress,
    partialEveryMs: o.partialEveryMs,
    now,
    keepAlive: async () => {
      if (now() - lastBeat > o.leaseMs / 4) await beat();
      if (lost) throw new LostClaim();
    },
  };
  const t0 = now();
  o.onNode?.({ node, phase: 'start' });
  try {
    const output = await executeNode(node, ctx);
    await stopBeating();
    // Publish only while still the owner: a worker presumed dead and taken over keeps quiet.
    if (lost || !(await store.stillOwns(claim))) {
      o.log(`${node.label}: the lease expired and another worker took the node over; this result is not published`);
      return 'lost';
    }
    const seconds = (now() - t0) / 1000;
    await store.publish(node.id, node.task.kind, node.task, output.files, output.payload, o.owner, seconds);
    o.onNode?.({ node, phase: 'done', seconds });
    return 'published';
  } catch (e) {
    if (e instanceof LostClaim) {
      o.log(`${node.label}: the lease expired and another worker took the node over; stopped computing it`);
      return 'lost';
    }
    if (e instanceof DependencyDamaged) {
      o.log(`${node.label}: ${e.message}; it is computed again first`);
      return 'input damaged';
    }
    // The worker's surroundings failed, not the node: stop; the node stays pending.
    if (e instanceof RidgelineError && ENVIRONMENT_CODES.includes(e.code)) throw e;
    // A node that fails (diverged training, a bad data file) fails the same way on every
    // worker: its reason is recorded for `sweep status`, and nodes needing it are skipped.
    const reason = e instanceof RidgelineError ? e.message : `internal error: ${(e as Error)?.stack ?? String(e)}`;
    await store.recordFailure(node.id, reason, o.owner);
    o.onNode?.({ node, phase: 'failed' });
    o.log(`${node.label} failed: ${reason.split('\n')[0]}`);
    return 'failed';
  } finally {
    await stopBeating();
    await store.release(claim).catch(() => {});
  }
}
