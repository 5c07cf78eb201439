/**
 * Singh et al.'s measurements as properties: sibling angles, barrier predictions (exact for
 * quadratic losses), layer-wise barriers, and the toy landscapes' closed forms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { alphaGrid, interpolationGaps, lossBarrier } from '../core/lmc/barrier.ts';
import { cosine, siblingAngle } from '../core/lmc/geometry.ts';
import { layerSets, layerwiseBarriers } from '../core/lmc/layerwise.ts';
import { evaluatePath } from '../core/lmc/path_eval.ts';
import { gradientCorrectedPrediction, pairCurvature, prop1Prediction, type SecondOrderOracle } from '../core/lmc/predict.ts';
import { FOUR_MINIMA, TWO_MINIMA } from '../core/lmc/toy.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, keep, type Tensor, tidy } from '../core/tensor.ts';
import { randomF32, seeded } from './util.ts';

const be = await createCpuBackend();
const vec = (n: number) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n });

test('sibling angles lie in [0°, 180°], are symmetric, and use the given base', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(vec(n), vec(n), vec(n))), ([a, b, base]) => {
      const ab = siblingAngle(a, b);
      assert.ok(ab >= 0 && ab <= 180);
      assert.equal(ab, siblingAngle(b, a));
      const around = siblingAngle(a, b, base);
      assert.ok(around >= 0 && around <= 180);
      assert.ok(Math.abs(around - siblingAngle(a.map((x, i) => x - base[i]), b.map((x, i) => x - base[i]))) < 1e-9);
      if (a.some((x) => x !== 0)) assert.ok(siblingAngle(a, a) < 1e-5);
    }),
  );
  assert.equal(siblingAngle([1, 0], [0, 1]), 90);
  assert.equal(siblingAngle([1, 0], [-1, 0]), 180);
  assert.equal(cosine([0, 0], [1, 1]), 0);
});

/** A random convex-or-not quadratic L(θ) = ½θᵀAθ + bᵀθ + c with its exact derivatives. */
function quadratic(seed: number, n: number): SecondOrderOracle & { loss(t: Float64Array): number } {
  const r = seeded(seed);
  const m = Array.from({ length: n * n }, () => 2 * r() - 1);
  const A = Array.from({ length: n * n }, (_, k) => (m[k] + m[(k % n) * n + Math.floor(k / n)]) / 2);
  const b = Array.from({ length: n }, () => 2 * r() - 1);
  const Av = (v: ArrayLike<number>) =>
    Float64Array.from({ length: n }, (_, i) => A.slice(i * n, i * n + n).reduce((s, a, j) => s + a * v[j], 0));
  return {
    loss: (t) => 0.5 * Av(t).reduce((s, x, i) => s + x * t[i], 0) + b.reduce((s, x, i) => s + x * t[i], 0) + 0.3,
    gradient: async (t) => Av(t).map((x, i) => x + b[i]),
    hvp: async (_t, v) => Av(v),
  };
}

test('the gradient-corrected prediction equals the measured curve for random quadratic losses; Prop. 1 equals it when both gradients vanish', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 8 }), async (seed, n) => {
      const q = quadratic(seed, n);
      const t1 = Float64Array.from(randomF32(seed + 1, n, -2, 2));
      const t2 = Float64Array.from(randomF32(seed + 2, n, -2, 2));
      const alphas = alphaGrid(11);
      const measured = interpolationGaps(alphas, alphas.map((a) => q.loss(t1.map((x, i) => (1 - a) * x + a * t2[i]))));
      const c = await pairCurvature(q, t1, t2);
      const scale = 1 + Math.abs(c.q1) + Math.abs(c.g1) + Math.abs(c.g2);
      alphas.forEach((a, k) => assert.ok(Math.abs(gradientCorrectedPrediction(a, c) - measured[k]) <= 1e-12 * scale, `α=${a}`));
      const still = { ...c, g1: 0, g2: 0 };
      alphas.forEach((a) => assert.equal(gradientCorrectedPrediction(a, still), prop1Prediction(a, still)));
    }),
  );
});

