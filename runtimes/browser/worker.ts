/// <reference types="@webgpu/types" />
/**
 * The page's Web Worker: all compute happens here so the page stays responsive. It builds
 * the backend, an in-memory run directory and a progress sink that calls the page back,
 * then runs the same `runForkExperiment` as the CLI. There is no helper thread for the CPU
 * backend here (one thread), which is also what makes its results comparable bit for bit
 * with a single-threaded Node run.
 */
import * as Comlink from 'comlink';
import type { Backend } from '../../core/backend.ts';
import { createCpuBackend } from '../../core/cpu/cpu_backend.ts';
import { runForkExperiment } from '../../core/experiments/fork_runner.ts';
import { FORK_DEFAULTS, applyOptions } from '../../core/experiments/fork_spec.ts';
import { RidgelineError } from '../../core/errors.ts';
import { createWebGpuBackend } from '../../core/gpu/create_backend.ts';
import { memoryFileStore } from '../../core/io_memory.ts';
import type { Progress } from '../../core/progress.ts';
import type { BrowserBackendChoice, ProgressEvent, WorkerApi } from './protocol.ts';

/** Injected by scripts/build.mjs (esbuild `define`) from package.json and .git. */
declare const RIDGELINE_VERSION: string;
declare const RIDGELINE_GIT_COMMIT: string | null;

const BROWSER_HINT = 'In a browser: chrome://gpu shows whether WebGPU is enabled; headless Chromium without a GPU needs --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader';

/** Per-step updates are thinned to this interval: postMessage per step would flood the page. */
const UPDATE_INTERVAL_MS = 100;

function progressTo(send: (e: ProgressEvent) => void): Progress {
  let last = 0;
  return {
    start: (label, total) => send({ kind: 'start', label, total }),
    update(done, status = '') {
      const now = performance.now();
      if (now - last < UPDATE_INTERVAL_MS) return;
      last = now;
      send({ kind: 'update', done, status });
    },
    finish: (status = '') => send({ kind: 'finish', status }),
    log: (line) => send({ kind: 'log', line }),
  };
}

/** The backend, and the one line that says which it is and why. */
async function openBackend(choice: BrowserBackendChoice): Promise<{ backend: Backend; reason: string; close(): void }> {
  if (choice !== 'cpu') {
    try {
      const gpu = await createWebGpuBackend(navigator.gpu);
      return { backend: gpu, reason: `backend: webgpu (${gpu.description})`, close: () => gpu.destroy() };
    } catch (e) {
      // The core's advice (Vulkan drivers, VK_ICD_FILENAMES) is for Node/Deno; a page's user
      // needs the browser's side of it.
      if (e instanceof RidgelineError && e.code === 'E_NO_ADAPTER') e.message += `. ${BROWSER_HINT}`;
      if (choice === 'webgpu') throw e; // E_NO_ADAPTER with the reason, shown by the page
      const cpu = await createCpuBackend();
      const why = e instanceof Error ? e.message : String(e);
      return { backend: cpu, reason: `backend: cpu (${cpu.description}); WebGPU unusable: ${why}`, close: () => cpu.close() };
    }
  }
  const cpu = await createCpuBackend();
  return { backend: cpu, reason: `backend: cpu (${cpu.description}), as requested`, close: () => cpu.close() };
}

interface UaData { getHighEntropyValues(hints: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }> }

/**
 * `browser Chromium 156.0.8078.79`: the runtime and version a result records. The user
 * agent string is frozen at `156.0.0.0` in Chromium, so the full version comes from
 * User-Agent Client Hints where the browser has them.
 */
async function runtimeName(): Promise<string> {
  const uaData = (navigator as unknown as { userAgentData?: UaData }).userAgentData;
  const brands = (await uaData?.getHighEntropyValues(['fullVersionList']).catch(() => undefined))?.fullVersionList ?? [];
  // The product's own brand (Google Chrome, Microsoft Edge) before the engine's (Chromium).
  const real = brands.filter((b) => !/Not.?A.?Brand/i.test(b.brand));
  const brand = real.find((b) => b.brand !== 'Chromium') ?? real[0];
  if (brand) return `browser ${brand.brand} ${brand.version}`;
  const m = /(Firefox|Edg|Chrome|Version)\/([\d.]+)/.exec(navigator.userAgent);
  return `browser ${m ? `${m[1] === 'Version' ? 'Safari' : m[1]} ${m[2]}` : navigator.userAgent}`;
}

const api: WorkerApi = {
  async run(specOptions, backendChoice, onProgress) {
    const send = (e: ProgressEvent) => void onProgress?.(e);
    const spec = applyOptions(FORK_DEFAULTS, specOptions);
    const { backend, reason, close } = await openBackend(backendChoice);
    send({ kind: 'log', line: reason });
    try {
      return await runForkExperiment(spec, 'run', backend, {
        files: memoryFileStore(),
        progress: progressTo(send),
        runtime: await runtimeName(),
        version: RIDGELINE_VERSION,
        gitCommit: RIDGELINE_GIT_COMMIT,
      });
    } finally {
      close();
    }
  },
};

Comlink.expose(api);
