/**
 * Named tolerances for comparing f32 backends with the f64 oracle. Each says where it
 * comes from; none is tuned to make a failing test pass.
 */

/** Unit roundoff of f32 (round to nearest). */
export const F32_U = 2 ** -24;

/** Correctly rounded f32 ops (add, mul, div, sqrt, …): half an ulp, allow two. */
export const ROUNDED_RTOL = 4 * F32_U;
/**
 * Subnormal results carry absolute, not relative, rounding error, and WGSL lets an
 * implementation flush them to zero (SwiftShader does). Results below the smallest normal
 * f32, 2^-126, are therefore compared with that absolute floor.
 */
export const SUBNORMAL_ATOL = 2 ** -126;

/**
 * Transcendental f32 functions of the AssemblyScript standard library (musl ports, ≤ 1 ulp
 * documented) on f32 inputs: allow 4 ulp of the result, plus an absolute floor for
 * results that cancel to near zero (sin near kπ, log near 1).
 */
export const TRANSCENDENTAL_RTOL = 8 * F32_U;
export const TRANSCENDENTAL_ATOL = 4 * F32_U;

/**
 * A sum of n f32 terms in any order has error ≤ γ_n·Σ|terms| with γ_n = n·u/(1 − n·u)
 * (Higham, Accuracy and Stability, §3.1): the bound for dot products and reductions.
 */
export function gamma(n: number): number {
  return (n * F32_U) / (1 - n * F32_U);
}

/** Softmax/cross-entropy: exp, log and a sum over `cols` terms of magnitude ≤ 1 after the shift. */
export function softmaxAtol(cols: number, maxAbs: number): number {
  return gamma(cols + 8) + 8 * F32_U * maxAbs;
}

/**
 * Gradient checks compare f32 autograd with central differences of the f64 oracle, whose
 * own error (h² truncation and cancellation) is far below this; what remains is the f32
 * rounding of the forward and backward passes, relative to the scale of the terms.
 */
export const GRAD_RTOL = 2e-4;
/** HVP checks: one more backward pass of f32 rounding than gradients. */
export const HVP_RTOL = 1e-3;
