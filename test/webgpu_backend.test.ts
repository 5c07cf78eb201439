/**
 * WebGPU backend behaviour beyond the shared kernel suite: adapter rejection (none, or one
 * whose readback lies), device loss, ordering of uploads and frees against queued work,
 * command batching, special values against the CPU backend, and determinism.
 */
/// <reference types="@webgpu/types" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, Buf } from '../core/backend.ts';
import { BINARY_OPS, UNARY_OPS } from '../core/backend.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { RidgelineError } from '../core/errors.ts';
import type { GpuBuf } from '../core/gpu/buffers.ts';
import { createWebGpuBackend } from '../core/gpu/create_backend.ts';
import type { WebGpuBackend } from '../core/gpu/webgpu_backend.ts';
import { createNodeBackend, nodeGpu } from './gpu/node_gpu.ts';
import { startWatchdog } from './gpu/watchdog.ts';
import { randomF32 } from './util.ts';

startWatchdog('webgpu_backend', { seconds: 600, rssBytes: 4 * 2 ** 30 });

const gpu = await nodeGpu();
const base = typeof gpu === 'string' ? gpu : await createNodeBackend();
const skip = typeof base === 'string' ? base : false;
const be = base as WebGpuBackend;

function upload(b: Backend, data: Float32Array): Buf {
  const buf = b.alloc(data.length);
  b.upload(buf, data);
  return buf;
}

const isCode = (code: string, pattern: RegExp) => (e: unknown) => e instanceof RidgelineError && e.code === code && pattern.test(e.message);

/** The real GPU, except that every buffer mapped for reading shows `value` everywhere. */
function lyingReadback(real: GPU, value: number): GPU {
  const requestAdapter = async (options?: GPURequestAdapterOptions) => {
    const adapter = await real.requestAdapter(options);
    if (!adapter) return null;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (descriptor?: GPUDeviceDescriptor) => {
      const device = await requestDevice(descriptor);
      const createBuffer = device.createBuffer.bind(device);
      device.createBuffer = (d: GPUBufferDescriptor) => {
        const buffer = createBuffer(d);
        if (d.usage & 1 /* MAP_READ */) {
          buffer.getMappedRange = (offset = 0, size?: number) => {
            const bytes = new ArrayBuffer(size ?? d.size - offset);
            new Float32Array(bytes).fill(value);
            return bytes;
          };
        }
        return buffer;
      };
      return device;
    };
    return adapter;
  };
  return { requestAdapter } as unknown as GPU;
}

test('no adapter: a missing GPU object, requestAdapter → null, or a throwing requestAdapter give E_NO_ADAPTER', async () => {
  await assert.rejects(createWebGpuBackend(undefined), isCode('E_NO_ADAPTER', /no WebGPU/));
  const none = { requestAdapter: async () => null } as unknown as GPU;
  await assert.rejects(createWebGpuBackend(none), isCode('E_NO_ADAPTER', /found no adapter.*VK_ICD_FILENAMES/));
  const broken = {
    requestAdapter: async () => {
      throw new Error('driver exploded');
    },
  } as unknown as GPU;
  await assert.rejects(createWebGpuBackend(broken), isCode('E_NO_ADAPTER', /requestAdapter failed: driver exploded/));
});

test('an adapter whose results read back as zeros (or garbage) fails the known-answer check: E_NO_ADAPTER', { skip }, async () => {
  const real = gpu as GPU;
  await assert.rejects(
    createWebGpuBackend(lyingReadback(real, 0)),
    isCode('E_NO_ADAPTER', /known-answer check: every output was 0.*null-backend/),
  );
  await assert.rejects(
    createWebGpuBackend(lyingReadback(real, 7)),
    isCode('E_NO_ADAPTER', /known-answer check: matmul gave \[7,7,7,7,7,7\], expected/),
  );
});

