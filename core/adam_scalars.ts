/**
 * Adam's per-step scalars, computed once on the host in f64 as PyTorch computes them in
 * Python floats, and shared by both backends.
 */
import type { AdamParams } from './backend.ts';
import { argError } from './errors.ts';

/** β^t by repeated squaring: exact same bits in every JavaScript engine, unlike `**`. */
function powInteger(base: number, exponent: number): number {
  let result = 1;
  let b = base;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result *= b;
    b *= b;
  }
  return result;
}

/** `stepSize = lr / (1 − β1^t)` and `bias2Sqrt = √(1 − β2^t)` for step t ≥ 1. */
export function adamScalars(p: AdamParams): { stepSize: number; bias2Sqrt: number } {
  if (!(Number.isInteger(p.step) && p.step >= 1)) argError('adam', `step must be an integer ≥ 1, got ${p.step}`);
  const bias1 = 1 - powInteger(p.beta1, p.step);
  const bias2 = 1 - powInteger(p.beta2, p.step);
  return { stepSize: p.lr / bias1, bias2Sqrt: Math.sqrt(bias2) };
}
