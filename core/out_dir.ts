/**
 * An output directory made ready before any work: created, proven writable, and swept of
 * the temporary files of killed writers. A run that cannot write its results learns it in
 * its first second (E_IO naming the path), not after an hour of training.
 */
import { RidgelineError } from './errors.ts';
import type { FileStore } from './io.ts';

export interface OutDirOptions {
  /**
   * Refuse a directory that already holds files (the command's option name is in the
   * message) unless `force`: for outputs that are not resumable and would replace an
   * earlier run's files.
   */
  fresh?: { option: string; force: boolean };
}

export async function prepareOutDir(files: FileStore, dir: string, o: OutDirOptions = {}): Promise<void> {
  await files.mkdir(dir);
  await files.probeWritable(dir);
  await files.sweepTemp(dir);
  if (o.fresh && !o.fresh.force) {
    const entries = await files.list(dir);
    if (entries.length > 0) {
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
      throw new RidgelineError(
        'E_SPEC',
        `${o.fresh.option} ${dir} is not empty (${shown}); choose an empty directory or add --force to replace its files`,
      );
    }
  }
}
