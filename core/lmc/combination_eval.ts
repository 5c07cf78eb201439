/**
 * Evaluation of many parameter vectors that are linear combinations of a few basis
 * networks, θ = Σ_k c_k·θ_k (per parameter tensor if wanted): α points on a path, convex
 * hull samples, points of a loss surface, layer-wise interpolations. All points are
 * evaluated on each minibatch while it is resident, and when the model's first layer is
 * linear in its weights, X·W_kᵀ is computed once per basis network and mixed per point
 * (X·(Σ c_k W_k)ᵀ = Σ c_k X·W_kᵀ up to f32 rounding): for an MLP on images that layer is
 * most of the cost, so P points cost about K first-layer products instead of P
 * (docs/design.md#batched-evaluation). Losses and accuracies are summed in f64 on the host.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { argError, RidgelineError } from '../errors.ts';
import { hasBuffers, type Model } from '../nn/model.ts';
import { recomputeBatchNorm, type ResetBnOptions } from './reset_bn.ts';
import { evalRows } from '../nn/footprint.ts';
import { exp, log } from '../portable_math.ts';
import { fromArray, keep, type Tensor, tidy } from '../tensor.ts';

/** Coefficients over the basis networks: one list for all tensors, or one list per tensor. */
export type Coefficients = readonly number[] | readonly (readonly number[])[];

export interface PointResult {
  loss: number;
  error: number;
  /** 1 where the point classifies the example correctly (only with `keepCorrect`). */
  correct?: Uint8Array;
}

export interface CombinationOptions {
  batch?: number;
  keepCorrect?: boolean;
  /**
   * Pairs (i, j) of points for which to return the mean cross-entropy H(p_i, p_j) (for a
   * regression: the mean squared difference of their outputs).
   */
  crossEntropyPairs?: readonly (readonly [number, number])[];
  /** Recompute batch-norm statistics of every point on training data instead of interpolating them. */
  resetBn?: ResetBnOptions;
}

export interface CombinationResult {
  points: PointResult[];
  /** Mean H(p_i, p_j) per requested pair, in the order requested. */
  crossEntropies: number[];
}

/**
 * Σ c_k t_k with exact special cases: a single coefficient 1 (the others 0) gives that
 * tensor itself, and two coefficients (1 − α, α) use a + α(b − a) below α = ½ and
 * b + (1 − α)(a − b) above, so the ends of a path are exactly its endpoints and identical
 * endpoints give exactly themselves.
 */
export function combine(tensors: readonly Tensor[], coef: readonly number[]): Tensor {
  if (coef.length !== tensors.length) argError('combine', `${coef.length} coefficients for ${tensors.length} tensors`);
  const nonzero = coef.map((c, k) => [c, k] as const).filter(([c]) => c !== 0);
  if (nonzero.length === 1 && nonzero[0][0] === 1) return tensors[nonzero[0][1]];
  if (coef.length === 2 && coef[0] === 1 - coef[1]) {
    const [a, b] = tensors;
    const alpha = coef[1];
    return alpha <= 0.5 ? ag.add(a, ag.scale(ag.sub(b, a), alpha)) : ag.add(b, ag.scale(ag.sub(a, b), 1 - alpha));
  }
  if (nonzero.length === 0) return ag.scale(tensors[0], 0);
  let acc = ag.scale(tensors[nonzero[0][1]], nonzero[0][0]);
  for (const [c, k] of nonzero.slice(1)) acc = ag.add(acc, ag.scale(tensors[k], c));
  return acc;
}

function coefOf(c: Coefficients, tensor: number): readonly number[] {
  return typeof c[0] === 'number' ? (c as readonly number[]) : (c as readonly (readonly number[])[])[tensor];
}

/**
 * Per-row log-softmax bookkeeping on the host, in f64, with the portable exp/log: V8
 * versions differ in the last bit of Math.exp/Math.log (Node 20 vs Chromium 156 on ~10 %
 * of inputs), and barrier curves must be identical in every runtime.
 */
function accumulate(
  z: Float32Array,
  y: Float32Array,
  rows: number,
  classes: number,
  start: number,
  out: { loss: number; right: number; correct?: Uint8Array },
  probs: Float64Array | null,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      if (z[o + c] > max) {
        max = z[o + c];
        arg = c;
      }
    }
    let s = 0;
    for (let c = 0; c < classes; c++) s += exp(z[o + c] - max);
    const lse = max + log(s);
    if (probs) { for (let c = 0; c < classes; c++) probs[o + c] = exp(z[o + c] - lse); }
    out.loss += lse - z[o + y[r]];
    const ok = arg === y[r];
    if (ok) out.right++;
    if (out.correct) out.correct[start + r] = ok ? 1 : 0;
  }
}

/** Squared errors of a regression's outputs (one row of `outputs` per example). */
function accumulateSquares(z: Float32Array, y: Float32Array, rows: number, outputs: number, out: { loss: number }): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < outputs; c++) {
      const d = z[r * outputs + c] - y[r * outputs + c];
      out.loss += d * d;
    }
  }
}

function squaredDistanceSum(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - q[i]) ** 2;
  return s;
}

/** Σ over rows of H(p, q) = −Σ_c p_c log q_c, with q clamped away from 0. */
function crossEntropySum(p: Float64Array, q: Float64Array): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * log(Math.max(q[i], 1e-300));
  return h;
}

