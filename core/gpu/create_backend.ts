/// <reference types="@webgpu/types" />
/**
 * Device acquisition for the WebGPU backend from an injected `GPU` object (`navigator.gpu`
 * in Deno and browsers, npm `webgpu`'s `create([])` in Node, `bun-webgpu` in Bun), and the
 * start-up known-answer check: an adapter that runs kernels wrongly — e.g. Bun's
 * `null-backend`, which without a Vulkan driver silently writes zeros — is refused with
 * E_NO_ADAPTER rather than allowed to compute garbage.
 */
import { RidgelineError } from '../errors.ts';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu_backend.ts';

/** Limits requested at the adapter's maximum: big bindings and big workgroups. */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

function noAdapter(why: string): never {
  throw new RidgelineError('E_NO_ADAPTER', `webgpu: ${why}`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Names of CPU-emulated drivers, for runtimes that do not flag fallback adapters. */
const SOFTWARE_DRIVERS = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

/**
 * "vendor architecture (description)" from whatever adapter info the runtime offers, and
 * whether the adapter is CPU-emulated.
 */
async function describeAdapter(adapter: GPUAdapter): Promise<{ description: string; software: boolean }> {
  type Legacy = GPUAdapter & { requestAdapterInfo?: () => Promise<GPUAdapterInfo>; isFallbackAdapter?: boolean };
  const legacy = adapter as Legacy;
  const info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } = adapter.info ??
    (await legacy.requestAdapterInfo?.().catch(() => undefined)) ?? {};
  const head = [info.vendor, info.architecture].filter((s) => s).join(' ');
  const description = [head, info.description ? `(${info.description})` : ''].filter((s) => s).join(' ') || 'unnamed adapter';
  const software = Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter) || SOFTWARE_DRIVERS.test(description);
  return { description, software };
}

/**
 * Requests an adapter and a device with the adapter's largest binding and workgroup
 * limits, checks it with known-answer kernels, and returns the backend.
 * @throws RidgelineError E_NO_ADAPTER when there is no GPU object, no adapter, no device,
 *   or the adapter fails the known-answer check (the message says which and why).
 */
export async function createWebGpuBackend(gpu: GPU | null | undefined, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  if (!gpu) noAdapter('this runtime has no WebGPU (navigator.gpu is undefined)');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  } catch (e) {
    noAdapter(`requestAdapter failed: ${message(e)}`);
  }
  if (!adapter) {
    noAdapter(
      'requestAdapter() found no adapter (on a machine without a GPU, install a Vulkan driver such as SwiftShader or Mesa lavapipe and point VK_ICD_FILENAMES at its ICD file)',
    );
  }
  const named = await describeAdapter(adapter);
  const description = named.description;
  const requiredLimits: Record<string, number> = {};
  for (const key of REQUESTED_LIMITS) {
    const value = adapter.limits[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'ridgeline', requiredLimits });
  } catch (first) {
    // bun-webgpu 0.1.7 rejects any requiredLimits ("Value must be between 0 and 0, got 8"):
    // fall back to the default limits (128 MiB bindings), which the backend then respects.
    try {
      device = await adapter.requestDevice({ label: 'ridgeline' });
    } catch (e) {
      noAdapter(`${description}: requestDevice failed: ${message(first)}; without raised limits: ${message(e)}`);
    }
  }
  const backend = new WebGpuBackend(device, named, options, [gpu, adapter]);
  let why: string | null;
  try {
    why = await knownAnswer(backend);
  } catch (e) {
    why = `it failed with ${message(e)}`;
  }
  if (why) {
    backend.destroy();
    noAdapter(`adapter ${description} failed the start-up known-answer check: ${why}`);
  }
  return backend;
}

function close(got: Float32Array, want: readonly number[]): boolean {
  return got.length === want.length && want.every((w, i) => Math.abs(got[i] - w) <= 1e-5 * Math.max(1, Math.abs(w)));
}

/**
 * A 3×5·5×2 product of small integers (exact in f32) and a softmax row with known
 * values; returns why the results are wrong, or null.
 */
async function knownAnswer(be: WebGpuBackend): Promise<string | null> {
  const a = Float32Array.from({ length: 15 }, (_, i) => i - 7);
  const b = Float32Array.from({ length: 10 }, (_, i) => (i % 3) - 1);
  const want: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let p = 0; p < 5; p++) s += a[i * 5 + p] * b[p * 2 + j];
      want.push(s);
    }
  }
  const x = [1, 2, 3];
  const z = x.reduce((s, v) => s + Math.exp(v), 0);
  const wantSoftmax = x.map((v) => Math.exp(v) / z);
  const bufs = [be.alloc(15), be.alloc(10), be.alloc(6), be.alloc(3), be.alloc(3)];
  const [ab, bb, cb, xb, sb] = bufs;
  try {
    be.upload(ab, a);
    be.upload(bb, b);
    be.upload(xb, Float32Array.from(x));
    be.matmul(ab, bb, cb, { batch: 1, m: 3, n: 2, k: 5, transA: false, transB: false });
    be.softmax(xb, sb, 1, 3);
    const [c, s] = [await be.download(cb), await be.download(sb)];
    const zeros = "every output was 0 (an adapter that runs no kernels, like Bun's null-backend without a Vulkan driver, writes zeros)";
    if (!close(c, want)) return c.every((v) => v === 0) ? zeros : `matmul gave [${Array.from(c)}], expected [${want}]`;
    if (!close(s, wantSoftmax)) return s.every((v) => v === 0) ? zeros : `softmax gave [${Array.from(s)}], expected [${wantSoftmax}]`;
    return null;
  } finally {
    for (const buf of bufs) be.free(buf);
  }
}
