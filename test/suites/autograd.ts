/**
 * Gradients and Hessian-vector products of every differentiable op, and of composed MLP
 * losses, against finite differences of the f64 oracle — for any Backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Backend } from '../../core/backend.ts';
import * as ag from '../../core/autograd/mod.ts';
import { fromArray, type Tensor, tidy } from '../../core/tensor.ts';
import { gradientFd, hessianFd, hvpFd } from '../oracle/finite_diff.ts';
import { type MlpLayout, mlpLoss, parameterCount } from '../oracle/mlp.ts';
import * as oracle from '../oracle/ops.ts';
import { GRAD_RTOL, HVP_RTOL } from '../tolerances.ts';
import { assertClose, randomF32, seeded } from '../util.ts';

type OpCase = {
  name: string;
  shapes: number[][];
  /** Range of the inputs, chosen where the op is smooth (away from kinks and poles). */
  range: [number, number];
  ours: (xs: Tensor[]) => Tensor;
  oracle: (xs: Float64Array[]) => ArrayLike<number>;
};

const un = (op: Parameters<typeof oracle.unaryScalar>[0], p = 0) => (xs: Float64Array[]) => xs[0].map((v) => oracle.unaryScalar(op, v, p));
const bin = (op: Parameters<typeof oracle.binary>[0], sa: number[], sb: number[]) => (xs: Float64Array[]) =>
  oracle.binary(op, xs[0], sa, xs[1], sb).out;
const mm = (m: number, n: number, k: number, transA: boolean, transB: boolean, batch = 1) => (xs: Float64Array[]) =>
  oracle.matmul(xs[0], xs[1], { batch, m, n, k, transA, transB });

