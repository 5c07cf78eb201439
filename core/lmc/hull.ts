/**
 * Convex mode connectivity of one hull of endpoints (docs/metrics.md#convex-hulls, Yunis et al. Algorithm 1):
 * J convex combinations W_conv = Σ a_i W_i with a ~ Dirichlet(1, …, 1), each compared with
 * its closest endpoint W_end and with a random point W_rand at the same distance from
 * W_end; the stacked endpoints' singular values; and the endpoints' correct sets for the
 * functional-diversity measures (`diversity`, across hulls).
 *
 * Randomness (all from the hull seed, one named stream per purpose, so that a sample does
 * not depend on how many others are drawn or how they are batched):
 * - a^j: the j-th draw of stream `<stream>/dirichlet` (sample j of a run with J samples is
 *   sample j of a run with more);
 * - ε^j: `normals(d)` of stream `<stream>/eps/<j>`, over the flat parameter vector in the
 *   canonical order (docs/models.md: layers in forward order, weight then bias).
 *
 * Choices where the paper is silent:
 * - ‖W_conv − W_i‖ comes from the centered Gram matrix, ‖Σ_k a_k W_k − W_i‖² =
 *   (a − e_i)ᵀ G_c (a − e_i), exact in f64 up to rounding and free of the cancellation of
 *   ‖W‖² terms; ties in the argmin go to the lowest index.
 * - A sample at distance exactly 0 from its endpoint (a degenerate hull) is evaluated as
 *   that endpoint: the f32 sum Σ a_i W_i of identical W_i is not bit-identical to W_i, and
 *   rounding must not turn a tie into a "lower loss" (I = 1[L < L_end] is strict).
 * - W_rand is materialised on the host in f32 and evaluated as it is, so the reported
 *   ‖W_rand − W_end‖ is that of the very vector whose loss is measured.
 * - std of the indicators is the population std √(p(1 − p)) (numpy's default), as the
 *   paper's error bars std(I^j).
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { argError, shapeError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import { rngStream } from '../rng.ts';
import { type Coefficients, evaluateCombinations } from './combination_eval.ts';
import { checkStackable, numericalRank, singularValuesFromGram, stackedGram } from './gram_svd.ts';

/** One j of Algorithm 1. */
export interface HullSample {
  /** Dirichlet weights over the P endpoints. */
  a: number[];
  /** Index of the closest endpoint W_end. */
  end: number;
  lossEnd: number;
  lossConv: number;
  lossRand: number;
  accuracyConv: number;
  accuracyRand: number;
  /** ‖W_conv − W_end‖ (f64, from the centered Gram matrix). */
  distanceConvEnd: number;
  /** ‖W_rand − W_end‖ measured on the f32 vector that was evaluated. */
  distanceRandEnd: number;
  /** I_conv = 1[L(W_conv) < L(W_end)], I_rand = 1[L(W_rand) < L(W_end)]. */
  conv: boolean;
  rand: boolean;
}

/** Mean and population std of 0/1 indicators. */
export interface Proportion {
  mean: number;
  std: number;
}

export interface HullMetrics {
  /** Train loss and accuracy of each endpoint. */
  endpointLoss: number[];
  endpointAccuracy: number[];
  pConv: Proportion;
  pRand: Proportion;
  /** Mean train accuracy / loss at the endpoints, the convex samples and the random samples. */
  accuracy: { endpoints: number; convex: number; random: number };
  loss: { endpoints: number; convex: number; random: number };
  /** Mean distances: over endpoint pairs i < k, and over samples. */
  distance: { endpointEndpoint: number; convEnd: number; randEnd: number };
  /** σ of the P × d stacked endpoints, and of the centered matrix (descending). */
  singularValues: number[];
  singularValuesCentered: number[];
  /** Counts of σ above 1e-6·σ_max. */
  rank: number;
  rankCentered: number;
  samples: HullSample[];
}

export interface HullOptions {
  samples: number;
  /** Seed and stream prefix of the hull's random draws (see the module comment). */
  seed: number;
  stream: string;
  /** Evaluation rows per batch. */
  batch?: number;
  /** Samples evaluated together (default: as many as fit in ~128 MB of networks). */
  chunk?: number;
  onChunk?: (done: number, total: number) => void;
}

export function proportion(flags: readonly boolean[]): Proportion {
  const p = flags.filter(Boolean).length / flags.length;
  return { mean: p, std: Math.sqrt(p * (1 - p)) };
}

/** The first `count` Dirichlet(1, …, 1) draws of dimension p from one stream. */
export function dirichletSamples(seed: number, stream: string, p: number, count: number): Float64Array[] {
  const rng = rngStream(seed, stream);
  return Array.from({ length: count }, () => rng.dirichlet(p));
}

