/**
 * The CPU backend with its helper thread: the whole kernel suite again, and large products
 * bit-identical to the single-threaded backend (rows are split, summation order is not).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { autogradSuite } from './suites/autograd.ts';
import { kernelSuite } from './suites/kernels.ts';
import { layerSuite } from './suites/layers.ts';
import { randomF32 } from './util.ts';

const threaded = () => createCpuBackend({ spawnWorker: spawnKernelWorker });
kernelSuite('cpu (2 threads)', threaded);
autogradSuite('cpu (2 threads)', threaded);
layerSuite('cpu (2 threads)', threaded);

test('threaded matmul is bit-identical to single-threaded on large products', async () => {
  const [one, two] = [await createCpuBackend(), await threaded()];
  assert.equal(two.threads, 2);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 8, max: 300 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 64, max: 700 }),
      fc.integer({ min: 1, max: 2 }), fc.boolean(), fc.boolean(), fc.nat(),
      async (m, n, k, batch, transA, transB, seed) => {
        const a = randomF32(seed, batch * m * k);
        const b = randomF32(seed + 1, batch * k * n);
        const results = [one, two].map((be) => {
          const [ab, bb, out] = [be.alloc(a.length), be.alloc(b.length), be.alloc(batch * m * n)];
          be.upload(ab, a);
          be.upload(bb, b);
          be.matmul(ab, bb, out, { batch, m, n, k, transA, transB });
          const r = be.read(out);
          [ab, bb, out].forEach((x) => be.free(x));
          return r;
        });
        assert.deepEqual(new Uint32Array(results[1].buffer), new Uint32Array(results[0].buffer));
      },
    ),
    { numRuns: 25 },
  );
  two.close();
  assert.equal(two.threads, 1);
});
