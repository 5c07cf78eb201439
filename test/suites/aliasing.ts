/**
 * The aliasing rule (`IN_PLACE` in core/backend.ts) on any Backend, run by `kernelSuite`:
 * every output/input pair the rule allows computes in place bit for bit what it computes
 * out of place, and every pair it does not allow is refused with E_ARG before any kernel
 * runs. Both lists are derived from `IN_PLACE`, so a new method or a new allowed pair
 * that this file does not exercise fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Backend, Buf } from '../../core/backend.ts';
import { BINARY_OPS, IN_PLACE, UNARY_OPS } from '../../core/backend.ts';
import { RidgelineError } from '../../core/errors.ts';
import { broadcastStrides, contiguousStrides } from '../../core/shape.ts';
import { randomF32, RUNS } from '../util.ts';

type Method = keyof typeof IN_PLACE;

const allowed = (method: Method, output: string, input: string): boolean =>
  ((IN_PLACE[method] as Readonly<Record<string, readonly string[]>>)[output] ?? []).includes(input);

/** Elements of every buffer in the refusal calls: enough for each call below. */
const N = 16;

/** A 1×1×4×4 input in 2×2 windows of stride 2: 16 elements on both sides (4 pooled). */
const WINDOW = {
  n: 1,
  c: 1,
  h: 4,
  w: 4,
  kh: 2,
  kw: 2,
  strideH: 2,
  strideW: 2,
  padH: 0,
  padW: 0,
  inStrides: [16, 16, 4, 1] as const,
};

/**
 * One valid call per method on buffers of N elements, naming its buffer arguments:
 * outputs (written) and inputs (only read). `satisfies` makes a method added to
 * `IN_PLACE` fail to compile until it has a call here.
 */
const CALLS = {
  copy: { outputs: ['dst'], inputs: ['src'], call: (be, b) => be.copy(b.src, b.dst, N) },
  matmul: {
    outputs: ['out'],
    inputs: ['a', 'b', 'bias'],
    call: (be, b) => be.matmul(b.a, b.b, b.out, { batch: 1, m: 4, n: 4, k: 4, transA: false, transB: false, bias: b.bias }),
  },
  unary: { outputs: ['out'], inputs: ['x'], call: (be, b) => be.unary('neg', b.x, b.out, N) },
  binary: {
    outputs: ['out'],
    inputs: ['a', 'b'],
    call: (be, b) => be.binary('add', b.a, b.b, b.out, { shape: [N], aStrides: [1], bStrides: [1] }),
  },
  reduce: { outputs: ['out'], inputs: ['x'], call: (be, b) => be.reduce('sum', b.x, b.out, { outer: 4, size: 4, inner: 1 }) },
  softmax: { outputs: ['out'], inputs: ['x'], call: (be, b) => be.softmax(b.x, b.out, 4, 4) },
  softmaxXent: {
    outputs: ['loss', 'grad'],
    inputs: ['logits', 'labels'],
    call: (be, b) => be.softmaxXent(b.logits, b.labels, b.loss, b.grad, 4, 4),
  },
  im2col: {
    outputs: ['cols'],
    inputs: ['x'],
    call: (be, b) => be.im2col(b.x, b.cols, WINDOW),
  },
  col2im: {
    outputs: ['x'],
    inputs: ['cols'],
    call: (be, b) => be.col2im(b.cols, b.x, WINDOW),
  },
  avgPool: {
    outputs: ['out'],
    inputs: ['x'],
    call: (be, b) => be.avgPool(b.x, b.out, WINDOW),
  },
  avgPoolGrad: {
    outputs: ['dx'],
    inputs: ['g'],
    call: (be, b) => be.avgPoolGrad(b.g, b.dx, WINDOW),
  },
  sgd: {
    outputs: ['param', 'momentum'],
    inputs: ['grad'],
    call: (be, b) =>
      be.sgd(b.param, b.grad, b.momentum, N, {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        firstStep: true,
      }),
  },
  adam: {
    outputs: ['param', 'm', 'v'],
    inputs: ['grad'],
    call: (be, b) =>
      be.adam(b.param, b.grad, b.m, b.v, N, {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
        decoupled: true,
        step: 1,
      }),
  },
} satisfies Record<Method, { outputs: string[]; inputs: string[]; call: (be: Backend, b: Record<string, Buf>) => void }>;

/** The pairs exercised bit for bit below, as `method.output=input`. */
const IN_PLACE_TESTED = ['copy.dst=src', 'unary.out=x', 'binary.out=a', 'binary.out=b', 'softmax.out=x'];

const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

