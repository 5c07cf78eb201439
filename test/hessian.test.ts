/**
 * Dataset derivatives and extreme Hessian eigenvalues (docs/metrics.md#second-order):
 * - the tridiagonal QL solver and both eigen methods against the Jacobi oracle;
 * - a tiny tanh MLP [4, 8, 6, 3] (115 parameters, 16 examples): its Hessian built column by
 *   column from dataset HVPs equals hessianFd of the f64 oracle loss, and λ_max / λ_min of
 *   Lanczos and of power iteration equal the Jacobi eigenvalues of both matrices;
 * - dataset loss, gradient and HVP do not depend on the batch size; H is linear and symmetric;
 * - λ_max / λ_min of mlp-2 (width 64 instead of 512, to keep the suite fast) on 1 000 MNIST
 *   digits agree across start-vector seeds to the stated tolerance;
 * - a capped iteration reports converged: false with its residual.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { BatchLoader } from '../core/data/loader.ts';
import { loadDataset } from '../core/data/registry.ts';
import { trainConfigOf } from '../core/experiments/train_config.ts';
import { FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { DatasetDerivatives, datasetLoss, flattenWeights, subsetOf, unflattenWeights } from '../core/lmc/dataset_derivatives.ts';
import { extremeEigenvalues, tridiagonalEigen } from '../core/lmc/hessian.ts';
import type { Model } from '../core/nn/model.ts';
import { createModel } from '../core/nn/registry.ts';
import { sequentialModel } from '../core/nn/sequential.ts';
import type { Tensor } from '../core/tensor.ts';
import { disposeState, readWeights, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { symmetricEigenvalues } from './oracle/eigen.ts';
import { gradientFd, hessianFd } from './oracle/finite_diff.ts';
import { mlpLoss } from './oracle/mlp.ts';
import { GRAD_RTOL } from './tolerances.ts';
import { randomF32, seeded } from './util.ts';

const be = await createCpuBackend();

/**
 * f32 rounding of a dataset HVP (double backward, then f64 accumulation): measured ≈ 2e-7
 * relative (Lanczos residual floor; HVP-built Hessian vs hessianFd of the f64 oracle, whose
 * own truncation/cancellation error is ~1e-8 at h = 1e-4). 1e-5 leaves a 50× margin and is
 * 100× tighter than the generic HVP_RTOL, so a 0.1 % scale error in the HVP fails.
 */
const HVP_ROUNDING = 1e-5;

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);
const diffNorm = (a: ArrayLike<number>, b: ArrayLike<number>) => norm(Array.from(a, (x, i) => x - b[i]));

// ---------- the tiny tanh MLP and its f64 oracle ----------

const SIZES = [4, 8, 6, 3];
const ROWS = 16;
/** The project's sequential model with tanh between layers (smooth, so finite differences are valid everywhere). */
const tiny: Model = (() => {
  const base = sequentialModel({ sizes: SIZES, slope: 0, name: 'tanh-mlp', description: 'tanh MLP [4, 8, 6, 3]' });
  const forward = (ps: readonly Tensor[], x: Tensor) => {
    let h = x;
    for (let l = 0; 2 * l < ps.length; l++) {
      h = ag.add(ag.matmul(h, ps[2 * l], { transB: true }), ps[2 * l + 1]);
      if (2 * l + 2 < ps.length) h = ag.tanh(h);
    }
    return h;
  };
  return { ...base, forward, firstLayer: null };
})();
const tinySplit: Split = (() => {
  const r = seeded(7);
  return { x: randomF32(6, ROWS * SIZES[0], -1, 1), y: Float32Array.from({ length: ROWS }, () => Math.floor(r() * 3)), n: ROWS };
})();
const tinyFlat = Float64Array.from(randomF32(8, tiny.parameterCount, -0.8, 0.8));
const tinyWeights = unflattenWeights(tiny, tinyFlat);

/** Our index (weights [out, in]) → the oracle's (weights [in, out]); biases keep their place. */
const toOracle: number[] = (() => {
  const perm: number[] = [];
  for (const p of tiny.params) {
    if (p.shape.length === 1) { for (let j = 0; j < p.size; j++) perm.push(p.offset + j); }
    else {
      const [out, inp] = p.shape;
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) perm.push(p.offset + i * out + o);
    }
  }
  return perm;
})();
const oracleLoss = (theta: Float64Array) => mlpLoss(theta, { sizes: SIZES, activation: 'tanh', slope: 0 }, tinySplit.x, tinySplit.y, ROWS);
const oracleTheta = (() => {
  const t = new Float64Array(tinyFlat.length);
  toOracle.forEach((o, i) => (t[o] = tinyFlat[i]));
  return t;
})();

