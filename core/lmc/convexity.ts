/**
 * Local convexity between stochastic updates (Yunis et al. App. B, docs/metrics.md#second-order).
 *
 * From W with its optimizer state (TrainState at step s), each pair k takes two
 * independent one-step updates on different minibatches:
 *   - the state is cloned twice (weights, momentum / Adam moments and step, cloneState);
 *   - side j ∈ {a, b} draws its minibatch as `BatchLoader(train, {orderSeed: o_kj}).batchAt(s)`,
 *     with o_kj two uint32 draws of rngStream(seed, `convexity/pair-k`). Every order seed
 *     permutes each epoch uniformly, so each side's batch is a uniform random subset of
 *     size `batch` (without replacement inside it), independent of the other side's,
 *     at the run's own step s (so the LR schedule and Adam's bias correction are those of
 *     step s). The run's real order seed is not used, so the pairs do not depend on it.
 * Then g = L(½(W+ΔW1) + ½(W+ΔW2)) − ½(L(W+ΔW1) + L(W+ΔW2)), with L the mean
 * cross-entropy on the evaluation split (a fixed reported subset), summed per example in
 * f64; the midpoint is formed in f64 and rounded once to f32.
 *
 * Sign convention: a convex L has L(midpoint) ≤ mean of the ends, so g ≤ 0. The paper
 * reports P(g < 0), "the probability of a convex line of loss between a pair of updates"
 * (Fig. 4, close to 1 throughout training). For a convex model P(g < 0) is 1, up to pairs
 * whose |g| is below the rounding of the loss.
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { BatchLoader } from '../data/loader.ts';
import { argError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import { rngStream } from '../rng.ts';
import type { TrainConfig } from '../train/config.ts';
import { cloneState, disposeState, readWeights, type TrainState } from '../train/state.ts';
import { type BatchSource, trainSteps } from '../train/trainer.ts';
import { datasetLoss } from './dataset_derivatives.ts';

export interface ConvexityOptions {
  /** Number of independent pairs K. */
  pairs: number;
  /** Seed of the pairs' minibatch order seeds. */
  seed: number;
  /** Rows per loss-evaluation batch (default 1000). */
  evalBatch?: number;
}

export interface ConvexityPair {
  pair: number;
  /** Order seeds of the two sides' minibatches. */
  orderSeeds: [number, number];
  lossA: number;
  lossB: number;
  lossMid: number;
  /** g = lossMid − ½(lossA + lossB); < 0 means convex along the segment. */
  gap: number;
}

export interface ConvexityResult {
  step: number;
  /** Fraction of pairs with g < 0 (Yunis Fig. 4, bottom). */
  pNegative: number;
  meanGap: number;
  minGap: number;
  maxGap: number;
  pairs: ConvexityPair[];
}

/** The two order seeds of pair k: distinct uint32 values, a pure function of (seed, k). */
export function pairOrderSeeds(seed: number, pair: number): [number, number] {
  const rng = rngStream(seed, `convexity/pair-${pair}`);
  const a = rng.nextUint32();
  let b = rng.nextUint32();
  if (b === a) b = (a + 1) >>> 0; // identical seeds would give identical batches, g = 0
  return [a, b];
}

/**
 * P(g < 0) over `options.pairs` pairs at the current state (which is left unchanged).
 * `train` is the split the minibatches come from; `evaluation` the split L is measured on.
 */
export async function localConvexity(
  backend: Backend,
  model: Model,
  state: TrainState,
  config: TrainConfig,
  train: { split: Split; inputShape: readonly number[] },
  evaluation: Split,
  options: ConvexityOptions,
): Promise<ConvexityResult> {
  const { pairs, seed } = options;
  if (!Number.isSafeInteger(pairs) || pairs < 1) argError('localConvexity', `pairs must be an integer ≥ 1, got ${pairs}`);
  if (!Number.isSafeInteger(seed) || seed < 0) argError('localConvexity', `seed must be an integer ≥ 0, got ${seed}`);
  const loss = (w: Float32Array[]) => datasetLoss(backend, model, w, evaluation, { batch: options.evalBatch });
  const out: ConvexityPair[] = [];
  for (let k = 0; k < pairs; k++) {
    const orderSeeds = pairOrderSeeds(seed, k);
    const ends: Float32Array[][] = [];
    for (const orderSeed of orderSeeds) {
      const loader: BatchSource = new BatchLoader(train.split, train.inputShape, { batchSize: config.batch, orderSeed });
      const side = cloneState(state, config);
      try {
        await trainSteps(backend, model, side, loader, side.step + 1, config, { syncEvery: 1 });
        ends.push(await readWeights(side));
      } finally {
        disposeState(side);
      }
    }
    const [wa, wb] = ends;
    const mid = wa.map((a, i) => Float32Array.from(a, (x, j) => 0.5 * x + 0.5 * wb[i][j]));
    const [lossA, lossB, lossMid] = [await loss(wa), await loss(wb), await loss(mid)];
    out.push({ pair: k, orderSeeds, lossA, lossB, lossMid, gap: lossMid - 0.5 * (lossA + lossB) });
  }
  const gaps = out.map((p) => p.gap);
  return {
    step: state.step,
    pNegative: gaps.filter((g) => g < 0).length / pairs,
    meanGap: gaps.reduce((s, g) => s + g, 0) / pairs,
    minGap: Math.min(...gaps),
    maxGap: Math.max(...gaps),
    pairs: out,
  };
}

/**
 * Trains `state` up to `toStep` and calls `measure` at its current step and every `every`
 * steps after it, and at `toStep` (Yunis Fig. 4 series). Measurements see the state
 * between updates and must leave it unchanged.
 */
export async function measureAlongTraining<T>(
  backend: Backend,
  model: Model,
  state: TrainState,
  source: BatchSource,
  config: TrainConfig,
  plan: { every: number; toStep: number },
  measure: (state: TrainState) => Promise<T>,
): Promise<T[]> {
  const { every, toStep } = plan;
  if (!Number.isSafeInteger(every) || every < 1) argError('measureAlongTraining', `every must be an integer ≥ 1, got ${every}`);
  if (!Number.isSafeInteger(toStep) || toStep < state.step) {
    argError('measureAlongTraining', `toStep must be an integer ≥ the current step ${state.step}, got ${toStep}`);
  }
  const results: T[] = [await measure(state)];
  while (state.step < toStep) {
    await trainSteps(backend, model, state, source, Math.min(state.step + every, toStep), config);
    results.push(await measure(state));
  }
  return results;
}