export function aliasingTests(be: Backend): void {
  const upload = (data: Float32Array): Buf => {
    const b = be.alloc(data.length);
    be.upload(b, data);
    return b;
  };

  test('aliasing: every pair IN_PLACE allows is tested in place below', () => {
    const pairs = Object.entries(IN_PLACE).flatMap(([method, outs]) =>
      Object.entries(outs as Readonly<Record<string, readonly string[]>>).flatMap(([out, ins]) => ins.map((i) => `${method}.${out}=${i}`))
    );
    assert.deepEqual(pairs.sort(), [...IN_PLACE_TESTED].sort());
  });

  test('aliasing: an output that is an input IN_PLACE does not allow is refused with E_ARG, naming both', async () => {
    for (const [method, spec] of Object.entries(CALLS) as [Method, (typeof CALLS)[Method]][]) {
      const roles: string[] = [...spec.outputs, ...spec.inputs];
      for (const output of spec.outputs) {
        for (const other of roles) {
          if (other === output) continue;
          const shared = be.alloc(N);
          const bufs = Object.fromEntries(roles.map((r) => [r, r === output || r === other ? shared : be.alloc(N)]));
          for (const b of new Set(Object.values(bufs))) be.fill(b, 0.5);
          const call = () => spec.call(be, bufs);
          if (allowed(method, output, other) || allowed(method, other, output)) {
            call();
          } else {
            assert.throws(call, (e: unknown) =>
              e instanceof RidgelineError && e.code === 'E_ARG' &&
              e.message.includes(output) && e.message.includes(other), `${method}: ${output} = ${other}`);
          }
          await be.download(bufs[output]);
          for (const b of new Set(Object.values(bufs))) be.free(b);
        }
      }
    }
  });

  test('aliasing: binary refuses out = an operand read at other indices (broadcast or transposed)', () => {
    const [a, b] = [be.alloc(6), be.alloc(6)];
    const refused = (e: unknown) => e instanceof RidgelineError && e.code === 'E_ARG';
    // a broadcast along the rows: out[i, j] = a[j] + b[i, j] would overwrite a[j] at row 0.
    assert.throws(() => be.binary('add', a, b, a, { shape: [2, 3], aStrides: [0, 1], bStrides: [3, 1] }), refused);
    // b read transposed.
    assert.throws(() => be.binary('mul', a, b, b, { shape: [2, 3], aStrides: [3, 1], bStrides: [1, 2] }), refused);
    // A size-1 axis may carry any stride: still the output's own index.
    be.binary('add', a, b, a, { shape: [2, 1, 3], aStrides: [3, 7, 1], bStrides: [3, 0, 1] });
    [a, b].forEach((x) => be.free(x));
  });

  test('aliasing: unary in place equals out of place bit for bit, every op', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...UNARY_OPS), fc.integer({ min: 1, max: 2000 }), fc.nat(), async (op, n, seed) => {
        const x = randomF32(seed, n, -4, 4);
        const [xb, out] = [upload(x), be.alloc(n)];
        be.unary(op, xb, out, n, 0.75);
        be.unary(op, xb, xb, n, 0.75);
        assert.deepEqual(bits(await be.download(xb)), bits(await be.download(out)), `unary ${op} n ${n}`);
        [xb, out].forEach((b) => be.free(b));
      }),
      { numRuns: RUNS.kernel },
    );
  });

  test('aliasing: binary in place (out = a or b, the other broadcast) equals out of place bit for bit, every op', async () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length })));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BINARY_OPS),
        fc.constantFrom('a' as const, 'b' as const),
        shapes,
        fc.nat(),
        async (op, into, [shape, ones], seed) => {
          const size = shape.reduce((x, y) => x * y, 1);
          const otherShape = shape.map((d, i) => (ones[i] ? 1 : d));
          const full = randomF32(seed, size, 0.5, 4);
          const other = randomF32(seed + 1, otherShape.reduce((x, y) => x * y, 1), 0.5, 4);
          const own = contiguousStrides(shape);
          const broadcast = broadcastStrides(otherShape, shape);
          const p = into === 'a'
            ? { shape, aStrides: own, bStrides: broadcast, param: 0.25 }
            : { shape, aStrides: broadcast, bStrides: own, param: 0.25 };
          const [fb, ob, out] = [upload(full), upload(other), be.alloc(size)];
          const [a, b] = into === 'a' ? [fb, ob] : [ob, fb];
          be.binary(op, a, b, out, p);
          be.binary(op, a, b, fb, p);
          assert.deepEqual(
            bits(await be.download(fb)),
            bits(await be.download(out)),
            `${op} into ${into} ${JSON.stringify([shape, otherShape])}`,
          );
          [fb, ob, out].forEach((x) => be.free(x));
        },
      ),
      { numRuns: RUNS.kernel },
    );
  });

  test('aliasing: softmax in place equals out of place bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1030)),
        fc.nat(),
        async (rows, cols, seed) => {
          const [xb, out] = [upload(randomF32(seed, rows * cols, -10, 10)), be.alloc(rows * cols)];
          be.softmax(xb, out, rows, cols);
          be.softmax(xb, xb, rows, cols);
          assert.deepEqual(bits(await be.download(xb)), bits(await be.download(out)), `softmax [${rows}, ${cols}]`);
          [xb, out].forEach((b) => be.free(b));
        },
      ),
      { numRuns: RUNS.kernel },
    );
  });

  test('aliasing: copy within one buffer moves overlapping ranges as copyWithin does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), fc.nat(), async (n, from, to, seed) => {
        const x = randomF32(seed, n);
        const [src, dst] = [from % n, to % n];
        const length = n - Math.max(src, dst);
        const xb = upload(x);
        be.copy(xb, xb, length, src, dst);
        assert.deepEqual(
          bits(await be.download(xb)),
          bits(x.slice().copyWithin(dst, src, src + length)),
          `copy ${length} from ${src} to ${dst} of ${n}`,
        );
        be.free(xb);
      }),
      { numRuns: RUNS.kernel },
    );
  });
}
