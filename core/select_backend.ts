/**
 * Backend selection: `auto` takes the best backend that works here, `cpu` forces the
 * WebAssembly backend, `webgpu` insists on a usable GPU adapter and fails clearly
 * (`E_NO_ADAPTER`) without one — never a silent fallback.
 *
 * `auto` prefers WebGPU on a hardware adapter that passes the known-answer check. A
 * software Vulkan driver (SwiftShader, lavapipe/llvmpipe) is conformant but runs WGSL on
 * the CPU several times slower than our SIMD WebAssembly kernels on the same cores
 * (bench/webgpu_matmul.ts), so `auto` takes the CPU backend there and says why.
 *
 * `math: 'relaxed'` (core/math_mode.ts) exists only on the CPU backend: with `auto` it
 * takes the CPU backend, with `webgpu` it is refused rather than silently ignored.
 */
import type { Backend } from './backend.ts';
import { CpuBackend, createCpuBackend } from './cpu/cpu_backend.ts';
import type { KernelWorkerSpawner } from './cpu/kernel_threads.ts';
import { argError, RidgelineError } from './errors.ts';
import { createWebGpuBackend } from './gpu/create_backend.ts';
import { WebGpuBackend } from './gpu/webgpu_backend.ts';
import type { MathMode } from './math_mode.ts';

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
  /** Runtime's WebGPU entry point (navigator.gpu, npm webgpu, bun-webgpu), if it has one. */
  gpu?: () => Promise<GPU | undefined>;
  /** The kernels' arithmetic (default `strict`); `relaxed` needs the CPU backend. */
  math?: MathMode;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|cpu/i;

/** Whether an adapter description names a CPU emulation of a GPU. */
export function isSoftwareAdapter(description: string): boolean {
  return SOFTWARE_ADAPTER.test(description);
}

/** Refuses `math: 'relaxed'` with `webgpu`: the mode exists only on the CPU backend. */
export function checkMathBackend(choice: string, math: MathMode): void {
  if (math === 'relaxed' && choice === 'webgpu') {
    throw new RidgelineError(
      'E_SPEC',
      '--math relaxed is a mode of the cpu backend (the webgpu backend has no relaxed kernels): use --backend cpu, or --math strict',
    );
  }
}

export async function selectBackend(choice: string, options: SelectOptions = {}): Promise<SelectedBackend> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    argError('--backend', `unknown backend '${choice}'; valid: ${BACKEND_CHOICES.join(', ')}`);
  }
  const math = options.math ?? 'strict';
  const cpu = async (why: string): Promise<SelectedBackend> => {
    const backend = await createCpuBackend({ spawnWorker: options.spawnWorker, math });
    return { backend, reason: `backend: cpu (${backend.description}); ${why}` };
  };
  if (choice === 'cpu') return cpu('as requested');
  checkMathBackend(choice, math);
  if (math === 'relaxed') return cpu('--math relaxed runs on the cpu backend only');
  let gpu: GPU | undefined;
  try {
    gpu = await options.gpu?.();
  } catch (e) {
    if (choice === 'webgpu') {
      throw new RidgelineError('E_NO_ADAPTER', `--backend webgpu: this runtime's WebGPU could not start: ${(e as Error).message}`);
    }
  }
  if (choice === 'webgpu') {
    const backend = await createWebGpuBackend(gpu);
    return { backend, reason: `backend: webgpu (${backend.description}), as requested` };
  }
  if (!gpu) return cpu('this runtime offers no WebGPU');
  try {
    const backend = await createWebGpuBackend(gpu);
    if (!isSoftwareAdapter(backend.description)) return { backend, reason: `backend: webgpu (${backend.description})` };
    const why = `the WebGPU adapter is a CPU emulation (${backend.description}), slower than WebAssembly here; --backend webgpu forces it`;
    backend.destroy();
    return cpu(why);
  } catch (e) {
    if (e instanceof RidgelineError) return cpu(`no usable WebGPU adapter (${e.message})`);
    throw e;
  }
}

/**
 * The library's way to get a backend where the global scope has WebGPU (a browser page or
 * worker, Deno): `navigator.gpu` if there is one, one CPU thread. Node and Bun users import
 * `ridgeline`, whose `createBackend` supplies their runtime's WebGPU and helper thread.
 */
export function createBackend(
  choice: BackendChoice = 'auto',
  options: SelectOptions = { gpu: async () => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu },
): Promise<SelectedBackend> {
  return selectBackend(choice, options);
}

/**
 * Releases what a backend holds outside the garbage collector: the WebGPU device, or the
 * CPU backend's helper thread. The backend is unusable afterwards.
 */
export function closeBackend(backend: Backend): void {
  if (backend instanceof WebGpuBackend) backend.destroy();
  else if (backend instanceof CpuBackend) backend.close();
}
