/**
 * Backend selection: `auto` takes the best backend that works here, `cpu` forces the
 * WebAssembly backend, `webgpu` insists on a GPU and fails clearly without one.
 */
import type { Backend } from './backend.ts';
import { createCpuBackend } from './cpu/cpu_backend.ts';
import type { KernelWorkerSpawner } from './cpu/kernel_threads.ts';
import { RidgelineError, argError } from './errors.ts';

export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface SelectedBackend {
  backend: Backend;
  /** One line saying what was chosen and why (printed by the CLI). */
  reason: string;
}

export interface SelectOptions {
  /** Runtime's way to start the CPU backend's helper thread (none: one thread). */
  spawnWorker?: KernelWorkerSpawner;
}

export async function selectBackend(choice: string, options: SelectOptions = {}): Promise<SelectedBackend> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    argError('--backend', `unknown backend '${choice}'; valid: ${BACKEND_CHOICES.join(', ')}`);
  }
  if (choice === 'webgpu') {
    // The WGSL backend is a later milestone; until it exists no adapter is usable.
    throw new RidgelineError('E_NO_ADAPTER', '--backend webgpu: this build has no WebGPU backend yet; use --backend cpu or auto');
  }
  const backend = await createCpuBackend({ spawnWorker: options.spawnWorker });
  const reason = choice === 'cpu'
    ? `backend: cpu (${backend.description}), as requested`
    : `backend: cpu (${backend.description}); no WebGPU backend in this build`;
  return { backend, reason };
}
