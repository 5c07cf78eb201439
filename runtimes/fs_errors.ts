/**
 * File-system failures in words: an errno code becomes the cause a user can act on, so
 * the CLI prints `E_IO: PATH: cause` in one line instead of a Node stack.
 */
import { RidgelineError } from '../core/errors.ts';

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a component of the path is a file, not a directory',
  EEXIST: 'exists and is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'input/output error of the device',
  EBUSY: 'the file or device is busy',
};

/** The cause of a node:fs error in words (with its code), or its message if unknown. */
export function causeInWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/** An E_IO error naming `path` and the cause. */
export function ioError(path: string, e: unknown): RidgelineError {
  return new RidgelineError('E_IO', `${path}: ${causeInWords(e)}`);
}