const withTiny = async <T>(batch: number, f: (d: DatasetDerivatives) => Promise<T>): Promise<T> => {
  const d = new DatasetDerivatives(be, tiny, tinyWeights, tinySplit, { batch });
  try {
    return await f(d);
  } finally {
    d.dispose();
  }
};

const explicitHessian = (d: DatasetDerivatives) =>
  (async () => {
    const cols: Float64Array[] = [];
    for (let i = 0; i < d.dim; i++) {
      const e = new Float64Array(d.dim);
      e[i] = 1;
      cols.push(await d.hvp(e));
    }
    return cols; // cols[j][i] = H[i][j]
  })();

// ---------- numerics of the eigen solvers ----------

test('tridiagonal QL: eigenpairs satisfy T·v = λ·v, are orthonormal and match Jacobi', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.nat(), (n, seed) => {
      const d = Array.from(randomF32(seed, n, -3, 3));
      const e = Array.from(randomF32(seed + 1, Math.max(n - 1, 0), -2, 2));
      if (seed % 3 === 0) e.forEach((_, i) => i % 4 === 1 && (e[i] = 0)); // split blocks
      const { values, vectors } = tridiagonalEigen(d, e);
      const T = Array.from(
        { length: n },
        (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? d[i] : j === i + 1 ? e[i] : i === j + 1 ? e[j] : 0)),
      );
      const want = symmetricEigenvalues(T);
      const scale = Math.max(...want.map(Math.abs), 1);
      values.forEach((v, k) => assert.ok(Math.abs(v - want[k]) <= 1e-12 * scale, `λ${k} ${v} vs Jacobi ${want[k]}`));
      vectors.forEach((v, k) => {
        const Tv = T.map((row) => dot(row, v));
        assert.ok(diffNorm(Tv, v.map((x) => x * values[k])) <= 1e-12 * scale, `residual of pair ${k}`);
        vectors.forEach((w, j) => assert.ok(Math.abs(dot(v, w) - (j === k ? 1 : 0)) <= 1e-12, `⟨v${k}, v${j}⟩`));
      });
    }),
    { numRuns: 60 },
  );
});

/** H = Q·diag(λ)·Qᵀ with a random orthogonal Q (Householder product) and a chosen spectrum. */
function matrixWithSpectrum(lambdas: number[], seed: number): { hvp: (v: Float64Array) => Promise<Float64Array>; dense: Float64Array[] } {
  const n = lambdas.length;
  const dense = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? lambdas[i] : 0)));
  for (let h = 0; h < 3; h++) {
    const u = Float64Array.from(randomF32(seed + h, n, -1, 1));
    const c = 2 / dot(u, u); // H ← (I − c·uuᵀ) H (I − c·uuᵀ)
    const Hu = dense.map((row) => dot(row, u));
    const uHu = dot(u, Hu);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dense[i][j] += -c * u[i] * Hu[j] - c * Hu[i] * u[j] + c * c * uHu * u[i] * u[j];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) dense[i][j] = dense[j][i] = 0.5 * (dense[i][j] + dense[j][i]);
  return { dense, hvp: async (v) => Float64Array.from(dense, (row) => dot(row, v)) };
}

