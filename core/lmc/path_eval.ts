/**
 * Evaluation of the linear path θ(α) = (1 − α)·θA + α·θB on a data split, batched over α.
 *
 * Every α point is evaluated on the same minibatch while it is resident, and when the
 * model's first layer is linear in its weights the products X·W_Aᵀ and X·W_Bᵀ are computed
 * once per batch and mixed for each α ((1 − α)·X·W_Aᵀ + α·X·W_Bᵀ = X·W(α)ᵀ up to f32
 * rounding): for an MLP on images that layer is most of the cost, so an 11-point curve
 * costs about two forward passes of it instead of eleven (DESIGN.md, batched evaluation).
 * Losses and accuracies are summed in f64 on the host from the logits of each batch.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { RidgelineError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import { type Tensor, fromArray, keep, tidy } from '../tensor.ts';

export interface PathPoint {
  alpha: number;
  loss: number;
  error: number;
}

export interface PathEvaluation {
  points: PathPoint[];
  /** Mean H(pA, pB) over the split (SPEC §4). */
  predictionDistance: number;
  /** Mean ½(H(pA, pB) + H(pB, pA)). */
  predictionDistanceSymmetric: number;
}

/** Per-batch host accumulation of loss, correct count and endpoint probabilities. */
class Accumulator {
  loss = 0;
  correct = 0;

  /** Adds a batch of logits; returns the batch's softmax probabilities (f64). */
  add(z: Float32Array, y: Float32Array, rows: number, classes: number): Float64Array {
    const p = new Float64Array(rows * classes);
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
      for (let c = 0; c < classes; c++) s += Math.exp(z[o + c] - max);
      const lse = max + Math.log(s);
      for (let c = 0; c < classes; c++) p[o + c] = Math.exp(z[o + c] - lse);
      this.loss += lse - z[o + y[r]];
      if (arg === y[r]) this.correct++;
    }
    return p;
  }
}

/** Σ over rows of H(p, q) = −Σ_c p_c log q_c, with q clamped away from 0. */
function crossEntropySum(p: Float64Array, q: Float64Array): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(Math.max(q[i], 1e-300));
  return h;
}

/**
 * θ(α) = (1 − α)·a + α·b, written as a + α(b − a) below α = ½ and b + (1 − α)(a − b)
 * above, so that θ(0) = a and θ(1) = b exactly, and a = b gives exactly a for every α
 * (so identical endpoints have a barrier of exactly 0).
 */
export function lerp(a: Tensor, b: Tensor, alpha: number): Tensor {
  return alpha <= 0.5 ? ag.add(a, ag.scale(ag.sub(b, a), alpha)) : ag.add(b, ag.scale(ag.sub(a, b), 1 - alpha));
}

export async function evaluatePath(
  backend: Backend, model: Model, weightsA: Float32Array[], weightsB: Float32Array[], alphas: readonly number[],
  split: Split, batchSize = 1000,
): Promise<PathEvaluation> {
  const classes = model.classes;
  const held = tidy(() =>
    ag.noGrad(() => {
      const a = model.params.map((p, i) => fromArray(backend, weightsA[i], p.shape));
      const b = model.params.map((p, i) => fromArray(backend, weightsB[i], p.shape));
      return { a: a.map(keep), b: b.map(keep), mixed: alphas.map((al) => a.map((t, i) => keep(lerp(t, b[i], al)))) };
    }),
  );
  const acc = alphas.map(() => new Accumulator());
  let hAB = 0;
  let hBA = 0;
  try {
    for (let start = 0; start < split.n; start += batchSize) {
      const rows = Math.min(batchSize, split.n - start);
      const y = split.y.subarray(start, start + rows);
      const logits = tidy(() =>
        ag.noGrad(() => {
          const x = fromArray(backend, split.x.subarray(start * model.inputSize, (start + rows) * model.inputSize), [rows, model.inputSize]);
          const first = model.firstLayer;
          if (!first) return alphas.map((_, k) => keep(model.forward(held.mixed[k], x)));
          const zA = ag.matmul(x, held.a[first.weight], { transB: true });
          const zB = ag.matmul(x, held.b[first.weight], { transB: true });
          return alphas.map((al, k) => {
            let z1 = lerp(zA, zB, al);
            if (first.bias !== null) z1 = ag.add(z1, held.mixed[k][first.bias]);
            return keep(model.forwardFromFirst(held.mixed[k], z1));
          });
        }),
      );
      const probs: Float64Array[] = [];
      for (let k = 0; k < alphas.length; k++) {
        const z = await logits[k].data();
        logits[k].dispose();
        const p = acc[k].add(z, y, rows, classes);
        if (k === 0 || k === alphas.length - 1) probs.push(p);
      }
      hAB += crossEntropySum(probs[0], probs[1]);
      hBA += crossEntropySum(probs[1], probs[0]);
    }
  } finally {
    [...held.a, ...held.b, ...held.mixed.flat()].forEach((t) => t.dispose());
  }
  const points = alphas.map((alpha, k) => ({ alpha, loss: acc[k].loss / split.n, error: 1 - acc[k].correct / split.n }));
  const bad = points.find((p) => !Number.isFinite(p.loss));
  if (bad) {
    throw new RidgelineError('E_DIVERGED', `loss at α = ${bad.alpha} is ${bad.loss}: the networks' weights are not finite`);
  }
  return { points, predictionDistance: hAB / split.n, predictionDistanceSymmetric: (hAB + hBA) / (2 * split.n) };
}
