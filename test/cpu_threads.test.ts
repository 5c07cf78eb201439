/**
 * The CPU backend with its helper thread: the whole kernel suite again, and large products
 * and every kernel the helper shares bit-identical to the single-threaded backend (work is
 * split, no element's order of operations is).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AdamParams, type MatmulParams, type SgdParams, windowOutSize, type WindowParams } from '../core/backend.ts';
import { type CpuBackend, type CpuBuf, createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { SharedKernel } from '../core/cpu/kernel_threads.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { autogradSuite } from './suites/autograd.ts';
import { kernelSuite } from './suites/kernels.ts';
import { layerSuite } from './suites/layers.ts';
import { randomF32 } from './util.ts';

const threaded = () => createCpuBackend({ spawnWorker: spawnKernelWorker });
kernelSuite('cpu (2 threads)', threaded);
autogradSuite('cpu (2 threads)', threaded);
layerSuite('cpu (2 threads)', threaded);

type Cpu = CpuBackend;

/** The product `p` of random A and B (`seed`) on one thread and on two: the same bits. */
function assertThreadedProductSame(one: Cpu, two: Cpu, p: MatmulParams, seed: number): void {
  const a = randomF32(seed, p.strideA === 0 ? p.m * p.k : p.batch * p.m * p.k);
  const b = randomF32(seed + 1, p.strideB === 0 ? p.k * p.n : p.batch * p.k * p.n);
  const results = [one, two].map((be) => {
    const [ab, bb, out] = [be.alloc(a.length), be.alloc(b.length), be.alloc(p.batch * p.m * p.n)];
    be.upload(ab, a);
    be.upload(bb, b);
    be.matmul(ab, bb, out, p);
    const r = be.read(out);
    [ab, bb, out].forEach((x) => be.free(x));
    return r;
  });
  assert.deepEqual(new Uint32Array(results[1].buffer), new Uint32Array(results[0].buffer));
}

/** Products with each extent in its [min, max], any transposes. */
const products = (m: [number, number], n: [number, number], k: [number, number], batch: [number, number]) =>
  fc.record({
    m: fc.integer({ min: m[0], max: m[1] }),
    n: fc.integer({ min: n[0], max: n[1] }),
    k: fc.integer({ min: k[0], max: k[1] }),
    batch: fc.integer({ min: batch[0], max: batch[1] }),
    transA: fc.boolean(),
    transB: fc.boolean(),
  });

test('threaded matmul is bit-identical to single-threaded on large products', async () => {
  const [one, two] = [await createCpuBackend(), await threaded()];
  assert.equal(two.threads, 2);
  await fc.assert(
    fc.asyncProperty(
      products([8, 300], [1, 300], [64, 700], [1, 2]),
      fc.nat(),
      async (p, seed) => assertThreadedProductSame(one, two, p, seed),
    ),
    { numRuns: 25 },
  );
  two.close();
  assert.equal(two.threads, 1);
});

test('threaded batched matmul (whole items to each thread) is bit-identical to single-threaded, A or B broadcast too', async () => {
  const [one, two] = [await createCpuBackend(), await threaded()];
  await fc.assert(
    fc.asyncProperty(
      products([1, 60], [1, 60], [1, 60], [4, 300]),
      fc.constantFrom('none', 'a', 'b'),
      fc.nat(),
      async (p, broadcast, seed) =>
        assertThreadedProductSame(
          one,
          two,
          { ...p, strideA: broadcast === 'a' ? 0 : p.m * p.k, strideB: broadcast === 'b' ? 0 : p.k * p.n },
          seed,
        ),
    ),
    { numRuns: 40 },
  );
  assert.ok((two.sharedCalls.get('matmul') ?? 0) > 0, 'the helper took whole items');
  two.close();
});

/**
 * Every kernel the helper shares, on work above the sharing threshold, against the same
 * call on one thread, bit for bit; the backend's own count shows the helper took a share.
 */