test('both methods find λ_max and λ_min of a known spectrum (crowded bottom, like a Hessian) within tol', async () => {
  const n = 60;
  // A few outliers at the top, a bulk near 0 and a small negative tail (Yunis Fig. 4 shape).
  const lambdas = Array.from({ length: n }, (_, i) => (i < 3 ? 10 - 2 * i : i < 6 ? -0.5 + 0.05 * (i - 3) : 0.01 * Math.sin(i)));
  const { hvp, dense } = matrixWithSpectrum(lambdas, 3);
  const want = symmetricEigenvalues(dense);
  const [wMin, wMax] = [want[0], want[n - 1]];
  assert.ok(Math.abs(wMax - 10) < 1e-10 && Math.abs(wMin - -0.5) < 1e-10, 'the oracle sees the designed spectrum');
  for (const method of ['lanczos', 'power'] as const) {
    const tol = 1e-4;
    const r = await extremeEigenvalues(hvp, n, { method, tol, maxIter: method === 'lanczos' ? 60 : 5000, seed: 1 });
    assert.ok(r.converged, `${method} converged (relative residuals ${JSON.stringify(r.relativeResiduals)})`);
    // |θ − λ| ≤ ‖r‖ ≤ tol·ρ (max end) and ≤ tol·(λ_max − λ_min) (min end).
    assert.ok(Math.abs(r.lambdaMax - wMax) <= tol * wMax, `${method} λ_max ${r.lambdaMax} vs ${wMax}`);
    assert.ok(Math.abs(r.lambdaMin - wMin) <= tol * (wMax - wMin), `${method} λ_min ${r.lambdaMin} vs ${wMin}`);
    assert.equal(r.ratio, r.lambdaMin / r.lambdaMax);
  }
  // A 5-dimensional operator is exhausted after 5 Lanczos steps: exact up to the f32 basis
  // (unit roundoff 6e-8, the documented floor), converged, 5 + 2 HVPs.
  const small = matrixWithSpectrum([3, 1, 0, -1, -2], 9);
  const r = await extremeEigenvalues(small.hvp, 5, { tol: 1e-6 });
  assert.ok(r.converged && r.iterations === 5 && r.hvps === 7, JSON.stringify(r));
  assert.ok(Math.abs(r.lambdaMax - 3) < 1e-6 && Math.abs(r.lambdaMin + 2) < 1e-6, JSON.stringify(r));
});

test('bad options are refused naming the option and the valid values', async () => {
  const { hvp } = matrixWithSpectrum([1, 2], 1);
  await assert.rejects(extremeEigenvalues(hvp, 2, { tol: 0 }), /E_ARG: hessianEigenvalues: tol must be in \(0, 1\)/);
  await assert.rejects(extremeEigenvalues(hvp, 2, { maxIter: 0 }), /E_ARG: .*maxIter must be an integer ≥ 1/);
  await assert.rejects(extremeEigenvalues(hvp, 2, { method: 'arnoldi' as 'power' }), /unknown method 'arnoldi'; valid: lanczos, power/);
  await withTiny(16, async (d) => {
    await assert.rejects(
      d.hvp(new Float64Array(3)),
      /E_SHAPE: DatasetDerivatives.hvp: direction has 3 entries, model tanh-mlp has 115 parameters/,
    );
  });
  assert.throws(
    () => new DatasetDerivatives(be, tiny, tinyWeights.slice(1), tinySplit),
    /E_SHAPE: DatasetDerivatives: 5 weight arrays for 6 parameters/,
  );
});

// ---------- the tiny MLP: explicit Hessian and its eigenvalues ----------

test('tiny tanh MLP (115 parameters, 16 examples): dataset loss and gradient match the f64 oracle', async () => {
  const [loss, g] = await withTiny(5, async (d) => [await d.loss(), await d.gradient()] as const);
  const want = oracleLoss(oracleTheta);
  assert.ok(Math.abs(loss - want) <= 1e-6 * want, `loss ${loss} vs oracle ${want}`);
  const wantG = gradientFd(oracleLoss, oracleTheta);
  const scale = Math.max(...wantG.map(Math.abs));
  g.forEach((x, i) => assert.ok(Math.abs(x - wantG[toOracle[i]]) <= GRAD_RTOL * scale, `gradient ${i}: ${x} vs ${wantG[toOracle[i]]}`));
});

