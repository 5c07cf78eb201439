/**
 * The CPU kernels' arithmetic is pinned, not just close: matmul, SGD and Adam are compared
 * bit for bit with a scalar f32 emulation of the operation order their comments document.
 * This is what lets a faster kernel path (in-place operands, column splits between threads,
 * vectorised updates, a scatter col2im for disjoint windows) become the default without changing any result: every path must meet
 * the same emulation, on shapes that reach each of them (skinny, long-k, transposed, edges).
 * Fused kernels (average pooling) meet the composition of kernels they replace instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AdamParams, type SgdParams, windowOutSize, type WindowParams } from '../core/backend.ts';
import { type CpuBackend, createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { adamScalars, sgdScalars } from '../core/optim_scalars.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { randomF32 } from './util.ts';

const f = Math.fround;
/** The matmul kernel's K-block: products are summed per block from 0, blocks added in order. */
const KC = 256;

/**
 * C = op(A)·op(B) in the kernel's documented order: no FMA, k ascending, per K-block; then
 * the bias, if any, added as one more f32 addition (what a broadcast add after the product gives).
 */
/** One product: op(A) is m×k, op(B) k×n, each stored transposed when asked; an optional bias [n]. */
interface Product {
  a: Float32Array;
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  bias?: Float32Array;
}

function matmulF32({ a, b, m, n, k, transA, transB, bias }: Product): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let k0 = 0; k0 < k; k0 += KC) {
        let acc = 0;
        for (let p = k0; p < Math.min(k, k0 + KC); p++) {
          const x = transA ? a[p * m + i] : a[i * k + p];
          const y = transB ? b[j * k + p] : b[p * n + j];
          acc = f(acc + f(x * y));
        }
        total = k0 === 0 ? acc : f(total + acc);
      }
      c[i * n + j] = bias ? f(total + bias[j]) : total;
    }
  }
  return c;
}

function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

function runMatmul(be: CpuBackend, { a, b, m, n, k, transA, transB, bias }: Product): Float32Array {
  const [ab, bb, out, biasBuf] = [be.alloc(a.length), be.alloc(b.length), be.alloc(m * n), bias ? be.alloc(n) : undefined];
  be.upload(ab, a);
  be.upload(bb, b);
  if (biasBuf) be.upload(biasBuf, bias!);
  be.matmul(ab, bb, out, { batch: 1, m, n, k, transA, transB, bias: biasBuf });
  const r = be.read(out);
  [ab, bb, out, biasBuf].forEach((x) => x && be.free(x));
  return r;
}

/** A bias with a −0 among its values: the fused add must keep the sign rules of a separate one. */
function randomBias(seed: number, n: number): Float32Array {
  const bias = randomF32(seed, n);
  bias[seed % n] = -0;
  return bias;
}

test('matmul (with and without its fused bias) equals the f32 emulation of its summation order, 1 and 2 threads, every path', async () => {
  const backends = [await createCpuBackend(), await createCpuBackend({ spawnWorker: spawnKernelWorker })];
  // Dimensions around the tile (4×8), the direct-B row limit (16), the K-block (256), the
  // column-split threshold (64) and the N-block (512); plus the models' skinny shapes.
  const dim = fc.constantFrom(1, 3, 4, 5, 8, 9, 13, 16, 17, 31, 64, 70, 129, 257, 520);
  const shapes = fc.oneof(
    fc.tuple(dim, dim, dim),
    fc.tuple(fc.constantFrom(6, 10, 16), fc.constantFrom(25, 150), fc.constantFrom(600, 1300)), // weight gradients: long k
    fc.tuple(fc.constantFrom(600, 1000), fc.constantFrom(6, 10, 16), fc.constantFrom(25, 150)), // skinny n
  );
  await fc.assert(
    fc.asyncProperty(shapes, fc.boolean(), fc.boolean(), fc.nat(), async ([m, n, k], transA, transB, seed) => {
      const a = randomF32(seed, m * k);
      const b = randomF32(seed + 1, k * n);
      const bias = randomBias(seed + 2, n);
      const plain = { a, b, m, n, k, transA, transB };
      const biased = { ...plain, bias };
      const want = bits(matmulF32(plain));
      const wantBiased = bits(matmulF32(biased));
      for (const be of backends) {
        const what = `${m}×${k}·${k}×${n} transA=${transA} transB=${transB}, ${be.threads} thread(s)`;
        assert.deepEqual(bits(runMatmul(be, plain)), want, what);
        assert.deepEqual(bits(runMatmul(be, biased)), wantBiased, `${what}, bias`);
      }
    }),
    { numRuns: 60 },
  );
  backends[1].close();
});

