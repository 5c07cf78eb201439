/**
 * docs/metrics.md#convex-hulls as properties: Dirichlet weights on the simplex, singular values through the Gram
 * matrix against an independent SVD (one-sided Jacobi on the rows, no squaring), distances
 * inside the hull, the random point's distance, degenerate hulls, Jensen's inequality for a
 * convex model, sample independence from batching, the diversity sets, and spec errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { RidgelineError } from '../core/errors.ts';
import { applyHullOptions, childSeed, HULL_DEFAULTS } from '../core/experiments/hull_runner.ts';
import { evaluateCombinations } from '../core/lmc/combination_eval.ts';
import { numericalRank, singularValuesFromGram, stackedGram, symmetricEigen } from '../core/lmc/gram_svd.ts';
import { argmin, convexDistances, dirichletSamples, diversity, evaluateHull, randomPoint } from '../core/lmc/hull.ts';
import { createModel } from '../core/nn/registry.ts';
import { rngStream } from '../core/rng.ts';
import { randomF32, seeded } from './util.ts';

const be = await createCpuBackend();

// ---------------------------------------------------------------- oracles

/** Singular values of a P × d matrix (rows in f64) by one-sided Jacobi (Hestenes): rows are rotated until pairwise orthogonal; σ = row norms. */
function hestenesSvd(rows: Float64Array[]): number[] {
  const r = rows.map((x) => Float64Array.from(x));
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let i = 0; i < r.length; i++) {
      for (let k = i + 1; k < r.length; k++) {
        const [a, b, g] = [dot(r[i], r[i]), dot(r[k], r[k]), dot(r[i], r[k])];
        if (g === 0 || Math.abs(g) <= 1e-15 * Math.sqrt(a * b)) continue;
        rotated = true;
        const zeta = (b - a) / (2 * g);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let j = 0; j < r[i].length; j++) {
          const [x, y] = [r[i][j], r[k][j]];
          r[i][j] = c * x - s * y;
          r[k][j] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  return r.map((x) => Math.sqrt(dot(x, x))).sort((p, q) => q - p);
}

/** A random P × d matrix of rank r (A·B, uniform entries) rounded to f32, as one-tensor rows. */
function lowRank(seed: number, p: number, d: number, r: number): Float32Array[][] {
  const rnd = seeded(seed);
  const a = Array.from({ length: p * r }, () => 2 * rnd() - 1);
  const b = Array.from({ length: r * d }, () => 2 * rnd() - 1);
  return Array.from({ length: p }, (_, i) => [Float32Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let k = 0; k < r; k++) s += a[i * r + k] * b[k * d + j];
    return s;
  })]);
}

const flat = (w: readonly Float32Array[]) => Float64Array.from(w.flatMap((t) => [...t]));

// ---------------------------------------------------------------- Dirichlet

test('Dirichlet(1, …, 1) weights lie on the simplex with component means 1/P (within 5 standard errors)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 12 }), fc.nat({ max: 1e6 }), (p, seed) => {
      const n = 2000;
      const draws = dirichletSamples(seed, 'hull/test/dirichlet', p, n);
      const sums = new Float64Array(p);
      for (const a of draws) {
        assert.equal(a.length, p);
        assert.ok(a.every((v) => v >= 0 && v <= 1), `weights in [0, 1]: ${a}`);
        assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) - 1) <= 1e-12, 'weights sum to 1');
        a.forEach((v, i) => (sums[i] += v));
      }
      // Each component is Beta(1, P − 1): variance (P − 1)/(P²(P + 1)).
      const se = Math.sqrt((p - 1) / (p * p * (p + 1)) / n);
      sums.forEach((s, i) => assert.ok(Math.abs(s / n - 1 / p) <= 5 * se, `component ${i}: mean ${s / n} vs ${1 / p} (se ${se})`));
    }),
    { numRuns: 20 },
  );
});

test('the Dirichlet stream is a prefix: sample j does not depend on how many samples are drawn', () => {
  const few = dirichletSamples(3, 'hull/0/0/dirichlet', 5, 4);
  const many = dirichletSamples(3, 'hull/0/0/dirichlet', 5, 40);
  few.forEach((a, j) => assert.deepEqual([...a], [...many[j]]));
  assert.notDeepEqual([...dirichletSamples(3, 'hull/0/1/dirichlet', 5, 1)[0]], [...few[0]], 'another hull draws other weights');
});

