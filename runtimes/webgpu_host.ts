/**
 * Each runtime's WebGPU entry point, loaded only when a command asks for a backend, with
 * the Vulkan driver docs/design.md gives it on a machine without a GPU: Node's Dawn
 * (npm `webgpu`) and Bun's `bun-webgpu` need SwiftShader (Dawn rejects Debian 12's
 * lavapipe); Deno's wgpu works with Mesa lavapipe. A driver already chosen through
 * VK_ICD_FILENAMES is left alone.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';

type Env = { get(k: string): string | undefined; set(k: string, v: string): void };

/**
 * Points the Vulkan loader at `icd` when nothing else was chosen and the file exists, and
 * gives the driver the private runtime directory it looks for (without one, every start
 * prints "XDG_RUNTIME_DIR is invalid or not set", harmless but noisy).
 */
export function preferIcd(icd: string, env: Env): void {
  if (!env.get('VK_ICD_FILENAMES') && existsSync(icd)) env.set('VK_ICD_FILENAMES', icd);
  if (!env.get('XDG_RUNTIME_DIR')) {
    const dir = join(tmpdir(), `ridgeline-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env.set('XDG_RUNTIME_DIR', dir);
  }
}

const processEnv = { get: (k: string) => process.env[k], set: (k: string, v: string) => void (process.env[k] = v) };

/** Node: Dawn through npm `webgpu`. */
export async function nodeGpu(): Promise<GPU | undefined> {
  preferIcd(SWIFTSHADER_ICD, processEnv);
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  return create([]) as GPU;
}

/** Bun: `bun-webgpu` installs navigator.gpu. */
export async function bunGpu(): Promise<GPU | undefined> {
  preferIcd(SWIFTSHADER_ICD, processEnv);
  const { setupGlobals } = (await import('bun-webgpu')) as { setupGlobals: () => void };
  setupGlobals();
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/** Deno: wgpu is built in (navigator.gpu) and works with Mesa lavapipe. */
export async function denoGpu(): Promise<GPU | undefined> {
  const env = (globalThis as unknown as { Deno: { env: Env } }).Deno.env;
  preferIcd(LAVAPIPE_ICD, env);
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}
