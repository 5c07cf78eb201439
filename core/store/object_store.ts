/**
 * The content-addressed, verified object store under which sweeps (and fork runs) keep
 * every piece of work, by the hash of exactly what determines it:
 *
 *   ROOT/store.json                      format marker (a directory that is not a store is refused)
 *   ROOT/objects/<ab>/<id>/node.json     sealed record: kind, identity, each file's checksum, payload
 *   ROOT/objects/<ab>/<id>/<files>       the object's files (checkpoints)
 *   ROOT/partial/<id>/                   checkpoints of an unfinished training node (preemption resume)
 *   ROOT/claims/<id>/<gen>.lock          who computes a node, with a heartbeat lease
 *   ROOT/executions/<id>/<owner>.json    one per completed execution (audited by the tests)
 *   ROOT/failures/<id>.json              why a node failed (shown by `sweep status`)
 *   ROOT/damaged/                        one note per damaged object found and set aside
 *   ROOT/sweeps/<sweep>.json             sealed sweep manifests
 *
 * Publishing: the files are written first (each atomically: temporary name + rename in the
 * same directory), and node.json — which lists their checksums — last, with the same
 * atomic rename. An object exists when its node.json does, so a reader sees all of it or
 * none; a reader verifies node.json's seal and every file's checksum before use, and an
 * object that fails is set aside (removed, with a note) and computed again.
 *
 * Claims are generations: `claims/<id>/000003.lock` is created with O_EXCL, so of many
 * workers racing for a generation exactly one wins. The owner rewrites its own lock file
 * as a heartbeat; once the heartbeat is older than the lease, another worker may create
 * the next generation, which takes the node over. An owner that finds a newer generation
 * than its own has lost the node and does not publish.
 */
import { RidgelineError } from '../errors.ts';
import { fnv1a64Hex } from '../hash.ts';
import { type FileStore, joinPath } from '../io.ts';
import { seal, unseal } from './sealed.ts';

export const STORE_FORMAT = 'ridgeline-store';
export const STORE_VERSION = 1;

/** The sealed record of a published object. */
export interface ObjectRecord<P = unknown> {
  id: string;
  kind: string;
  identity: unknown;
  /** File name → checksum (fnv1a64 of its bytes). */
  files: Record<string, string>;
  payload: P;
  producedBy: string;
  seconds: number;
}

export interface ClaimInfo {
  owner: string;
  generation: number;
  heartbeat: number;
  leaseMs: number;
  released: boolean;
}

export interface Claim {
  id: string;
  generation: number;
  owner: string;
  leaseMs: number;
}

const GEN_DIGITS = 6;

/** The names a store holds at its top level. */
const STORE_ENTRIES = new Set([
  'store.json',
  'objects',
  'partial',
  'claims',
  'executions',
  'failures',
  'damaged',
  'sweeps',
  'logs',
  'slurm',
]);

export class ObjectStore {
  /** One line per damaged object found (and set aside), for the progress log. */
  readonly damaged: string[] = [];

  constructor(readonly files: FileStore, readonly root: string, private readonly now: () => number = Date.now) {}