/** ‖Σ_k a_k W_k − W_i‖ for every i, from the centered Gram matrix (p × p). */
export function convexDistances(centeredGram: ArrayLike<number>, p: number, a: ArrayLike<number>): number[] {
  if (a.length !== p || centeredGram.length !== p * p) {
    shapeError('convexDistances', `${a.length} weights for a ${p}-point hull with a ${centeredGram.length}-entry Gram matrix`);
  }
  return Array.from({ length: p }, (_, i) => {
    let s = 0;
    for (let r = 0; r < p; r++) {
      const ur = a[r] - (r === i ? 1 : 0);
      if (ur === 0) continue;
      for (let c = 0; c < p; c++) s += ur * (a[c] - (c === i ? 1 : 0)) * centeredGram[r * p + c];
    }
    return Math.sqrt(Math.max(0, s));
  });
}

/** Index of the smallest value (the first one on ties). */
export function argmin(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[best]) best = i;
  return best;
}

/**
 * W_end + (distance / ‖ε‖)·ε in f32 (one rounding per entry), with ε the flat normal vector
 * laid over the tensors in order; also returns ‖W_rand − W_end‖ of the rounded result.
 */
export function randomPoint(
  end: readonly Float32Array[],
  eps: Float32Array,
  distance: number,
): { weights: Float32Array[]; distance: number } {
  const d = end.reduce((s, t) => s + t.length, 0);
  if (eps.length !== d) shapeError('randomPoint', `ε has ${eps.length} values for ${d} parameters`, [eps.length], [d]);
  let norm = 0;
  for (let i = 0; i < d; i++) norm += eps[i] * eps[i];
  const scale = distance === 0 ? 0 : distance / Math.sqrt(norm);
  let off = 0;
  let measured = 0;
  const weights = end.map((t) => {
    const w = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) {
      w[i] = t[i] + scale * eps[off + i];
      const diff = w[i] - t[i];
      measured += diff * diff;
    }
    off += t.length;
    return w;
  });
  return { weights, distance: Math.sqrt(measured) };
}

const unit = (n: number, i: number) => Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Mean ‖W_i − W_k‖ over pairs i < k, from the centered Gram matrix. */
export function meanPairDistance(centeredGram: ArrayLike<number>, p: number): number {
  const ds: number[] = [];
  for (let i = 0; i < p; i++) {
    for (let k = i + 1; k < p; k++) {
      ds.push(Math.sqrt(Math.max(0, centeredGram[i * p + i] + centeredGram[k * p + k] - 2 * centeredGram[i * p + k])));
    }
  }
  return mean(ds);
}

/**
 * Algorithm 1 on the hull of `endpoints` (P networks, each its tensors in the model's
 * order), with losses on `split` (the train set). Returns the metrics and each endpoint's
 * per-example correct mask C_i (for `diversity`).
 */
