/// <reference types="@webgpu/types" />
/**
 * WebGPU matmul benchmark: our tiled kernel (wgsl/matmul.wgsl through the backend, tiles
 * from chooseTiles) against the naive one-thread-per-output kernel (bench/naive_matmul.wgsl)
 * on f32 N×N, in GFLOP/s = 2·N³ / median time. `--variants` also times other tilings (the
 * tuning that chose chooseTiles' defaults). Prints a table and writes
 * bench/results/webgpu_matmul-<runtime>.json.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/bench/webgpu_matmul.js
 *   VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json node_modules/.bin/deno run -A bench/webgpu_matmul.ts
 *   options: --sizes 256,512,1024  --rounds 5  --variants
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { GpuBuf } from '../core/gpu/buffers.ts';
import { createWebGpuBackend } from '../core/gpu/create_backend.ts';
import { kernelSource } from '../core/gpu/shaders.ts';
import { type MatmulTiles, chooseTiles } from '../core/gpu/tiles.ts';
import type { WebGpuBackend } from '../core/gpu/webgpu_backend.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { secondsPerEpoch } from './epoch_time.ts';
import { fmt, formatTable, median, timeIt, writeJsonAtomic } from './harness.ts';

/** Tilings timed by --variants (wgX, wgY, tm, bk); chooseTiles picks 16×16, TM 8, BK 16 for square products. */
const VARIANTS: [number, number, number, number][] = [
  [16, 16, 8, 16], [16, 16, 4, 16], [16, 16, 8, 8], [16, 16, 8, 32], [8, 8, 8, 16], [16, 8, 8, 16], [32, 8, 8, 16], [8, 32, 8, 16],
];

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
function rawKernel(be: WebGpuBackend, code: string, entry: string, bufs: GPUBuffer[], uniform: Uint32Array<ArrayBuffer>, groups: [number, number]) {
  const device = be.device;
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: entry } });
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
    TRANS_A: false, TRANS_B: false, VEC_A: vec, VEC_B: vec, WG_X: t.wgX, WG_Y: t.wgY, TM: t.tm, BK: t.bk,
  });
  const tiles = Math.ceil(n / t.bm) * Math.ceil(n / t.bn);
  return rawKernel(be, code, 'matmul', bufs, new Uint32Array([n, n, n, n * n, n * n, Math.ceil(n / t.bn), tiles, tiles]), [tiles, 1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '256,512,1024,2048' }, rounds: { type: 'string', default: '5' }, variants: { type: 'boolean', default: false }, 'epoch-steps': { type: 'string', default: '30' } } });
  const sizes = values.sizes.split(',').map(Number);
  const rounds = Number(values.rounds);
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
    const row: Record<string, unknown> = { n, tiles: chooseTiles(n, n, n, be.limits), oursGflops: gflops(n, ours), naiveGflops: gflops(n, naive), cpuGflops: gflops(n, cpuS) };
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
  const headers = ['N', 'webgpu tiled GFLOP/s', 'webgpu naive GFLOP/s', 'tiled / naive', `cpu (${cpu.description}) GFLOP/s`, 'webgpu / cpu'];
  console.log(formatTable(headers, results.map((r) => [r.n as number, fmt(r.oursGflops as number, 2), fmt(r.naiveGflops as number, 2), fmt((r.oursGflops as number) / (r.naiveGflops as number), 1), fmt(r.cpuGflops as number, 1), fmt((r.oursGflops as number) / (r.cpuGflops as number), 3)])));
  const epochSteps = Number(values['epoch-steps']);
  const epochGpu = await secondsPerEpoch(be, epochSteps);
  const epochCpu = await secondsPerEpoch(cpu, epochSteps);
  console.log(`mlp-2 (width 512) on the MNIST digits, batch 64, ${epochGpu.stepsPerEpoch} steps/epoch (timed over ${epochSteps} steps): webgpu ${fmt(epochGpu.secondsPerEpoch, 2)} s/epoch, cpu ${fmt(epochCpu.secondsPerEpoch, 2)} s/epoch → webgpu takes ${fmt(epochGpu.secondsPerEpoch / epochCpu.secondsPerEpoch, 1)}× the cpu's time`);
  cpu.close();
  for (const r of results) {
    if (r.variants) console.log(`N=${r.n} variants (GFLOP/s): ${Object.entries(r.variants as Record<string, number>).map(([k, g]) => `${k}: ${g.toFixed(2)}`).join(', ')}`);
  }
  const tag = runtime.split(' ')[0];
  const out = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('naive_matmul.wgsl', import.meta.url))) ? `results/webgpu_matmul-${tag}.json` : `../../bench/results/webgpu_matmul-${tag}.json`, import.meta.url));
  writeJsonAtomic(out, { runtime, adapter: be.description, date: new Date().toISOString(), results, epoch: { webgpu: epochGpu, cpu: epochCpu } });
  console.log(`wrote ${out}`);
  be.destroy();
}

await main();
