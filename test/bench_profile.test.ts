/**
 * The profile bench times replayed training steps (as the trainer runs them) by attributing
 * each replayed kernel call to the family and product it had when recorded
 * (bench/profile_backend.ts). Its accounting must be the autograd path's: the same
 * products, as many calls of each family per step, the same FLOPs; a replayed step's
 * kernel time must not exceed the step, and no product may run faster than two cores of
 * 128-bit SIMD can (a time attributed to the wrong call would show a tiny kernel's time
 * against a large product's FLOPs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { fashionBatches } from '../bench/fashion_batches.ts';
import { profileModel } from '../bench/profile.ts';
import { ProfilingBackend } from '../bench/profile_backend.ts';

const data = await fashionBatches(128);

for (const model of ['mlp-2', 'lenet5']) {
  test(
    `${model}: replayed steps are accounted as the same calls and products as steps through autograd`,
    { timeout: 300_000 },
    async () => {
      const be = await createCpuBackend({ spawnWorker: spawnKernelWorker });
      try {
        const pb = new ProfilingBackend(be);
        const steps = 8;
        const replayed = await profileModel(pb, model, steps, data);
        const autograd = await profileModel(pb, model, steps, data, false);
        assert.equal(autograd.replayed, 0);
        assert.ok(replayed.replayed >= steps - 1, `only ${replayed.replayed} of ${steps} steps replayed`);
        const isJs = (f: string) => f.startsWith('JS outside kernels');
        const calls = (p: typeof replayed) =>
          Object.fromEntries(p.families.filter((f) => !isJs(f.family)).map((f) => [f.family, f.callsPerStep]));
        // Allocation happens only in steps run normally (a replay allocates nothing).
        const { 'allocation (alloc/free)': _a, ...replayedCalls } = calls(replayed);
        const { 'allocation (alloc/free)': _b, ...autogradCalls } = calls(autograd);
        assert.deepEqual(replayedCalls, autogradCalls);
        const products = (p: typeof replayed) =>
          p.products.map((q) => ({ phase: q.phase, shape: q.shape, calls: q.callsPerStep })).sort((a, b) =>
            `${a.phase} ${a.shape}`.localeCompare(`${b.phase} ${b.shape}`)
          );
        assert.deepEqual(products(replayed), products(autograd));
        assert.equal(replayed.gflopPerStep, autograd.gflopPerStep);
        // 2 cores × 16 f32 flops a cycle (mul + add on four lanes, two pipes) × 4 GHz, with margin.
        for (const p of replayed.products) assert.ok(p.gflops < 200, `${p.shape} at ${p.gflops} GFLOP/s`);
        const inKernels = replayed.families.filter((f) => !isJs(f.family)).reduce((a, f) => a + f.msPerStep, 0);
        assert.ok(inKernels > 0 && inKernels <= replayed.stepMs, `${inKernels} ms in kernels of a ${replayed.stepMs} ms step`);
      } finally {
        be.close();
      }
    },
  );
}
