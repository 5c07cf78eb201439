/**
 * The WebGPU backend at and past the device's limits: dispatches over 65535 workgroups,
 * bindings over maxStorageBufferBindingSize, buffers over maxBufferSize. Smaller limits
 * are emulated with `limitCaps`, and every capped result must equal the uncapped one bit
 * for bit (same kernels, same summation order), so splitting and chunking change nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, Buf } from '../core/backend.ts';
import { RidgelineError } from '../core/errors.ts';
import type { WebGpuBackend, WebGpuBackendOptions } from '../core/gpu/webgpu_backend.ts';
import { createNodeBackend } from './gpu/node_gpu.ts';
import { startWatchdog } from './gpu/watchdog.ts';
import { randomF32 } from './util.ts';

startWatchdog('webgpu_limits', { seconds: 600, rssBytes: 6 * 2 ** 30 });

const base = await createNodeBackend();
const skip = typeof base === 'string' ? base : false;
const be = base as WebGpuBackend;

async function capped(limitCaps: WebGpuBackendOptions['limitCaps']): Promise<WebGpuBackend> {
  const made = await createNodeBackend({ limitCaps });
  assert.ok(typeof made !== 'string', `${made}`);
  return made;
}

const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

function upload(b: Backend, data: Float32Array): Buf {
  const buf = b.alloc(data.length);
  b.upload(buf, data);
  return buf;
}

/**
 * Runs every kernel family on fixed inputs and returns all outputs, so two backends can be
 * compared. Sizes give each kernel several workgroups (and chunks, with a 4 KiB binding cap).
 */
async function everyKernel(b: Backend): Promise<Float32Array[]> {
  const n = 5000;
  const x = upload(b, randomF32(1, n, -3, 3));
  const y = upload(b, randomF32(2, n, 0.5, 2));
  const outs: Buf[] = [];
  const out = (len: number) => {
    const o = b.alloc(len);
    outs.push(o);
    return o;
  };
  b.unary('exp', x, out(n), n);
  b.unary('tanh', x, out(n), n);
  const inPlace = upload(b, randomF32(3, n));
  b.unary('sigmoid', inPlace, inPlace, n);
  outs.push(inPlace);
  const filled = out(n);
  b.fill(filled, 0.25);
  const [p, m, v, g] = [upload(b, randomF32(4, n)), out(n), out(n), upload(b, randomF32(5, n))];
  b.fill(m, 0);
  b.fill(v, 0);
  b.sgd(p, g, m, n, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true, firstStep: true });
  b.adam(p, g, m, v, n, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, step: 3 });
  outs.push(p);
  const results = await Promise.all(outs.map((o) => b.download(o)));
  [x, y, g, ...outs].forEach((o) => b.free(o));
  return results;
}

/** The non-chunked kernels on small shapes with many workgroups. */
async function gridKernels(b: Backend): Promise<Float32Array[]> {
  const [m, n, k, batch] = [300, 70, 33, 3];
  const a = upload(b, randomF32(6, batch * m * k));
  const w = upload(b, randomF32(7, batch * k * n));
  const c = b.alloc(batch * m * n);
  b.matmul(a, w, c, { batch, m, n, k, transA: false, transB: true });
  const sum = b.alloc(30 * 7);
  b.reduce('sum', a, sum, { outer: 30, size: 33, inner: 7 });
  const tree = b.alloc(3);
  b.reduce('max', a, tree, { outer: 3, size: 9900, inner: 1 });
  const sm = b.alloc(300 * 99);
  b.softmax(a, sm, 300, 99);
  const [logits, labels, loss, grad] = [
    upload(b, randomF32(8, 2000 * 10)),
    upload(b, Float32Array.from({ length: 2000 }, (_, i) => i % 10)),
    b.alloc(2000),
    b.alloc(20000),
  ];
  b.softmaxXent(logits, labels, loss, grad, 2000, 10);
  const sumOut = b.alloc(3000);
  b.binary('mul', a, w, sumOut, { shape: [30, 100], aStrides: [100, 1], bStrides: [0, 1] });
  const outs = [c, sum, tree, sm, loss, grad, sumOut];
  const results = await Promise.all(outs.map((o) => b.download(o)));
  [a, w, logits, labels, ...outs].forEach((o) => b.free(o));
  return results;
}