/**
 * Mixed parameter sets resident at once: 2^25 floats (128 MiB) of them. Beyond that the
 * points are evaluated in groups (each group re-reads the data and recomputes the K
 * first-layer products), so a 21 × 21 loss surface of a 400 K-parameter MLP fits.
 */
const RESIDENT_FLOATS = 2 ** 25;

export async function evaluateCombinations(
  backend: Backend,
  model: Model,
  basis: readonly Float32Array[][],
  points: readonly Coefficients[],
  split: Split,
  options: CombinationOptions = {},
): Promise<CombinationResult> {
  const group = Math.max(1, Math.floor(RESIDENT_FLOATS / Math.max(1, model.stateSize)));
  const pairs = options.crossEntropyPairs ?? [];
  if (points.length <= group || pairs.length > 0) return evaluateGroup(backend, model, basis, points, split, options);
  const results: PointResult[] = [];
  for (let start = 0; start < points.length; start += group) {
    results.push(...(await evaluateGroup(backend, model, basis, points.slice(start, start + group), split, options)).points);
  }
  return { points: results, crossEntropies: [] };
}

async function evaluateGroup(
  backend: Backend,
  model: Model,
  basis: readonly Float32Array[][],
  points: readonly Coefficients[],
  split: Split,
  options: CombinationOptions,
): Promise<CombinationResult> {
  const batch = evalRows(model, backend, options.batch ?? 1000);
  const pairs = options.crossEntropyPairs ?? [];
  const needProbs = new Set(pairs.flat());
  const classes = model.classes;
  const held = tidy(() =>
    ag.noGrad(() => {
      const base = basis.map((w) => model.params.map((p, i) => fromArray(backend, w[i], p.shape)));
      const reset = options.resetBn !== undefined && hasBuffers(model);
      // With reset BN every point gets buffers of its own (recomputed below), never a shared endpoint's.
      const mixed = points.map((c) =>
        model.params.map((p, i) => (reset && !p.trainable ? ag.scale(base[0][i], 0) : combine(base.map((b) => b[i]), coefOf(c, i))))
      );
      if (reset) mixed.forEach((ps) => recomputeBatchNorm(backend, model, ps, options.resetBn!));
      const all = new Set([...base.flat(), ...mixed.flat()]);
      all.forEach((t) => keep(t));
      return { base, mixed, all: [...all] };
    })
  );
  const acc = points.map(() => ({ loss: 0, right: 0, correct: options.keepCorrect ? new Uint8Array(split.n) : undefined }));
  const h = pairs.map(() => 0);
  try {
    for (let start = 0; start < split.n; start += batch) {
      const rows = Math.min(batch, split.n - start);
      const y = split.y.subarray(start, start + rows);
      const logits = tidy(() =>
        ag.noGrad(() => {
          const x = fromArray(backend, split.x.subarray(start * model.inputSize, (start + rows) * model.inputSize), [
            rows,
            model.inputSize,
          ]);
          const first = model.firstLayer;
          // Each point's forward runs in a scope of its own, so only one point's activations
          // are resident at a time (eleven vit-lite forwards on one batch held 4 GiB at once).
          if (!first) return points.map((_, k) => tidy(() => keep(model.forward(held.mixed[k], x))));
          const product = first.product ?? ((xs: Tensor, w: Tensor) => ag.matmul(xs, w, { transB: true }));
          const z = held.base.map((b) => product(x, b[first.weight]));
          return points.map((c, k) =>
            tidy(() => {
              let z1 = combine(z, coefOf(c, first.weight));
              if (first.bias !== null) z1 = ag.add(z1, held.mixed[k][first.bias]);
              return keep(model.forwardFromFirst(held.mixed[k], z1));
            })
          );
        })
      );
      const probs = new Map<number, Float64Array>();
      for (let k = 0; k < points.length; k++) {
        const z = await logits[k].data();
        logits[k].dispose();
        if (model.task === 'regression') {
          accumulateSquares(z, y, rows, classes, acc[k]);
          if (needProbs.has(k)) probs.set(k, Float64Array.from(z));
          continue;
        }
        const p = needProbs.has(k) ? new Float64Array(rows * classes) : null;
        accumulate(z, y, rows, classes, start, acc[k], p);
        if (p) probs.set(k, p);
      }
      const pairTerm = model.task === 'regression' ? squaredDistanceSum : crossEntropySum;
      pairs.forEach(([i, j], n) => (h[n] += pairTerm(probs.get(i)!, probs.get(j)!)));
    }
  } finally {
    held.all.forEach((t) => t.dispose());
  }
  // Regression: the loss is the MSE and the "error" its square root (RMSE), so error barriers stay meaningful.
  const errorOf = (a: (typeof acc)[number]) => (model.task === 'regression' ? Math.sqrt(a.loss / split.n) : 1 - a.right / split.n);
  const results = acc.map((a) => ({ loss: a.loss / split.n, error: errorOf(a), ...(a.correct ? { correct: a.correct } : {}) }));
  const bad = results.findIndex((r) => !Number.isFinite(r.loss));
  if (bad >= 0) {
    throw new RidgelineError('E_DIVERGED', `loss of evaluated point ${bad} is ${results[bad].loss}: the networks' weights are not finite`);
  }
  return { points: results, crossEntropies: h.map((v) => v / split.n) };
}