test('the same holds through the autograd: a least-squares loss (quadratic in θ) with exact HVPs', async () => {
  const [n, d] = [40, 6];
  const X = randomF32(3, n * d);
  const y = randomF32(4, n);
  const lossOf = (theta: Tensor) => ag.mse(ag.matmul(fromArray(be, X, [n, d]), theta), fromArray(be, y, [n, 1]));
  const column = (t: ArrayLike<number>) => fromArray(be, Float32Array.from(t), [d, 1]);
  // Computes a tensor in a scope, keeps it, reads it back and frees it.
  const read = async (fn: () => Tensor) => {
    const t = tidy(() => keep(fn()));
    const v = Float64Array.from(await t.data());
    t.dispose();
    return v;
  };
  const oracle: SecondOrderOracle & { loss(t: Float64Array): Promise<number> } = {
    loss: async (t) => (await read(() => lossOf(column(t))))[0],
    gradient: (t) => read(() => ag.valueAndGrad(([p]) => lossOf(p), [ag.param(column(t))]).grads[0]),
    hvp: (t, v) => read(() => ag.hvp(([p]) => lossOf(p), [ag.param(column(t))], [column(v)])[0]),
  };
  const t1 = Float64Array.from(randomF32(5, d, -2, 2).map(Math.fround));
  const t2 = Float64Array.from(randomF32(6, d, -2, 2).map(Math.fround));
  const alphas = alphaGrid(11);
  const losses = [];
  for (const a of alphas) losses.push(await oracle.loss(t1.map((x, i) => (1 - a) * x + a * t2[i])));
  const measured = interpolationGaps(alphas, losses);
  const c = await pairCurvature(oracle, t1, t2);
  const b = lossBarrier(alphas, losses);
  assert.ok(b.value < 0, 'least squares is convex: the curve lies below the chord');
  alphas.forEach((a, k) =>
    assert.ok(
      Math.abs(gradientCorrectedPrediction(a, c) - measured[k]) <= 2e-5 * (1 + Math.abs(c.q1)),
      `α=${a}: ${gradientCorrectedPrediction(a, c)} vs ${measured[k]}`,
    )
  );
});

function randomSplit(seed: number, n: number, d: number, classes: number): Split {
  const r = seeded(seed);
  return { x: randomF32(seed, n * d, -2, 2), y: Float32Array.from({ length: n }, () => Math.floor(r() * classes)), n };
}

test('layer-wise barriers: all layers together equal the full barrier; a layer with θA[ℓ] = θB[ℓ] has zero barrier', async () => {
  const model = createModel('mlp-3', 8, 3, { width: 12 });
  const split = randomSplit(7, 150, 8, 3);
  const shapes = model.params.map((p) => p.shape.reduce((a, b) => a * b, 1));
  const w1 = shapes.map((s, i) => randomF32(10 + i, s));
  const w2 = shapes.map((s, i) => randomF32(20 + i, s));
  w2[2] = w1[2].slice(); // layer '2' (tensors 2 and 3) identical in both networks
  w2[3] = w1[3].slice();
  const alphas = alphaGrid(9);
  const { single, cumulative } = layerSets(model);
  const curves = await layerwiseBarriers(be, model, w1, w2, [...single, ...cumulative], alphas, split, 64);
  const full = await evaluatePath(be, model, w1, w2, alphas, split, 64);
  const fullGaps = interpolationGaps(alphas, full.points.map((p) => p.loss));
  const all = curves[curves.length - 1];
  assert.equal(all.set.name, '0+2+4');
  all.barrier.forEach((b, k) => assert.ok(Math.abs(b - fullGaps[k]) <= 1e-12, `α=${alphas[k]}: ${b} vs ${fullGaps[k]}`));
  const same = curves.find((c) => c.set.name === '2')!;
  assert.ok(same.barrier.every((b) => b === 0), `identical layer: ${same.barrier}`);
  assert.ok(curves.find((c) => c.set.name === '0')!.barrier.some((b) => b !== 0), 'a differing layer has a non-zero curve');
});

test('the toy landscapes: sampled barriers match their closed forms, and the minima are minima', () => {
  for (const toy of [TWO_MINIMA, FOUR_MINIMA]) {
    for (const m of toy.minima) {
      assert.equal(toy.loss(m), 0);
      assert.equal(toy.gradient(m), 0);
      assert.ok(toy.hessian(m) > 0);
    }
    for (let i = 0; i < toy.minima.length; i++) {
      for (let j = i + 1; j < toy.minima.length; j++) {
        const [a, b] = [toy.minima[i], toy.minima[j]];
        const alphas = alphaGrid(4001);
        const sampled = lossBarrier(alphas, alphas.map((t) => toy.loss((1 - t) * a + t * b)));
        const closed = toy.barrier(a, b);
        assert.ok(
          Math.abs(sampled.value - closed.value) <= 1e-5 * (1 + closed.value),
          `${toy.name} ${a}→${b}: ${sampled.value} vs ${closed.value}`,
        );
        assert.ok(Math.abs((1 - sampled.alpha) * a + sampled.alpha * b - closed.theta) < 2e-3, `${toy.name} ${a}→${b} argmax`);
      }
    }
  }
  // Exact second derivative: L = (θ² − 1)² has L'' = 12θ² − 4.
  for (const t of [-2, -0.3, 0, 0.7, 1.9]) assert.ok(Math.abs(TWO_MINIMA.hessian(t) - (12 * t * t - 4)) < 1e-12);
});