// ---------------------------------------------------------------- singular values

test('symmetric Jacobi: V·Λ·Vᵀ reproduces the matrix, V is orthonormal, eigenvalues descend (also repeated and zero ones)', () => {
  const mats = fc.integer({ min: 1, max: 10 }).chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n * n, maxLength: n * n }),
      fc.constantFrom('random', 'identity', 'zero', 'rank1'),
    )
  );
  fc.assert(
    fc.property(mats, ([n, raw, kind]) => {
      const m = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          m[i * n + k] = kind === 'random'
            ? raw[i * n + k] + raw[k * n + i]
            : kind === 'identity'
            ? (i === k ? 3 : 0)
            : kind === 'zero'
            ? 0
            : raw[i] * raw[k];
        }
      }
      const { values, vectors } = symmetricEigen(m, n);
      const scale = Math.max(1, ...m.map(Math.abs));
      for (let i = 0; i < n; i++) {
        if (i > 0) assert.ok(values[i] <= values[i - 1]);
        for (let k = 0; k < n; k++) {
          let rec = 0;
          let orth = 0;
          for (let j = 0; j < n; j++) {
            rec += vectors[i * n + j] * values[j] * vectors[k * n + j];
            orth += vectors[j * n + i] * vectors[j * n + k];
          }
          assert.ok(Math.abs(rec - m[i * n + k]) <= 1e-12 * scale * n, `reconstruction (${i}, ${k}): ${rec} vs ${m[i * n + k]}`);
          assert.ok(Math.abs(orth - (i === k ? 1 : 0)) <= 1e-12, `orthonormality (${i}, ${k}): ${orth}`);
        }
      }
    }),
  );
});

test('Gram-based σ of stacked rank-r endpoints match one-sided Jacobi SVD; exactly r non-zero, centered min(r, P − 1)', () => {
  const cases = fc.integer({ min: 2, max: 7 }).chain((p) =>
    fc.tuple(fc.constant(p), fc.integer({ min: p, max: 40 }), fc.integer({ min: 1, max: p }), fc.nat())
  );
  fc.assert(
    fc.property(cases, ([p, d, r, seed]) => {
      const rows = lowRank(seed, p, d, r);
      const g = stackedGram(rows);
      const sv = singularValuesFromGram(g.raw, p);
      const svc = singularValuesFromGram(g.centered, p);
      const x = rows.map(flat);
      const mean = x[0].map((_, j) => x.reduce((s, row) => s + row[j], 0) / p);
      const oracle = hestenesSvd(x);
      const oracleC = hestenesSvd(x.map((row) => row.map((v, j) => v - mean[j])));
      assert.equal(sv.length, p);
      // Squaring resolves σ to about √ε·σ_max (module comment of gram_svd.ts).
      sv.forEach((s, k) => assert.ok(Math.abs(s - oracle[k]) <= 1e-7 * oracle[0], `σ_${k + 1}: ${s} vs ${oracle[k]}`));
      svc.forEach((s, k) =>
        assert.ok(Math.abs(s - oracleC[k]) <= 1e-7 * oracleC[0] + 1e-300, `centered σ_${k + 1}: ${s} vs ${oracleC[k]}`)
      );
      assert.equal(numericalRank(sv), r, `raw rank of ${sv}`);
      assert.equal(numericalRank(svc), Math.min(r, p - 1), `centered rank of ${svc}`);
      const frob = x.reduce((s, row) => s + row.reduce((t, v) => t + v * v, 0), 0);
      assert.ok(Math.abs(sv.reduce((s, v) => s + v * v, 0) - frob) <= 1e-12 * frob, 'Σσ² = ‖W‖_F²');
    }),
    { numRuns: 60 },
  );
});

test('stacked endpoints of different shapes are an E_SHAPE error', () => {
  assert.throws(
    () => stackedGram([[new Float32Array(3)], [new Float32Array(4)]]),
    (e: unknown) =>
      e instanceof RidgelineError && e.code === 'E_SHAPE' && /tensor 0 of vector 1 has 4 values, vector 0 has 3/.test(e.message),
  );
  assert.throws(
    () => stackedGram([[new Float32Array(3)], [new Float32Array(3), new Float32Array(1)]]),
    /E_SHAPE: .*vector 1 has 2 tensors/,
  );
});

// ---------------------------------------------------------------- distances