test('device lost: after device.destroy() every call fails with E_BACKEND "device lost"; free still works', { skip }, async () => {
  const b = await createNodeBackend();
  assert.ok(typeof b !== 'string');
  const x = upload(b, randomF32(1, 16));
  const y = b.alloc(16);
  b.device.destroy();
  const why = await Promise.race([b.lost, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
  assert.match(why, /^device lost: /);
  const lost = isCode('E_BACKEND', /device lost/);
  assert.throws(() => b.alloc(4), lost);
  assert.throws(() => b.upload(x, new Float32Array(16)), lost);
  assert.throws(() => b.unary('exp', x, y, 16), lost);
  assert.throws(() => b.matmul(x, x, y, { batch: 1, m: 4, n: 4, k: 4, transA: false, transB: false }), lost);
  assert.throws(() => b.fill(y, 1), lost);
  assert.throws(() => b.copy(x, y, 16), lost);
  await assert.rejects(b.download(x), lost);
  b.free(x);
  b.free(y);
});

test('a download in flight when the device is lost gives the right data or E_BACKEND, never garbage', { skip }, async () => {
  const b = await createNodeBackend();
  assert.ok(typeof b !== 'string');
  const x = upload(b, Float32Array.from({ length: 1000 }, (_, i) => i));
  const y = b.alloc(1000);
  b.unary('scale', x, y, 1000, 3);
  const pending = b.download(y);
  b.device.destroy();
  try {
    assert.deepEqual(await pending, Float32Array.from({ length: 1000 }, (_, i) => 3 * i));
  } catch (e) {
    assert.ok(isCode('E_BACKEND', /device lost/)(e), `${e}`);
  }
});

test('download copies at call time: freeing the buffer right after, and reusing it, leaves the result intact', { skip }, async () => {
  const data = randomF32(2, 4096);
  const x = upload(be, data);
  const pending = be.download(x);
  be.free(x);
  const reused = be.alloc(4096);
  assert.equal((reused as GpuBuf).gpu, (x as GpuBuf).gpu, 'the pool hands the same GPU buffer back');
  be.fill(reused, -1);
  be.upload(reused, new Float32Array(4096).fill(5));
  assert.deepEqual(await pending, data);
  assert.deepEqual(await be.download(reused), new Float32Array(4096).fill(5));
  be.free(reused);
});

test(
  'ordering: kernels recorded before an upload read the old contents; a freed input reused by alloc keeps queued reads intact',
  { skip },
  async () => {
    const old = randomF32(3, 1000);
    const x = upload(be, old);
    const [y, z] = [be.alloc(1000), be.alloc(1000)];
    be.unary('neg', x, y, 1000);
    be.upload(x, new Float32Array(1000).fill(2));
    be.unary('neg', x, z, 1000);
    be.free(x);
    const again = be.alloc(1000); // the same GPU buffer as x, from the pool
    be.upload(again, new Float32Array(1000).fill(9));
    assert.deepEqual(await be.download(y), old.map((v) => -v));
    assert.deepEqual(await be.download(z), new Float32Array(1000).fill(-2));
    [y, z, again].forEach((b) => be.free(b));
  },
);

test(
  'batching: a burst of 600 kernel calls is 3 submits (256 dispatches per batch), submitted by the next microtask',
  { skip },
  async () => {
    const x = upload(be, new Float32Array(300).fill(0.5));
    const y = be.alloc(300);
    const before = be.stats;
    be.unary('addScalar', x, y, 300, 1);
    for (let i = 1; i < 600; i++) be.unary('addScalar', y, y, 300, 1); // in place: via a temporary copy
    await Promise.resolve();
    const after = be.stats;
    assert.equal(after.dispatches - before.dispatches, 600);
    assert.equal(after.submits - before.submits, 3);
    assert.deepEqual(await be.download(y), new Float32Array(300).fill(600.5));
    [x, y].forEach((b) => be.free(b));
  },
);

test('the adapter is described, and SwiftShader is flagged as a software (CPU-emulated) adapter', { skip }, () => {
  assert.ok(be.description.length > 0 && be.description !== 'unnamed adapter', be.description);
  if (/swiftshader/i.test(be.description)) assert.equal(be.software, true);
});

test('the pool reuses freed buffers of the same size and tracks live bytes', { skip }, async () => {
  const live = be.liveBytes;
  const a = be.alloc(1234);
  assert.equal(be.liveBytes - live, 4944, '1234 f32 rounded up to 16 bytes');
  const gpuBuffer = (a as GpuBuf).gpu;
  be.free(a);
  assert.equal(be.liveBytes, live);
  const b = be.alloc(1233); // same rounded size
  assert.equal((b as GpuBuf).gpu, gpuBuffer);
  be.free(b);
  assert.throws(() => be.free(b), isCode('E_STATE', /used after free/));
  const cpu = await createCpuBackend();
  assert.throws(() => be.free(cpu.alloc(4)), isCode('E_ARG', /does not belong to this WebGPU backend/));
});

/** Special inputs for every op; subnormal results may flush to zero on GPU drivers. */
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 2, -2.5, 3, 88.7, 89, -104, -88, 1e-30, 3.4e38, -7, 100, 5999];

function sameValue(gpuValue: number, cpuValue: number, exact: boolean): boolean {
  if (Object.is(gpuValue, cpuValue) || (Number.isNaN(gpuValue) && Number.isNaN(cpuValue))) return true;
  if (Math.abs(cpuValue) < 2 ** -126 && gpuValue === 0) return true; // flushed subnormal
  return !exact && Math.abs(gpuValue - cpuValue) <= 8 * 2 ** -24 * Math.abs(cpuValue);
}

test('special values (NaN, ±∞, ±0, overflow, |x| < 6000 for sin/cos) give what the CPU backend gives', { skip }, async () => {
  const cpu = await createCpuBackend();
  const transcendental = new Set(['exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'powScalar']);
  const run = async (b: Backend, f: (b: Backend, x: Buf, y: Buf, out: Buf) => void, xs: number[], ys: number[]) => {
    const [x, y, out] = [upload(b, Float32Array.from(xs)), upload(b, Float32Array.from(ys)), b.alloc(xs.length)];
    f(b, x, y, out);
    const got = await b.download(out);
    [x, y, out].forEach((buf) => b.free(buf));
    return got;
  };
  const bad: string[] = [];
  for (const op of UNARY_OPS) {
    for (const p of [0.5, 2, 3, -1, 0]) {
      const f = (b: Backend, x: Buf, _y: Buf, out: Buf) => b.unary(op, x, out, SPECIAL.length, p);
      const [g, c] = [await run(be, f, SPECIAL, SPECIAL), await run(cpu, f, SPECIAL, SPECIAL)];
      SPECIAL.forEach((v, i) => {
        // Beyond |x| = 6000 sin/cos are the driver's builtins (see wgsl/math.wgsl).
        if ((op === 'sin' || op === 'cos') && Math.abs(v) >= 6000) return;
        if (!sameValue(g[i], c[i], !transcendental.has(op))) bad.push(`${op}(${v}, ${p}): webgpu ${g[i]}, cpu ${c[i]}`);
      });
    }
  }
  const xs = SPECIAL.flatMap((a) => SPECIAL.map(() => a));
  const ys = SPECIAL.flatMap(() => SPECIAL);
  for (const op of BINARY_OPS) {
    const f = (b: Backend, x: Buf, y: Buf, out: Buf) =>
      b.binary(op, x, y, out, { shape: [xs.length], aStrides: [1], bStrides: [1], param: 0.25 });
    const [g, c] = [await run(be, f, xs, ys), await run(cpu, f, xs, ys)];
    xs.forEach((v, i) => {
      if (!sameValue(g[i], c[i], true)) bad.push(`${op}(${v}, ${ys[i]}): webgpu ${g[i]}, cpu ${c[i]}`);
    });
  }
  for (const op of ['sum', 'max'] as const) {
    const f = (b: Backend, x: Buf, _y: Buf, out: Buf) => b.reduce(op, x, out, { outer: 1, size: 3, inner: 1 });
    for (const triple of [[1, NaN, 2], [-0, 0, -0], [-Infinity, -Infinity, -Infinity], [Infinity, -Infinity, 1]]) {
      const [g, c] = [await run(be, f, triple, triple), await run(cpu, f, triple, triple)];
      if (!sameValue(g[0], c[0], true)) bad.push(`${op}[${triple}]: webgpu ${g[0]}, cpu ${c[0]}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('determinism: the same kernels on the same inputs give the same bits, run after run', { skip }, async () => {
  const once = async () => {
    const a = upload(be, randomF32(10, 257 * 129));
    const w = upload(be, randomF32(11, 129 * 65));
    const h = be.alloc(257 * 65);
    const s = be.alloc(257 * 65);
    const r = be.alloc(65);
    be.matmul(a, w, h, { batch: 1, m: 257, n: 65, k: 129, transA: false, transB: false });
    be.softmax(h, s, 257, 65);
    be.reduce('sum', s, r, { outer: 1, size: 257, inner: 65 });
    const out = await Promise.all([h, s, r].map((b) => be.download(b)));
    [a, w, h, s, r].forEach((b) => be.free(b));
    return out.map((o) => Array.from(new Uint32Array(o.buffer)));
  };
  assert.deepEqual(await once(), await once());
});