test('the mlp-2, LeNet-5 and a ResNet-sized skinny product equal the emulation on both threads', async () => {
  const two = await createCpuBackend({ spawnWorker: spawnKernelWorker });
  for (
    const [m, n, k, transA, transB] of [
      [128, 512, 784, false, true],
      [512, 784, 128, true, false],
      [128, 10, 512, false, true],
      [10, 512, 128, true, false],
      [128, 512, 10, false, false],
      [2048, 6, 25, false, true],
      [6, 25, 2048, true, false],
      [16, 150, 1600, true, false],
      [6, 25, 8192, true, false], // above the threading threshold: too few rows, split by columns
      [131072, 10, 64, false, true], // a 32 MiB A: packed although the product is skinny (STREAMED_FLOATS)
      [10, 64, 131072, true, false], // a 32 MiB B: packed although the product has few rows
    ] as const
  ) {
    const a = randomF32(m + n, m * k);
    const b = randomF32(k + 7, k * n);
    const plain = { a, b, m, n, k, transA, transB };
    const biased = { ...plain, bias: randomBias(m + k, n) };
    assert.deepEqual(bits(runMatmul(two, plain)), bits(matmulF32(plain)), `${m}×${k}·${k}×${n}`);
    assert.deepEqual(bits(runMatmul(two, biased)), bits(matmulF32(biased)), `${m}×${k}·${k}×${n}, bias`);
  }
  two.close();
});

test('the fused bias of an empty sum (k = 0) and of a batch is the broadcast add of the bias', async () => {
  const be = await createCpuBackend();
  const bias = Float32Array.from([1.5, -0, 0, -2]);
  const out = be.alloc(12);
  const biasBuf = be.alloc(4);
  be.upload(biasBuf, bias);
  const empty = be.alloc(1);
  be.fill(out, 7);
  be.matmul(empty, empty, out, { batch: 3, m: 1, n: 4, k: 0, transA: false, transB: false, bias: biasBuf });
  // 0 + b: +0 for a −0 bias, as the add after an empty product gives.
  const row = Float32Array.from(bias, (x) => 0 + x);
  assert.deepEqual(bits(be.read(out)), bits(Float32Array.from([...row, ...row, ...row])));
  // A batch of 2 items, each 3×4 · 4×4: the bias goes on every row of every item.
  const [m, n, k] = [3, 4, 4];
  const a = randomF32(5, 2 * m * k);
  const b = randomF32(6, 2 * k * n);
  const [ab, bb, c] = [be.alloc(a.length), be.alloc(b.length), be.alloc(2 * m * n)];
  be.upload(ab, a);
  be.upload(bb, b);
  be.matmul(ab, bb, c, { batch: 2, m, n, k, transA: false, transB: false, bias: biasBuf });
  const want = [0, 1].flatMap((t) => [
    ...matmulF32({
      a: a.subarray(t * m * k, (t + 1) * m * k),
      b: b.subarray(t * k * n, (t + 1) * k * n),
      m,
      n,
      k,
      transA: false,
      transB: false,
      bias,
    }),
  ]);
  assert.deepEqual(bits(be.read(c)), bits(Float32Array.from(want)));
});

/**
 * reduce's documented order: over a contiguous span (inner = 1) four lane sums of every
 * fourth element, combined (l0 ∘ l1) ∘ (l2 ∘ l3), then the tail in order; with inner > 1,
 * each output combines row 0, then each following row in turn.
 */
