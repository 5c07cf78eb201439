/**
 * The arithmetic of a backend's kernels, chosen per run (`--math`, `SelectOptions.math`).
 *
 * - `strict` (the default): no fused multiply-add and a fixed summation order, so a run
 *   gives the same bits under every runtime and on every machine (docs/design.md).
 * - `relaxed`: the CPU backend's matrix products use relaxed SIMD's f32x4.relaxed_madd,
 *   one rounding per multiply-add where the machine has FMA and two where it has not. Faster,
 *   and still deterministic on one machine and runtime, but results differ from strict
 *   ones in the last bits and may differ between machines. Needs a runtime with relaxed
 *   SIMD; the WebGPU backend has no such mode.
 */
import { RidgelineError } from './errors.ts';

export const MATH_CHOICES = ['strict', 'relaxed'] as const;
export type MathMode = (typeof MATH_CHOICES)[number];

/** `value` as a math mode (undefined: strict); anything else is one E_SPEC line. */
export function parseMath(value: string | undefined): MathMode {
  if (value === undefined) return 'strict';
  if (!(MATH_CHOICES as readonly string[]).includes(value)) {
    throw new RidgelineError('E_SPEC', `--math: unknown value '${value}'; valid: ${MATH_CHOICES.join(', ')}`);
  }
  return value as MathMode;
}

/**
 * What results are keyed by in the store and a sweep's manifest: the backend's kind, and
 * its math mode unless strict. Strict keys stay what they were before the mode existed, and
 * relaxed results never pass for strict ones (or the reverse).
 */
export function resultsKey(backend: { kind: string; math: MathMode }): string {
  return backend.math === 'strict' ? backend.kind : `${backend.kind}+${backend.math}`;
}

/**
 * The spec a run directory records (its spec.json, which a resume must match): as given in
 * strict math, as runs recorded it before the mode existed (so those directories still
 * resume); with `math` added otherwise, so that resuming a run in the other mode is refused
 * by name instead of reusing or recomputing its work under the other mode.
 */
export function recordedSpec<T extends object>(spec: T, math: MathMode): T {
  return math === 'strict' ? spec : { ...spec, math };
}

/** The backend kind and math mode a {@link resultsKey} names (a worker starts the same). */
export function parseResultsKey(key: string): { backend: string; math: MathMode } {
  const [backend, math] = key.split('+', 2);
  return { backend, math: parseMath(math) };
}
