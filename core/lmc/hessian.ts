/**
 * Extreme Hessian eigenvalues λ_max, λ_min and their ratio (docs/metrics.md#second-order; Yunis et al. Fig. 4,
 * App. B) from Hessian-vector products only.
 *
 * Methods:
 * - `lanczos` (default): Lanczos with full reorthogonalisation (classical Gram–Schmidt,
 *   a second pass when the first removes much: "twice is enough"). Krylov spaces are
 *   shift-invariant, so the Lanczos run on H and one on docs/metrics.md's H − λ_max·I are the same
 *   run; λ_min is the smallest Ritz value of the same tridiagonal matrix. Its convergence
 *   depends on √gap instead of the gap, which matters at the bottom of a Hessian spectrum
 *   where the smallest eigenvalues crowd together.
 * - `power`: the paper's method (Li et al.): power iteration gives the dominant
 *   eigenvalue μ1, then power iteration on H − μ1·I gives the other end. Its factor per
 *   step on the shifted matrix is (λ_max − λ_min,2)/(λ_max − λ_min), close to 1 when the
 *   lowest eigenvalues are near each other.
 * Measured (mlp-2 width 64, 1 000 MNIST digits, 300 SGD steps, tol 1e-3): Lanczos 25–28
 * HVPs, power iteration 238–340 HVPs for the same two eigenvalues.
 *
 * Convergence is judged by residuals of unit Ritz vectors y, r = ‖H·y − θ·y‖, which bound
 * the distance from θ to an eigenvalue of H (|θ − λ| ≤ r for symmetric H):
 *   λ_max: r ≤ tol·ρ with ρ = max(|λ_max|, |λ_min|) (= |λ_max| in the usual case λ_max ≥ |λ_min|);
 *   λ_min: r ≤ tol·(λ_max − λ_min), i.e. relative to the eigenvalue the shifted problem
 *          H − λ_max·I computes. So the ratio λ_min/λ_max is accurate to about ±tol.
 * The residuals reported are always recomputed with a true HVP of the final Ritz vectors
 * (2 extra HVPs for Lanczos), never the Lanczos estimate |β·s_k|, which ignores the
 * rounding of the f32 HVPs. A run that misses the tolerance reports converged: false.
 *
 * Arithmetic on the host is f64 with + − × ÷ and sqrt only (correctly rounded), so results
 * are identical in every runtime. The Lanczos basis is stored in f32, halving memory
 * (maxIter · parameters · 4 bytes: 163 MB for mlp-2 width 512 at 100 steps): a dataset HVP
 * rounds its direction to f32 anyway, so f64 storage would not be more accurate. Hence
 * relative residuals below ~1e-6 are out of reach (measured floor ≈ 2e-7 on MLP Hessians).
 */
import { argError } from '../errors.ts';
import { rngStream } from '../rng.ts';

export type HvpFn = (v: Float64Array) => Promise<Float64Array>;

export const EIGEN_METHODS = ['lanczos', 'power'] as const;
export type EigenMethod = (typeof EIGEN_METHODS)[number];

export interface EigenOptions {
  /** Relative residual tolerance (see the module comment); default 1e-3. */
  tol?: number;
  /** Lanczos steps, or power iterations per phase; default 100. */
  maxIter?: number;
  /** Seed of the start vector(s) (rngStream(seed, 'hessian/start…').normals). */
  seed?: number;
  method?: EigenMethod;
}

export const EIGEN_DEFAULTS = { tol: 1e-3, maxIter: 100, seed: 0, method: 'lanczos' as EigenMethod };

export interface ExtremeEigenvalues {
  lambdaMax: number;
  lambdaMin: number;
  /** λ_min / λ_max (Yunis Fig. 4). */
  ratio: number;
  /** True when both ends met the tolerance; otherwise the values are unconverged estimates. */
  converged: boolean;
  /** Lanczos steps, or power iterations of both phases. */
  iterations: number;
  /** Hessian-vector products spent, verification included. */
  hvps: number;
  /** ‖H·y − λ·y‖ of the unit Ritz vectors, from true HVPs. */
  residuals: { max: number; min: number };
  /** residuals.max / ρ and residuals.min / (λ_max − λ_min): what `tol` bounds. */
  relativeResiduals: { max: number; min: number };
  method: EigenMethod;
  tol: number;
  maxIter: number;
  seed: number;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));

function startVector(dim: number, seed: number, stream: string): Float64Array {
  const v = Float64Array.from(rngStream(seed, stream).normals(dim));
  const n = norm(v);
  for (let i = 0; i < dim; i++) v[i] /= n;
  return v;
}

/** ‖w − θ·v‖. */
function residualNorm(w: Float64Array, theta: number, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += (w[i] - theta * v[i]) ** 2;
  return Math.sqrt(s);
}

/** r / scale, with 0/0 = 0 (an exactly zero Hessian has converged). */
function relative(r: number, scale: number): number {
  return scale > 0 ? r / scale : r === 0 ? 0 : Infinity;
}

