/**
 * docs/metrics.md#barriers as properties: the barrier arithmetic on random curves, and the path evaluation
 * on real models (logistic regression and an MLP) with random weights and data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { alphaGrid, errorBarrier, interpolationGaps, lossBarrier, normalizedBarrier } from '../core/lmc/barrier.ts';
import { pairMetrics } from '../core/lmc/metrics.ts';
import { evaluatePath } from '../core/lmc/path_eval.ts';
import { createModel } from '../core/nn/registry.ts';
import { randomF32, seeded } from './util.ts';

const be = await createCpuBackend();

/** A random curve: losses at T α points of a grid. */
const curve = fc.integer({ min: 3, max: 41 }).chain((T) =>
  fc.tuple(fc.constant(alphaGrid(T)), fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: T, maxLength: T }))
);

test('the gap is exactly 0 at both ends, and exactly 0 everywhere for a flat curve', () => {
  fc.assert(
    fc.property(curve, fc.double({ min: 0, max: 100, noNaN: true }), ([alphas, losses], flat) => {
      const gaps = interpolationGaps(alphas, losses);
      assert.equal(gaps[0], 0);
      assert.equal(gaps[gaps.length - 1], 0);
      assert.ok(interpolationGaps(alphas, alphas.map(() => flat)).every((g) => g === 0));
      assert.equal(lossBarrier(alphas, alphas.map(() => flat)).value, 0);
    }),
  );
});

test('adding an affine function of θ (affine in α along the path) leaves the curve unchanged', () => {
  fc.assert(
    fc.property(
      curve,
      fc.double({ min: -5, max: 5, noNaN: true }),
      fc.double({ min: -5, max: 5, noNaN: true }),
      ([alphas, losses], u, v) => {
        const shifted = losses.map((l, i) => l + (1 - alphas[i]) * u + alphas[i] * v);
        const g1 = interpolationGaps(alphas, losses);
        const g2 = interpolationGaps(alphas, shifted);
        // f64 rounding of values up to ~20: a few ulps.
        g1.forEach((g, i) => assert.ok(Math.abs(g - g2[i]) <= 1e-13, `α=${alphas[i]}: ${g} vs ${g2[i]}`));
      },
    ),
  );
});

test('scaling the loss by c > 0 scales the barrier by c; swapping A and B mirrors the curve', () => {
  fc.assert(
    fc.property(curve, fc.double({ min: 0.01, max: 100, noNaN: true }), ([alphas, losses], c) => {
      const b = lossBarrier(alphas, losses).value;
      const bc = lossBarrier(alphas, losses.map((l) => c * l)).value;
      assert.ok(Math.abs(bc - c * b) <= 1e-12 * c * (1 + Math.max(...losses)), `${bc} vs ${c * b}`);
      const mirrored = interpolationGaps(alphas, [...losses].reverse()).reverse();
      interpolationGaps(alphas, losses).forEach((g, i) => assert.ok(Math.abs(g - mirrored[i]) <= 1e-12 * (1 + Math.max(...losses))));
    }),
  );
});

test('refining a nested α grid never lowers the sampled barrier', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 3, max: 21 }),
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }),
      (T, refine, coef) => {
        // A smooth random function of α sampled on a grid and on a refinement containing it.
        const f = (a: number) => coef[0] + coef[1] * Math.sin(3 * a + coef[2]) + coef[3] * a * a;
        const coarse = alphaGrid(T);
        const fine = alphaGrid((T - 1) * refine + 1);
        coarse.forEach((a, i) => assert.equal(fine[i * refine], a, 'the fine grid contains the coarse one'));
        assert.ok(lossBarrier(fine, fine.map(f)).value >= lossBarrier(coarse, coarse.map(f)).value);
      },
    ),
  );
});

test('error barrier and normalized barrier follow their definitions', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 25 }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      (errors, accA, accB) => {
        const b = errorBarrier(errors);
        assert.equal(b, Math.max(...errors) - (errors[0] + errors[errors.length - 1]) / 2);
        assert.ok(b >= -0.5 && b <= 1);
        assert.equal(normalizedBarrier(b, accA, accB), b / ((accA + accB) / 2));
      },
    ),
  );
});

/** A random classification split (Gaussian inputs, random labels). */
function randomSplit(seed: number, n: number, d: number, classes: number): Split {
  const r = seeded(seed);
  return { x: randomF32(seed, n * d, -2, 2), y: Float32Array.from({ length: n }, () => Math.floor(r() * classes)), n };
}

const randomWeights = (shapes: number[][], seed: number, scale: number) =>
  shapes.map((s, i) => randomF32(seed * 31 + i, s.reduce((a, b) => a * b, 1), -scale, scale));

