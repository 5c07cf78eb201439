/**
 * Kernel agreement with the f64 oracle, for any Backend. Each backend's test file calls
 * `kernelSuite` with a factory; the same properties run on every backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Backend, Buf, UnaryOp, WindowParams } from '../../core/backend.ts';
import { BINARY_OPS, UNARY_OPS, windowOutSize } from '../../core/backend.ts';
import { RidgelineError } from '../../core/errors.ts';
import { CheckedBackend } from '../../core/backend_contract.ts';
import { broadcastStrides, coalesce, contiguousStrides } from '../../core/shape.ts';
import * as oracle from '../oracle/ops.ts';
import { gamma, ROUNDED_RTOL, softmaxAtol, SUBNORMAL_ATOL, TRANSCENDENTAL_ATOL, TRANSCENDENTAL_RTOL } from '../tolerances.ts';
import { assertClose, randomF32, relTol, RUNS } from '../util.ts';
import { aliasingTests } from './aliasing.ts';

/** Dimension sizes that stress the kernels: 1, odd, not a multiple of 4 or 8, and ≥ 1024. */
export const dim = (max = 40): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max }) },
    { weight: 1, arbitrary: fc.constantFrom(1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 63, 65) },
  );

const upload = (be: Backend, data: Float32Array): Buf => {
  const b = be.alloc(data.length);
  be.upload(b, data);
  return b;
};

/** Inputs each unary op is defined and well conditioned on. */
const UNARY_DOMAIN: Record<UnaryOp, [number, number]> = {
  neg: [-100, 100],
  abs: [-100, 100],
  sign: [-2, 2],
  square: [-100, 100],
  sqrt: [0, 100],
  reciprocal: [0.01, 100],
  exp: [-80, 80],
  log: [1e-3, 1e3],
  sin: [-20, 20],
  cos: [-20, 20],
  tanh: [-10, 10],
  sigmoid: [-30, 30],
  leakyRelu: [-10, 10],
  step: [-2, 2],
  scale: [-100, 100],
  addScalar: [-100, 100],
  powScalar: [0.01, 10],
};
const TRANSCENDENTAL = new Set<UnaryOp>(['exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'powScalar']);

/** Memory orders of the [n, c, h, w] axes, outermost first: permutations of a contiguous layout. */
const WINDOW_LAYOUTS = { nchw: [0, 1, 2, 3], nhwc: [0, 2, 3, 1], cnhw: [1, 0, 2, 3], hwcn: [2, 3, 1, 0] } as const;
type WindowLayout = keyof typeof WINDOW_LAYOUTS | 'gapped' | 'gapped-nhwc' | 'overlapping';

/**
 * Input strides of `layout` for dims [n, c, h, w]. 'gapped' is NCHW with a row pitch of
 * w + 3 and unused space between channels; 'gapped-nhwc' is NHWC with unused floats between
 * pixels, rows and images (channels adjacent, pixels not); 'overlapping' reads windows of one run of
 * memory (h- and w-stride 1), so different (y, x) share elements — valid for im2col only.
 */
function windowStrides(layout: WindowLayout, [n, c, h, w]: readonly number[]): [number, number, number, number] {
  if (layout === 'gapped') return [c * (h * (w + 3) + 2), h * (w + 3) + 2, w + 3, 1];
  if (layout === 'gapped-nhwc') return [h * (w * (c + 2) + 1) + 3, 1, w * (c + 2) + 1, c + 2];
  if (layout === 'overlapping') return [c * 2 + h + w, 2, 1, 1];
  const dims = [n, c, h, w];
  const strides = [0, 0, 0, 0];
  let s = 1;
  for (const d of [...WINDOW_LAYOUTS[layout]].reverse()) {
    strides[d] = s;
    s *= dims[d];
  }
  return strides as [number, number, number, number];
}

/** Elements a strided [n, c, h, w] input spans. */
const windowExtent = (p: WindowParams): number => [p.n, p.c, p.h, p.w].reduce((e, d, i) => e + (d - 1) * p.inStrides[i], 1);

/**
 * Random window geometries: sizes 1..9 (odd and 1 included), kernels 1..5, strides 1..4,
 * padding below the kernel; a third are pooling-like (stride = kernel, no padding). Only
 * geometries whose window fits the padded input are kept.
 */
const windowGeometry = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 5 }),
    h: dim(9),
    w: dim(9),
    kh: fc.integer({ min: 1, max: 5 }),
    kw: fc.integer({ min: 1, max: 5 }),
    strideH: fc.integer({ min: 1, max: 4 }),
    strideW: fc.integer({ min: 1, max: 4 }),
    padH: fc.nat(4),
    padW: fc.nat(4),
    pool: fc.integer({ min: 0, max: 2 }),
  })
  .map((
    { pool, ...g },
  ) => (pool === 0 ? { ...g, strideH: g.kh, strideW: g.kw, padH: 0, padW: 0 } : { ...g, padH: g.padH % g.kh, padW: g.padW % g.kw }))
  .filter((g) => g.h + 2 * g.padH >= g.kh && g.w + 2 * g.padW >= g.kw);

