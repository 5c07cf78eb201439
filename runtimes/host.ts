/**
 * What the CLI needs from a runtime (output, files, progress, provenance), built once per
 * process by the adapters with node: APIs that Node, Deno and Bun all implement.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileStore } from '../core/io.ts';
import type { Progress } from '../core/progress.ts';
import type { SelectOptions } from '../core/select_backend.ts';
import { cpuSpawner } from './kernel_threads_host.ts';
import { nodeFileStore } from './node_files.ts';
import { terminalProgress } from './progress.ts';

export interface RuntimeHost {
  /** e.g. `node 20.20.2`. */
  runtime: string;
  print(line: string): void;
  error(line: string): void;
  files: FileStore;
  progress: Progress;
  /** ridgeline's version (package.json) and the git commit of the checkout, if any. */
  version: string;
  gitCommit: string | null;
  /** How this runtime provides backends: the CPU helper thread and its WebGPU entry point. */
  backends: SelectOptions;
  /** The command that starts this ridgeline again (sweep worker processes, batch scripts). */
  self: string[];
}

/** The repository root: the nearest ancestor of this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** HEAD's commit from .git without running git (which may not be installed). */
function gitCommit(root: string): string | null {
  try {
    const head = readFileSync(join(root, '.git/HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    const loose = join(root, '.git', ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(join(root, '.git/packed-refs'), 'utf8');
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export function createHost(
  runtime: string,
  interactive: boolean,
  gpu?: () => Promise<GPU | undefined>,
  self: string[] = [process.execPath, process.argv[1]],
): RuntimeHost {
  const root = repoRoot();
  const write = (text: string) => void process.stderr.write(text);
  return {
    runtime,
    print: (line) => console.log(line),
    error: (line) => console.error(line),
    files: nodeFileStore(),
    // Progress goes to stderr so that --json output on stdout stays machine-readable.
    progress: terminalProgress(write, interactive),
    version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    gitCommit: gitCommit(root),
    backends: { spawnWorker: cpuSpawner(), gpu },
    self,
  };
}