test('tiny tanh MLP: Hessian from HVP columns = hessianFd of the oracle; Lanczos and power λ_max/λ_min = Jacobi eigenvalues', async () => {
  assert.ok(tiny.parameterCount <= 200, `${tiny.parameterCount} parameters`);
  const n = tiny.parameterCount;
  const { cols, lanczos, power } = await withTiny(16, async (d) => ({
    cols: await explicitHessian(d),
    lanczos: await extremeEigenvalues((v) => d.hvp(v), n, { tol: 1e-5, maxIter: n, seed: 3 }),
    power: await extremeEigenvalues((v) => d.hvp(v), n, { method: 'power', tol: 1e-4, maxIter: 20000, seed: 3 }),
  }));
  const fd = hessianFd(oracleLoss, oracleTheta);
  const scale = Math.max(...fd.map((row) => Math.max(...row.map(Math.abs))));
  const H = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => 0.5 * (cols[j][i] + cols[i][j])));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      assert.ok(Math.abs(cols[j][i] - cols[i][j]) <= HVP_ROUNDING * scale, `H[${i}][${j}] − H[${j}][${i}] = ${cols[j][i] - cols[i][j]}`);
      const want = fd[toOracle[i]][toOracle[j]];
      assert.ok(Math.abs(cols[j][i] - want) <= HVP_ROUNDING * scale, `H[${i}][${j}] = ${cols[j][i]}, finite differences ${want}`);
    }
  }
  const eigHvp = symmetricEigenvalues(H);
  const eigFd = symmetricEigenvalues(fd);
  const [minH, maxH, minF, maxF] = [eigHvp[0], eigHvp[n - 1], eigFd[0], eigFd[n - 1]];
  const rho = Math.max(maxF, -minF);
  assert.ok(minF < 0 && maxF > 0, `an indefinite Hessian makes λ_min a real test (λ_min ${minF}, λ_max ${maxF})`);
  // Weyl: eigenvalues move by at most ‖ΔH‖₂ (measured entry gap ≈ 2e-7 of the scale).
  assert.ok(
    Math.abs(maxH - maxF) <= HVP_ROUNDING * rho && Math.abs(minH - minF) <= HVP_ROUNDING * rho,
    `HVP matrix [${minH}, ${maxH}] vs FD [${minF}, ${maxF}]`,
  );
  for (const [name, r, tol] of [['lanczos', lanczos, 1e-5], ['power', power, 1e-4]] as const) {
    assert.ok(r.converged, `${name}: ${JSON.stringify(r.relativeResiduals)} after ${r.iterations} iterations`);
    // The residual bound |θ − λ| ≤ ‖r‖ ≤ tol·scale, plus the HVP's own rounding.
    assert.ok(Math.abs(r.lambdaMax - maxH) <= (tol + HVP_ROUNDING) * rho, `${name} λ_max ${r.lambdaMax} vs Jacobi ${maxH}`);
    assert.ok(Math.abs(r.lambdaMin - minH) <= (tol + HVP_ROUNDING) * (maxH - minH), `${name} λ_min ${r.lambdaMin} vs Jacobi ${minH}`);
    assert.ok(
      Math.abs(r.lambdaMax - maxF) <= (tol + 2 * HVP_ROUNDING) * rho && Math.abs(r.lambdaMin - minF) <= (tol + 2 * HVP_ROUNDING) * rho,
      `${name} vs the finite-difference Hessian`,
    );
  }
  assert.ok(lanczos.hvps < power.hvps, `Lanczos used ${lanczos.hvps} HVPs, power iteration ${power.hvps}`);
});

// ---------- batch independence, linearity, symmetry ----------

test('dataset loss, gradient and HVP do not depend on the batch size (7, 16, 1 rows)', async () => {
  const v = Float64Array.from(randomF32(21, tiny.parameterCount, -1, 1));
  const run = (batch: number) => withTiny(batch, async (d) => ({ loss: await d.loss(), g: await d.gradient(), hv: await d.hvp(v) }));
  const ref = await run(16);
  for (const batch of [7, 1]) {
    const r = await run(batch);
    assert.ok(Math.abs(r.loss - ref.loss) <= 1e-6 * ref.loss, `loss ${r.loss} vs ${ref.loss}`);
    assert.ok(diffNorm(r.g, ref.g) <= 1e-6 * norm(ref.g), `gradient, batch ${batch}: relative ${diffNorm(r.g, ref.g) / norm(ref.g)}`);
    assert.ok(diffNorm(r.hv, ref.hv) <= 1e-6 * norm(ref.hv), `HVP, batch ${batch}: relative ${diffNorm(r.hv, ref.hv) / norm(ref.hv)}`);
  }
});

