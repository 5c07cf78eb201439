/// <reference types="@webgpu/types" />
/**
 * WebGPU matmul benchmark: our tiled kernel (wgsl/matmul.wgsl through the backend, tiles
 * from chooseTiles) against the naive one-thread-per-output kernel (bench/naive_matmul.wgsl)
 * on f32 N×N, in GFLOP/s = 2·N³ / median time. `--variants` also times other tilings (the
 * tuning that chose chooseTiles' defaults). A second table times the conv-shaped products
 * of LeNet-5 at batch 64 (im2col forward, weight and column gradients), whatever kernel
 * chooseMatmul gives them, next to the CPU backend. Prints the tables and writes
 * bench/results/webgpu_matmul-<runtime>.json.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/bench/webgpu_matmul.js
 *   VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json node_modules/.bin/deno run -A bench/webgpu_matmul.ts
 *   options: --sizes 256,512,1024  --rounds 5  --variants  --no-conv
 */
import { MATMUL_PARAMS } from '../core/gpu/kernel_params.ts';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GpuBuf } from '../core/gpu/buffers.ts';
import { createWebGpuBackend } from '../core/gpu/create_backend.ts';
import { kernelSource } from '../core/gpu/shaders.ts';
import { chooseMatmul, chooseTiles, type MatmulTiles } from '../core/gpu/tiles.ts';
import type { WebGpuBackend } from '../core/gpu/webgpu_backend.ts';
import type { Backend, MatmulParams } from '../core/backend.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { secondsPerEpoch } from './epoch_time.ts';
import { benchOptions, fmt, formatTable, median, timeIt, usageExit, writeJsonAtomic } from './harness.ts';

const USAGE = `Usage: node dist/bench/webgpu_matmul.js [options]
       node_modules/.bin/deno run -A bench/webgpu_matmul.ts [options]

WebGPU f32 N×N matmul GFLOP/s: the backend's tiled kernel against a naive one-thread-per-output
kernel, then LeNet-5's conv-shaped products next to the CPU backend. Without a GPU, set
VK_ICD_FILENAMES to a software Vulkan driver (SwiftShader under Node, lavapipe under Deno).

Options:
  --sizes LIST        comma-separated N values (default 256,512,1024,2048)
  --rounds R          timed rounds (default 5)
  --variants          also time other tilings (the tuning behind chooseTiles)
  --no-conv           skip the conv-shaped products
  --epoch-steps N     steps timed for the mlp-2 epoch figure (default 30)
  --help              this text`;

/** Tilings timed by --variants (wgX, wgY, tm, bk); chooseTiles picks 16×16, TM 8, BK 16 for square products. */
const VARIANTS: [number, number, number, number][] = [
  [16, 16, 8, 16],
  [16, 16, 4, 16],
  [16, 16, 8, 8],
  [16, 16, 8, 32],
  [8, 8, 8, 16],
  [16, 8, 8, 16],
  [32, 8, 8, 16],
  [8, 32, 8, 16],
];

/**
 * The im2col products of LeNet-5's two convolutions at batch 64 (28×28 input): columns
 * [N·H'·W' × C·kh·kw] times weights [Cout × C·kh·kw]ᵀ, and the two products of the backward
 * pass. Skinny outputs, short k or long k with few outputs: the shapes chooseMatmul sends
 * to the direct kernel.
 */
const CONV_SHAPES: { name: string; p: MatmulParams }[] = [
  { name: 'conv1 forward [50176×25]·[6×25]ᵀ', p: { batch: 1, m: 50176, n: 6, k: 25, transA: false, transB: true } },
  { name: 'conv1 weight grad [50176×6]ᵀ·[50176×25]', p: { batch: 1, m: 6, n: 25, k: 50176, transA: true, transB: false } },
  { name: 'conv1 column grad [50176×6]·[6×25]', p: { batch: 1, m: 50176, n: 25, k: 6, transA: false, transB: false } },
  { name: 'conv2 forward [6400×150]·[16×150]ᵀ', p: { batch: 1, m: 6400, n: 16, k: 150, transA: false, transB: true } },
  { name: 'conv2 weight grad [6400×16]ᵀ·[6400×150]', p: { batch: 1, m: 16, n: 150, k: 6400, transA: true, transB: false } },
  { name: 'conv2 column grad [6400×16]·[16×150]', p: { batch: 1, m: 6400, n: 150, k: 16, transA: false, transB: false } },
];

/** Operands of a product filled with a fixed pattern, and its output. */
function operands(be: Backend, p: MatmulParams) {
  const [la, lb] = [p.batch * p.m * p.k, p.batch * p.k * p.n];
  const [a, b, c] = [be.alloc(la), be.alloc(lb), be.alloc(p.batch * p.m * p.n)];
  be.upload(a, Float32Array.from({ length: la }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5));
  be.upload(b, Float32Array.from({ length: lb }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5));
  return { a, b, c, free: () => [a, b, c].forEach((x) => be.free(x)) };
}