function reduceF32(op: 'sum' | 'max', x: Float32Array, outer: number, size: number, inner: number): Float32Array {
  const combine = (a: number, b: number) => (op === 'sum' ? f(a + b) : Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    if (inner === 1) {
      // The lanes start from the op's identity (0 or −∞), then take every element.
      const lanes = new Array<number>(4).fill(op === 'sum' ? 0 : -Infinity);
      const whole = size - (size % 4);
      for (let i = 0; i < whole; i += 4) for (let l = 0; l < 4; l++) lanes[l] = combine(lanes[l], x[base + i + l]);
      let r = combine(combine(lanes[0], lanes[1]), combine(lanes[2], lanes[3]));
      for (let i = whole; i < size; i++) r = combine(r, x[base + i]);
      out[o] = r;
      continue;
    }
    for (let j = 0; j < inner; j++) {
      let r = x[base + j];
      for (let s = 1; s < size; s++) r = combine(r, x[base + s * inner + j]);
      out[o * inner + j] = r;
    }
  }
  return out;
}

test('reduce (sum, max) equals the f32 emulation of its order, every row width (register blocks, partial vectors)', async () => {
  const be = await createCpuBackend();
  await fc.assert(
    fc.property(
      fc.constantFrom('sum' as const, 'max' as const),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 40 }),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(6, 10, 16, 17, 120, 512)),
      fc.nat(),
      (op, outer, size, inner, seed) => {
        const x = randomF32(seed, outer * size * inner, -3, 3);
        x[seed % x.length] = -0;
        const [xb, out] = [be.alloc(x.length), be.alloc(outer * inner)];
        be.upload(xb, x);
        be.reduce(op, xb, out, { outer, size, inner });
        assert.deepEqual(bits(be.read(out)), bits(reduceF32(op, x, outer, size, inner)), `${op} [${outer}, ${size}, ${inner}]`);
        [xb, out].forEach((b) => be.free(b));
      },
    ),
    { numRuns: 300 },
  );
});

// The kernels have loops specialised for the usual settings (SGD with momentum alone; Adam
// and AdamW with β1 > 0.5 and no coupled decay) and a general loop: the cases cover both.
test('SGD and Adam equal the scalar f32 emulation of their PyTorch order (vector body and tail, usual and general settings)', async () => {
  const be = await createCpuBackend();
  const upload = (x: Float32Array) => {
    const buf = be.alloc(x.length);
    be.upload(buf, x);
    return buf;
  };
  for (const n of [1, 3, 4, 7, 64, 1001]) {
    const [w, g, s1, s2] = [randomF32(n, n), randomF32(n + 1, n), randomF32(n + 2, n), randomF32(n + 3, n, 0, 1)];
    for (
      const p of [
        { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false },
        { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4, nesterov: true, firstStep: false },
        { lr: 0.1, momentum: 0.5, dampening: 0, weightDecay: 1e-3, nesterov: false, firstStep: true },
        { lr: 0.01, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false },
      ] satisfies SgdParams[]
    ) {
      const s = sgdScalars(p);
      const [lr, mom, omd, wd] = [f(s.lr), f(s.momentum), f(s.oneMinusDampening), f(s.weightDecay)];
      const wantW = new Float32Array(n), wantB = Float32Array.from(s1);
      for (let i = 0; i < n; i++) {
        let d = g[i];
        if (wd !== 0) d = f(d + f(wd * w[i]));
        if (mom !== 0) {
          const b = p.firstStep ? d : f(f(s1[i] * mom) + f(omd * d));
          wantB[i] = b;
          d = p.nesterov ? f(d + f(mom * b)) : b;
        }
        wantW[i] = f(w[i] - f(lr * d));
      }
      const [pw, pg, pb] = [upload(w), upload(g), upload(s1)];
      be.sgd(pw, pg, pb, n, p);
      assert.deepEqual(bits(be.read(pw)), bits(wantW), `sgd n=${n} ${JSON.stringify(p)}`);
      assert.deepEqual(bits(be.read(pb)), bits(wantB), `sgd momentum n=${n}`);
      [pw, pg, pb].forEach((x) => be.free(x));
    }
    for (
      const p of [
        { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 },
        { lr: 1e-2, beta1: 0.3, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, decoupled: true, step: 7 },
        { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, decoupled: false, step: 3 },
        { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, decoupled: true, step: 2 },
      ] satisfies AdamParams[]
    ) {
      const s = adamScalars(p);
      const [cd, df, omb1, b2, omb2, eps, step, b2s] = [
        s.coupledDecay,
        s.decoupledFactor,
        s.oneMinusBeta1,
        s.beta2,
        s.oneMinusBeta2,
        s.eps,
        s.stepSize,
        s.bias2Sqrt,
      ].map(f);
      const wantW = new Float32Array(n), wantM = new Float32Array(n), wantV = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let wi = w[i];
        let d = g[i];
        if (df !== 1) wi = f(wi * df);
        if (cd !== 0) d = f(d + f(cd * wi));
        const m0 = s1[i];
        const mi = omb1 < 0.5 ? f(m0 + f(omb1 * f(d - m0))) : f(d - f(f(d - m0) * f(1 - omb1)));
        const vi = f(f(s2[i] * b2) + f(f(omb2 * d) * d));
        wantM[i] = mi;
        wantV[i] = vi;
        const denom = f(f(f(Math.sqrt(vi)) / b2s) + eps);
        wantW[i] = f(wi - f(step * f(mi / denom)));
      }
      const [pw, pg, pm, pv] = [upload(w), upload(g), upload(s1), upload(s2)];
      be.adam(pw, pg, pm, pv, n, p);
      assert.deepEqual(bits(be.read(pw)), bits(wantW), `adam n=${n} ${JSON.stringify(p)}`);
      assert.deepEqual(bits(be.read(pm)), bits(wantM), `adam m n=${n}`);
      assert.deepEqual(bits(be.read(pv)), bits(wantV), `adam v n=${n}`);
      [pw, pg, pm, pv].forEach((x) => be.free(x));
    }
  }
});