test('logistic regression (convex loss): the loss barrier is ≤ 0 between any two parameter vectors', async () => {
  const model = createModel('logreg', 12, 5);
  const split = randomSplit(1, 300, 12, 5);
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.nat(), fc.double({ min: 0.1, max: 5, noNaN: true }), async (sa, sb, scale) => {
      const shapes = model.params.map((p) => p.shape);
      const e = await evaluatePath(
        be,
        model,
        randomWeights(shapes, sa, scale),
        randomWeights(shapes, sb + 7, scale),
        alphaGrid(11),
        split,
        128,
      );
      const b = lossBarrier(e.points.map((p) => p.alpha), e.points.map((p) => p.loss)).value;
      // Convexity makes the true gap ≤ 0; f32 logits add rounding of ~1e-6 relative to the loss.
      assert.ok(b <= 1e-5 * (1 + Math.max(...e.points.map((p) => p.loss))), `barrier ${b}`);
    }),
    { numRuns: 25 },
  );
});

test('an MLP path: identical endpoints give exactly 0; swapping A and B mirrors the curve; metrics use test accuracy', async () => {
  const model = createModel('mlp-2', 10, 4, { width: 16 });
  const train = randomSplit(2, 200, 10, 4);
  const testSplit = randomSplit(3, 150, 10, 4);
  const shapes = model.params.map((p) => p.shape);
  const wA = randomWeights(shapes, 5, 1);
  const wB = randomWeights(shapes, 6, 1);
  const alphas = alphaGrid(11);
  const same = await evaluatePath(be, model, wA, wA, alphas, train, 64);
  assert.ok(same.points.every((p) => p.loss === same.points[0].loss && p.error === same.points[0].error));
  assert.equal(lossBarrier(alphas, same.points.map((p) => p.loss)).value, 0);
  assert.ok(Math.abs(same.predictionDistance - same.predictionDistanceSymmetric) < 1e-12);
  const ab = await evaluatePath(be, model, wA, wB, alphas, train, 64);
  const ba = await evaluatePath(be, model, wB, wA, alphas, train, 64);
  ab.points.forEach((p, i) => {
    const q = ba.points[alphas.length - 1 - i];
    assert.ok(Math.abs(p.loss - q.loss) <= 1e-5 * p.loss, `α=${p.alpha}: ${p.loss} vs ${q.loss}`);
  });
  assert.equal(ab.points[0].loss, ba.points[alphas.length - 1].loss, 'endpoints are evaluated exactly');
  assert.ok(Math.abs(ab.predictionDistanceSymmetric - ba.predictionDistanceSymmetric) < 1e-9);
  const te = await evaluatePath(be, model, wA, wB, alphas, testSplit, 64);
  const m = pairMetrics(ab, te);
  const meanTestAcc = 0.5 * (m.test.accuracyA + m.test.accuracyB);
  assert.equal(m.test.accuracyA, 1 - te.points[0].error);
  assert.equal(m.train.normalizedBarrier, m.train.errorBarrier / meanTestAcc);
  assert.equal(m.test.normalizedBarrier, m.test.errorBarrier / meanTestAcc);
});

test('batch size does not change the evaluated losses beyond f64 summation order', async () => {
  const model = createModel('mlp-2', 10, 4, { width: 16 });
  const split = randomSplit(4, 333, 10, 4);
  const shapes = model.params.map((p) => p.shape);
  const [wA, wB] = [randomWeights(shapes, 8, 1), randomWeights(shapes, 9, 1)];
  const a = await evaluatePath(be, model, wA, wB, alphaGrid(5), split, 50);
  const b = await evaluatePath(be, model, wA, wB, alphaGrid(5), split, 333);
  a.points.forEach((p, i) => {
    assert.ok(Math.abs(p.loss - b.points[i].loss) <= 1e-12 * p.loss);
    assert.equal(p.error, b.points[i].error);
  });
});

test('evaluating eleven α points needs about the memory of three: one point’s activations are resident at a time', async () => {
  // Activations dominate here (500 rows × 256 hidden units per tensor, parameters are 4 K
  // floats per point): holding every point's forward at once took 4 GiB for vit-lite.
  const model = createModel('mlp-2', 10, 4, { width: 256 });
  const split = randomSplit(5, 500, 10, 4);
  const shapes = model.params.map((p) => p.shape);
  const [wA, wB] = [randomWeights(shapes, 10, 1), randomWeights(shapes, 11, 1)];
  const peakOf = async (points: number) => {
    be.resetPeak();
    const before = be.liveBytes;
    await evaluatePath(be, model, wA, wB, alphaGrid(points), split, 500);
    assert.equal(be.liveBytes, before, 'evaluation leaks no buffers');
    return be.peakLiveBytes - before;
  };
  const three = await peakOf(3);
  const eleven = await peakOf(11);
  console.log(`peak live bytes: 3 points ${three}, 11 points ${eleven}`);
  assert.ok(eleven < 1.5 * three, `peak with 11 points ${eleven} B vs 3 points ${three} B`);
});