async function getGpu(): Promise<{ gpu: GPU; runtime: string }> {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, runtime: deno ? `deno ${deno.version.deno}` : 'browser' };
  const { create } = await import('webgpu');
  return { gpu: create([]), runtime: `node ${process.versions.node}` };
}

function naiveSource(): string {
  for (const rel of ['naive_matmul.wgsl', '../../bench/naive_matmul.wgsl']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error('bench/naive_matmul.wgsl not found');
}

/** Seconds per call of `record` (which records `iters` calls), median over `rounds` rounds. */
async function timeGpu(device: GPUDevice, rounds: number, record: (iters: number) => void): Promise<number> {
  const once = async (iters: number) => {
    const t0 = performance.now();
    record(iters);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / iters;
  };
  const warm = await once(1); // compiles the pipeline, warms caches
  const iters = Math.max(1, Math.min(50, Math.ceil(0.3 / Math.max(warm, 1e-4))));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(await once(iters));
  return median(times);
}

/** Records `iters` dispatches of a raw kernel over buffers a, b, c with a one-word uniform `n`. */
function rawKernel(
  be: WebGpuBackend,
  code: string,
  entry: string,
  bufs: GPUBuffer[],
  uniform: Uint32Array<ArrayBuffer>,
  groups: [number, number],
) {
  const device = be.device;
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: entry },
  });
  const params = device.createBuffer({ size: 256, usage: 64 | 8 });
  device.queue.writeBuffer(params, 0, uniform);
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...bufs.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 3, resource: { buffer: params } }],
  });
  return (iters: number) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    for (let i = 0; i < iters; i++) pass.dispatchWorkgroups(...groups);
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
}

function variantKernel(be: WebGpuBackend, n: number, t: MatmulTiles, bufs: GPUBuffer[]) {
  const vec = n % 4 === 0;
  const code = kernelSource('matmul', {
    TRANS_A: false,
    TRANS_B: false,
    VEC_A: vec,
    VEC_B: vec,
    WG_X: t.wgX,
    WG_Y: t.wgY,
    TM: t.tm,
    BK: t.bk,
  });
  const tiles = Math.ceil(n / t.bm) * Math.ceil(n / t.bn);
  return rawKernel(
    be,
    code,
    'matmul',
    bufs,
    MATMUL_PARAMS.pack({ m: n, n, k: n, strideA: n * n, strideB: n * n, tilesN: Math.ceil(n / t.bn), tilesPerItem: tiles, tiles }),
    [tiles, 1],
  );
}