test('‖Σ a_k W_k − W_i‖ from the centered Gram matrix equals the direct f64 computation; the closest endpoint is the argmin', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 8 }),
      fc.integer({ min: 1, max: 50 }),
      fc.nat(),
      fc.double({ min: 0, max: 100, noNaN: true }),
      (p, d, seed, offset) => {
        // An offset far from the origin is the hard case for cancellation.
        const rows = Array.from({ length: p }, (_, i) => [randomF32(seed + i, d, offset - 1, offset + 1), randomF32(seed + 100 + i, 3)]);
        const g = stackedGram(rows);
        const a = dirichletSamples(seed, 'test', p, 1)[0];
        const x = rows.map(flat);
        const conv = x[0].map((_, j) => x.reduce((s, row, k) => s + a[k] * row[j], 0));
        const direct = x.map((row) => Math.sqrt(row.reduce((s, v, j) => s + (conv[j] - v) ** 2, 0)));
        const viaGram = convexDistances(g.centered, p, a);
        const scale = Math.max(...direct);
        viaGram.forEach((v, i) => assert.ok(Math.abs(v - direct[i]) <= 1e-9 * (1 + scale), `endpoint ${i}: ${v} vs ${direct[i]}`));
        const end = argmin(viaGram);
        assert.ok(direct[end] <= Math.min(...direct) + 1e-9 * (1 + scale));
      },
    ),
  );
});

test('W_rand lies at ‖W_end − W_conv‖ from W_end (up to f32 rounding of W_rand), and at 0 it is W_end exactly', () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.integer({ min: 1, max: 300 }),
      fc.double({ min: 1e-4, max: 50, noNaN: true }),
      fc.double({ min: 0.01, max: 10, noNaN: true }),
      (seed, d, dist, mag) => {
        const end = [randomF32(seed, d, -mag, mag), randomF32(seed + 1, 2, -mag, mag)];
        const eps = rngStream(seed, 'eps').normals(d + 2);
        const r = randomPoint(end, eps, dist);
        assert.ok(Math.abs(r.distance - dist) <= 1e-6 * dist + 1e-7 * mag * Math.sqrt(d + 2), `${r.distance} vs ${dist}`);
        const direct = Math.sqrt(flat(r.weights).reduce((s, v, j) => s + (v - flat(end)[j]) ** 2, 0));
        assert.equal(r.distance, direct, 'the reported distance is that of the returned vector');
        const zero = randomPoint(end, eps, 0);
        assert.deepEqual(zero.weights, end);
        assert.equal(zero.distance, 0);
      },
    ),
  );
  assert.throws(() => randomPoint([new Float32Array(3)], new Float32Array(4), 1), /E_SHAPE: randomPoint: ε has 4 values for 3 parameters/);
});

// ---------------------------------------------------------------- Algorithm 1 on real models

function randomSplit(seed: number, n: number, d: number, classes: number): Split {
  const r = seeded(seed);
  return { x: randomF32(seed, n * d, -2, 2), y: Float32Array.from({ length: n }, () => Math.floor(r() * classes)), n };
}
const weightsOf = (model: ReturnType<typeof createModel>, seed: number, scale: number) =>
  model.params.map((p, i) => randomF32(seed * 31 + i, p.size, -scale, scale));

test('a hull of identical endpoints: P_conv = P_rand = 0 (strict <), all distances and centered σ exactly 0', async () => {
  const model = createModel('mlp-2', 8, 3, { width: 16 });
  const split = randomSplit(1, 200, 8, 3);
  const w = weightsOf(model, 2, 0.7);
  const { metrics: m } = await evaluateHull(be, model, [w, w, w], split, { samples: 12, seed: 5, stream: 'hull/0/0', batch: 64 });
  assert.equal(m.pConv.mean, 0);
  assert.equal(m.pRand.mean, 0);
  assert.deepEqual(m.distance, { endpointEndpoint: 0, convEnd: 0, randEnd: 0 });
  assert.ok(m.samples.every((s) => s.lossConv === s.lossEnd && s.lossRand === s.lossEnd));
  assert.deepEqual(m.singularValuesCentered, [0, 0, 0]);
  assert.equal(m.rankCentered, 0);
  assert.equal(m.rank, 1);
  assert.equal(m.accuracy.convex, m.accuracy.endpoints);
});