function checkOptions(dim: number, o: EigenOptions): Required<EigenOptions> {
  const { tol, maxIter, seed, method } = { ...EIGEN_DEFAULTS, ...o };
  if (!Number.isSafeInteger(dim) || dim < 1) argError('hessianEigenvalues', `dimension must be an integer ≥ 1, got ${dim}`);
  if (!(tol > 0 && tol < 1)) argError('hessianEigenvalues', `tol must be in (0, 1), got ${tol}`);
  if (!Number.isSafeInteger(maxIter) || maxIter < 1) argError('hessianEigenvalues', `maxIter must be an integer ≥ 1, got ${maxIter}`);
  if (!Number.isSafeInteger(seed) || seed < 0) argError('hessianEigenvalues', `seed must be an integer ≥ 0, got ${seed}`);
  if (!(EIGEN_METHODS as readonly string[]).includes(method)) {
    argError('hessianEigenvalues', `unknown method '${method}'; valid: ${EIGEN_METHODS.join(', ')}`);
  }
  return { tol, maxIter, seed, method };
}

/** λ_max, λ_min and their ratio of the symmetric operator `hvp` on R^dim. */
export async function extremeEigenvalues(hvp: HvpFn, dim: number, options: EigenOptions = {}): Promise<ExtremeEigenvalues> {
  const o = checkOptions(dim, options);
  const r = o.method === 'lanczos' ? await lanczos(hvp, dim, o) : await powerPair(hvp, dim, o);
  const rho = Math.max(Math.abs(r.max), Math.abs(r.min));
  const relativeResiduals = { max: relative(r.resMax, rho), min: relative(r.resMin, r.max - r.min > 0 ? r.max - r.min : rho) };
  return {
    lambdaMax: r.max,
    lambdaMin: r.min,
    ratio: r.min / r.max,
    converged: relativeResiduals.max <= o.tol && relativeResiduals.min <= o.tol,
    iterations: r.iterations,
    hvps: r.hvps,
    residuals: { max: r.resMax, min: r.resMin },
    relativeResiduals,
    ...o,
  };
}

interface RawResult {
  max: number;
  min: number;
  resMax: number;
  resMin: number;
  iterations: number;
  hvps: number;
}

/** ⟨b, x⟩ for an f32 basis vector: monomorphic (mixed typed-array loops run ~2× slower in V8). */
function dot32(b: Float32Array, x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b[i] * x[i];
  return s;
}

/** x ← x − c·b. */
function subtract32(x: Float64Array, c: number, b: Float32Array): void {
  for (let i = 0; i < b.length; i++) x[i] -= c * b[i];
}

async function lanczos(hvp: HvpFn, dim: number, o: Required<EigenOptions>): Promise<RawResult> {
  const steps = Math.min(o.maxIter, dim); // a Krylov space cannot exceed the dimension
  const basis: Float32Array[] = [Float32Array.from(startVector(dim, o.seed, 'hessian/start'))];
  const alpha: number[] = [];
  const beta: number[] = []; // beta[j] couples q_j and q_{j+1}
  let hvps = 0;
  let verifyAt = 0; // after a failed verification, the next one waits until k ≥ 1.5·k
  let best: RawResult | null = null;
  for (let k = 1; k <= steps; k++) {
    const q = basis[k - 1];
    const w = await hvp(Float64Array.from(q));
    hvps++;
    const a = dot32(q, w);
    alpha.push(a);
    subtract32(w, a, q);
    if (k > 1) subtract32(w, beta[k - 2], basis[k - 2]);
    // Full reorthogonalisation (classical Gram–Schmidt); a second pass only when the first
    // removed a large component (‖w‖ fell below 1/√2 of itself: Daniel–Gragg–Kaufman–Stewart).
    // Measured on mlp-2 width 512: the host work per step drops from ~4k·P to ~2k·P flops.
    for (let pass = 0; pass < 2; pass++) {
      const before = norm(w);
      for (const b of basis) subtract32(w, dot32(b, w), b);
      if (norm(w) >= Math.SQRT1_2 * before) break;
    }
    const b = norm(w);
    const { values, vectors } = tridiagonalEigen(alpha, beta);
    const [lo, hi] = [0, k - 1];
    const rho = Math.max(Math.abs(values[lo]), Math.abs(values[hi]));
    const spread = values[hi] - values[lo] > 0 ? values[hi] - values[lo] : rho;
    // Invariant subspace (β ≈ 0) or a full basis: the Ritz values are exact eigenvalues.
    const exhausted = b <= 1e-10 * Math.max(rho, Number.MIN_VALUE) || k === dim;
    const estMax = exhausted ? 0 : b * Math.abs(vectors[hi][k - 1]);
    const estMin = exhausted ? 0 : b * Math.abs(vectors[lo][k - 1]);
    const estimateOk = estMax <= o.tol * rho && estMin <= o.tol * spread;
    if ((estimateOk && k >= verifyAt) || exhausted || k === steps) {
      const yMax = ritzVector(basis, vectors[hi]);
      const yMin = ritzVector(basis, vectors[lo]);
      const resMax = residualNorm(await hvp(yMax), values[hi], yMax);
      const resMin = residualNorm(await hvp(yMin), values[lo], yMin);
      hvps += 2;
      best = { max: values[hi], min: values[lo], resMax, resMin, iterations: k, hvps };
      if ((resMax <= o.tol * rho && resMin <= o.tol * spread) || exhausted) return best;
      verifyAt = Math.ceil(1.5 * k);
    }
    beta.push(b);
    const next = new Float32Array(dim);
    for (let i = 0; i < dim; i++) next[i] = w[i] / b;
    basis.push(next);
  }
  return best!;
}

