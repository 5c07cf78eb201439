/**
 * Geometry of sibling networks (docs/metrics.md#distances-and-geometry, Singh et al. §2), in f64 on flat parameter
 * vectors (the concatenation of a model's tensors in canonical order).
 */
import { argError } from '../errors.ts';

/** The concatenation of parameter tensors, as f64. */
export function flatten(weights: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(weights.reduce((n, w) => n + w.length, 0));
  let off = 0;
  for (const w of weights) {
    out.set(w, off);
    off += w.length;
  }
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) argError('dot', `lengths ${a.length} and ${b.length} differ`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

export function subtract(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * cos∠(u, v); 0 when either vector is zero (the angle is undefined; we report 90°). Both
 * vectors are scaled by their largest entry first, so tiny or huge vectors neither
 * underflow nor overflow the norms.
 */
export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const [su, sv] = [maxAbs(u), maxAbs(v)];
  if (su === 0 || sv === 0) return 0;
  const a = Float64Array.from(u, (x) => x / su);
  const b = Float64Array.from(v, (x) => x / sv);
  return Math.max(-1, Math.min(1, dot(a, b) / (norm(a) * norm(b))));
}

/** arccos(⟨θ1 − b, θ2 − b⟩ / (‖θ1 − b‖·‖θ2 − b‖)) in degrees, in [0°, 180°]; b = 0 by default. */
export function siblingAngle(theta1: ArrayLike<number>, theta2: ArrayLike<number>, base?: ArrayLike<number>): number {
  const u = base ? subtract(theta1, base) : theta1;
  const v = base ? subtract(theta2, base) : theta2;
  return (Math.acos(cosine(u, v)) * 180) / Math.PI;
}

/** Solution-plane determination: cos(θ1ᵗ − θ2ᵗ, θ1* − θ2*). */
export function planeCosine(t1: ArrayLike<number>, t2: ArrayLike<number>, final1: ArrayLike<number>, final2: ArrayLike<number>): number {
  return cosine(subtract(t1, t2), subtract(final1, final2));
}