test('logistic regression (convex loss): every convex sample obeys Jensen, L(W_conv) ≤ Σ a_i L(W_i) ≤ max_i L(W_i)', async () => {
  const model = createModel('logreg', 10, 4);
  const split = randomSplit(3, 300, 10, 4);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.nat(), fc.double({ min: 0.2, max: 4, noNaN: true }), async (p, seed, scale) => {
      const ends = Array.from({ length: p }, (_, i) => weightsOf(model, seed + 17 * i, scale));
      const { metrics: m } = await evaluateHull(be, model, ends, split, { samples: 6, seed, stream: 'hull/jensen', batch: 128 });
      for (const s of m.samples) {
        const chord = s.a.reduce((acc, a, i) => acc + a * m.endpointLoss[i], 0);
        // f32 logits add rounding of ~1e-6 relative to the loss.
        const tol = 1e-5 * (1 + Math.max(...m.endpointLoss));
        assert.ok(s.lossConv <= chord + tol, `L(W_conv) ${s.lossConv} > Σ a_i L_i ${chord}`);
        assert.ok(s.lossConv <= Math.max(...m.endpointLoss) + tol);
      }
    }),
    { numRuns: 15 },
  );
});

test('samples: indicators, closest endpoints and losses are consistent with a direct evaluation, and independent of chunking', async () => {
  const model = createModel('mlp-2', 8, 3, { width: 16 });
  const split = randomSplit(4, 250, 8, 3);
  const ends = [1, 2, 3, 4].map((s) => weightsOf(model, s, 0.8));
  const opts = { samples: 7, seed: 11, stream: 'hull/40/1', batch: 100 };
  const one = await evaluateHull(be, model, ends, split, { ...opts, chunk: 1 });
  const many = await evaluateHull(be, model, ends, split, { ...opts, chunk: 5 });
  assert.deepEqual(
    one.metrics.samples.map((s) => [s.a, s.end, s.distanceRandEnd]),
    many.metrics.samples.map((s) => [s.a, s.end, s.distanceRandEnd]),
  );
  one.metrics.samples.forEach((s, j) => {
    const t = many.metrics.samples[j];
    // Conv points are f32 mixes of first-layer products, summed in the same order whatever the chunk.
    assert.ok(Math.abs(s.lossConv - t.lossConv) <= 1e-6 * s.lossConv && s.lossRand === t.lossRand, `sample ${j}`);
  });
  const m = one.metrics;
  const direct = await evaluateCombinations(be, model, ends, ends.map((_, i) => ends.map((__, k) => (k === i ? 1 : 0))), split, {
    batch: 100,
  });
  assert.deepEqual(m.endpointLoss, direct.points.map((q) => q.loss));
  const x = ends.map(flat);
  for (const [j, s] of m.samples.entries()) {
    assert.equal(s.lossEnd, m.endpointLoss[s.end]);
    assert.equal(s.conv, s.lossConv < s.lossEnd);
    assert.equal(s.rand, s.lossRand < s.lossEnd);
    const conv = x[0].map((_, q) => x.reduce((acc, row, k) => acc + s.a[k] * row[q], 0));
    const dists = x.map((row) => Math.sqrt(row.reduce((acc, v, q) => acc + (conv[q] - v) ** 2, 0)));
    assert.equal(s.end, dists.indexOf(Math.min(...dists)));
    assert.ok(Math.abs(s.distanceConvEnd - dists[s.end]) <= 1e-9 * (1 + dists[s.end]));
    // The random point, rebuilt from its documented stream, evaluates to the recorded loss.
    const rand = randomPoint(ends[s.end], rngStream(opts.seed, `${opts.stream}/eps/${j}`).normals(model.parameterCount), s.distanceConvEnd);
    const convW = model.params.map((p) => Float32Array.from(conv.slice(p.offset, p.offset + p.size)));
    const e = await evaluateCombinations(be, model, [rand.weights, convW], [[1, 0], [0, 1]], split, { batch: 100 });
    assert.equal(e.points[0].loss, s.lossRand);
    assert.ok(Math.abs(e.points[1].loss - s.lossConv) <= 1e-5 * s.lossConv, `conv loss ${s.lossConv} vs direct ${e.points[1].loss}`);
  }
  assert.equal(m.pConv.mean, m.samples.filter((s) => s.conv).length / m.samples.length);
  assert.ok(Math.abs(m.pConv.std - Math.sqrt(m.pConv.mean * (1 - m.pConv.mean))) < 1e-15);
});