  /**
   * Opens the store at root, creating it if the directory is empty or absent; a directory
   * holding other files, or a store of another version, is refused (E_SPEC) before any write.
   */
  static async open(files: FileStore, root: string, o: { create: boolean } = { create: true }): Promise<ObjectStore> {
    const marker = joinPath(root, 'store.json');
    if (await files.exists(marker)) {
      let info: { format?: string; version?: number } | null = null;
      // A marker read while its creator (another process) is still writing it: look again.
      for (let attempt = 0; info === null && attempt < 5; attempt++) {
        try {
          info = JSON.parse(await files.readText(marker));
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (info === null) {
        throw new RidgelineError(
          'E_DAMAGED',
          `${marker} is damaged (not JSON); it marks ${root} as a ridgeline store — restore it as {"format": "${STORE_FORMAT}", "version": ${STORE_VERSION}}`,
        );
      }
      if (info.format !== STORE_FORMAT || info.version !== STORE_VERSION) {
        throw new RidgelineError(
          'E_SPEC',
          `--store ${root}: a store of format ${String(info.format)} version ${
            String(info.version)
          }; this ridgeline reads ${STORE_FORMAT} version ${STORE_VERSION}`,
        );
      }
      return new ObjectStore(files, root);
    }
    if (!o.create) {
      throw new RidgelineError('E_SPEC', `--store ${root}: not a ridgeline store (no store.json); 'ridgeline sweep run' creates one`);
    }
    const entries = await files.list(root);
    // Another process creating the same store at this moment has written only its own names.
    const foreign = entries.filter((e) => !STORE_ENTRIES.has(e) && !e.startsWith('store.json.tmp-') && !e.startsWith('.ridgeline-probe'));
    if (foreign.length > 0) {
      throw new RidgelineError(
        'E_SPEC',
        `--store ${root} is a non-empty directory that is not a ridgeline store (${
          foreign.slice(0, 3).join(', ')
        }…); choose an empty or new directory`,
      );
    }
    await files.mkdir(root);
    await files.probeWritable(root);
    // O_EXCL: of two processes creating one store, one writes the marker; both then use it.
    await files.createExclusive(marker, JSON.stringify({ format: STORE_FORMAT, version: STORE_VERSION }) + '\n');
    return new ObjectStore(files, root);
  }

  path(...parts: string[]): string {
    return joinPath(this.root, ...parts);
  }

  objectDir(id: string): string {
    return this.path('objects', id.slice(0, 2), id);
  }

  /** Whether the object's record exists (cheap; `read` verifies it). */
  async isPublished(id: string): Promise<boolean> {
    return this.files.exists(joinPath(this.objectDir(id), 'node.json'));
  }

  /**
   * The verified record of object `id`, or null when absent. A damaged object (record not
   * sealed, a file missing or not matching its checksum) is set aside and reported as
   * absent, so it is computed again — never used.
   */
  async read<P>(id: string, o: { verifyFiles?: boolean } = {}): Promise<ObjectRecord<P> | null> {
    const dir = this.objectDir(id);
    const recordFile = joinPath(dir, 'node.json');
    if (!(await this.files.exists(recordFile))) return null;
    let text: string;
    try {
      text = await this.files.readText(recordFile);
    } catch {
      return null; // removed between the two calls (set aside by another worker)
    }
    const opened = unseal<ObjectRecord<P>>(text, { object: id });
    let problem = 'problem' in opened ? `node.json: ${opened.problem}` : '';
    if (!problem && o.verifyFiles !== false) {
      const record = (opened as { payload: ObjectRecord<P> }).payload;
      for (const [name, want] of Object.entries(record.files)) {
        let got = '(missing)';
        try {
          got = fnv1a64Hex(await this.files.read(joinPath(dir, name)));
        } catch {
          // reported below as missing
        }
        if (got !== want) {
          problem = got === '(missing)' ? `${name} is missing` : `${name} hashes to ${got}, its record says ${want}`;
          break;
        }
      }
    }
    if (!problem) return (opened as { payload: ObjectRecord<P> }).payload;
    await this.setAside(id, problem);
    return null;
  }

  /** Removes a damaged object (leaving a note) so it is computed again. */
  async setAside(id: string, problem: string): Promise<void> {
    const line = `object ${id} is damaged (${problem}): set aside, it will be computed again`;
    this.damaged.push(line);
    await this.files.write(this.path('damaged', `${id}-${this.now()}.txt`), line + '\n');
    await this.files.remove(this.objectDir(id));
  }

  /** The ids the store holds anything for: objects (published or being written), partial checkpoints, claims, failures, executions. */
  async knownIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const ab of await this.files.list(this.path('objects'))) {
      for (const id of await this.files.list(this.path('objects', ab))) ids.add(id);
    }
    for (const dir of ['partial', 'claims', 'executions']) for (const id of await this.files.list(this.path(dir))) ids.add(id);
    for (const f of await this.files.list(this.path('failures'))) if (f.endsWith('.json')) ids.add(f.slice(0, -5));
    return ids;
  }

  /** Removes everything the store holds for `id` (garbage collection; the caller checked no claim is live). */
  async forget(id: string): Promise<void> {
    await this.files.remove(this.objectDir(id));
    await this.files.remove(this.path('partial', id));
    await this.files.remove(this.path('failures', `${id}.json`));
    await this.files.remove(this.path('executions', id));
    await this.files.remove(this.path('claims', id));
  }

  /** Where a node under construction writes its files before `publish`. */
  stagingDir(id: string): string {
    return this.objectDir(id);
  }

  /**
   * Publishes object `id`: its files (already written into stagingDir(id) by the caller,
   * each atomically) are hashed, and the sealed record is written last.
   */
  async publish<P>(
    id: string,
    kind: string,
    identity: unknown,
    fileNames: string[],
    payload: P,
    producedBy: string,
    seconds: number,
  ): Promise<void> {
    const dir = this.objectDir(id);
    const files: Record<string, string> = {};
    for (const name of fileNames) files[name] = fnv1a64Hex(await this.files.read(joinPath(dir, name)));
    const record: ObjectRecord<P> = { id, kind, identity, files, payload, producedBy, seconds };
    await this.files.write(joinPath(dir, 'node.json'), seal({ object: id }, record));
    await this.files.write(
      this.path('executions', id, `${producedBy}.json`),
      JSON.stringify({ owner: producedBy, seconds, at: new Date(this.now()).toISOString() }) + '\n',
    );
    await this.files.remove(this.path('partial', id));
    await this.files.remove(this.path('failures', `${id}.json`));
    // A published node needs no claim: later workers see the record and skip it. Removing
    // the claims is tidying only, and a worker racing to claim the node (it read the store
    // just before the record appeared) can add a lock meanwhile: a failed removal leaves
    // that harmless lock behind rather than failing a node that is already published.
    await this.files.remove(this.path('claims', id)).catch(() => {});
  }

