/**
 * The `ridgeline` package entry for Node, Bun and Deno: the runtime-agnostic API of
 * core/mod.ts, plus what only a runtime can supply — files (node:fs, which all three
 * implement), its WebGPU (Dawn through npm `webgpu` under Node, `bun-webgpu` under Bun,
 * the built-in one under Deno), the CPU backend's helper thread, and provenance (version,
 * git commit) for result files.
 *
 * @module
 */
import { type Progress, silentProgress } from '../core/progress.ts';
import { type BackendChoice, selectBackend, type SelectedBackend, type SelectOptions } from '../core/select_backend.ts';
import type { RunHost } from '../core/sweep/fork_runner.ts';
import { createHost } from './host.ts';
import { cpuSpawner } from './kernel_threads_host.ts';
import { bunGpu, denoGpu, nodeGpu } from './webgpu_host.ts';

export * from '../core/mod.ts';

declare const Bun: { version: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;

/** `node 20.20.2`, `deno 2.9.6` or `bun 1.4.5`: the runtime a result records. */
export function runtimeName(): string {
  if (typeof Deno !== 'undefined') return `deno ${Deno.version.deno}`;
  if (typeof Bun !== 'undefined') return `bun ${Bun.version}`;
  return `node ${process.versions.node}`;
}

/**
 * This runtime's ways to start backends. Under Bun, WebGPU finds a software driver only
 * when VK_ICD_FILENAMES is set before the process starts (the CLI re-executes itself for
 * that); without it, the adapter fails the known-answer check and `auto` takes the CPU.
 */
export function runtimeBackends(): SelectOptions {
  const gpu = typeof Deno !== 'undefined' ? denoGpu : typeof Bun !== 'undefined' ? bunGpu : nodeGpu;
  return { spawnWorker: cpuSpawner(), gpu };
}

/**
 * A backend by the CLI's policy (`auto` prefers a hardware WebGPU adapter, then the CPU's
 * WebAssembly kernels, and says why in `reason`), with this runtime's WebGPU and helper thread.
 * Release it with `closeBackend`.
 */
export function createBackend(choice: BackendChoice = 'auto', options: SelectOptions = runtimeBackends()): Promise<SelectedBackend> {
  return selectBackend(choice, options);
}

/** The file system through node:fs, with atomic writes and bounded reads (see `FileStore`). */
export { nodeFileStore } from './node_files.ts';

/**
 * What `runForkExperiment` needs from its surroundings: this runtime's files, the given
 * progress sink (default: silent), and provenance for result.json.
 */
export function runtimeHost(progress: Progress = silentProgress): RunHost {
  const { files, runtime, version, gitCommit } = createHost(runtimeName(), false);
  return { files, progress, runtime, version, gitCommit };
}
