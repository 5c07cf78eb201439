/**
 * The run directory of an experiment, and what makes it trustworthy across kills and
 * damage: every file a run depends on carries its identity and a checksum, every read
 * verifies both, and a file that fails is reported by name and recomputed — never used,
 * and never the cause of a valid result being rewritten.
 *
 *   DIR/spec.json                          resolved spec (a restart must match it)
 *   DIR/checkpoints/<line>-step-<s>.safetensors   weights (PyTorch names) + .optim.safetensors;
 *                                          metadata: line, step, specHash, checksum
 *   DIR/cells/<cell>.json                  one finished cell each, sealed: {identity, checksum, payload}
 *   DIR/result.json, cells.csv, summary.csv, curves.csv, report.html
 *
 * Identity includes the spec's hash, so a file left by another spec (or copied from
 * another line or step) fails too, even when spec.json itself was damaged and rewritten.
 */
import { RidgelineError } from '../errors.ts';
import { textChecksum } from '../hash.ts';
import { type FileStore, joinPath } from '../io.ts';
import { canonicalJson, seal, unseal } from '../store/sealed.ts';
import { checkpointIdentity } from '../train/checkpoint.ts';

/** The options of two specs that differ, as `--key: old → new` (camelCase keys as the CLI spells them). */
export function specDifferences(old: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
  return keys.filter((k) => canonicalJson(old[k]) !== canonicalJson(now[k])).map((k) => `${flag(k)} ${show(old[k])} → ${show(now[k])}`);
}

export class RunStore {
  /** Hash of the canonical spec, set by `claim`; part of every file's identity. */
  specHash = '';
  /** One line per damaged file found (and set aside to be recomputed), for the progress log. */
  readonly damaged: string[] = [];
  /** Lines already logged: a file checked twice (a cell, then its pair) is reported once. */
  private readonly reported = new Set<string>();

  constructor(readonly files: FileStore, readonly dir: string) {}

  path(...parts: string[]): string {
    return joinPath(this.dir, ...parts);
  }

  /**
   * Writes the spec of a new run, or checks it against the spec of the run already in the
   * directory (a resume), naming every option that differs. A damaged spec.json (not
   * JSON) is reported and rewritten: the files it governed carry the spec hash, so none
   * from another spec can pass. Call it only after every check that can refuse the run,
   * so a refused start leaves nothing behind. Returns true when resuming.
   */
  async claim(spec: Record<string, unknown>): Promise<boolean> {
    const file = this.path('spec.json');
    const text = canonicalJson(spec, 2);
    this.specHash = textChecksum(text);
    if (await this.files.exists(file)) {
      const existing = await this.files.readText(file);
      let old: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(existing);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) old = parsed as Record<string, unknown>;
      } catch {
        old = null;
      }
      if (old === null) {
        this.damaged.push(`${file} is damaged (not a JSON object): rewritten; files of another spec will fail their identity check`);
        await this.files.write(file, text + '\n');
        return true;
      }
      const diff = specDifferences(old, spec);
      if (diff.length > 0) {
        throw new RidgelineError(
          'E_SPEC',
          `${this.dir} holds a run with a different spec (${diff.join('; ')}); resume with the same options or choose another --out`,
        );
      }
      return true;
    }
    await this.files.mkdir(this.dir);
    await this.files.write(file, text + '\n');
    return false;
  }

  checkpointBase(name: string): string {
    return this.path('checkpoints', name);
  }

  /** The identity a checkpoint of `line` at `step` must carry in this run. */
  checkpointMeta(line: string, step: number): Record<string, string> {
    return { line, step: String(step), specHash: this.specHash };
  }

  /**
   * Whether checkpoint `name` exists, passes its checksums and carries the identity of
   * (line, step, this spec). A damaged or foreign one is recorded in `damaged` and
   * reported as absent, so the caller recomputes it (and overwrites it).
   */
  async hasCheckpoint(name: string, line: string, step: number): Promise<boolean> {
    const base = this.checkpointBase(name);
    const present = await Promise.all([base + '.safetensors', base + '.optim.safetensors'].map((f) => this.files.exists(f)));
    if (!present.some(Boolean)) return false;
    const want = this.checkpointMeta(line, step);
    let problem = present.every(Boolean) ? '' : 'one of its two files is missing';
    if (!problem) {
      try {
        const { weights, optim } = await checkpointIdentity(this.files, base);
        const wrong = Object.entries(want).filter(([k, v]) => weights[k] !== v || optim[k] !== v).map(([k, v]) =>
          `${k} ${weights[k] ?? '(none)'} instead of ${v}`
        );
        if (wrong.length > 0) problem = `it belongs elsewhere (${wrong.join(', ')})`;
      } catch (e) {
        if (!(e instanceof RidgelineError)) throw e;
        problem = e.message;
      }
    }
    if (!problem) return true;
    this.damaged.push(`checkpoint ${name} is not usable (${problem}): recomputing it`);
    return false;
  }

  private cellPath(name: string): string {
    return this.path('cells', `${name}.json`);
  }

  /** A finished cell, or null when absent, damaged or not this run's (recorded in `damaged`). */
  async readCell<T>(name: string): Promise<T | null> {
    const file = this.cellPath(name);
    if (!(await this.files.exists(file))) return null;
    const opened = unseal<T>(await this.files.readText(file), { cell: name, specHash: this.specHash });
    if ('payload' in opened) return opened.payload;
    this.damaged.push(`cells/${name}.json is damaged (${opened.problem}): recomputing the cell`);
    return null;
  }

  async writeCell(name: string, cell: unknown): Promise<void> {
    await this.files.write(this.cellPath(name), seal({ cell: name, specHash: this.specHash }, cell));
  }

  /**
   * The parent's loss history (for the report's plot only; no result depends on it). A
   * damaged log is reported and restarted empty: the plot then lacks the steps before the restart.
   */
  async readLossLog(file: string, log: (m: string) => void): Promise<{ step: number; loss: number }[]> {
    if (!(await this.files.exists(file))) return [];
    try {
      const parsed: unknown = JSON.parse(await this.files.readText(file));
      if (Array.isArray(parsed) && parsed.every((p) => p && Number.isInteger(p.step) && Number.isFinite(p.loss))) return parsed;
    } catch {
      // reported below
    }
    log(`${file} is damaged: the parent's loss history restarts empty (the plot lacks the earlier steps)`);
    return [];
  }

  /** Logs the damage found since the last call, each finding once. */
  drainDamaged(log: (line: string) => void): void {
    for (const line of this.damaged.splice(0)) {
      if (this.reported.has(line)) continue;
      this.reported.add(line);
      log(line);
    }
  }
}