/**
 * Window geometries of every kind the kernels accept (padding below the window, windows
 * overlapping or not), up to `maxChannels` channels, and whether the input is NHWC.
 */
function windowGeometry(maxChannels: number) {
  return fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: maxChannels }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 12 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 5 }),
    strideW: fc.integer({ min: 1, max: 5 }),
    padH: fc.nat(3),
    padW: fc.nat(3),
    nhwc: fc.boolean(),
  }).map(({ nhwc, ...g }) => ({ ...g, padH: g.padH % g.kh, padW: g.padW % g.kw, nhwc }))
    .filter((g) => g.h + 2 * g.padH >= g.kh && g.w + 2 * g.padW >= g.kw);
}

/** The kernels' parameters for a contiguous NHWC or NCHW input of geometry `g`. */
function windowParamsOf(nhwc: boolean, g: Omit<WindowParams, 'inStrides'>): WindowParams {
  const inStrides: [number, number, number, number] = nhwc ? [g.h * g.w * g.c, 1, g.w * g.c, g.c] : [g.c * g.h * g.w, g.h * g.w, g.w, 1];
  return { ...g, inStrides };
}

/** col2im's documented order: per input element, from 0, window rows ascending then columns. */
function col2imF32(cols: Float32Array, p: WindowParams): Float32Array {
  const [oh, ow] = [windowOutSize(p.h, p.kh, p.strideH, p.padH), windowOutSize(p.w, p.kw, p.strideW, p.padW)];
  const [sN, sC, sY, sX] = p.inStrides;
  const x = new Float32Array(p.n * p.c * p.h * p.w);
  for (let b = 0; b < p.n; b++) {
    for (let ch = 0; ch < p.c; ch++) {
      for (let y = 0; y < p.h; y++) {
        for (let xx = 0; xx < p.w; xx++) {
          let acc = 0;
          for (let i = 0; i < p.kh; i++) {
            const oy = (y + p.padH - i) / p.strideH;
            if (!Number.isInteger(oy) || oy < 0 || oy >= oh) continue;
            for (let j = 0; j < p.kw; j++) {
              const ox = (xx + p.padW - j) / p.strideW;
              if (!Number.isInteger(ox) || ox < 0 || ox >= ow) continue;
              const entry = p.channelsLast ? (i * p.kw + j) * p.c + ch : (ch * p.kh + i) * p.kw + j;
              acc = f(acc + cols[((b * oh + oy) * ow + ox) * p.c * p.kh * p.kw + entry]);
            }
          }
          x[b * sN + ch * sC + y * sY + xx * sX] = acc;
        }
      }
    }
  }
  return x;
}

