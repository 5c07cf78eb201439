/**
 * The run directory of an experiment, and what makes a killed run resumable: the resolved
 * spec is written first; checkpoints and finished cells are written atomically as they
 * complete; a restart with the same directory checks the spec and skips what exists.
 *
 *   DIR/spec.json                          resolved spec (a restart must match it)
 *   DIR/checkpoints/<name>.safetensors     weights (PyTorch names) + <name>.optim.safetensors
 *   DIR/cells/<cell>.json                  one finished cell each
 *   DIR/result.json, cells.csv, curves.csv, report.html
 */
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import { OPTIM_SUFFIX, WEIGHTS_SUFFIX } from '../train/checkpoint.ts';

/** Stable JSON: keys sorted, so equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v, 2);
}

export class RunStore {
  constructor(readonly files: FileStore, readonly dir: string) {}

  path(...parts: string[]): string {
    return joinPath(this.dir, ...parts);
  }

  /**
   * Writes the spec of a new run, or checks it against the spec of the run already in the
   * directory (a resume). Returns true when resuming.
   */
  async claim(spec: unknown): Promise<boolean> {
    const file = this.path('spec.json');
    const text = canonicalJson(spec);
    if (await this.files.exists(file)) {
      const existing = await this.files.readText(file);
      if (existing.trim() !== text.trim()) {
        throw new RidgelineError('E_SPEC', `${this.dir} holds a run with a different spec (see ${file}); resume with the same options or choose another --out`);
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

  async hasCheckpoint(name: string): Promise<boolean> {
    const base = this.checkpointBase(name);
    return (await this.files.exists(base + WEIGHTS_SUFFIX)) && (await this.files.exists(base + OPTIM_SUFFIX));
  }

  private cellPath(name: string): string {
    return this.path('cells', `${name}.json`);
  }

  async readCell<T>(name: string): Promise<T | null> {
    const file = this.cellPath(name);
    return (await this.files.exists(file)) ? (JSON.parse(await this.files.readText(file)) as T) : null;
  }

  async writeCell(name: string, cell: unknown): Promise<void> {
    await this.files.write(this.cellPath(name), JSON.stringify(cell, null, 1));
  }
}