test('evaluateHull rejects fewer than 2 endpoints, no samples and endpoints that do not fit the model', async () => {
  const model = createModel('mlp-2', 8, 3, { width: 16 });
  const other = createModel('mlp-2', 8, 3, { width: 12 });
  const split = randomSplit(5, 50, 8, 3);
  const w = weightsOf(model, 1, 1);
  await assert.rejects(evaluateHull(be, model, [w], split, { samples: 3, seed: 0, stream: 's' }), /E_ARG: .*at least 2 endpoints, got 1/);
  await assert.rejects(
    evaluateHull(be, model, [w, w], split, { samples: 0, seed: 0, stream: 's' }),
    /E_ARG: .*samples must be an integer ≥ 1, got 0/,
  );
  await assert.rejects(
    evaluateHull(be, model, [weightsOf(other, 1, 1), weightsOf(other, 2, 1)], split, { samples: 1, seed: 0, stream: 's' }),
    /E_SHAPE: .*needs/,
  );
});

// ---------------------------------------------------------------- diversity

test('diversity sets match a set-based oracle and nest: |S*| ≤ mean |S_j| ≤ mean |C_i^j|', () => {
  const masks = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 })).chain((
    [h, p, n],
  ) =>
    fc.array(fc.array(fc.uint8Array({ min: 0, max: 1, minLength: n, maxLength: n }), { minLength: p, maxLength: p }), {
      minLength: h,
      maxLength: h,
    })
  );
  fc.assert(
    fc.property(masks, (correct) => {
      const n = correct[0][0].length;
      const sets = correct.map((hull) => hull.map((m) => new Set([...m.keys()].filter((k) => m[k]))));
      const inter = (ss: Set<number>[]) => ss.reduce((a, b) => new Set([...a].filter((k) => b.has(k))));
      const sj = sets.map(inter);
      const star = inter(sj);
      const d = diversity(correct);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      assert.equal(d.interHull, star.size / n);
      assert.deepEqual(d.perHull, sj.map((s) => s.size / n));
      assert.ok(Math.abs(d.intraHull - mean(sj.map((s) => s.size / n))) < 1e-15);
      assert.ok(Math.abs(d.endpoint - mean(sets.flat().map((s) => s.size / n))) < 1e-15);
      assert.ok(d.interHull <= d.intraHull + 1e-15 && d.intraHull <= d.endpoint + 1e-15);
    }),
  );
  assert.throws(() => diversity([[new Uint8Array(3)], [new Uint8Array(4)]]), /E_SHAPE/);
});

// ---------------------------------------------------------------- spec

test('hull options: validated values, clear E_SPEC errors naming the option, child seeds distinct across hulls', () => {
  const ok = applyHullOptions(HULL_DEFAULTS, { splits: '2,0,0.25', train: '1', children: '4', hulls: '3', lr: '0.1' });
  assert.deepEqual(ok.splits, [0, 0.25, 2]);
  assert.equal(ok.lr, 0.1);
  const seeds = [0, 1, 2].flatMap((h) => [0, 1, 2, 3].map((i) => childSeed(ok, h, i)));
  assert.equal(
    new Set([...seeds, ok.seedOrder]).size,
    seeds.length + 1,
    'children never share an order seed with each other or the parent',
  );
  const base = { splits: '0,1', train: '1' };
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...base, children: '1' }, /E_SPEC: --children: must be ≥ 2 \(a hull needs at least two endpoints\), got 1/],
    [{ ...base, samples: '0' }, /E_SPEC: --samples: must be ≥ 1/],
    [{ ...base, hulls: '0' }, /E_SPEC: --hulls: must be ≥ 1/],
    [{ train: '1' }, /E_SPEC: --splits: give the split points/],
    [{ splits: '0,1' }, /E_SPEC: --train: .*must be > 0/],
    [{ ...base, train: '0' }, /E_SPEC: --train: .*must be > 0/],
    [{ ...base, unit: 'steps', splits: '0,2.5' }, /E_SPEC: --splits: expected a whole number of steps, got '2.5'/],
    [{ ...base, splits: '0,-1' }, /E_SPEC: --splits: expected a number ≥ 0/],
    [{ ...base, optimizer: 'lion' }, /E_SPEC: --optimizer: unknown value 'lion'; valid: sgd, adam, adamw/],
    [{ ...base, children: 'six' }, /E_SPEC: --children: expected an integer, got 'six'/],
  ];
  for (const [o, re] of cases) assert.throws(() => applyHullOptions(HULL_DEFAULTS, o), re, JSON.stringify(o));
});
