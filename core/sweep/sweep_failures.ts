/**
 * Failed nodes. A node that fails for a reason of its own (diverged training, a bad data
 * file) fails the same way on every worker, so within one run its reason is recorded and
 * nodes that need it are skipped; a new `sweep run` (or fork) clears the records and tries
 * again. A failure of the worker's surroundings (a lost device, a full disk) is not the
 * node's: the worker stops and the node stays pending for another.
 */
import { type ErrorCode, RidgelineError } from '../errors.ts';
import type { ObjectStore } from '../store/object_store.ts';
import type { SweepManifest } from './manifest.ts';

/** Codes that say the worker's environment failed, not the node. */
export const ENVIRONMENT_CODES: readonly ErrorCode[] = ['E_BACKEND', 'E_IO', 'E_NO_ADAPTER'];

export async function clearFailures(store: ObjectStore, manifest: SweepManifest): Promise<void> {
  for (const n of manifest.nodes) await store.clearFailure(n.id);
}

/** A recorded failure as the error it was ("E_DIVERGED: …" keeps its code). */
export function rethrowFailure(f: { label: string; reason: string }): never {
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(f.reason);
  if (m) throw new RidgelineError(m[1] as ErrorCode, m[2]);
  throw new RidgelineError('E_STATE', `${f.label}: ${f.reason}`);
}