test('every shared kernel is bit-identical to single-threaded, and is shared', async () => {
  const [one, two] = [await createCpuBackend(), await threaded()];
  type Run = (be: CpuBackend, bufs: CpuBuf[]) => void;
  // Each case: input lengths (filled with random data), output lengths, the call.
  const cases: Array<[SharedKernel, number[], number[], Run]> = [];
  const N = 40_003; // odd: splits leave a scalar tail on one side
  cases.push(['unary', [N], [N], (be, [x, y]) => be.unary('tanh', x, y, N)]);
  cases.push(['unary', [N], [], (be, [x]) => be.unary('leakyRelu', x, x, N, 0.1)]); // in place
  // Broadcasts split on different dimensions: [1, 300, 200] + [300, 1] rows, [7, 30, 300]
  // + [1, 1, 300] (split on dim 0), a long vector (split on its only dim).
  cases.push([
    'binary',
    [300 * 200, 300],
    [300 * 200],
    (be, [a, b, y]) => be.binary('mul', a, b, y, { shape: [1, 300, 200], aStrides: [0, 200, 1], bStrides: [0, 1, 0] }),
  ]);
  cases.push([
    'binary',
    [7 * 30 * 300, 300],
    [7 * 30 * 300],
    (be, [a, b, y]) => be.binary('sub', a, b, y, { shape: [7, 30, 300], aStrides: [9000, 300, 1], bStrides: [0, 0, 1] }),
  ]);
  cases.push(['binary', [N, N], [N], (be, [a, b, y]) => be.binary('div', a, b, y, { shape: [N], aStrides: [1], bStrides: [1] })]);
  cases.push(['reduce', [129 * 50 * 9], [129 * 9], (be, [x, y]) => be.reduce('sum', x, y, { outer: 129, size: 50, inner: 9 })]);
  cases.push(['reduce', [301 * 200], [301], (be, [x, y]) => be.reduce('max', x, y, { outer: 301, size: 200, inner: 1 })]);
  cases.push(['softmax', [257 * 37], [257 * 37], (be, [x, y]) => be.softmax(x, y, 257, 37)]);
  cases.push(['softmaxXent', [257 * 37], [257, 257 * 37], (be, [x, loss, grad], labels = be.alloc(257)) => {
    be.upload(labels, Float32Array.from({ length: 257 }, (_, i) => (i * 7) % 37));
    be.softmaxXent(x, labels, loss, grad, 257, 37);
    be.free(labels);
  }]);
  const nchw: WindowParams = {
    n: 9,
    c: 3,
    h: 17,
    w: 15,
    kh: 5,
    kw: 3,
    strideH: 2,
    strideW: 1,
    padH: 2,
    padW: 1,
    inStrides: [3 * 17 * 15, 17 * 15, 15, 1],
  };
  const nhwc: WindowParams = {
    ...nchw,
    n: 60,
    kh: 2,
    kw: 2,
    strideH: 2,
    strideW: 2,
    padH: 0,
    padW: 0,
    inStrides: [17 * 15 * 3, 1, 15 * 3, 3],
  };
  for (const p of [nchw, nhwc]) {
    const colsLength = p.n * windowOutSize(p.h, p.kh, p.strideH, p.padH) * windowOutSize(p.w, p.kw, p.strideW, p.padW) * p.c * p.kh * p.kw;
    const xLength = p.n * p.c * p.h * p.w;
    cases.push(['im2col', [xLength], [colsLength], (be, [x, cols]) => be.im2col(x, cols, p)]);
    cases.push(['col2im', [colsLength], [xLength], (be, [cols, x]) => be.col2im(cols, x, p)]);
  }
  // Pooling writes one value per window, so enough images that the input passes the
  // threshold: overlapping padded windows over NCHW (one channel at a time), and a 2×2
  // stride-2 pooling as LeNet-5's over 6 NHWC channels (a group of four, then one
  // overlapping it forward; a group and two single channels backward).
  for (const p of [{ ...nchw, n: 60 }, { ...nhwc, c: 6, inStrides: [17 * 15 * 6, 1, 15 * 6, 6] as const }]) {
    const pooledLength = p.n * windowOutSize(p.h, p.kh, p.strideH, p.padH) * windowOutSize(p.w, p.kw, p.strideW, p.padW) * p.c;
    const xLength = p.n * p.c * p.h * p.w;
    cases.push(['avgPool', [xLength], [pooledLength], (be, [x, out]) => be.avgPool(x, out, p)]);
    cases.push(['avgPoolGrad', [pooledLength], [xLength], (be, [g, dx]) => be.avgPoolGrad(g, dx, p)]);
  }
  const sgd: SgdParams = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3, nesterov: true, firstStep: false };
  cases.push(['sgd', [N, N, N], [], (be, [w, g, m]) => be.sgd(w, g, m, N, sgd)]);
  const adam: AdamParams = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, step: 3 };
  cases.push(['adam', [N, N, N, N], [], (be, [w, g, m, v]) => {
    be.unary('abs', v, v, N); // a second moment is never negative
    be.adam(w, g, m, v, N, adam);
  }]);
  for (const [i, [kernel, inputs, outputs, run]] of cases.entries()) {
    const data = inputs.map((n, j) => randomF32(1000 * i + j, n));
    const before = two.sharedCalls.get(kernel) ?? 0;
    const results = [one, two].map((be) => {
      const bufs = [...inputs, ...outputs].map((n) => be.alloc(n));
      data.forEach((d, j) => be.upload(bufs[j], d));
      run(be, bufs);
      const r = bufs.map((b) => be.read(b));
      bufs.forEach((b) => be.free(b));
      return r;
    });
    assert.equal(two.sharedCalls.get(kernel), before + 1, `case ${i} (${kernel}) was not shared with the helper`);
    results[0].forEach((r, j) =>
      assert.deepEqual(new Uint32Array(results[1][j].buffer), new Uint32Array(r.buffer), `case ${i} (${kernel}), buffer ${j}`)
    );
  }
  assert.equal(one.sharedCalls.size, 0);
  two.close();
});
