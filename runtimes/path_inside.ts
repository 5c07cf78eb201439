/**
 * Whether a path stays inside a folder once symlinks are resolved: what `serve` answers and
 * what `report` copies must never reach outside the runs folder through a link (a run
 * directory holding `data -> /home/me` would otherwise publish it).
 */
import { realpath } from 'node:fs/promises';
import { normalize, sep } from 'node:path';

/** `path` equals `dir` or lies below it (lexically). */
export function lexicallyWithin(dir: string, path: string): boolean {
  const d = normalize(dir);
  const p = normalize(path);
  return p === d || p.startsWith(d.endsWith(sep) ? d : d + sep);
}

/**
 * The real path of `path` if it exists and resolves inside the real path of `root` (a root
 * reached through a link of its own still works); null if it resolves outside; `missing`
 * if it does not exist.
 */
export async function realpathInside(root: string, path: string): Promise<string | null | 'missing'> {
  if (!lexicallyWithin(root, path)) return null;
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return 'missing';
  }
  return lexicallyWithin(await realpath(root), real) ? real : null;
}

/** A predicate for the run index: admit only what resolves inside `root`. */
export const admitInside = (root: string) => async (path: string) => {
  const real = await realpathInside(root, path);
  return real !== null && real !== 'missing';
};