test('a unary op on 65535·256 + 300 elements: more workgroups than one grid dimension holds', { skip }, async () => {
  const n = 65535 * 256 + 300;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (i % 2001) - 1000;
  const [x, y] = [upload(be, data), be.alloc(n)];
  const before = be.stats.dispatches;
  be.unary('scale', x, y, n, -2);
  const got = await be.download(y);
  assert.equal(be.stats.dispatches - before, 1, 'one dispatch over a 2-D grid');
  for (let i = 0; i < n; i++) if (got[i] !== -2 * data[i]) assert.fail(`element ${i}: ${got[i]} ≠ ${-2 * data[i]}`);
  [x, y].forEach((b) => be.free(b));
});

test('grids split over x, y and z past maxComputeWorkgroupsPerDimension (capped to 7): results equal the uncapped ones bit for bit', {
  skip,
}, async () => {
  // 7 per dimension: the 300-row softmax needs a 7×7×7 grid, the matmul's 18 tiles 6×3.
  const small = await capped({ maxComputeWorkgroupsPerDimension: 7 });
  const [want, got] = [await gridKernels(be), await gridKernels(small)];
  got.forEach((g, i) => assert.deepEqual(bitsOf(g), bitsOf(want[i]), `output ${i}`));
  const [wantE, gotE] = [await everyKernel(be), await everyKernel(small)];
  gotE.forEach((g, i) => assert.deepEqual(bitsOf(g), bitsOf(wantE[i]), `elementwise output ${i}`));
  small.destroy();
});

test(
  'bindings over maxStorageBufferBindingSize (capped to 4 KiB): elementwise kernels chunk bit-identically, the others refuse with E_BACKEND',
  { skip },
  async () => {
    const small = await capped({ maxStorageBufferBindingSize: 4096 });
    const before = [be.stats.dispatches, small.stats.dispatches];
    const [want, got] = [await everyKernel(be), await everyKernel(small)];
    got.forEach((g, i) => assert.deepEqual(bitsOf(g), bitsOf(want[i]), `chunked output ${i}`));
    // 8 kernels over 5000 elements: one dispatch each uncapped, five 1024-element chunks capped.
    assert.deepEqual([be.stats.dispatches - before[0], small.stats.dispatches - before[1]], [8, 40]);
    const big = upload(small, randomF32(9, 2000));
    const out = upload(small, new Float32Array(2000).fill(7));
    const refused = (fn: () => void, op: string) =>
      assert.throws(fn, (e: unknown) =>
        e instanceof RidgelineError && e.code === 'E_BACKEND' && e.message.includes(op) &&
        e.message.includes('8000 bytes') && e.message.includes('maxStorageBufferBindingSize of 4096 bytes'));
    refused(() => small.matmul(big, big, out, { batch: 1, m: 1, n: 1, k: 2000, transA: false, transB: true }), 'matmul');
    refused(() => small.binary('add', big, big, out, { shape: [2000], aStrides: [1], bStrides: [1] }), 'binary(add)');
    refused(() => small.reduce('sum', big, out, { outer: 1, size: 2000, inner: 1 }), 'reduce(sum)');
    refused(() => small.softmax(big, out, 1, 2000), 'softmax');
    assert.deepEqual(await small.download(out), new Float32Array(2000).fill(7), 'refused calls wrote nothing');
    small.destroy();
  },
);

test('alloc over maxBufferSize fails with E_BACKEND naming the size and the limit', { skip }, async () => {
  const over = Math.floor(be.limits.maxBufferSize / 4) + 1;
  assert.throws(() => be.alloc(over), (e: unknown) =>
    e instanceof RidgelineError && e.code === 'E_BACKEND' &&
    e.message.includes(`maxBufferSize of ${be.limits.maxBufferSize} bytes`) && e.message.includes(String(over)));
  const small = await capped({ maxBufferSize: 2 ** 20 });
  assert.throws(
    () => small.alloc(2 ** 18 + 1),
    /E_BACKEND: webgpu.alloc: 262145 f32 values need 1048592 bytes, over this device's maxBufferSize of 1048576 bytes/,
  );
  small.free(small.alloc(2 ** 18));
  small.destroy();
});