/** y = Q·s, normalised (f64). */
function ritzVector(basis: readonly Float32Array[], s: Float64Array): Float64Array {
  const y = new Float64Array(basis[0].length);
  basis.forEach((b, j) => {
    const c = s[j];
    for (let i = 0; i < y.length; i++) y[i] += c * b[i];
  });
  const n = norm(y);
  for (let i = 0; i < y.length; i++) y[i] /= n;
  return y;
}

/** Power iteration on H − shift·I from a unit start vector: its dominant eigenvalue (+ shift). */
async function power(hvp: HvpFn, dim: number, shift: number, stream: string, o: Required<EigenOptions>) {
  let v = startVector(dim, o.seed, stream);
  let result = { theta: 0, residual: Infinity, iterations: 0 };
  for (let k = 1; k <= o.maxIter; k++) {
    const w = await hvp(v);
    if (shift !== 0) { for (let i = 0; i < dim; i++) w[i] -= shift * v[i]; }
    const mu = dot(v, w);
    const r = residualNorm(w, mu, v);
    result = { theta: mu + shift, residual: r, iterations: k };
    const n = norm(w);
    if (r <= o.tol * Math.abs(mu) || n === 0) break;
    v = Float64Array.from(w, (x) => x / n);
  }
  return result;
}

async function powerPair(hvp: HvpFn, dim: number, o: Required<EigenOptions>): Promise<RawResult> {
  const first = await power(hvp, dim, 0, 'hessian/start', o);
  const second = await power(hvp, dim, first.theta, 'hessian/start-shifted', o);
  const iterations = first.iterations + second.iterations;
  const [hi, lo] = first.theta >= second.theta ? [first, second] : [second, first];
  return { max: hi.theta, min: lo.theta, resMax: hi.residual, resMin: lo.residual, iterations, hvps: iterations };
}

/**
 * Eigen-decomposition of the symmetric tridiagonal matrix with diagonal `d` and
 * off-diagonal `e` (e[i] couples i and i+1; length d.length − 1 or more, extra ignored),
 * by implicit QL with Wilkinson-style shifts (EISPACK tql2, as in JAMA). Values ascending;
 * `vectors[j]` is the unit eigenvector of values[j].
 */
export function tridiagonalEigen(d: readonly number[], e: readonly number[]): { values: Float64Array; vectors: Float64Array[] } {
  const n = d.length;
  const dd = Float64Array.from(d);
  const ee = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) ee[i] = e[i];
  const V = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  const hyp = (a: number, b: number) => Math.sqrt(a * a + b * b);
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(dd[l]) + Math.abs(ee[l]));
    let m = l;
    while (m < n - 1 && Math.abs(ee[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0;; iter++) {
        if (iter > 60) argError('tridiagonalEigen', 'QL iteration did not converge');
        let g = dd[l];
        let p = (dd[l + 1] - g) / (2 * ee[l]);
        let r = hyp(p, 1);
        if (p < 0) r = -r;
        dd[l] = ee[l] / (p + r);
        dd[l + 1] = ee[l] * (p + r);
        const dl1 = dd[l + 1];
        let h = g - dd[l];
        for (let i = l + 2; i < n; i++) dd[i] -= h;
        f += h;
        p = dd[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = ee[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * ee[i];
          h = c * p;
          r = hyp(p, ee[i]);
          ee[i + 1] = s * r;
          s = ee[i] / r;
          c = p / r;
          p = c * dd[i] - s * g;
          dd[i + 1] = h + s * (c * g + s * dd[i]);
          for (let k = 0; k < n; k++) {
            h = V[k][i + 1];
            V[k][i + 1] = s * V[k][i] + c * h;
            V[k][i] = c * V[k][i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * ee[l]) / dl1;
        ee[l] = s * p;
        dd[l] = c * p;
        if (!(Math.abs(ee[l]) > eps * tst1)) break;
      }
    }
    dd[l] += f;
    ee[l] = 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dd[a] - dd[b]);
  return {
    values: Float64Array.from(order, (j) => dd[j]),
    vectors: order.map((j) => Float64Array.from(V, (row) => row[j])),
  };
}