function windowParams(g: Omit<WindowParams, 'inStrides'>, layout: WindowLayout): WindowParams {
  return { ...g, inStrides: windowStrides(layout, [g.n, g.c, g.h, g.w]) };
}

const colsLength = (p: WindowParams): number =>
  p.n * windowOutSize(p.h, p.kh, p.strideH, p.padH) * windowOutSize(p.w, p.kw, p.strideW, p.padW) * p.c * p.kh * p.kw;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

export function kernelSuite(name: string, create: () => Promise<Backend | string>): void {
  describe(`${name} kernels agree with the f64 oracle`, async () => {
    const made = await create();
    if (typeof made === 'string') {
      test(`${name} kernels`, { skip: made }, () => {});
      return;
    }
    const be = made;
    const read = async (b: Buf) => be.download(b);

    test('the backend enforces the shared contract (extends CheckedBackend)', () => {
      assert.ok(be instanceof CheckedBackend);
    });
    aliasingTests(be);

    /** One product on random operands within the γ(k)·Σ|a||b| bound of the f64 oracle. */
    const matmulAgrees = async (s: { batch: number; m: number; n: number; k: number }, transA: boolean, transB: boolean, seed: number) => {
      const p = { ...s, transA, transB };
      const a = randomF32(seed, s.batch * s.m * s.k);
      const b = randomF32(seed + 1, s.batch * s.k * s.n);
      const [ab, bb, out] = [upload(be, a), upload(be, b), be.alloc(s.batch * s.m * s.n)];
      be.matmul(ab, bb, out, p);
      const got = await read(out);
      const want = oracle.matmul(a, b, p);
      // Σ|a||b| per output = the oracle product of the absolute values.
      const mag = oracle.matmul(a.map(Math.abs), b.map(Math.abs), p);
      assertClose(got, want, (i) => gamma(s.k) * mag[i], `matmul ${JSON.stringify(p)}`);
      [ab, bb, out].forEach((x) => be.free(x));
    };

    test('matmul: batched, all transposes, odd/unit/large sizes', async () => {
      const shapes = fc.oneof(
        fc.record({ batch: fc.integer({ min: 1, max: 3 }), m: dim(), n: dim(), k: dim() }),
        // One dimension ≥ 1024, the others small, so the f64 oracle stays quick.
        fc.record({ batch: fc.constant(1), m: fc.integer({ min: 1024, max: 1100 }), n: dim(9), k: dim(20) }),
        fc.record({ batch: fc.constant(1), m: dim(9), n: fc.integer({ min: 1024, max: 1100 }), k: dim(20) }),
        fc.record({ batch: fc.constant(1), m: dim(9), n: dim(12), k: fc.integer({ min: 1024, max: 1300 }) }),
      );
      await fc.assert(
        fc.asyncProperty(shapes, fc.boolean(), fc.boolean(), fc.nat(), matmulAgrees),
        { numRuns: RUNS.kernel },
      );
    });

    test('matmul: skinny outputs, long k (split-k on WebGPU) and the tiled/direct boundary, all transposes', async () => {
      const small = fc.integer({ min: 1, max: 16 });
      const longK = fc.oneof(fc.integer({ min: 500, max: 20000 }), fc.constantFrom(511, 512, 513, 1023, 1024, 16384));
      // [thin, wide, k]: C is thin × wide or wide × thin. Sizes keep the f64 oracle quick.
      const skinny = fc.oneof(
        // im2col products of a convolution with few channels: short k, one long side.
        fc.tuple(small, dim(5000), dim(64)),
        // Weight gradients: a handful of outputs over a long k.
        fc.tuple(small, small, longK),
        fc.tuple(small, fc.integer({ min: 17, max: 200 }), fc.integer({ min: 256, max: 2000 })),
      );
      const shapes = fc.oneof(
        fc.record({ batch: fc.integer({ min: 1, max: 2 }), dims: skinny, wide: fc.boolean() })
          .map(({ batch, dims: [thin, long, k], wide }) => (wide ? { batch, m: thin, n: long, k } : { batch, m: long, n: thin, k })),
        // Around the sizes where the WebGPU backend switches between its two kernels.
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          m: fc.integer({ min: 100, max: 160 }),
          n: fc.integer({ min: 14, max: 80 }),
          k: fc.integer({ min: 24, max: 48 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(shapes, fc.boolean(), fc.boolean(), fc.nat(), matmulAgrees),
        { numRuns: RUNS.kernel },
      );
    });

    test('matmul with a bias: the product plus the bias on every row of every batch item', async () => {
      const shapes = fc.record({ batch: fc.integer({ min: 1, max: 3 }), m: dim(), n: dim(), k: fc.integer({ min: 1, max: 600 }) });
      await fc.assert(
        fc.asyncProperty(shapes, fc.boolean(), fc.boolean(), fc.nat(), async (s, transA, transB, seed) => {
          const p = { ...s, transA, transB };
          const a = randomF32(seed, s.batch * s.m * s.k);
          const b = randomF32(seed + 1, s.batch * s.k * s.n);
          const bias = randomF32(seed + 2, s.n, -4, 4);
          const [ab, bb, biasBuf, out] = [upload(be, a), upload(be, b), upload(be, bias), be.alloc(s.batch * s.m * s.n)];
          be.matmul(ab, bb, out, { ...p, bias: biasBuf });
          const got = await read(out);
          const product = oracle.matmul(a, b, p);
          const want = product.map((x, i) => x + bias[i % s.n]);
          const mag = oracle.matmul(a.map(Math.abs), b.map(Math.abs), p);
          // The product's bound, then one more rounding for the add.
          assertClose(got, want, (i) => gamma(s.k + 1) * (mag[i] + Math.abs(bias[i % s.n])), `matmul + bias ${JSON.stringify(p)}`);
          [ab, bb, biasBuf, out].forEach((x) => be.free(x));
        }),
        { numRuns: RUNS.kernel / 2 },
      );
    });

    test('matmul: batch stride 0 broadcasts an operand', async () => {
      const [m, n, k, batch] = [5, 7, 9, 3];
      const a = randomF32(1, batch * m * k);
      const b = randomF32(2, k * n);
      const [ab, bb, out] = [upload(be, a), upload(be, b), be.alloc(batch * m * n)];
      be.matmul(ab, bb, out, { batch, m, n, k, transA: false, transB: false, strideB: 0 });
      const got = await read(out);
      for (let t = 0; t < batch; t++) {
        const want = oracle.matmul(a.subarray(t * m * k, (t + 1) * m * k), b, { batch: 1, m, n, k, transA: false, transB: false });
        assertClose(got.subarray(t * m * n, (t + 1) * m * n), want, gamma(k) * k, `batch ${t}`);
      }
    });

    test('unary ops, every op, sizes around the SIMD width', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...UNARY_OPS),
          dim(2000),
          fc.nat(),
          fc.double({ min: -3, max: 3, noNaN: true }),
          async (op, n, seed, param) => {
            const [lo, hi] = UNARY_DOMAIN[op];
            const x = randomF32(seed, n, lo, hi);
            const p32 = Math.fround(op === 'powScalar' ? Math.abs(param) : param);
            // WGSL may flush a subnormal uniform to zero (SwiftShader does), and x·p then differs
            // by |x|·p > 2^-126 from the oracle: a subnormal parameter is tested as the 0 it may become.
            const p = Math.abs(p32) < SUBNORMAL_ATOL ? 0 : p32;
            const [xb, out] = [upload(be, x), be.alloc(n)];
            be.unary(op, xb, out, n, p);
            const got = await read(out);
            const want = Float64Array.from(x, (v) => oracle.unaryScalar(op, v, p));
            const tol = TRANSCENDENTAL.has(op)
              ? relTol(want, TRANSCENDENTAL_RTOL, TRANSCENDENTAL_ATOL)
              : relTol(want, ROUNDED_RTOL, SUBNORMAL_ATOL);
            assertClose(got, want, tol, `unary ${op} (param ${p}, n ${n})`);
            [xb, out].forEach((b) => be.free(b));
          },
        ),
        { numRuns: RUNS.kernel * 2 },
      );
    });

    test('binary ops with broadcasting', async () => {
      // Random rank-1..4 output shapes; each operand drops leading dims or has 1s.
      const shapes = fc
        .array(dim(9), { minLength: 1, maxLength: 4 })
        .chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            fc.nat(shape.length),
          )
        );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...BINARY_OPS), shapes, fc.nat(), async (op, [shape, onesA, onesB, drop], seed) => {
          const aShape = shape.map((d, i) => (onesA[i] ? 1 : d));
          const bShape = shape.map((d, i) => (onesB[i] ? 1 : d)).slice(drop);
          const a = randomF32(seed, aShape.reduce((x, y) => x * y, 1), -4, 4);
          const b = randomF32(seed + 7, bShape.reduce((x, y) => x * y, 1), 0.5, 4);
          const want = oracle.binary(op, a, aShape, b, bShape, 0.25);
          const view = coalesce(want.shape, broadcastStrides(aShape, want.shape), broadcastStrides(bShape, want.shape));
          const [ab, bb, out] = [upload(be, a), upload(be, b), be.alloc(want.out.length)];
          be.binary(op, ab, bb, out, { ...view, param: 0.25 });
          assertClose(await read(out), want.out, relTol(want.out, ROUNDED_RTOL), `${op} ${JSON.stringify([aShape, bShape])}`);
          [ab, bb, out].forEach((x) => be.free(x));
        }),
        { numRuns: RUNS.kernel * 2 },
      );
    });

    test('binary ops reading a permuted operand (transposes: the CPU four-row block path)', async () => {
      // a is stored contiguous in `inShape` and read through a random axis permutation, as
      // autograd's permute does (an add of a zero); b broadcasts over a random subset of axes.
      const cases = fc
        .array(fc.oneof(dim(3), fc.integer({ min: 4, max: 13 })), { minLength: 2, maxLength: 4 })
        .chain((inShape) =>
          fc.tuple(
            fc.constant(inShape),
            fc.shuffledSubarray([...inShape.keys()], { minLength: inShape.length, maxLength: inShape.length }),
            fc.array(fc.boolean(), { minLength: inShape.length, maxLength: inShape.length }),
          )
        );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...BINARY_OPS), cases, fc.nat(), async (op, [inShape, axes, onesB], seed) => {
          const shape = axes.map((d) => inShape[d]);
          const inStrides = contiguousStrides(inShape);
          const aStrides = axes.map((d) => inStrides[d]);
          const bShape = shape.map((d, i) => (onesB[i] ? 1 : d));
          const size = shape.reduce((x, y) => x * y, 1);
          const a = randomF32(seed, size, -4, 4);
          const b = randomF32(seed + 7, bShape.reduce((x, y) => x * y, 1), 0.5, 4);
          // a as the contiguous array of the permuted view, for the oracle.
          const aView = new Float32Array(size);
          const idx = new Array(shape.length).fill(0);
          for (let i = 0; i < size; i++) {
            aView[i] = a[idx.reduce((s, v, d) => s + v * aStrides[d], 0)];
            for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
          }
          const want = oracle.binary(op, aView, shape, b, bShape, 0.25);
          const view = coalesce(shape, aStrides, broadcastStrides(bShape, shape));
          const [ab, bb, out] = [upload(be, a), upload(be, b), be.alloc(size)];
          be.binary(op, ab, bb, out, { ...view, param: 0.25 });
          assertClose(await read(out), want.out, relTol(want.out, ROUNDED_RTOL), `${op} ${JSON.stringify([inShape, axes, bShape])}`);
          [ab, bb, out].forEach((x) => be.free(x));
        }),
        { numRuns: RUNS.kernel * 2 },
      );
    });

    test('binary ops on uncoalesced strided views (rank up to 6)', async () => {
      const shape = [2, 3, 1, 4, 5, 3];
      const aShape = [2, 1, 1, 4, 1, 3];
      const bShape = [3, 1, 4, 5, 1];
      const a = randomF32(3, 2 * 4 * 3);
      const b = randomF32(4, 3 * 4 * 5, 1, 2);
      const want = oracle.binary('div', a, aShape, b, bShape);
      assert.deepEqual(want.shape, shape);
      const [ab, bb, out] = [upload(be, a), upload(be, b), be.alloc(want.out.length)];
      be.binary('div', ab, bb, out, { shape, aStrides: broadcastStrides(aShape, shape), bStrides: broadcastStrides(bShape, shape) });
      assertClose(await read(out), want.out, relTol(want.out, ROUNDED_RTOL), 'div rank 6');
    });

    test('reduce sum and max over the middle axis', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('sum' as const, 'max' as const),
          dim(12),
          fc.oneof(dim(), fc.integer({ min: 1024, max: 3000 })),
          dim(12),
          fc.nat(),
          async (op, outer, size, inner, seed) => {
            const x = randomF32(seed, outer * size * inner, -5, 5);
            const [xb, out] = [upload(be, x), be.alloc(outer * inner)];
            be.reduce(op, xb, out, { outer, size, inner });
            const want = oracle.reduce(op, x, outer, size, inner);
            const mag = oracle.reduce('sum', x.map(Math.abs), outer, size, inner);
            assertClose(await read(out), want, op === 'max' ? 0 : (i) => gamma(size) * mag[i], `${op} [${outer}, ${size}, ${inner}]`);
            [xb, out].forEach((b) => be.free(b));
          },
        ),
        { numRuns: RUNS.kernel },
      );
    });

    test('reduce max is wasm f32.max on every backend: NaN propagates, max(−0, +0) = +0', async () => {
      const x = Float32Array.of(-0, 0, 0, -0, 1, Number.NaN, Number.NaN, 1, -0, -0);
      const [xb, out] = [upload(be, x), be.alloc(5)];
      be.reduce('max', xb, out, { outer: 5, size: 2, inner: 1 });
      const got = Array.from(await read(out));
      [0, 0, Number.NaN, Number.NaN, -0].forEach((want, i) => assert.ok(Object.is(got[i], want), `max #${i}: ${got[i]} vs ${want}`));
      [xb, out].forEach((b) => be.free(b));
    });

    test('softmax and fused softmax cross-entropy, extreme finite logits (±80) without NaN', async () => {
      await fc.assert(
        fc.asyncProperty(
          dim(20),
          fc.oneof(dim(40), fc.constant(1030)),
          fc.nat(),
          fc.constantFrom(1, 10, 80),
          async (rows, cols, seed, spread) => {
            const x = randomF32(seed, rows * cols, -spread, spread);
            const labels = Float32Array.from({ length: rows }, (_, r) => (seed + r * 7) % cols);
            const [xb, lb, sm, loss, grad] = [
              upload(be, x),
              upload(be, labels),
              be.alloc(rows * cols),
              be.alloc(rows),
              be.alloc(rows * cols),
            ];
            be.softmax(xb, sm, rows, cols);
            be.softmaxXent(xb, lb, loss, grad, rows, cols);
            const want = oracle.softmaxXent(x, labels, rows, cols);
            const atol = softmaxAtol(cols, spread);
            const gotSm = await read(sm);
            assert.ok(gotSm.every(Number.isFinite), 'softmax is finite');
            assertClose(gotSm, oracle.softmax(x, rows, cols), atol, `softmax [${rows}, ${cols}] ±${spread}`);
            assertClose(await read(grad), want.grad, atol, `xent grad [${rows}, ${cols}] ±${spread}`);
            assertClose(await read(loss), want.loss, relTol(want.loss, 8 * 2 ** -24, atol), `xent loss [${rows}, ${cols}] ±${spread}`);
            [xb, lb, sm, loss, grad].forEach((b) => be.free(b));
          },
        ),
        { numRuns: RUNS.kernel },
      );
    });

    test('softmax cross-entropy with an invalid label gives NaN loss, no out-of-row write', async () => {
      const x = randomF32(5, 2 * 3);
      const [xb, lb, loss, grad] = [upload(be, x), upload(be, new Float32Array([3, 1.5])), be.alloc(2), be.alloc(6)];
      be.softmaxXent(xb, lb, loss, grad, 2, 3);
      const l = await read(loss);
      assert.ok(Number.isNaN(l[0]) && Number.isNaN(l[1]));
      assertClose(await read(grad), oracle.softmax(x, 2, 3), 1e-6, 'grad without onehot');
    });

    test('SGD (momentum, dampening, Nesterov, weight decay) and Adam/AdamW follow PyTorch semantics over several steps', async () => {
      await fc.assert(
        fc.asyncProperty(dim(300), fc.nat(), fc.boolean(), fc.boolean(), async (n, seed, nesterov, decoupled) => {
          const p0 = randomF32(seed, n);
          const sgdP = { lr: 0.1, momentum: 0.9, dampening: nesterov ? 0 : 0.1, weightDecay: 5e-4, nesterov, firstStep: true };
          const [pb, gb, mb, vb] = [upload(be, p0), be.alloc(n), be.alloc(n), be.alloc(n)];
          const wantP = Float64Array.from(p0);
          const wantBuf = new Float64Array(n);
          for (let s = 0; s < 4; s++) {
            const g = randomF32(seed + 100 + s, n);
            be.upload(gb, g);
            be.sgd(pb, gb, mb, n, { ...sgdP, firstStep: s === 0 });
            oracle.sgd(wantP, g, wantBuf, { ...sgdP, firstStep: s === 0 });
          }
          assertClose(await read(pb), wantP, relTol(wantP, 1e-6, 1e-6), 'sgd params');
          assertClose(await read(mb), wantBuf, relTol(wantBuf, 1e-6, 1e-6), 'sgd momentum');
          be.upload(pb, p0);
          be.fill(mb, 0);
          be.fill(vb, 0);
          const adamP = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled, step: 1 };
          const wp = Float64Array.from(p0);
          const wm = new Float64Array(n);
          const wv = new Float64Array(n);
          let gMax = 0;
          for (let s = 1; s <= 5; s++) {
            const g = randomF32(seed + 200 + s, n);
            gMax = Math.max(gMax, ...g.map(Math.abs));
            be.upload(gb, g);
            be.adam(pb, gb, mb, vb, n, { ...adamP, step: s });
            oracle.adam(wp, g, wm, wv, { ...adamP, step: s });
          }
          assertClose(await read(pb), wp, relTol(wp, 1e-6, 1e-6), `adam params (decoupled ${decoupled})`);
          // v (a sum of squares, no cancellation) to 1e-6 relative: 1 − β2 formed from the
          // f32-rounded β2 is 1.3e-5 off. m sums signed terms (1 − β1)·g, so its rounding
          // scales with those terms, not with m: to 1e-6 of the larger of its largest entry
          // and the largest term. (With m's entry alone, one element whose terms nearly
          // cancelled — m 0.003 from terms up to 0.1 — failed on WebGPU by 2 %.)
          const mScale = Math.max(...wm.map(Math.abs), (1 - adamP.beta1) * gMax);
          assertClose(await read(mb), wm, relTol(wm, 1e-6, 1e-6 * mScale), `adam m (decoupled ${decoupled})`);
          assertClose(await read(vb), wv, relTol(wv, 1e-6, 1e-14), `adam v (decoupled ${decoupled})`);
          [pb, gb, mb, vb].forEach((b) => be.free(b));
        }),
        { numRuns: RUNS.kernel / 2 },
      );
    });

    test('fill and copy with offsets', async () => {
      const src = upload(be, randomF32(9, 37));
      const dst = be.alloc(50);
      be.fill(dst, 2.5);
      be.copy(src, dst, 30, 5, 11);
      const got = await read(dst);
      const s = randomF32(9, 37);
      const want = Float64Array.from({ length: 50 }, (_, i) => (i >= 11 && i < 41 ? s[i - 11 + 5] : 2.5));
      assertClose(got, want, 0, 'copy');
    });

    test('im2col copies windows exactly, zero padding, any input strides, either entry order', async () => {
      const layouts = fc.constantFrom<WindowLayout>('nchw', 'nhwc', 'cnhw', 'hwcn', 'gapped', 'gapped-nhwc', 'overlapping');
      await fc.assert(
        fc.asyncProperty(windowGeometry, layouts, fc.boolean(), fc.nat(), async (g, layout, channelsLast, seed) => {
          const p = { ...windowParams(g, layout), channelsLast };
          const x = randomF32(seed, windowExtent(p));
          const [xb, cols] = [upload(be, x), be.alloc(colsLength(p))];
          be.fill(cols, Number.NaN); // every element must be written
          be.im2col(xb, cols, p);
          assertClose(await read(cols), oracle.im2col(x, p), 0, `im2col ${layout} ${JSON.stringify(g)} channelsLast ${channelsLast}`);
          [xb, cols].forEach((b) => be.free(b));
        }),
        { numRuns: RUNS.kernel },
      );
    });

    test('col2im sums the windows covering each input element, any permuted layout, either entry order', async () => {
      const layouts = fc.constantFrom<WindowLayout>('nchw', 'nhwc', 'cnhw', 'hwcn');
      await fc.assert(
        fc.asyncProperty(windowGeometry, layouts, fc.boolean(), fc.nat(), async (g, layout, channelsLast, seed) => {
          const p = { ...windowParams(g, layout), channelsLast };
          const c = randomF32(seed, colsLength(p));
          const [cb, xb] = [upload(be, c), be.alloc(p.n * p.c * p.h * p.w)];
          be.fill(xb, Number.NaN); // every element must be written, uncovered ones with 0
          be.col2im(cb, xb, p);
          const want = oracle.col2im(c, p);
          // A sum of at most kh·kw terms: γ_{kh·kw}·Σ|terms| (exact where one window covers).
          const mag = oracle.col2im(c.map(Math.abs), p);
          assertClose(
            await read(xb),
            want,
            (i) => gamma(p.kh * p.kw) * mag[i],
            `col2im ${layout} ${JSON.stringify(g)} channelsLast ${channelsLast}`,
          );
          [cb, xb].forEach((b) => be.free(b));
        }),
        { numRuns: RUNS.kernel },
      );
    });

    test('col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>', async () => {
      const layouts = fc.constantFrom<WindowLayout>('nchw', 'nhwc', 'cnhw');
      await fc.assert(
        fc.asyncProperty(windowGeometry, layouts, fc.nat(), async (g, layout, seed) => {
          const p = windowParams(g, layout);
          const x = randomF32(seed, p.n * p.c * p.h * p.w);
          const c = randomF32(seed + 1, colsLength(p));
          const [xb, cb, colsOut, xOut] = [upload(be, x), upload(be, c), be.alloc(c.length), be.alloc(x.length)];
          be.im2col(xb, colsOut, p);
          be.col2im(cb, xOut, p);
          const [u, v] = [await read(colsOut), await read(xOut)];
          // In f64 on the downloaded values; im2col is exact, col2im's f32 sums contribute
          // at most γ_{kh·kw}·<|x|, col2im(|c|)> = γ_{kh·kw}·<|im2col(x)|, |c|>, and the two
          // f64 dot products a unit roundoff of 2^-53 per term of that same bound.
          const bound = dot(u.map(Math.abs), c.map(Math.abs));
          const tol = (gamma(p.kh * p.kw) + (c.length + x.length) * 2 ** -53) * bound;
          const [lhs, rhs] = [dot(u, c), dot(x, v)];
          assert.ok(Math.abs(lhs - rhs) <= tol, `adjointness ${layout} ${JSON.stringify(g)}: ${lhs} vs ${rhs} (tol ${tol})`);
          [xb, cb, colsOut, xOut].forEach((b) => be.free(b));
        }),
        { numRuns: RUNS.kernel / 2 },
      );
    });

    test('avgPool is the mean of each window, avgPoolGrad its adjoint, any permuted layout', async () => {
      const layouts = fc.constantFrom<WindowLayout>('nchw', 'nhwc', 'cnhw', 'hwcn');
      await fc.assert(
        fc.asyncProperty(windowGeometry, layouts, fc.nat(), async (g, layout, seed) => {
          const p = windowParams(g, layout);
          const k = p.kh * p.kw;
          const pooledLength = colsLength(p) / k;
          const x = randomF32(seed, p.n * p.c * p.h * p.w);
          const gy = randomF32(seed + 1, pooledLength);
          const [xb, out, gb, dx] = [upload(be, x), be.alloc(pooledLength), upload(be, gy), be.alloc(x.length)];
          be.fill(out, Number.NaN); // every element must be written
          be.fill(dx, Number.NaN); // uncovered elements too, with 0
          be.avgPool(xb, out, p);
          be.avgPoolGrad(gb, dx, p);
          // Window sums of k terms, then the scale f32(1/k) and its product: γ_{k+2} of the
          // mean of the magnitudes; the gradient likewise per covering window.
          const windowMeans = (cols: ArrayLike<number>) =>
            Float64Array.from({ length: pooledLength }, (_, w) => {
              let s = 0;
              for (let t = 0; t < k; t++) s += cols[w * k + t];
              return s / k;
            });
          const spread = (v: ArrayLike<number>) =>
            oracle.col2im(Float64Array.from({ length: v.length * k }, (_, i) => v[Math.floor(i / k)] / k), p);
          const cols = oracle.im2col(x, p);
          const magnitude = windowMeans(cols.map(Math.abs));
          assertClose(await read(out), windowMeans(cols), (i) => gamma(k + 2) * magnitude[i], `avgPool ${layout} ${JSON.stringify(g)}`);
          const gradMagnitude = spread(gy.map(Math.abs));
          assertClose(await read(dx), spread(gy), (i) => gamma(k + 2) * gradMagnitude[i], `avgPoolGrad ${layout} ${JSON.stringify(g)}`);
          [xb, out, gb, dx].forEach((b) => be.free(b));
        }),
        { numRuns: RUNS.kernel / 2 },
      );
    });

    test('bad input: the window kernels (im2col, col2im, avgPool, avgPoolGrad) reject bad windows and short buffers, naming the op', async () => {
      const base: WindowParams = {
        n: 1,
        c: 2,
        h: 4,
        w: 4,
        kh: 3,
        kw: 3,
        strideH: 1,
        strideW: 1,
        padH: 1,
        padW: 1,
        inStrides: [32, 16, 4, 1],
      };
      // x has 8 spare elements, so that strides with gaps still fit and fail for their layout.
      const [x, cols, shortCols] = [be.alloc(40), be.alloc(colsLength(base)), be.alloc(colsLength(base) - 1)];
      const pooledLength = colsLength(base) / (base.kh * base.kw);
      const [pooled, shortPooled] = [be.alloc(pooledLength), be.alloc(pooledLength - 1)];
      const sentinel = randomF32(11, 40);
      be.upload(x, sentinel);
      const throwsCode = (code: string, fn: () => void, op: string) =>
        assert.throws(fn, (e: unknown) => e instanceof RidgelineError && e.code === code && e.message.includes(`${op}:`));
      // Each op on x and its window-side buffer, or that buffer one element short.
      const calls = {
        im2col: (p: WindowParams, short = false) => be.im2col(x, short ? shortCols : cols, p),
        col2im: (p: WindowParams, short = false) => be.col2im(short ? shortCols : cols, x, p),
        avgPool: (p: WindowParams, short = false) => be.avgPool(x, short ? shortPooled : pooled, p),
        avgPoolGrad: (p: WindowParams, short = false) => be.avgPoolGrad(short ? shortPooled : pooled, x, p),
      };
      for (const [op, call] of Object.entries(calls)) {
        throwsCode('E_SHAPE', () => call({ ...base, kh: 7, padH: 1 }), op); // window 7 > 4 + 2·1
        throwsCode('E_SHAPE', () => call({ ...base, w: 2, kw: 5, padW: 1 }), op);
        throwsCode('E_ARG', () => call({ ...base, padH: 3 }), op); // padding ≥ kernel
        throwsCode('E_ARG', () => call({ ...base, kw: 2, padW: 2 }), op);
        throwsCode('E_ARG', () => call({ ...base, strideW: 0 }), op);
        throwsCode('E_SHAPE', () => call({ ...base, n: 2 }), op); // x too short (64 > 40)
        throwsCode('E_SHAPE', () => call(base, true), op); // the window side too short
        throwsCode('E_ARG', () => call({ ...base, inStrides: [32, 16, 4] as unknown as WindowParams['inStrides'] }), op);
      }
      // col2im and avgPoolGrad write every element once: strides must be a permutation of a
      // contiguous layout.
      for (const op of ['col2im', 'avgPoolGrad'] as const) {
        throwsCode('E_ARG', () => calls[op]({ ...base, inStrides: [32, 8, 4, 1] }), op); // channels overlap
        throwsCode('E_ARG', () => calls[op]({ ...base, inStrides: [40, 17, 4, 1] }), op); // a gap
        throwsCode('E_ARG', () => calls[op]({ ...base, c: 1, inStrides: [16, 0, 4, 2] }), op); // w-stride 2
      }
      assert.deepEqual(await read(x), sentinel, 'rejected calls wrote nothing');
      // Overlapping strides are a valid im2col input.
      const p = { ...base, inStrides: [32, 8, 4, 1] as const };
      be.im2col(x, cols, p);
      assertClose(await read(cols), oracle.im2col(sentinel, p), 0, 'im2col of overlapping channels');
      [x, cols, shortCols, pooled, shortPooled].forEach((b) => be.free(b));
    });

    test('bad input: mismatched extents throw E_SHAPE naming the op, before any kernel runs', async () => {
      const a = be.alloc(6);
      const b = be.alloc(6);
      const out = be.alloc(4);
      const sentinel = new Float32Array([1, 2, 3, 4]);
      be.upload(out, sentinel);
      const throwsShape = (fn: () => void, op: string) =>
        assert.throws(fn, (e: unknown) => e instanceof RidgelineError && e.code === 'E_SHAPE' && e.message.includes(op));
      throwsShape(() => be.matmul(a, b, out, { batch: 1, m: 2, n: 2, k: 4, transA: false, transB: false }), 'matmul');
      throwsShape(() => be.matmul(a, b, out, { batch: 2, m: 2, n: 2, k: 3, transA: false, transB: false }), 'matmul');
      // A bias shorter than the n columns it is added to.
      throwsShape(() => be.matmul(a, b, out, { batch: 1, m: 2, n: 2, k: 3, transA: false, transB: false, bias: be.alloc(1) }), 'bias');
      throwsShape(() => be.unary('exp', a, out, 6), 'unary(exp)');
      throwsShape(
        () => be.binary('add', a, b, out, { shape: [2, 3], aStrides: contiguousStrides([2, 3]), bStrides: [3, 1] }),
        'binary(add)',
      );
      throwsShape(() => be.binary('add', a, b, out, { shape: [2, 2], aStrides: [5, 1], bStrides: [2, 1] }), 'binary(add)');
      throwsShape(() => be.reduce('sum', a, out, { outer: 2, size: 4, inner: 1 }), 'reduce(sum)');
      throwsShape(() => be.softmax(a, out, 2, 3), 'softmax');
      throwsShape(() => be.softmaxXent(a, out, out, b, 4, 2), 'softmaxXent');
      throwsShape(
        () => be.sgd(a, b, out, 6, { lr: 1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true }),
        'sgd',
      );
      throwsShape(() => be.copy(a, out, 5), 'copy');
      throwsShape(() => be.upload(out, new Float32Array(5)), 'upload');
      assert.throws(() => be.matmul(a, b, out, { batch: 1, m: -1, n: 2, k: 3, transA: false, transB: false }), /E_ARG: matmul: m/);
      assert.throws(() => be.unary('nope' as UnaryOp, a, out, 1), /E_ARG: unary: unknown op 'nope'; valid: neg/);
      assert.throws(() => be.reduce('sum', a, out, { outer: 1, size: 0, inner: 1 }), /E_ARG/);
      assert.deepEqual(await read(out), sentinel, 'rejected calls wrote nothing');
      be.free(a);
      assert.throws(() => be.unary('neg', a, b, 1), (e: unknown) => e instanceof RidgelineError && e.code === 'E_STATE');
    });
  });
}