  /** How many completed executions of `id` the store has seen (the tests' audit). */
  async executions(id: string): Promise<string[]> {
    return this.files.list(this.path('executions', id));
  }

  partialDir(id: string): string {
    return this.path('partial', id);
  }

  // ---- claims -------------------------------------------------------------------------

  private claimFile(id: string, generation: number): string {
    return this.path('claims', id, `${String(generation).padStart(GEN_DIGITS, '0')}.lock`);
  }

  /**
   * The newest claim on `id`, or null. An unreadable lock (damaged, or caught while its
   * creator writes it) counts as expired: taking it over costs at most one lost execution —
   * its owner, finding a newer generation, does not publish — whereas counting it as live
   * would stall the node forever.
   */
  async currentClaim(id: string): Promise<ClaimInfo | null> {
    const gens = (await this.files.list(this.path('claims', id))).filter((n) => /^\d+\.lock$/.test(n)).sort();
    if (gens.length === 0) return null;
    const generation = Number(gens[gens.length - 1].slice(0, -5));
    try {
      const info = JSON.parse(await this.files.readText(this.claimFile(id, generation))) as ClaimInfo;
      return { ...info, generation };
    } catch {
      return { owner: '(unreadable lock)', generation, heartbeat: 0, leaseMs: 0, released: false };
    }
  }

  /** Whether a claim is held by a live owner (heartbeat within its lease, not released). */
  isLive(c: ClaimInfo): boolean {
    return !c.released && this.now() - c.heartbeat <= c.leaseMs;
  }

  /** Claims `id` for `owner`, or returns null when a live owner holds it or another worker won the race. */
  async claim(id: string, owner: string, leaseMs: number): Promise<Claim | null> {
    const current = await this.currentClaim(id);
    if (current && this.isLive(current)) return null;
    const generation = current ? current.generation + 1 : 0;
    const info: ClaimInfo = { owner, generation, heartbeat: this.now(), leaseMs, released: false };
    if (!(await this.files.createExclusive(this.claimFile(id, generation), JSON.stringify(info)))) return null;
    return { id, generation, owner, leaseMs };
  }

  /** Whether `claim` is still the newest generation (a worker presumed dead was taken over). */
  async stillOwns(claim: Claim): Promise<boolean> {
    const current = await this.currentClaim(claim.id);
    return current !== null && current.generation === claim.generation && current.owner === claim.owner;
  }

  /** Renews the lease; false if the claim was taken over meanwhile. */
  async heartbeat(claim: Claim): Promise<boolean> {
    if (!(await this.stillOwns(claim))) return false;
    const info: ClaimInfo = {
      owner: claim.owner,
      generation: claim.generation,
      heartbeat: this.now(),
      leaseMs: claim.leaseMs,
      released: false,
    };
    try {
      await this.files.write(this.claimFile(claim.id, claim.generation), JSON.stringify(info));
    } catch (e) {
      // The claim directory vanished under the write: the node was published by a worker
      // that took it over, so this claim is lost, not the store broken.
      if (!(await this.stillOwns(claim))) return false;
      throw e;
    }
    return true;
  }

  /** Gives the node up (after publishing it, or on failure) so others need not wait for the lease. */
  async release(claim: Claim): Promise<void> {
    if (!(await this.stillOwns(claim))) return;
    const info: ClaimInfo = {
      owner: claim.owner,
      generation: claim.generation,
      heartbeat: this.now(),
      leaseMs: claim.leaseMs,
      released: true,
    };
    await this.files.write(this.claimFile(claim.id, claim.generation), JSON.stringify(info));
  }

  // ---- failures -----------------------------------------------------------------------

  async recordFailure(id: string, reason: string, owner: string): Promise<void> {
    await this.files.write(
      this.path('failures', `${id}.json`),
      JSON.stringify({ reason, owner, at: new Date(this.now()).toISOString() }) + '\n',
    );
  }

  async failure(id: string): Promise<string | null> {
    const file = this.path('failures', `${id}.json`);
    if (!(await this.files.exists(file))) return null;
    try {
      return String((JSON.parse(await this.files.readText(file)) as { reason: string }).reason);
    } catch {
      return '(failure record unreadable)';
    }
  }

  async clearFailure(id: string): Promise<void> {
    await this.files.remove(this.path('failures', `${id}.json`));
  }

  /** Logs the damage found since the last call. */
  drainDamaged(log: (line: string) => void): void {
    for (const line of this.damaged.splice(0)) log(line);
  }
}
