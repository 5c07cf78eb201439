/**
 * Starts the CPU backend's helper thread with node:worker_threads (Node, Deno and Bun all
 * implement it), and decides how many threads to use.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelWorkerInit, KernelWorkerSpawner } from '../core/cpu/kernel_threads.ts';

// Node runs the compiled dist/runtimes/*.js; Deno and Bun run the .ts sources.
const workerUrl = new URL(`./kernel_worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export const spawnKernelWorker: KernelWorkerSpawner = (init: KernelWorkerInit) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: init });
    // The helper blocks in Atomics.wait forever; it must not keep the process alive.
    worker.unref();
    worker.once('error', reject);
    worker.once('message', () => resolve({ terminate: () => void worker.terminate() }));
  });

/**
 * The helper thread pays off only with a second core, and not when the cores are already
 * shared out: sweep workers of a pool (and Slurm tasks given one CPU) run with
 * RIDGELINE_THREADS=1. Results are bit-identical either way (disjoint row ranges).
 */
export function cpuSpawner(): KernelWorkerSpawner | undefined {
  if (process.env.RIDGELINE_THREADS === '1') return undefined;
  return availableParallelism() > 1 ? spawnKernelWorker : undefined;
}
