/** What an experiment runner needs from its runtime: files, progress, and provenance. */
import type { FileStore } from '../io.ts';
import type { Progress } from '../progress.ts';

export interface RunHost {
  files: FileStore;
  progress: Progress;
  runtime: string;
  version: string;
  gitCommit: string | null;
}