/** Awkward leakyRelu inputs avoid the kink: values are pushed away from 0. */
const CASES: OpCase[] = [
  { name: 'add (broadcast)', shapes: [[3, 4], [4]], range: [-2, 2], ours: ([a, b]) => ag.add(a, b), oracle: bin('add', [3, 4], [4]) },
  {
    name: 'sub (broadcast)',
    shapes: [[3, 1], [2, 1, 5]],
    range: [-2, 2],
    ours: ([a, b]) => ag.sub(a, b),
    oracle: bin('sub', [3, 1], [2, 1, 5]),
  },
  {
    name: 'mul (broadcast)',
    shapes: [[2, 3, 4], [3, 1]],
    range: [-2, 2],
    ours: ([a, b]) => ag.mul(a, b),
    oracle: bin('mul', [2, 3, 4], [3, 1]),
  },
  { name: 'div (broadcast)', shapes: [[4, 3], [3]], range: [0.5, 2], ours: ([a, b]) => ag.div(a, b), oracle: bin('div', [4, 3], [3]) },
  { name: 'neg', shapes: [[7]], range: [-2, 2], ours: ([x]) => ag.neg(x), oracle: un('neg') },
  {
    name: 'abs',
    shapes: [[7]],
    range: [0.2, 2],
    ours: ([x]) => ag.abs(ag.addScalar(x, -1.1)),
    oracle: (xs) => xs[0].map((v) => Math.abs(v - 1.1)),
  },
  { name: 'square', shapes: [[7]], range: [-2, 2], ours: ([x]) => ag.square(x), oracle: un('square') },
  { name: 'sqrt', shapes: [[7]], range: [0.5, 3], ours: ([x]) => ag.sqrt(x), oracle: un('sqrt') },
  { name: 'reciprocal', shapes: [[7]], range: [0.5, 3], ours: ([x]) => ag.reciprocal(x), oracle: un('reciprocal') },
  { name: 'exp', shapes: [[7]], range: [-2, 2], ours: ([x]) => ag.exp(x), oracle: un('exp') },
  { name: 'log', shapes: [[7]], range: [0.5, 3], ours: ([x]) => ag.log(x), oracle: un('log') },
  { name: 'sin', shapes: [[7]], range: [-3, 3], ours: ([x]) => ag.sin(x), oracle: un('sin') },
  { name: 'cos', shapes: [[7]], range: [-3, 3], ours: ([x]) => ag.cos(x), oracle: un('cos') },
  { name: 'tanh', shapes: [[7]], range: [-2, 2], ours: ([x]) => ag.tanh(x), oracle: un('tanh') },
  { name: 'sigmoid', shapes: [[7]], range: [-3, 3], ours: ([x]) => ag.sigmoid(x), oracle: un('sigmoid') },
  {
    name: 'leakyRelu',
    shapes: [[9]],
    range: [0.1, 1],
    ours: ([x]) => ag.leakyRelu(ag.mul(x, alternating(x)), 0.1),
    oracle: (xs) => xs[0].map((v, i) => oracle.unaryScalar('leakyRelu', v * (i % 2 ? -1 : 1), 0.1)),
  },
  { name: 'scale', shapes: [[5]], range: [-2, 2], ours: ([x]) => ag.scale(x, -1.5), oracle: un('scale', -1.5) },
  { name: 'addScalar', shapes: [[5]], range: [-2, 2], ours: ([x]) => ag.addScalar(x, 0.75), oracle: un('addScalar', 0.75) },
  { name: 'powScalar', shapes: [[5]], range: [0.5, 2], ours: ([x]) => ag.powScalar(x, 2.5), oracle: un('powScalar', 2.5) },
  { name: 'matmul', shapes: [[3, 5], [5, 4]], range: [-1, 1], ours: ([a, b]) => ag.matmul(a, b), oracle: mm(3, 4, 5, false, false) },
  {
    name: 'matmul transA',
    shapes: [[5, 3], [5, 4]],
    range: [-1, 1],
    ours: ([a, b]) => ag.matmul(a, b, { transA: true }),
    oracle: mm(3, 4, 5, true, false),
  },
  {
    name: 'matmul transB',
    shapes: [[3, 5], [4, 5]],
    range: [-1, 1],
    ours: ([a, b]) => ag.matmul(a, b, { transB: true }),
    oracle: mm(3, 4, 5, false, true),
  },
  {
    name: 'matmul transA transB',
    shapes: [[5, 3], [4, 5]],
    range: [-1, 1],
    ours: ([a, b]) => ag.matmul(a, b, { transA: true, transB: true }),
    oracle: mm(3, 4, 5, true, true),
  },
  {
    name: 'matmul batched',
    shapes: [[2, 3, 5], [2, 5, 4]],
    range: [-1, 1],
    ours: ([a, b]) => ag.matmul(a, b),
    oracle: mm(3, 4, 5, false, false, 2),
  },
  {
    // The fused bias epilogue: a gradient for the bias too, on a batched product.
    name: 'matmul transB with a bias, batched',
    shapes: [[2, 3, 5], [2, 4, 5], [4]],
    range: [-1, 1],
    ours: ([a, b, bias]) => ag.matmul(a, b, { transB: true, bias }),
    oracle: (xs) => mm(3, 4, 5, false, true, 2)(xs).map((v, i) => v + xs[2][i % 4]),
  },
  // Products make the Hessian of these linear ops non-zero: x ⊙ x feeds them.
  {
    name: 'sum over axes',
    shapes: [[2, 3, 4]],
    range: [-1, 1],
    ours: ([x]) => ag.sum(ag.square(x), [0, 2]),
    oracle: (xs) => sumAxes02(xs[0]),
  },
  {
    name: 'mean',
    shapes: [[3, 4]],
    range: [-1, 1],
    ours: ([x]) => ag.mean(ag.square(x), [1]),
    oracle: (xs) => oracle.reduce('sum', xs[0].map((v) => (v * v) / 4), 3, 4, 1),
  },
  {
    name: 'broadcastTo + reshape',
    shapes: [[3, 1]],
    range: [-1, 1],
    ours: ([x]) => ag.reshape(ag.square(ag.broadcastTo(x, [2, 3, 4])), [6, 4]),
    oracle: (xs) => oracle.binary('mul', xs[0], [3, 1], new Float64Array(8).fill(1), [2, 1, 4]).out.map((v) => v * v),
  },
  { name: 'softmax', shapes: [[3, 5]], range: [-3, 3], ours: ([x]) => ag.softmax(x), oracle: (xs) => oracle.softmax(xs[0], 3, 5) },
  {
    name: 'softmaxCrossEntropy',
    shapes: [[4, 5]],
    range: [-3, 3],
    ours: ([x]) => ag.softmaxCrossEntropy(x, LABELS4(x)),
    oracle: (xs) => [oracle.softmaxXent(xs[0], [1, 0, 4, 2], 4, 5).loss.reduce((a, b) => a + b, 0) / 4],
  },
  {
    name: 'mse',
    shapes: [[6], [6]],
    range: [-2, 2],
    ours: ([a, b]) => ag.mse(a, b),
    oracle: (xs) => [xs[0].reduce((s, v, i) => s + (v - xs[1][i]) ** 2, 0) / 6],
  },
  // The layout ops move values without arithmetic; squaring their output makes the HVP
  // pass through their VJPs twice (and through the VJPs' own VJPs).
  {
    name: 'permute',
    shapes: [[2, 3, 4]],
    range: [-1, 1],
    ours: ([x]) => ag.square(ag.permute(x, [2, 0, 1])),
    oracle: (xs) => permute3(xs[0], [2, 3, 4], [2, 0, 1]).map((v) => v * v),
  },
  {
    name: 'takeRows',
    shapes: [[5, 3]],
    range: [-1, 1],
    ours: ([x]) => ag.square(ag.takeRows(x, 1, 3)),
    oracle: (xs) => xs[0].slice(3, 12).map((v) => v * v),
  },
  {
    name: 'placeRows',
    shapes: [[2, 3]],
    range: [-1, 1],
    ours: ([x]) => ag.square(ag.placeRows(x, 2, 5)),
    oracle: (xs) => Float64Array.from({ length: 15 }, (_, i) => (i >= 6 && i < 12 ? xs[0][i - 6] ** 2 : 0)),
  },
  {
    name: 'concatRows',
    shapes: [[1, 3], [2, 3]],
    range: [-1, 1],
    ours: ([a, b]) => ag.square(ag.concatRows([b, a, b])),
    oracle: (xs) => Float64Array.from([...xs[1], ...xs[0], ...xs[1]], (v) => v * v),
  },
  // The same along a middle axis (vit-lite's token axis): one copy per index of the axes before it.
  {
    name: 'takeAlong (middle axis)',
    shapes: [[2, 4, 3]],
    range: [-1, 1],
    ours: ([x]) => ag.square(ag.takeAlong(x, 1, 1, 2)),
    oracle: (xs) => Float64Array.from({ length: 12 }, (_, i) => xs[0][Math.floor(i / 6) * 12 + 3 + (i % 6)] ** 2),
  },
  {
    name: 'placeAlong (middle axis)',
    shapes: [[2, 1, 3]],
    range: [-1, 1],
    ours: ([x]) => ag.square(ag.placeAlong(x, 1, 2, 4)),
    oracle: (xs) =>
      Float64Array.from({ length: 24 }, (_, i) => {
        const [n, t, d] = [Math.floor(i / 12), Math.floor(i / 3) % 4, i % 3];
        return t === 2 ? xs[0][n * 3 + d] ** 2 : 0;
      }),
  },
  {
    name: 'concatAlong (middle axis)',
    shapes: [[2, 1, 3], [2, 2, 3]],
    range: [-1, 1],
    ours: ([a, b]) => ag.square(ag.concatAlong([a, b, a], 1)),
    oracle: (xs) =>
      Float64Array.from(
        [0, 1].flatMap((n) => [...xs[0].slice(3 * n, 3 * n + 3), ...xs[1].slice(6 * n, 6 * n + 6), ...xs[0].slice(3 * n, 3 * n + 3)]),
        (v) => v * v,
      ),
  },
];