test('property: H(a·v + w) = a·Hv + Hw and vᵀHw = wᵀHv', async () => {
  await withTiny(7, async (d) => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: -3, max: 3, noNaN: true }), fc.nat(), fc.nat(), async (a, sv, sw) => {
        const v = Float64Array.from(randomF32(sv, d.dim, -1, 1));
        const w = Float64Array.from(randomF32(sw + 1e6, d.dim, -1, 1));
        const [Hv, Hw, Hc] = [await d.hvp(v), await d.hvp(w), await d.hvp(v.map((x, i) => a * x + w[i]))];
        const lin = Hv.map((x, i) => a * x + Hw[i]);
        assert.ok(diffNorm(Hc, lin) <= HVP_ROUNDING * (Math.abs(a) * norm(Hv) + norm(Hw)), `linearity: ${diffNorm(Hc, lin)}`);
        const [lhs, rhs] = [dot(v, Hw), dot(w, Hv)];
        assert.ok(Math.abs(lhs - rhs) <= HVP_ROUNDING * (norm(v) * norm(Hw) + norm(w) * norm(Hv)), `vᵀHw = ${lhs}, wᵀHv = ${rhs}`);
      }),
      { numRuns: 25 },
    );
  });
});

test('flat vectors are in the canonical order (the concatenation of model.params)', () => {
  const flat = flattenWeights(tiny, tinyWeights);
  assert.deepEqual(Array.from(flat), Array.from(Float64Array.from(tinyWeights.flatMap((w) => Array.from(w)))));
  assert.deepEqual(unflattenWeights(tiny, flat), tinyWeights);
});

// ---------- mlp-2 on MNIST ----------

test('mlp-2 (width 64) on 1 000 MNIST digits: λ_max and λ_min agree across start-vector seeds within tol', async () => {
  const data = await loadDataset('mnist', nodeFileStore());
  const model = createModel('mlp-2', 784, 10, { width: 64 });
  const loader = new BatchLoader(data.train, data.inputShape, { batchSize: 64, orderSeed: 0 });
  const config = trainConfigOf(FORK_DEFAULTS, loader.stepsPerEpoch, 100);
  const state = stateFromWeights(be, model, model.init(0), config);
  await trainSteps(be, model, state, loader, 100, config);
  const weights = await readWeights(state);
  disposeState(state);
  const subset = subsetOf(data.train, 1000);
  assert.equal(subset.n, 1000);
  const d = new DatasetDerivatives(be, model, weights, subset, { batch: 300 });
  const tol = 1e-3;
  try {
    const runs = [];
    for (const seed of [0, 1, 2]) runs.push(await extremeEigenvalues((v) => d.hvp(v), d.dim, { tol, seed }));
    for (const r of runs) assert.ok(r.converged, `seed ${r.seed}: ${JSON.stringify(r.relativeResiduals)} after ${r.iterations}`);
    const [r0] = runs;
    assert.ok(r0.lambdaMax > 0 && r0.lambdaMin < 0, `λ_max ${r0.lambdaMax}, λ_min ${r0.lambdaMin}`);
    for (const r of runs.slice(1)) {
      // Each is within tol·scale of an eigenvalue, so two runs differ by at most twice that.
      assert.ok(Math.abs(r.lambdaMax - r0.lambdaMax) <= 2 * tol * r0.lambdaMax, `λ_max ${r.lambdaMax} vs ${r0.lambdaMax}`);
      assert.ok(Math.abs(r.lambdaMin - r0.lambdaMin) <= 2 * tol * (r0.lambdaMax - r0.lambdaMin), `λ_min ${r.lambdaMin} vs ${r0.lambdaMin}`);
    }
    // The dataset loss agrees with an independent evaluation through datasetLoss at another batch size.
    assert.ok(Math.abs((await d.loss()) - (await datasetLoss(be, model, weights, subset, { batch: 1000 }))) <= 1e-6);
  } finally {
    d.dispose();
  }
});

// ---------- non-convergence ----------

test('a capped iteration reports converged: false with its residual (both methods)', async () => {
  await withTiny(16, async (d) => {
    for (const method of ['lanczos', 'power'] as const) {
      const r = await extremeEigenvalues((v) => d.hvp(v), d.dim, { method, maxIter: 2, tol: 1e-9 });
      assert.equal(r.converged, false, method);
      assert.ok(r.iterations <= 4, `${method}: ${r.iterations} iterations`);
      for (const end of ['max', 'min'] as const) {
        assert.ok(Number.isFinite(r.residuals[end]) && r.residuals[end] > 0, `${method} residual ${end} ${r.residuals[end]}`);
      }
      assert.ok(r.relativeResiduals.max > 1e-9 || r.relativeResiduals.min > 1e-9);
    }
  });
});