test('col2im equals the f32 emulation of its gather order, overlapping and disjoint (pooling) windows, either entry order', async () => {
  const be = await createCpuBackend();
  const geometry = windowGeometry(7);
  await fc.assert(
    fc.asyncProperty(geometry, fc.boolean(), fc.nat(), async ({ nhwc, ...g }, channelsLast, seed) => {
      const p = { ...windowParamsOf(nhwc, g), channelsLast };
      const length = p.n * windowOutSize(p.h, p.kh, p.strideH, p.padH) * windowOutSize(p.w, p.kw, p.strideW, p.padW) * p.c * p.kh * p.kw;
      const cols = randomF32(seed, length);
      if (length > 0) cols[0] = -0; // a lone −0 must come out as 0 + (−0) = +0, as the gather's sum gives
      const [cb, xb] = [be.alloc(length), be.alloc(p.n * p.c * p.h * p.w)];
      be.upload(cb, cols);
      be.fill(xb, Number.NaN);
      be.col2im(cb, xb, p);
      assert.deepEqual(bits(be.read(xb)), bits(col2imF32(cols, p)), JSON.stringify(p));
      [cb, xb].forEach((b) => be.free(b));
    }),
    { numRuns: 200 },
  );
});

/**
 * avgPool and avgPoolGrad are fused kernels for compositions of other kernels (the
 * WebGPU backend still runs those), so they must give those compositions' bits: forward
 * im2col, reduce('sum') over each window's entries, unary('scale', 1/(kh·kw)); backward
 * that scale, the broadcast over the window's entries (an add of a broadcast zero, as
 * autograd copies), col2im.
 */
test('avgPool / avgPoolGrad equal the composed kernels they fuse, bit for bit, 1 and 2 threads', async () => {
  const backends = [await createCpuBackend(), await createCpuBackend({ spawnWorker: spawnKernelWorker })];
  const geometry = windowGeometry(9);
  await fc.assert(
    fc.asyncProperty(geometry, fc.nat(), async ({ nhwc, ...g }, seed) => {
      const p = windowParamsOf(nhwc, g);
      const k = p.kh * p.kw;
      const windows = p.n * windowOutSize(p.h, p.kh, p.strideH, p.padH) * windowOutSize(p.w, p.kw, p.strideW, p.padW) * p.c;
      const x = randomF32(seed, p.n * p.c * p.h * p.w);
      const gy = randomF32(seed + 1, windows);
      x[0] = -0; // alone in a 1×1 window: 0 + (−0) = +0, as the reduction's sum gives
      gy[0] = -0; // scaled to −0, then summed from 0 as col2im does: +0
      for (const be of backends) {
        const [xb, gb, cols, sums, fused, composed, dxFused, dxComposed, zero] = [
          x.length,
          windows,
          windows * k,
          windows,
          windows,
          windows,
          x.length,
          x.length,
          1,
        ].map((n) => be.alloc(n));
        be.upload(xb, x);
        be.upload(gb, gy);
        be.fill(zero, 0);
        be.avgPool(xb, fused, p);
        be.im2col(xb, cols, p);
        be.reduce('sum', cols, sums, { outer: windows, size: k, inner: 1 });
        be.unary('scale', sums, composed, windows, 1 / k);
        assert.deepEqual(bits(be.read(fused)), bits(be.read(composed)), `avgPool ${JSON.stringify(p)}`);
        be.fill(dxFused, Number.NaN);
        be.avgPoolGrad(gb, dxFused, p);
        be.unary('scale', gb, sums, windows, 1 / k);
        be.binary('add', sums, zero, cols, { shape: [windows, k], aStrides: [1, 0], bStrides: [0, 0] });
        be.col2im(cols, dxComposed, p);
        assert.deepEqual(bits(be.read(dxFused)), bits(be.read(dxComposed)), `avgPoolGrad ${JSON.stringify(p)}`);
        [xb, gb, cols, sums, fused, composed, dxFused, dxComposed, zero].forEach((b) => be.free(b));
      }
    }),
    { numRuns: 300 },
  );
});