/** numpy's transpose of a row-major [d0, d1, d2] array: out.shape[i] = shape[axes[i]]. */
function permute3(x: Float64Array, shape: number[], axes: number[]): Float64Array {
  const strides = [shape[1] * shape[2], shape[2], 1];
  const [o0, o1, o2] = axes.map((a) => shape[a]);
  const out = new Float64Array(x.length);
  let k = 0;
  for (let i = 0; i < o0; i++) {
    for (let j = 0; j < o1; j++) {
      for (let l = 0; l < o2; l++) out[k++] = x[i * strides[axes[0]] + j * strides[axes[1]] + l * strides[axes[2]]];
    }
  }
  return out;
}

function alternating(x: Tensor): Tensor {
  return fromArray(x.backend, Array.from({ length: x.size }, (_, i) => (i % 2 ? -1 : 1)), x.shape);
}
function LABELS4(x: Tensor): Tensor {
  return fromArray(x.backend, [1, 0, 4, 2], [4]);
}
function sumAxes02(x: Float64Array): number[] {
  const out = [0, 0, 0];
  for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) out[b] += x[(a * 3 + b) * 4 + c] ** 2;
  return out;
}

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

/** Splits a flat f64 vector into pieces of the given sizes. */
function split(flat: Float64Array, shapes: number[][]): Float64Array[] {
  let off = 0;
  return shapes.map((s) => flat.subarray(off, off += sizeOf(s)));
}

