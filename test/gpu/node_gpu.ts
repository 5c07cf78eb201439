/**
 * WebGPU for the Node tests: npm `webgpu` (Dawn) on whatever adapter it finds. On a
 * machine without a GPU that is SwiftShader when VK_ICD_FILENAMES names its ICD
 * (scripts/test.mjs sets it when /usr/lib/chromium/vk_swiftshader_icd.json exists; Dawn
 * rejects Mesa's lavapipe). Without a usable adapter the factories return the reason as a
 * string, which the shared suites report as a skip.
 */
/// <reference types="@webgpu/types" />
import { existsSync } from 'node:fs';
import { RidgelineError } from '../../core/errors.ts';
import { createWebGpuBackend } from '../../core/gpu/create_backend.ts';
import type { WebGpuBackend, WebGpuBackendOptions } from '../../core/gpu/webgpu_backend.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let instance: GPU | null = null;

/** One dawn.node GPU object per process, kept reachable (see WebGpuBackend's `retained`). */
export async function nodeGpu(): Promise<GPU | string> {
  const icd = process.env.VK_ICD_FILENAMES;
  if (icd && !existsSync(icd)) return `VK_ICD_FILENAMES names ${icd}, which does not exist`;
  if (!instance) {
    const { create } = await import('webgpu');
    instance = create([]);
  }
  return instance;
}

/** A WebGPU backend on Node, or why there is none. Errors other than E_NO_ADAPTER propagate. */
export async function createNodeBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend | string> {
  const gpu = await nodeGpu();
  if (typeof gpu === 'string') return gpu;
  try {
    return await createWebGpuBackend(gpu, options);
  } catch (e) {
    if (!(e instanceof RidgelineError && e.code === 'E_NO_ADAPTER')) throw e;
    const hint = process.env.VK_ICD_FILENAMES
      ? ''
      : `; for Dawn without a GPU set VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (from the chromium package)`;
    return `${e.message}${hint}`;
  }
}
