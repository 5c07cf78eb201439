/**
 * The neural-network layers (core/nn/functional) against the f64 layer oracle
 * (test/oracle/layers.ts), for any Backend: forward values, and gradients and HVPs of
 * L = Σ w ⊙ layer(inputs) with respect to inputs and weights against central finite
 * differences of the oracle; batch-norm running statistics; dropout masks; bad input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Backend } from '../../core/backend.ts';
import * as ag from '../../core/autograd/mod.ts';
import { RidgelineError } from '../../core/errors.ts';
import { selfAttention } from '../../core/nn/functional/attention.ts';
import { conv2d, locallyConnected2d } from '../../core/nn/functional/conv.ts';
import { dropout, dropoutMask } from '../../core/nn/functional/dropout.ts';
import { batchNorm, type BatchNormState, layerNorm, type RunningUpdate } from '../../core/nn/functional/norm.ts';
import { avgPool2d, maxPool2d } from '../../core/nn/functional/pool.ts';
import { SIREN_OMEGA } from '../../core/nn/siren.ts';
import { fromArray, type Tensor, tidy } from '../../core/tensor.ts';
import { gradientFd, hvpFd } from '../oracle/finite_diff.ts';
import * as oracle from '../oracle/layers.ts';
import {
  F32_U,
  gamma,
  GRAD_RTOL,
  HVP_RTOL,
  ROUNDED_RTOL,
  SUBNORMAL_ATOL,
  TRANSCENDENTAL_ATOL,
  TRANSCENDENTAL_RTOL,
} from '../tolerances.ts';
import { assertClose, randomF32, RUNS, seeded } from '../util.ts';

/** One differentiated input of a layer: its shape and (f32) starting values. */
interface Input {
  shape: number[];
  data: Float32Array;
}

/**
 * A layer under test: `ours` on tensors, `oracle` on the same values in f64, and the
 * forward tolerance per output element (a bound on f32 rounding, given the f64 inputs and
 * the oracle's output).
 */
interface LayerCase {
  what: string;
  inputs: Input[];
  ours: (ts: Tensor[]) => Tensor;
  oracle: (xs: Float64Array[]) => Float64Array;
  forwardTol: (xs: Float64Array[], want: Float64Array) => (i: number) => number;
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);
const absAll = (v: ArrayLike<number>) => Float64Array.from(v, Math.abs);
const maxAbs = (v: ArrayLike<number>) => Array.from(v).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

function split(flat: Float64Array, shapes: readonly number[][]): Float64Array[] {
  let off = 0;
  return shapes.map((s) => flat.subarray(off, off += sizeOf(s)));
}

/** Geometry of a window sweep plus the layer's own choices, as fast-check generates them. */
interface Sweep extends oracle.Geometry {
  layout: oracle.Layout;
  outC: number;
  bias: boolean;
  /** Leave the stride out of the call (a convolution's default is 1, a pool's is its kernel). */
  defaultStride: boolean;
}

/** The window argument of our ops for a sweep. */
function windowOf(g: Sweep): ag.Window {
  const win: ag.Window = { kernel: [g.kh, g.kw], padding: [g.ph, g.pw] };
  return g.defaultStride ? win : { ...win, stride: [g.sh, g.sw] };
}

/**
 * Sweeps over small inputs (h, w 1–7, odd sizes included) with kernels 1–4, strides 1–3
 * or equal to the kernel with no padding, padding 0..kernel − 1, keeping those whose
 * window fits the padded input at least once. `defaultStride` marks sweeps whose stride
 * is the op's default (1 for convolutions, the kernel for pools).
 */
function sweeps(opts: { maxC: number; maxOutC: number; pool: boolean; padding: boolean }): fc.Arbitrary<Sweep> {
  return fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: opts.maxC }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.nat(3),
    pw: fc.nat(3),
    // 0: explicit stride 1–3; 1: stride = kernel, no padding; 2: the op's default stride.
    strideKind: fc.integer({ min: 0, max: 2 }),
    layout: fc.constantFrom<oracle.Layout>('nchw', 'nhwc'),
    outC: fc.integer({ min: 1, max: opts.maxOutC }),
    bias: fc.boolean(),
  }).map(({ strideKind, ...g }): Sweep => {
    const ph = opts.padding ? g.ph % g.kh : 0;
    const pw = opts.padding ? g.pw % g.kw : 0;
    if (strideKind === 1) return { ...g, sh: g.kh, sw: g.kw, ph: 0, pw: 0, defaultStride: false };
    if (strideKind === 2) {
      const [sh, sw] = opts.pool ? [g.kh, g.kw] : [1, 1];
      return { ...g, sh, sw, ph, pw, defaultStride: true };
    }
    return { ...g, ph, pw, defaultStride: false };
  }).filter((g) => oracle.outDims(g).every((d) => d >= 1));
}