export function autogradSuite(name: string, create: () => Promise<Backend | string>): void {
  describe(`${name} autograd: gradients and HVPs vs finite differences of the f64 oracle`, async () => {
    const made = await create();
    if (typeof made === 'string') {
      test(`${name} autograd`, { skip: made }, () => {});
      return;
    }
    const be = made;
    const flatten = async (ts: Tensor[]) => Float64Array.from((await Promise.all(ts.map((t) => t.data()))).flatMap((d) => Array.from(d)));

    for (const c of CASES) {
      test(`${c.name}: gradient and HVP`, async () => {
        const total = c.shapes.reduce((s, sh) => s + sizeOf(sh), 0);
        const x0 = randomF32(11, total, ...c.range);
        const outSize = c.oracle(split(Float64Array.from(x0), c.shapes)).length;
        // L = Σ w ⊙ op(x) with a fixed random w makes every output element count.
        const w = randomF32(12, outSize, -1, 1);
        const v = randomF32(13, total, -1, 1);
        const f64 = (x: Float64Array) => dot(c.oracle(split(x, c.shapes)), w);
        const [gotG, gotHv] = await tidy(() => {
          const xs = split(Float64Array.from(x0), c.shapes).map((part, i) => ag.param(fromArray(be, Float32Array.from(part), c.shapes[i])));
          const loss = (ps: readonly Tensor[]) => {
            const y = c.ours([...ps]);
            return ag.sum(ag.mul(ag.reshape(y, [y.size]), fromArray(be, w, [outSize])));
          };
          const { grads } = ag.valueAndGrad(loss, xs);
          const vs = split(Float64Array.from(v), c.shapes).map((part, i) => fromArray(be, Float32Array.from(part), c.shapes[i]));
          return [flatten(grads), flatten(ag.hvp(loss, xs, vs))];
        });
        const wantG = gradientFd(f64, Float64Array.from(x0));
        const wantHv = hvpFd(f64, Float64Array.from(x0), v);
        const gScale = Math.max(...wantG.map(Math.abs), 1e-3);
        const hScale = Math.max(...wantHv.map(Math.abs), 1e-3);
        assertClose(await gotG, wantG, GRAD_RTOL * gScale, `${c.name} gradient`);
        assertClose(await gotHv, wantHv, HVP_RTOL * hScale, `${c.name} HVP`);
      });
    }

    const mlp = (layout: MlpLayout, rows: number, seed: number) => {
      const sizes = layout.sizes;
      const x = randomF32(seed, rows * sizes[0], -1, 1);
      const r = seeded(seed + 1);
      const labels = Float32Array.from({ length: rows }, () => Math.floor(r() * sizes[sizes.length - 1]));
      const shapes: number[][] = [];
      for (let l = 0; l + 1 < sizes.length; l++) shapes.push([sizes[l], sizes[l + 1]], [sizes[l + 1]]);
      const theta = randomF32(seed + 2, parameterCount(sizes), -0.8, 0.8);
      const lossOf = (ps: readonly Tensor[]) => {
        let h = fromArray(be, x, [rows, sizes[0]]);
        for (let l = 0; 2 * l < ps.length; l++) {
          h = ag.add(ag.matmul(h, ps[2 * l]), ps[2 * l + 1]);
          if (2 * l + 2 < ps.length) h = layout.activation === 'tanh' ? ag.tanh(h) : ag.leakyRelu(h, layout.slope);
        }
        return ag.softmaxCrossEntropy(h, fromArray(be, labels, [rows]));
      };
      const params = () => split(Float64Array.from(theta), shapes).map((p, i) => ag.param(fromArray(be, Float32Array.from(p), shapes[i])));
      const f64 = (t: Float64Array) => mlpLoss(t, layout, x, labels, rows);
      return { shapes, theta, lossOf, params, f64 };
    };

    for (const activation of ['tanh', 'leakyRelu'] as const) {
      test(`3-layer MLP (${activation}) loss: gradient and HVP match finite differences`, async () => {
        const m = mlp({ sizes: [6, 7, 5, 4], activation, slope: 0.1 }, 9, 21);
        const v = randomF32(99, m.theta.length, -1, 1);
        const [g, hv] = await tidy(() => {
          const ps = m.params();
          const vs = split(Float64Array.from(v), m.shapes).map((p, i) => fromArray(be, Float32Array.from(p), m.shapes[i]));
          return [flatten(ag.valueAndGrad(m.lossOf, ps).grads), flatten(ag.hvp(m.lossOf, ps, vs))];
        });
        const wantG = gradientFd(m.f64, Float64Array.from(m.theta), 1e-6);
        const wantHv = hvpFd(m.f64, Float64Array.from(m.theta), v, 1e-5);
        assertClose(await g, wantG, GRAD_RTOL * Math.max(...wantG.map(Math.abs)), `mlp ${activation} gradient`);
        assertClose(await hv, wantHv, HVP_RTOL * Math.max(...wantHv.map(Math.abs)), `mlp ${activation} HVP`);
      });
    }

    test('tiny MLP (≤ 200 parameters): Hessian built column by column from HVPs equals the explicit f64 Hessian', async () => {
      const m = mlp({ sizes: [4, 8, 6, 3], activation: 'tanh', slope: 0 }, 16, 5);
      const n = m.theta.length;
      assert.ok(n <= 200, `${n} parameters`);
      const columns = await tidy(() => {
        const ps = m.params();
        const cols: Promise<Float64Array>[] = [];
        for (let i = 0; i < n; i++) {
          const e = new Float64Array(n);
          e[i] = 1;
          const es = split(e, m.shapes).map((p, j) => fromArray(be, Float32Array.from(p), m.shapes[j]));
          cols.push(flatten(ag.hvp(m.lossOf, ps, es)));
        }
        return cols;
      });
      const H = hessianFd(m.f64, Float64Array.from(m.theta));
      const scale = Math.max(...H.map((row) => Math.max(...row.map(Math.abs))));
      for (let i = 0; i < n; i++) assertClose(await columns[i], H.map((row) => row[i]), HVP_RTOL * scale, `Hessian column ${i}`);
    });

    test('property: vᵀ(Hw) = wᵀ(Hv) for random v, w', async () => {
      const m = mlp({ sizes: [5, 6, 4, 3], activation: 'leakyRelu', slope: 0.2 }, 12, 8);
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat(), async (sv, sw) => {
          const v = randomF32(sv, m.theta.length, -1, 1);
          const w = randomF32(sw + 1e6, m.theta.length, -1, 1);
          const [hv, hw] = await tidy(() => {
            const ps = m.params();
            const asTensors = (d: Float32Array) =>
              split(Float64Array.from(d), m.shapes).map((p, i) => fromArray(be, Float32Array.from(p), m.shapes[i]));
            return [flatten(ag.hvp(m.lossOf, ps, asTensors(v))), flatten(ag.hvp(m.lossOf, ps, asTensors(w)))];
          });
          const [Hv, Hw] = [await hv, await hw];
          const lhs = dot(v, Hw);
          const rhs = dot(w, Hv);
          const tol = HVP_RTOL * 0.1 * (norm(v) * norm(Hw) + norm(w) * norm(Hv));
          assert.ok(Math.abs(lhs - rhs) <= tol, `vᵀHw = ${lhs}, wᵀHv = ${rhs}, tol ${tol}`);
        }),
        { numRuns: 25 },
      );
    });

    test('backward computes no cotangent for untracked inputs: a first layer costs 2 products (forward, dW), not 3', async () => {
      const calls: string[] = [];
      const matmul = be.matmul;
      be.matmul = function (this: Backend, ...args: Parameters<Backend['matmul']>) {
        calls.push(`${args[3].m}×${args[3].n}×${args[3].k}`);
        return matmul.apply(this, args);
      };
      try {
        const [x, w, dw] = tidy(() => {
          const x = fromArray(be, randomF32(1, 5 * 7), [5, 7]); // the data: not tracked
          const w = ag.param(fromArray(be, randomF32(2, 3 * 7), [3, 7]));
          const [dw] = ag.grad(ag.sum(ag.matmul(x, w, { transB: true })), [w]);
          return [x, w, dw];
        });
        // Forward x·wᵀ (5×3×7) and dW = gᵀ·x (3×7×5); dX = g·w would be 5×7×3.
        assert.deepEqual(calls, ['5×3×7', '3×7×5']);
        // And the gradient is still right: dL/dw[i, j] = Σ_b x[b, j].
        const xs = await x.data();
        const colSums = Array.from({ length: 7 }, (_, j) => Array.from({ length: 5 }, (_, b) => xs[b * 7 + j]).reduce((s, v) => s + v, 0));
        assertClose(await dw.data(), Array.from({ length: 21 }, (_, i) => colSums[i % 7]), 1e-5, 'dL/dw');
        [x, w, dw].forEach((t) => t.dispose());
      } finally {
        be.matmul = matmul;
      }
    });

    test('bad input: shape errors name the op and both shapes; grad of an untracked input is refused', () => {
      tidy(() => {
        const a = fromArray(be, [1, 2, 3, 4, 5, 6], [2, 3]);
        const b = fromArray(be, [1, 2, 3, 4], [2, 2]);
        assert.throws(() => ag.matmul(a, b), /E_SHAPE: matmul: inner dimensions differ \(3 vs 2.*\[2, 3\] and \[2, 2\]/);
        assert.throws(() => ag.add(a, b), /E_SHAPE: add: shapes do not broadcast \(shapes \[2, 3\] and \[2, 2\]\)/);
        assert.throws(() => ag.reshape(a, [4, 2]), /E_SHAPE: reshape/);
        assert.throws(
          () => ag.softmaxCrossEntropy(a, fromArray(be, [0, 1, 2], [3])),
          /E_SHAPE: softmaxCrossEntropy: need one label per row/,
        );
        assert.throws(() => ag.sum(a, [2]), /E_SHAPE: sum: axis 2 is out of range for rank 2/);
        assert.throws(() => ag.grad(ag.sum(a), [a]), /E_ARG: grad: input 0 \[2, 3\] is not tracked/);
        const p = ag.param(fromArray(be, [1, 2], [2]));
        assert.throws(() => ag.grad(ag.mul(p, p), [p]), /E_ARG: grad: output must be a scalar/);
        assert.throws(() => ag.hvp((ps) => ag.sum(ps[0]), [p], [b]), /E_ARG: hvp: direction 0/);
      });
    });
  });
}
