/**
 * Garbage collection of a store: a store shared by many sweeps and forks only grows, and a
 * researcher who dropped a sweep (`sweep forget`) wants its checkpoints' disk back. What a
 * store keeps is decided by its manifests alone: every node of every sweep (a fork is a
 * one-point sweep) is kept, whether finished or not; anything else — objects, partial
 * checkpoints, failure records, execution audits, stale claims — is removed.
 *
 * Safe next to running workers: a node with a live claim is never touched (it may be a
 * sweep whose manifest appeared after the scan), and a worker that finds an object removed
 * under it reads it as absent or damaged — verified reads never use a partial object — and
 * computes it again.
 */
import { RidgelineError } from '../errors.ts';
import type { ObjectStore } from '../store/object_store.ts';
import { listSweeps, readManifest } from './manifest.ts';

export interface GcReport {
  /** Sweeps whose nodes were kept. */
  sweeps: number;
  /** Ids kept (referenced by a manifest). */
  kept: number;
  /** Ids removed (or, on a dry run, that would be). */
  removed: string[];
  /** Ids left alone because a worker holds a live claim on them. */
  busy: string[];
  /** Notes of damaged objects cleared. */
  damagedNotes: number;
}

export async function collectGarbage(store: ObjectStore, o: { dryRun: boolean }): Promise<GcReport> {
  const referenced = new Set<string>();
  const sweeps = await listSweeps(store);
  for (const id of sweeps) {
    // A damaged manifest hides which nodes it needs: refuse rather than delete its work.
    const m = await readManifest(store, id).catch((e: unknown) => {
      throw new RidgelineError('E_DAMAGED', `sweep gc: ${(e as Error).message.replace(/^E_\w+: /, '')}; nothing was removed`);
    });
    for (const n of m.nodes) referenced.add(n.id);
  }
  const removed: string[] = [];
  const busy: string[] = [];
  for (const id of [...(await store.knownIds())].sort()) {
    if (referenced.has(id)) continue;
    const claim = await store.currentClaim(id);
    if (claim && store.isLive(claim)) {
      busy.push(id);
      continue;
    }
    removed.push(id);
    if (!o.dryRun) await store.forget(id);
  }
  const notes = await store.files.list(store.path('damaged'));
  if (!o.dryRun) await store.files.remove(store.path('damaged'));
  return { sweeps: sweeps.length, kept: referenced.size, removed, busy, damagedNotes: notes.length };
}
