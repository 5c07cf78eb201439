/**
 * Deno entry (run by test/kernels_webgpu_deno.test.ts with `deno test` and
 * deno_import_map.json): the shared kernel and autograd suites on Deno's own WebGPU
 * (wgpu), i.e. on Mesa lavapipe when VK_ICD_FILENAMES names its ICD.
 */
/// <reference types="@webgpu/types" />
import { RidgelineError } from '../../core/errors.ts';
import { createWebGpuBackend } from '../../core/gpu/create_backend.ts';
import type { WebGpuBackend } from '../../core/gpu/webgpu_backend.ts';
import { autogradSuite } from '../suites/autograd.ts';
import { kernelSuite } from '../suites/kernels.ts';
import { layerSuite } from '../suites/layers.ts';

async function create(): Promise<WebGpuBackend | string> {
  try {
    return await createWebGpuBackend(navigator.gpu);
  } catch (e) {
    if (e instanceof RidgelineError && e.code === 'E_NO_ADAPTER') return e.message;
    throw e;
  }
}

// One backend for both suites; its adapter is printed for the runner's report.
const made = await create();
console.log(`ridgeline-adapter: ${typeof made === 'string' ? 'none' : made.description}`);
const name = `webgpu (deno${typeof made === 'string' ? '' : `, ${made.description}`})`;
kernelSuite(name, async () => made);
autogradSuite(name, async () => made);
layerSuite(name, async () => made);