export async function evaluateHull(
  backend: Backend,
  model: Model,
  endpoints: readonly Float32Array[][],
  split: Split,
  options: HullOptions,
): Promise<{ metrics: HullMetrics; correct: Uint8Array[] }> {
  const p = endpoints.length;
  const J = options.samples;
  if (p < 2) argError('evaluateHull', `a hull needs at least 2 endpoints, got ${p}`);
  if (!Number.isSafeInteger(J) || J < 1) argError('evaluateHull', `samples must be an integer ≥ 1, got ${J}`);
  checkStackable('evaluateHull', endpoints);
  endpoints.forEach((e, i) =>
    e.forEach((t, k) => {
      if (t.length !== model.params[k]?.size) {
        shapeError(
          'evaluateHull',
          `endpoint ${i} tensor ${k} has ${t.length} values; model ${model.description} needs ${model.params[k]?.size}`,
        );
      }
    })
  );
  if (endpoints[0].length !== model.params.length) {
    shapeError('evaluateHull', `endpoints have ${endpoints[0].length} tensors; model ${model.description} has ${model.params.length}`);
  }
  const evalOpts = { batch: options.batch };
  const gram = stackedGram(endpoints);
  const ends = await evaluateCombinations(backend, model, endpoints, endpoints.map((_, i) => unit(p, i)), split, {
    ...evalOpts,
    keepCorrect: true,
  });
  const endLoss = ends.points.map((r) => r.loss);
  const endAcc = ends.points.map((r) => 1 - r.error);

  const draws = dirichletSamples(options.seed, `${options.stream}/dirichlet`, p, J).map((a) => {
    const dist = convexDistances(gram.centered, p, a);
    const end = argmin(dist);
    return { a: [...a], end, distance: dist[end] };
  });
  const d = model.stateSize;
  // Every chunk recomputes the P endpoints' first-layer products, so large chunks save work;
  // a chunk holds about 2·chunk networks on the device: 2^24 floats·2 ≈ 128 MB at most.
  const chunk = Math.max(1, options.chunk ?? Math.min(J, Math.floor(2 ** 24 / d)));
  const samples: HullSample[] = [];
  for (let start = 0; start < J; start += chunk) {
    const here = draws.slice(start, start + chunk);
    const rand = here.map((s, c) =>
      randomPoint(endpoints[s.end], rngStream(options.seed, `${options.stream}/eps/${start + c}`).normals(d), s.distance)
    );
    const basis = [...endpoints, ...rand.map((r) => r.weights)];
    const width = basis.length;
    const conv: Coefficients[] = here.map((s) => (s.distance === 0 ? unit(width, s.end) : [...s.a, ...here.map(() => 0)]));
    const randCoef: Coefficients[] = here.map((_, c) => unit(width, p + c));
    const r = await evaluateCombinations(backend, model, basis, [...conv, ...randCoef], split, evalOpts);
    here.forEach((s, c) => {
      const rc = r.points[c];
      const rr = r.points[here.length + c];
      const lossEnd = endLoss[s.end];
      samples.push({
        a: s.a,
        end: s.end,
        lossEnd,
        lossConv: rc.loss,
        lossRand: rr.loss,
        accuracyConv: 1 - rc.error,
        accuracyRand: 1 - rr.error,
        distanceConvEnd: s.distance,
        distanceRandEnd: rand[c].distance,
        conv: rc.loss < lossEnd,
        rand: rr.loss < lossEnd,
      });
    });
    options.onChunk?.(samples.length, J);
  }
  const sv = singularValuesFromGram(gram.raw, p);
  const svc = singularValuesFromGram(gram.centered, p);
  const metrics: HullMetrics = {
    endpointLoss: endLoss,
    endpointAccuracy: endAcc,
    pConv: proportion(samples.map((s) => s.conv)),
    pRand: proportion(samples.map((s) => s.rand)),
    accuracy: {
      endpoints: mean(endAcc),
      convex: mean(samples.map((s) => s.accuracyConv)),
      random: mean(samples.map((s) => s.accuracyRand)),
    },
    loss: { endpoints: mean(endLoss), convex: mean(samples.map((s) => s.lossConv)), random: mean(samples.map((s) => s.lossRand)) },
    distance: {
      endpointEndpoint: meanPairDistance(gram.centered, p),
      convEnd: mean(samples.map((s) => s.distanceConvEnd)),
      randEnd: mean(samples.map((s) => s.distanceRandEnd)),
    },
    singularValues: sv,
    singularValuesCentered: svc,
    rank: numericalRank(sv),
    rankCentered: numericalRank(svc),
    samples,
  };
  return { metrics, correct: ends.points.map((q) => q.correct!) };
}

export interface Diversity {
  /** |S*|/n with S* = ∩_j S_j: examples every endpoint of every hull gets right. */
  interHull: number;
  /** mean_j |S_j|/n with S_j = ∩_i C_i^j. */
  intraHull: number;
  /** mean_{i,j} |C_i^j|/n: the endpoints' mean accuracy. */
  endpoint: number;
  /** |S_j|/n per hull. */
  perHull: number[];
}

/** Functional diversity (docs/metrics.md#convex-hulls, Yunis §4) from correct masks [hull j][endpoint i][example]. */
export function diversity(correct: readonly (readonly Uint8Array[])[]): Diversity {
  if (correct.length === 0 || correct.some((h) => h.length === 0)) {
    argError('diversity', 'needs at least one hull with at least one endpoint');
  }
  const n = correct[0][0].length;
  if (correct.some((h) => h.some((c) => c.length !== n))) {
    shapeError('diversity', `correct masks differ in length (expected ${n} examples each)`);
  }
  if (n === 0) argError('diversity', 'the masks cover no examples');
  const count = (m: Uint8Array) => m.reduce((s, v) => s + (v ? 1 : 0), 0);
  const and = (ms: readonly Uint8Array[]) =>
    ms.reduce((acc, m) => acc.map((v, k) => (v && m[k] ? 1 : 0)), Uint8Array.from(ms[0], (v) => (v ? 1 : 0)));
  const shared = correct.map(and);
  return {
    interHull: count(and(shared)) / n,
    intraHull: mean(shared.map((s) => count(s) / n)),
    endpoint: mean(correct.flat().map((c) => count(c) / n)),
    perHull: shared.map((s) => count(s) / n),
  };
}
