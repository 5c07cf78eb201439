/**
 * Singular values of a few stacked parameter vectors (docs/metrics.md#convex-hulls: the P × d matrix W of hull
 * endpoints, d up to millions) through the P × P Gram matrix: σ_k(W) = √λ_k(W·Wᵀ). One
 * pass over the d coordinates builds both the raw Gram matrix and the Gram matrix of the
 * centered rows (rows minus their mean, rank ≤ P − 1), in f64; the small symmetric
 * eigenproblem is then solved by cyclic Jacobi rotations, which are accurate to a few ulps
 * of ‖G‖ and need no library.
 *
 * Accuracy: squaring costs precision at the bottom of the spectrum — an eigenvalue is known
 * to about ε64·λ_max, so σ_k is resolved down to about √ε64·σ_max ≈ 1.5e-8·σ_max. That is
 * why `numericalRank` counts σ above 1e-6·σ_max, well clear of that floor.
 *
 * The centered Gram matrix is accumulated from (w_i − mean) per coordinate rather than
 * derived as (I − 11ᵀ/P)·G·(I − 11ᵀ/P): endpoints of a hull are far from the origin
 * (‖W‖ ≫ ‖W_i − W_k‖), and the projected form would lose the spread to cancellation.
 */
import { shapeError } from '../errors.ts';

export interface StackedGram {
  /** Number of stacked rows P. */
  size: number;
  /** G_ik = ⟨W_i, W_k⟩, row-major P × P, f64. */
  raw: Float64Array;
  /** ⟨W_i − W̄, W_k − W̄⟩ with W̄ the mean row, row-major P × P, f64. */
  centered: Float64Array;
}

/** Checks that every row has the same tensors with the same lengths as row 0. */
export function checkStackable(op: string, rows: readonly (readonly Float32Array[])[]): void {
  if (rows.length === 0) shapeError(op, 'needs at least one parameter vector');
  const first = rows[0];
  rows.forEach((row, i) => {
    if (row.length !== first.length) shapeError(op, `vector ${i} has ${row.length} tensors, vector 0 has ${first.length}`);
    row.forEach((t, k) => {
      if (t.length !== first[k].length) {
        shapeError(op, `tensor ${k} of vector ${i} has ${t.length} values, vector 0 has ${first[k].length}`, [t.length], [first[k].length]);
      }
    });
  });
}

/** Raw and centered Gram matrices of the stacked rows (each row: a network's tensors). */
export function stackedGram(rows: readonly (readonly Float32Array[])[]): StackedGram {
  checkStackable('stackedGram', rows);
  const p = rows.length;
  const raw = new Float64Array(p * p);
  const centered = new Float64Array(p * p);
  const x = new Float64Array(p);
  for (let t = 0; t < rows[0].length; t++) {
    const cols = rows.map((r) => r[t]);
    const len = cols[0].length;
    for (let j = 0; j < len; j++) {
      let mean = 0;
      for (let i = 0; i < p; i++) mean += cols[i][j];
      // A sum of P ≤ 2^29 f32 values is exact in f64, so identical rows give mean = row exactly
      // and a centered Gram matrix of exact zeros (a degenerate hull has distance exactly 0).
      mean /= p;
      for (let i = 0; i < p; i++) x[i] = cols[i][j];
      for (let i = 0; i < p; i++) {
        const xi = x[i];
        const ci = xi - mean;
        for (let k = i; k < p; k++) {
          raw[i * p + k] += xi * x[k];
          centered[i * p + k] += ci * (x[k] - mean);
        }
      }
    }
  }
  for (let i = 0; i < p; i++) {
    for (let k = 0; k < i; k++) {
      raw[i * p + k] = raw[k * p + i];
      centered[i * p + k] = centered[k * p + i];
    }
  }
  return { size: p, raw, centered };
}

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major n × n matrix, in the order of `values`. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix (row-major; only symmetry is assumed, the
 * input is not modified) by cyclic Jacobi rotations (Golub & Van Loan, Alg. 8.5.3). Sweeps
 * until the off-diagonal mass is below 1e-30 of the total (it converges quadratically, so
 * a handful of sweeps for n ≤ 100), capped at 100 sweeps.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isSafeInteger(n) || n < 1 || matrix.length !== n * n) {
    shapeError('symmetricEigen', `expected an n × n matrix, got ${matrix.length} values for n = ${n}`);
  }
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a_pq, with |t| ≤ 1 (the smaller root) for stability.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, k) => a[k * n + k] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/**
 * Singular values (descending) of the matrix whose Gram matrix is `gram` (n × n): √λ, with
 * the tiny negative eigenvalues that rounding gives a rank-deficient Gram matrix read as 0.
 */
export function singularValuesFromGram(gram: ArrayLike<number>, n: number): number[] {
  return [...symmetricEigen(gram, n).values].map((l) => Math.sqrt(Math.max(0, l)));
}

/** How many singular values exceed `relTol`·σ_max (0 for an all-zero matrix). */
export function numericalRank(sigmas: readonly number[], relTol = 1e-6): number {
  const max = Math.max(0, ...sigmas);
  return max === 0 ? 0 : sigmas.filter((s) => s > relTol * max).length;
}