const describeWindow = (g: Sweep) =>
  `n${g.n} c${g.c} ${g.h}×${g.w} k${g.kh}×${g.kw} s${g.sh}×${g.sw}${g.defaultStride ? ' (default)' : ''} p${g.ph}×${g.pw}`;
const describeSweep = (g: Sweep) => `${describeWindow(g)} ${g.layout} outC${g.outC}${g.bias ? ' +bias' : ''}`;

/** Input dims [n, c, h, w] in `layout` order. */
const inputShape = (g: Sweep): number[] => (g.layout === 'nchw' ? [g.n, g.c, g.h, g.w] : [g.n, g.h, g.w, g.c]);

/**
 * A convolution-like output is a dot product of K = C·kh·kw (+1 with the bias) terms, so
 * its f32 error is at most γ_{K+1}·Σ|terms| (Higham §3.1) whatever the summation order;
 * Σ|terms| is the oracle run on absolute values.
 */
function dotTol(absOut: Float64Array, terms: number): (i: number) => number {
  return (i) => gamma(terms + 1) * absOut[i] + SUBNORMAL_ATOL;
}

function convCase(g: Sweep, seed: number): LayerCase {
  const k = g.c * g.kh * g.kw;
  const shapes = [inputShape(g), [g.outC, g.c, g.kh, g.kw], ...(g.bias ? [[g.outC]] : [])];
  const f64 = ([x, w, b]: Float64Array[]) => oracle.conv2d(x, g.layout, g, w, g.outC, g.bias ? b : null);
  return {
    what: `conv2d ${describeSweep(g)}`,
    inputs: shapes.map((s, i) => ({ shape: s, data: randomF32(seed + i, sizeOf(s), -1, 1) })),
    ours: ([x, w, b]) => conv2d(x, w, g.bias ? b : null, g.layout, windowOf(g)),
    oracle: f64,
    forwardTol: (xs) => dotTol(f64(xs.map(absAll)), k),
  };
}

function locallyConnectedCase(g: Sweep, seed: number): LayerCase {
  const [oh, ow] = oracle.outDims(g);
  const k = g.c * g.kh * g.kw;
  const shapes = [inputShape(g), [g.outC, oh, ow, g.c, g.kh, g.kw], ...(g.bias ? [[g.outC, oh, ow]] : [])];
  const f64 = ([x, w, b]: Float64Array[]) => oracle.locallyConnected2d(x, g.layout, g, w, g.outC, g.bias ? b : null);
  return {
    what: `locallyConnected2d ${describeSweep(g)}`,
    inputs: shapes.map((s, i) => ({ shape: s, data: randomF32(seed + i, sizeOf(s), -1, 1) })),
    ours: ([x, w, b]) => locallyConnected2d(x, w, g.bias ? b : null, g.layout, windowOf(g)),
    oracle: f64,
    forwardTol: (xs) => dotTol(f64(xs.map(absAll)), k),
  };
}

/**
 * Distinct positive values, spaced 0.02 apart in a random order: every window has a
 * unique maximum, and the finite-difference steps (≤ 2·10⁻⁴ per coordinate) never
 * reorder them, so max pooling is smooth where the oracle is differentiated.
 */
