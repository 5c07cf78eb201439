/**
 * Barrier predictions from second-order information (docs/metrics.md#second-order, Singh et al. Prop. 1), with
 * Δ = θ2 − θ1, q_i = Δᵀ H(θ_i) Δ (one Hessian-vector product each) and g_i = ∇L(θ_i)ᵀΔ:
 *   Prop. 1:             B̂(α) = α(1−α)/2 · (α·q1 + (1−α)·q2)
 *   gradient-corrected:  B̂(α) = α(1−α) · [(g1 − g2) + ½·(α·q1 + (1−α)·q2)]
 * The corrected form is exact for any quadratic loss (where H is constant and
 * g1 − g2 = −HΔ), and equals Prop. 1 when both endpoint gradients vanish.
 */
import { argError } from '../errors.ts';
import { dot, subtract } from './geometry.ts';

/** What the predictions need about a pair: curvature along Δ at both ends and slopes. */
export interface PairCurvature {
  /** Δᵀ H(θ1) Δ */
  q1: number;
  /** Δᵀ H(θ2) Δ */
  q2: number;
  /** ∇L(θ1)ᵀ Δ */
  g1: number;
  /** ∇L(θ2)ᵀ Δ */
  g2: number;
}

export function prop1Prediction(alpha: number, c: PairCurvature): number {
  return ((alpha * (1 - alpha)) / 2) * (alpha * c.q1 + (1 - alpha) * c.q2);
}

export function gradientCorrectedPrediction(alpha: number, c: PairCurvature): number {
  return alpha * (1 - alpha) * (c.g1 - c.g2 + 0.5 * (alpha * c.q1 + (1 - alpha) * c.q2));
}

/** Gradients and Hessian-vector products of a loss at flat parameter vectors (f64 results). */
export interface SecondOrderOracle {
  gradient(theta: Float64Array): Promise<Float64Array>;
  hvp(theta: Float64Array, v: Float64Array): Promise<Float64Array>;
}

/**
 * q1, q2, g1, g2 for the pair (θ1, θ2) — optionally along a masked direction P·Δ (layer-wise
 * predictions, docs/metrics.md#second-order): `mask` keeps the coordinates of the chosen layers.
 */
export async function pairCurvature(
  oracle: SecondOrderOracle,
  theta1: Float64Array,
  theta2: Float64Array,
  mask?: Uint8Array,
): Promise<PairCurvature> {
  if (theta1.length !== theta2.length) argError('predict', `parameter counts differ (${theta1.length} vs ${theta2.length})`);
  const delta = subtract(theta2, theta1);
  if (mask) { for (let i = 0; i < delta.length; i++) if (!mask[i]) delta[i] = 0; }
  const [h1, h2, grad1, grad2] = [
    await oracle.hvp(theta1, delta),
    await oracle.hvp(theta2, delta),
    await oracle.gradient(theta1),
    await oracle.gradient(theta2),
  ];
  return { q1: dot(delta, h1), q2: dot(delta, h2), g1: dot(grad1, delta), g2: dot(grad2, delta) };
}
