/**
 * Entry point of the CPU backend's helper thread under Node, Deno and Bun (all three
 * implement node:worker_threads). It says it is ready, then blocks in the kernel loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type KernelWorkerInit, runKernelWorker } from '../core/cpu/kernel_threads.ts';

parentPort?.postMessage('ready');
runKernelWorker(workerData as KernelWorkerInit);