function distinctPositive(seed: number, n: number): Float32Array {
  const r = seeded(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Float32Array.from(order, (o) => 0.2 + 0.02 * o);
}

/**
 * Pools are (piecewise) linear, so their Hessian is zero; they are applied to x ⊙ x so
 * that the HVP has something to check (2·w routed to the window entries). Pools read
 * NHWC feature maps only: the sweep's layout, outC and bias are not used.
 */
function poolCase(kind: 'avg' | 'max', g: Sweep, seed: number): LayerCase {
  const shape = [g.n, g.h, g.w, g.c];
  const square = (x: Float64Array) => x.map((v) => v * v);
  const f64 = ([x]: Float64Array[]) => (kind === 'avg' ? oracle.avgPool2d(square(x), g) : oracle.maxPool2d(square(x), g));
  const pool = kind === 'avg' ? avgPool2d : maxPool2d;
  return {
    what: `${kind}Pool2d(x²) ${describeWindow(g)}`,
    inputs: [{ shape, data: kind === 'max' ? distinctPositive(seed, sizeOf(shape)) : randomF32(seed, sizeOf(shape), -1, 1) }],
    ours: ([x]) => pool(ag.square(x), windowOf(g)),
    oracle: f64,
    // avg: a sum of kh·kw rounded squares, scaled; max: exact up to the squares' rounding.
    forwardTol: kind === 'avg' ? (xs) => dotTol(f64(xs), g.kh * g.kw + 2) : (_, want) => (i) => ROUNDED_RTOL * Math.abs(want[i]),
  };
}

/**
 * Forward bound for normalization y = γ·(x − μ)·(σ² + ε)^(−1/2) + β over groups of m
 * values. With δ = γ_{m+1}·max|x| the error of μ (a sum and a scale), the error of x − μ
 * is δ + u|d|; the variance's relative error is ≤ 2δ/σ + γ_{m+2} (Σ|d|/Σd² ≤ 1/σ by
 * Cauchy–Schwarz); (·)^(−1/2) halves it and adds a transcendental error; the affine map
 * adds two roundings. Doubled for second-order terms. Given statistics (evaluation mode)
 * contribute no error: m = 0, δ = 0.
 */
function normTol(d: number, sigma: number, maxX: number, m: number, g: number, b: number): number {
  const delta = m > 0 ? gamma(m + 1) * maxX : 0;
  const relVar = m > 0 ? (2 * delta) / sigma + gamma(m + 2) : 0;
  const relInv = relVar / 2 + TRANSCENDENTAL_RTOL + 2 * F32_U;
  const xhatErr = (delta + F32_U * Math.abs(d) + Math.abs(d) * relInv) / sigma;
  return 2 * (Math.abs(g) * xhatErr + 2 * F32_U * (Math.abs(g * d) / sigma + Math.abs(b))) + SUBNORMAL_ATOL;
}

/** Batch norm over x [..., C]; eval mode reads the given running statistics. */
function batchNormCase(shape: number[], train: boolean, seed: number): LayerCase {
  const c = shape[shape.length - 1];
  const runningMean = randomF32(seed + 10, c, -0.3, 0.3);
  const runningVar = randomF32(seed + 11, c, 0.3, 1.5);
  const f64 = (
    [x, g, b]: Float64Array[],
  ) => (train ? oracle.batchNormTrain(x, c, g, b) : oracle.batchNormEval(x, c, g, b, runningMean, runningVar));
  return {
    what: `batchNorm ${train ? 'train' : 'eval'} [${shape.join(', ')}]`,
    inputs: [
      { shape, data: randomF32(seed, sizeOf(shape), -1, 1) },
      { shape: [c], data: randomF32(seed + 1, c, 0.5, 1.5) },
      { shape: [c], data: randomF32(seed + 2, c, -0.5, 0.5) },
    ],
    ours: ([x, weight, bias]) => {
      const be = x.backend;
      // 'none': the loss is evaluated many times; the statistics update has its own test.
      const state: BatchNormState = {
        weight,
        bias,
        runningMean: fromArray(be, runningMean, [c]),
        runningVar: fromArray(be, runningVar, [c]),
      };
      return batchNorm(x, state, train, { kind: 'none' });
    },
    oracle: f64,
    forwardTol: ([x, g, b]) => {
      const s = oracle.channelStats(x, c);
      const mean = train ? s.mean : runningMean;
      const variance = train ? s.biasedVar : runningVar;
      const maxX = maxAbs(x);
      return (i) => {
        const ch = i % c;
        return normTol(x[i] - mean[ch], Math.sqrt(variance[ch] + oracle.EPS), maxX, train ? s.count : 0, g[ch], b[ch]);
      };
    },
  };
}

function layerNormCase(shape: number[], seed: number): LayerCase {
  const f = shape[shape.length - 1];
  return {
    what: `layerNorm [${shape.join(', ')}]`,
    inputs: [
      { shape, data: randomF32(seed, sizeOf(shape), -1, 1) },
      { shape: [f], data: randomF32(seed + 1, f, 0.5, 1.5) },
      { shape: [f], data: randomF32(seed + 2, f, -0.5, 0.5) },
    ],
    ours: ([x, weight, bias]) => layerNorm(x, weight, bias),
    oracle: ([x, g, b]) => oracle.layerNorm(x, f, g, b),
    forwardTol: ([x, g, b]) => (i) => {
      const row = x.subarray(i - (i % f), i - (i % f) + f);
      const s = oracle.channelStats(row, 1);
      return normTol(x[i] - s.mean[0], Math.sqrt(s.biasedVar[0] + oracle.EPS), maxAbs(row), f, g[i % f], b[i % f]);
    },
  };
}

/**
 * Forward bound for attention, stage by stage with maxima: qkv entries are dot products of
 * D + 1 terms with magnitude ≤ A (Σ|W||x| + |b|), so error ≤ γ_{D+1}·A; scores (headDim
 * products, scaled) then err ≤ ΔS = γ_{D+headDim+4}·2·headDim·A²/√headDim; softmax moves
 * each probability by ≤ p·(2ΔS + γ_{T+16}) (exp and the normalizing sum); the mix of
 * values errs by ≤ A·(2ΔS + γ_{T+16} + γ_T + γ_{D+1}); the projection adds Σ|P|·that plus
 * its own γ_{inner+1}·(Σ|P||merged| + |b|). Doubled for second-order terms.
 */
function attentionTol(
  dims: oracle.AttentionDims,
  [x, qkvW, qkvB, projW, projB]: Float64Array[],
  merged: Float64Array,
): (i: number) => number {
  const { n, t, d, headDim } = dims;
  const inner = dims.heads * headDim;
  let a = 0;
  for (let r = 0; r < n * t; r++) {
    for (let j = 0; j < 3 * inner; j++) {
      let s = Math.abs(qkvB[j]);
      for (let k = 0; k < d; k++) s += Math.abs(qkvW[j * d + k] * x[r * d + k]);
      a = Math.max(a, s);
    }
  }
  const dS = (gamma(d + headDim + 4) * 2 * headDim * a * a) / Math.sqrt(headDim);
  const dMerged = a * (2 * dS + gamma(t + 16) + gamma(t) + gamma(d + 1));
  return (i) => {
    const [r, o] = [Math.floor(i / d), i % d];
    let carried = 0;
    let terms = Math.abs(projB[o]);
    for (let j = 0; j < inner; j++) {
      carried += Math.abs(projW[o * inner + j]) * dMerged;
      terms += Math.abs(projW[o * inner + j] * merged[r * inner + j]);
    }
    return 2 * (carried + gamma(inner + 1) * terms) + SUBNORMAL_ATOL;
  };
}

function attentionCase(t: number, d: number, headDim: number, seed: number): LayerCase {
  const dims: oracle.AttentionDims = { n: 2, t, d, heads: 2, headDim };
  const inner = dims.heads * headDim;
  const shapes = [[2, t, d], [3 * inner, d], [3 * inner], [d, inner], [d]];
  const f64 = ([x, qw, qb, pw, pb]: Float64Array[]) => oracle.selfAttention(x, dims, qw, qb, pw, pb).out;
  return {
    what: `selfAttention N2 T${t} D${d} heads 2 headDim ${headDim}`,
    inputs: shapes.map((s, i) => ({ shape: s, data: randomF32(seed + i, sizeOf(s), -1, 1) })),
    ours: ([x, qkvWeight, qkvBias, projWeight, projBias]) => selfAttention(x, { qkvWeight, qkvBias, projWeight, projBias }, 2),
    oracle: f64,
    forwardTol: (xs) => attentionTol(dims, xs, oracle.selfAttention(xs[0], dims, xs[1], xs[2], xs[3], xs[4]).merged),
  };
}

/** Dropout of x ⊙ x (dropout is linear: the square gives its HVP something to check). */
function dropoutCase(shape: number[], p: number, seed: number, layer: string, step: number): LayerCase {
  const mask = dropoutMask(seed, layer, step, sizeOf(shape), p);
  return {
    what: `dropout(x²) p ${p} [${shape.join(', ')}]`,
    inputs: [{ shape, data: randomF32(seed, sizeOf(shape), -1, 1) }],
    ours: ([x]) => dropout(ag.square(x), p, seed, layer, step),
    oracle: ([x]) => oracle.dropout(x.map((v) => v * v), mask),
    // Two roundings: the square, then the product with the mask.
    forwardTol: (_, want) => (i) => ROUNDED_RTOL * Math.abs(want[i]) + SUBNORMAL_ATOL,
  };
}

export function layerSuite(name: string, create: () => Promise<Backend | string>): void {
  describe(`${name} layers: forward vs the f64 layer oracle, gradients and HVPs vs its finite differences`, async () => {
    const made = await create();
    if (typeof made === 'string') {
      test(`${name} layers`, { skip: made }, () => {});
      return;
    }
    const be = made;
    const flatten = async (ts: Tensor[]) => Float64Array.from((await Promise.all(ts.map((t) => t.data()))).flatMap((d) => Array.from(d)));
    // tidy takes synchronous functions: the readback starts inside, and is awaited outside.
    const read = (fn: () => Tensor): Promise<Float32Array> => tidy(() => [fn().data()])[0];

    /**
     * Forward values against the oracle within the case's bound; gradient and HVP of
     * L = Σ w ⊙ layer(inputs) (w fixed and random, so every output counts) with respect
     * to every input against central differences of the oracle's L.
     */
    async function check(c: LayerCase, seed: number): Promise<void> {
      const shapes = c.inputs.map((i) => i.shape);
      const x0 = Float64Array.from(c.inputs.flatMap((i) => Array.from(i.data)));
      const want = c.oracle(split(x0, shapes));
      const w = randomF32(seed + 101, want.length, -1, 1);
      const v = randomF32(seed + 102, x0.length, -1, 1);
      const [gotY, gotG, gotHv] = tidy(() => {
        const xs = c.inputs.map((i) => ag.param(fromArray(be, i.data, i.shape)));
        const loss = (ps: readonly Tensor[]) => {
          const y = c.ours([...ps]);
          return ag.sum(ag.mul(ag.reshape(y, [y.size]), fromArray(be, w, [want.length])));
        };
        const y = ag.noGrad(() => c.ours(xs));
        const { grads } = ag.valueAndGrad(loss, xs);
        const vs = split(Float64Array.from(v), shapes).map((part, i) => fromArray(be, Float32Array.from(part), shapes[i]));
        return [flatten([y]), flatten(grads), flatten(ag.hvp(loss, xs, vs))];
      });
      assertClose(await gotY, want, c.forwardTol(split(x0, shapes), want), `${c.what} forward`);
      const f64 = (x: Float64Array) => dot(c.oracle(split(x, shapes)), w);
      const wantG = gradientFd(f64, x0);
      const wantHv = hvpFd(f64, x0, v);
      assertClose(await gotG, wantG, GRAD_RTOL * Math.max(maxAbs(wantG), 1e-3), `${c.what} gradient`);
      assertClose(await gotHv, wantHv, HVP_RTOL * Math.max(maxAbs(wantHv), 1e-3), `${c.what} HVP`);
    }

    const property = async <T>(arb: fc.Arbitrary<T>, runs: number, make: (g: T, seed: number) => LayerCase) => {
      await fc.assert(fc.asyncProperty(arb, fc.nat(1e6), async (g, seed) => check(make(g, seed), seed)), { numRuns: runs });
    };

    test('conv2d (NCHW and NHWC inputs, any stride and padding): forward, gradient and HVP', async () => {
      await property(sweeps({ maxC: 3, maxOutC: 2, pool: false, padding: true }), RUNS.kernel, convCase);
    });

    test('locallyConnected2d: forward, gradient and HVP', async () => {
      // Its weight holds a kernel per output position: at most 300 entries keeps the
      // finite-difference HVP (O(inputs²) oracle work) small.
      const small = sweeps({ maxC: 2, maxOutC: 2, pool: false, padding: true }).filter((g) => {
        const [oh, ow] = oracle.outDims(g);
        return g.outC * oh * ow * g.c * g.kh * g.kw <= 300;
      });
      await property(small, RUNS.kernel, locallyConnectedCase);
    });

    test('avgPool2d (count_include_pad): forward, gradient and HVP', async () => {
      await property(sweeps({ maxC: 3, maxOutC: 1, pool: true, padding: true }), RUNS.kernel, (g, s) => poolCase('avg', g, s));
    });

    test('maxPool2d (unique maxima): forward, gradient and HVP', async () => {
      await property(sweeps({ maxC: 3, maxOutC: 1, pool: true, padding: false }), RUNS.kernel, (g, s) => poolCase('max', g, s));
    });

    for (const train of [true, false]) {
      test(`batchNorm ${train ? 'training (batch statistics)' : 'evaluation (running statistics)'}: forward, gradient and HVP in x, γ, β`, async () => {
        await check(batchNormCase([2, 2, 2, 3], train, 31), 31);
        await check(batchNormCase([6, 4], train, 37), 37);
      });
    }

    test('layerNorm: forward, gradient and HVP in x, γ, β', async () => {
      await check(layerNormCase([2, 3, 5], 41), 41);
      await check(layerNormCase([4, 2], 43), 43);
    });

    test('selfAttention (timm qkv split): forward, gradient and HVP in x and all weights', async () => {
      const dims = fc.record({
        t: fc.integer({ min: 3, max: 5 }),
        d: fc.integer({ min: 3, max: 4 }),
        headDim: fc.integer({ min: 2, max: 3 }),
      });
      await property(dims, RUNS.heavy, (g, s) => attentionCase(g.t, g.d, g.headDim, s));
    });

    test('sine sin(ω0·x), ω0 = 30: forward, gradient and HVP', async () => {
      assert.equal(SIREN_OMEGA, 30);
      const shape = [2, 7];
      await check({
        what: 'sine',
        inputs: [{ shape, data: randomF32(51, 14, -0.1, 0.1) }],
        ours: ([x]) => ag.sin(ag.scale(x, SIREN_OMEGA)),
        oracle: ([x]) => oracle.sine(x, 30),
        // ω0·x is rounded once (error ≤ u·|ω0·x|, passed on with slope ≤ 1), then sin.
        forwardTol: ([x], want) => (i) => F32_U * 30 * Math.abs(x[i]) + TRANSCENDENTAL_RTOL * Math.abs(want[i]) + TRANSCENDENTAL_ATOL,
      }, 51);
    });

    test('dropout with its fixed mask: forward x ⊙ mask, gradient w ⊙ mask, HVP; p = 0 is the identity', async () => {
      await check(dropoutCase([4, 5], 0.3, 61, 'fc1', 3), 61);
      // L = Σ w ⊙ dropout(x) is linear: its gradient is the mask scaling of w, one rounding.
      const p = 0.25;
      const mask = dropoutMask(62, 'conv2', 9, 30, p);
      const w = randomF32(63, 30, -1, 1);
      const g = await read(() => {
        const x = ag.param(fromArray(be, randomF32(64, 30, -1, 1), [5, 6]));
        const loss = ag.sum(ag.mul(ag.reshape(dropout(x, p, 62, 'conv2', 9), [30]), fromArray(be, w, [30])));
        return ag.grad(loss, [x])[0];
      });
      assertClose(g, Array.from(w, (wi, i) => wi * mask[i]), (i) => ROUNDED_RTOL * Math.abs(w[i] * mask[i]), 'dropout gradient = mask ⊙ w');
      tidy(() => {
        const x = fromArray(be, [1, 2, 3], [3]);
        assert.equal(dropout(x, 0, 1, 'fc', 0), x);
      });
    });

    test('dropout masks: a pure function of (seed, layer, step), distinct across them, binomial keep fraction, backend = host', async () => {
      const n = 10_000;
      for (const p of [0.1, 0.5, 0.8]) {
        const m = dropoutMask(5, 'fc1', 17, n, p);
        assert.deepEqual(dropoutMask(5, 'fc1', 17, n, p), m, `p ${p}: same (seed, layer, step), same mask`);
        const keep = Math.fround(1 / (1 - p));
        assert.ok(m.every((v) => v === 0 || v === keep), `p ${p}: entries are 0 or 1/(1 − p)`);
        for (
          const [what, other] of [['step', dropoutMask(5, 'fc1', 18, n, p)], ['seed', dropoutMask(6, 'fc1', 17, n, p)], [
            'layer',
            dropoutMask(5, 'fc2', 17, n, p),
          ]] as const
        ) {
          // Independent masks agree on a fraction p² + (1 − p)² of the entries; identical ones on all.
          const same = m.reduce((k, v, i) => k + (v === other[i] ? 1 : 0), 0);
          assert.ok(same < n * 0.9, `p ${p}: another ${what} gives another mask (${same} of ${n} entries agree)`);
        }
        // Kept count ~ Binomial(n, 1 − p): within 5 standard deviations.
        const kept = m.reduce((k, v) => k + (v > 0 ? 1 : 0), 0);
        const sd = Math.sqrt(n * p * (1 - p));
        assert.ok(Math.abs(kept - n * (1 - p)) <= 5 * sd, `p ${p}: kept ${kept} of ${n}, expected ${n * (1 - p)} ± ${5 * sd}`);
        // On this backend the mask is the host's, bit for bit (1 · mask is exact).
        const onBackend = await read(() => dropout(fromArray(be, new Float32Array(n).fill(1), [100, 100]), p, 5, 'fc1', 17));
        assert.deepEqual(Array.from(onBackend), Array.from(m), `p ${p}: the backend drops the host's units`);
      }
    });

    /** Runs batch norm in training mode on `batches`, reading back the running statistics after each. */
    async function runningStats(
      batches: Float32Array[],
      shape: number[],
      init: [Float32Array, Float32Array],
      update: (i: number) => RunningUpdate,
    ) {
      const c = shape[shape.length - 1];
      const state: BatchNormState = {
        weight: null,
        bias: null,
        runningMean: fromArray(be, init[0], [c]),
        runningVar: fromArray(be, init[1], [c]),
      };
      const seen: [Float32Array, Float32Array][] = [];
      for (let i = 0; i < batches.length; i++) {
        tidy(() => {
          batchNorm(fromArray(be, batches[i], shape), state, true, update(i));
        });
        seen.push([await state.runningMean.data(), await state.runningVar.data()]);
      }
      state.runningMean.dispose();
      state.runningVar.dispose();
      return seen;
    }

    // A running statistic mixes a handful of values, each the result of a reduction over
    // m = 8–12 elements: γ_{2m+8} relative to the magnitudes involved bounds the rounding.
    const statTol = (m: number, want: ArrayLike<number>, scale: number) => (i: number) => gamma(2 * m + 8) * (Math.abs(want[i]) + scale);

    test("batchNorm running statistics: PyTorch's momentum-0.1 update with the unbiased variance", async () => {
      const shape = [2, 2, 3, 3];
      const c = 3;
      const batches = [0, 1, 2].map((k) => randomF32(71 + k, sizeOf(shape), -1 + k, 2 + k));
      const init: [Float32Array, Float32Array] = [randomF32(75, c, -0.5, 0.5), randomF32(76, c, 0.5, 1.5)];
      const got = await runningStats(batches, shape, init, () => ({ kind: 'ema' }));
      for (let i = 0; i < batches.length; i++) {
        // The oracle continues from our previous state, so rounding does not compound.
        const [mean, variance] = i === 0 ? init : got[i - 1];
        const want = oracle.runningUpdate(mean, variance, batches[i], c);
        const scale = maxAbs(batches[i]) ** 2 + 1;
        assertClose(got[i][0], want.mean, statTol(12, want.mean, scale), `running mean after batch ${i}`);
        assertClose(got[i][1], want.variance, statTol(12, want.variance, scale), `running variance after batch ${i}`);
      }
      // Training normalizes with the batch's biased variance whatever the running state is.
      const unaffected = await read(() => {
        const s: BatchNormState = {
          weight: null,
          bias: null,
          runningMean: fromArray(be, [9, 9, 9], [c]),
          runningVar: fromArray(be, [9, 9, 9], [c]),
        };
        return batchNorm(fromArray(be, batches[0], shape), s, true, { kind: 'none' });
      });
      const wantY = oracle.batchNormTrain(batches[0], c, [1, 1, 1], [0, 0, 0]);
      assertClose(unaffected, wantY, GRAD_RTOL * maxAbs(wantY), 'training output ignores running statistics');
    });

    test('batchNorm cumulative statistics ({ kind: cumulative, seen }): the equal-weight average of per-batch statistics', async () => {
      const shape = [4, 2];
      const c = 2;
      const batches = [0, 1, 2, 3].map((k) => randomF32(81 + k, sizeOf(shape), -1 - k, 1 + 2 * k));
      // The initial state is forgotten: seen = 0 replaces it by the first batch's statistics.
      const got = await runningStats(
        batches,
        shape,
        [Float32Array.of(7, -7), Float32Array.of(50, 50)],
        (i) => ({ kind: 'cumulative', seen: i }),
      );
      const stats = batches.map((b) => oracle.channelStats(b, c));
      for (let i = 0; i < batches.length; i++) {
        const avg = (pick: (s: (typeof stats)[number]) => Float64Array) =>
          Float64Array.from({ length: c }, (_, ch) => stats.slice(0, i + 1).reduce((a, s) => a + pick(s)[ch], 0) / (i + 1));
        const wantMean = avg((s) => s.mean);
        const wantVar = avg((s) => s.unbiasedVar);
        const scale = Math.max(...batches.slice(0, i + 1).map(maxAbs)) ** 2;
        assertClose(got[i][0], wantMean, statTol(8 * (i + 1), wantMean, scale), `cumulative mean after ${i + 1} batches`);
        assertClose(got[i][1], wantVar, statTol(8 * (i + 1), wantVar, scale), `cumulative variance after ${i + 1} batches`);
      }
    });

    test('bad input: wrong weight shapes and windows larger than the input are refused, naming the op', () => {
      const refuses = (fn: () => unknown, op: string, what: string) =>
        assert.throws(fn, (e: unknown) => e instanceof RidgelineError && e.message.includes(`${op}:`), `${op}: ${what}`);
      tidy(() => {
        const x = fromArray(be, randomF32(91, 2 * 3 * 5 * 5), [2, 3, 5, 5]);
        const w = (shape: number[]) => fromArray(be, new Float32Array(sizeOf(shape)), shape);
        refuses(() => conv2d(x, w([4, 2, 3, 3]), null, 'nchw', { kernel: 3 }), 'conv2d', 'weight with the wrong input channels');
        refuses(() => conv2d(x, w([4, 3, 2, 3]), null, 'nchw', { kernel: 3 }), 'conv2d', 'weight with the wrong kernel');
        refuses(() => conv2d(x, w([4, 3, 3]), null, 'nchw', { kernel: 3 }), 'conv2d', 'weight of rank 3');
        refuses(() => conv2d(x, w([4, 3, 3, 3]), null, 'nhwc', { kernel: 3 }), 'conv2d', 'NCHW data read as NHWC: 5 channels');
        // On a 5×5 input a 6×6 window has 0 positions (an empty result, no error, before the
        // fit check) and a 7×7 one a negative count (a bare "tensor: invalid shape").
        refuses(() => conv2d(x, w([1, 3, 6, 6]), null, 'nchw', { kernel: 6 }), 'conv2d', 'window larger than the input');
        refuses(() => conv2d(x, w([1, 3, 7, 7]), null, 'nchw', { kernel: 7, padding: 0 }), 'conv2d', 'window much larger than the input');
        refuses(() => conv2d(x, w([1, 3, 3, 3]), null, 'nchw', { kernel: 3, padding: 3 }), 'conv2d', 'padding as large as the window');
        refuses(() => conv2d(fromArray(be, [1, 2, 3], [3]), w([1, 1, 1, 1]), null, 'nchw', { kernel: 1 }), 'conv2d', 'a 1-D input');
        refuses(
          () => locallyConnected2d(x, w([1, 4, 4, 3, 3, 3]), null, 'nchw', { kernel: 3 }),
          'locallyConnected2d',
          'weight for another output size (3×3 here)',
        );
        refuses(
          () => locallyConnected2d(x, w([1, 1, 1, 3, 6, 6]), null, 'nchw', { kernel: 6 }),
          'locallyConnected2d',
          'window larger than the input',
        );
        const fmap = fromArray(be, randomF32(92, 2 * 3 * 3 * 2), [2, 3, 3, 2]);
        refuses(() => maxPool2d(fmap, { kernel: 4 }), 'maxPool2d', 'window larger than the input');
        refuses(() => avgPool2d(fmap, { kernel: [2, 4] }), 'avgPool2d', 'window wider than the input');
      });
    });
  });
}