async function main(): Promise<void> {
  const values = benchOptions('webgpu_matmul bench', USAGE, {
    sizes: { type: 'string', default: '256,512,1024,2048' },
    rounds: { type: 'string', default: '5' },
    variants: { type: 'boolean', default: false },
    'no-conv': { type: 'boolean', default: false },
    'epoch-steps': { type: 'string', default: '30' },
    help: { type: 'boolean', default: false },
  });
  const sizes = values.sizes.split(',').map(Number);
  const rounds = Number(values.rounds);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 1) {
    usageExit(
      'webgpu_matmul bench',
      `--sizes takes positive integers, --rounds a positive integer (got '${values.sizes}', '${values.rounds}')`,
    );
  }
  const { gpu, runtime } = await getGpu();
  const be = await createWebGpuBackend(gpu);
  console.log(`${runtime}, adapter ${be.description}`);
  const gflops = (n: number, s: number) => (2 * n ** 3) / s / 1e9;
  // The CPU backend (WASM SIMD, helper thread) in the same process, as the reference.
  const cpu = await createCpuBackend({ spawnWorker: spawnKernelWorker });
  const results: Record<string, unknown>[] = [];
  for (const n of sizes) {
    const [a, b, c] = [be.alloc(n * n), be.alloc(n * n), be.alloc(n * n)];
    be.upload(a, Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5));
    be.upload(b, Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5));
    const bufs = [a, b, c].map((x) => (x as GpuBuf).gpu);
    const p = { batch: 1, m: n, n, k: n, transA: false, transB: false };
    const ours = await timeGpu(be.device, rounds, (iters) => {
      for (let i = 0; i < iters; i++) be.matmul(a, b, c, p);
      be.flush();
    });
    const groups = Math.ceil(n / 16);
    const naive = await timeGpu(be.device, rounds, rawKernel(be, naiveSource(), 'main', bufs, new Uint32Array([n]), [groups, groups]));
    const [ca, cb, cc] = [cpu.alloc(n * n), cpu.alloc(n * n), cpu.alloc(n * n)];
    const cpuS = timeIt(() => cpu.matmul(ca, cb, cc, p), { budgetMs: 1500, minSamples: 3 }).medianS;
    [ca, cb, cc].forEach((x) => cpu.free(x));
    const row: Record<string, unknown> = {
      n,
      tiles: chooseTiles(n, n, n, be.limits),
      oursGflops: gflops(n, ours),
      naiveGflops: gflops(n, naive),
      cpuGflops: gflops(n, cpuS),
    };
    if (values.variants) {
      const v: Record<string, number> = {};
      for (const [wgX, wgY, tm, bk] of VARIANTS) {
        const t = { wgX, wgY, tm, bk, bm: wgY * tm, bn: 4 * wgX };
        v[`${wgX}x${wgY} tm${tm} bk${bk}`] = gflops(n, await timeGpu(be.device, rounds, variantKernel(be, n, t, bufs)));
      }
      row.variants = v;
    }
    results.push(row);
    [a, b, c].forEach((x) => be.free(x));
  }
  const convResults: Record<string, unknown>[] = [];
  for (const { name, p } of values['no-conv'] ? [] : CONV_SHAPES) {
    const flop = 2 * p.batch * p.m * p.n * p.k;
    const g = operands(be, p);
    const gpuS = await timeGpu(be.device, rounds, (iters) => {
      for (let i = 0; i < iters; i++) be.matmul(g.a, g.b, g.c, p);
      be.flush();
    });
    g.free();
    const c = operands(cpu, p);
    const cpuS = timeIt(() => cpu.matmul(c.a, c.b, c.c, p), { budgetMs: 1000, minSamples: 3 }).medianS;
    c.free();
    const largest = Math.max(p.batch * p.m * p.k, p.batch * p.k * p.n);
    convResults.push({
      name,
      ...p,
      plan: chooseMatmul(p.batch, p.m, p.n, p.k, largest, be.limits),
      webgpuMs: gpuS * 1e3,
      webgpuGflops: flop / gpuS / 1e9,
      cpuGflops: flop / cpuS / 1e9,
    });
  }
  const headers = [
    'N',
    'webgpu tiled GFLOP/s',
    'webgpu naive GFLOP/s',
    'tiled / naive',
    `cpu (${cpu.description}) GFLOP/s`,
    'webgpu / cpu',
  ];
  console.log(
    formatTable(
      headers,
      results.map((
        r,
      ) => [
        r.n as number,
        fmt(r.oursGflops as number, 2),
        fmt(r.naiveGflops as number, 2),
        fmt((r.oursGflops as number) / (r.naiveGflops as number), 1),
        fmt(r.cpuGflops as number, 1),
        fmt((r.oursGflops as number) / (r.cpuGflops as number), 3),
      ]),
    ),
  );
  if (convResults.length > 0) {
    const planName = (
      pl: ReturnType<typeof chooseMatmul>,
    ) => (pl.kernel === 'tiled'
      ? `tiled ${pl.tiles.bm}×${pl.tiles.bn}`
      : `direct ${pl.tm}×${pl.tn}${pl.splits > 1 ? `, ${pl.splits} k-splits` : ''}`);
    console.log(`\nconv-shaped products (LeNet-5, batch 64):`);
    console.log(
      formatTable(
        ['product', 'kernel', 'webgpu ms', 'webgpu GFLOP/s', 'cpu GFLOP/s'],
        convResults.map((
          r,
        ) => [
          r.name as string,
          planName(r.plan as ReturnType<typeof chooseMatmul>),
          fmt(r.webgpuMs as number, 1),
          fmt(r.webgpuGflops as number, 2),
          fmt(r.cpuGflops as number, 1),
        ]),
      ),
    );
  }
  const epochSteps = Number(values['epoch-steps']);
  const epochGpu = await secondsPerEpoch(be, epochSteps);
  const epochCpu = await secondsPerEpoch(cpu, epochSteps);
  console.log(
    `mlp-2 (width 512) on the MNIST digits, batch 64, ${epochGpu.stepsPerEpoch} steps/epoch (timed over ${epochSteps} steps): webgpu ${
      fmt(epochGpu.secondsPerEpoch, 2)
    } s/epoch, cpu ${fmt(epochCpu.secondsPerEpoch, 2)} s/epoch → webgpu takes ${
      fmt(epochGpu.secondsPerEpoch / epochCpu.secondsPerEpoch, 1)
    }× the cpu's time`,
  );
  cpu.close();
  for (const r of results) {
    if (r.variants) {
      console.log(
        `N=${r.n} variants (GFLOP/s): ${
          Object.entries(r.variants as Record<string, number>).map(([k, g]) => `${k}: ${g.toFixed(2)}`).join(', ')
        }`,
      );
    }
  }
  const tag = runtime.split(' ')[0];
  const out = fileURLToPath(
    new URL(
      existsSync(fileURLToPath(new URL('naive_matmul.wgsl', import.meta.url)))
        ? `results/webgpu_matmul-${tag}.json`
        : `../../bench/results/webgpu_matmul-${tag}.json`,
      import.meta.url,
    ),
  );
  writeJsonAtomic(out, {
    runtime,
    adapter: be.description,
    date: new Date().toISOString(),
    results,
    conv: convResults,
    epoch: { webgpu: epochGpu, cpu: epochCpu },
  });
  console.log(`wrote ${out}`);
  be.destroy();
}

await main();
