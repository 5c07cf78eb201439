/**
 * Barrier arithmetic of docs/metrics.md#barriers on a sampled linear path, as pure functions of the
 * sampled losses and errors (property-tested in test/barrier.test.ts).
 */
import { argError } from '../errors.ts';

/** T equidistant points in [0, 1] with exact endpoints (α = 0 is A); T ≥ 3. */
export function alphaGrid(count: number): number[] {
  if (!Number.isInteger(count) || count < 3) {
    argError('alphas', `need an integer ≥ 3 points (both ends and at least one between), got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? 1 : i / (count - 1)));
}

/**
 * gap(α) = L(θ(α)) − [(1 − α)·L(θA) + α·L(θB)]. The baseline is written as
 * L_A + α(L_B − L_A) below α = ½ and L_B + (1 − α)(L_A − L_B) above, which makes the gap
 * exactly 0 at α = 0 and α = 1, and exactly 0 everywhere when the losses are all equal.
 */
export function interpolationGaps(alphas: readonly number[], losses: readonly number[]): number[] {
  if (alphas.length !== losses.length || alphas.length < 2) argError('barrier', 'need matching α and loss lists of length ≥ 2');
  if (alphas[0] !== 0 || alphas[alphas.length - 1] !== 1) argError('barrier', 'the α grid must start at 0 and end at 1');
  const la = losses[0];
  const lb = losses[losses.length - 1];
  return alphas.map((a, i) => losses[i] - (a <= 0.5 ? la + a * (lb - la) : lb + (1 - a) * (la - lb)));
}

/**
 * max gap(α) over the interior points 0 < α < 1 and its argmax (the first on ties). The
 * ends are left out because their gap is 0 by definition: including them would clamp the
 * barrier at 0, while docs/metrics.md#barriers reports negative barriers (convex along the line) as they are.
 */
export function lossBarrier(alphas: readonly number[], losses: readonly number[]): { value: number; alpha: number } {
  const gaps = interpolationGaps(alphas, losses);
  if (gaps.length < 3) argError('barrier', 'need at least one α strictly between 0 and 1');
  let best = 1;
  for (let i = 2; i < gaps.length - 1; i++) if (gaps[i] > gaps[best]) best = i;
  return { value: gaps[best], alpha: alphas[best] };
}

/** Frankle's error barrier: max_α E(θ(α)) − ½(E(θA) + E(θB)), E = 1 − accuracy. */
export function errorBarrier(errors: readonly number[]): number {
  if (errors.length < 2) argError('barrier', 'need at least two error values');
  return Math.max(...errors) - 0.5 * (errors[0] + errors[errors.length - 1]);
}

/** Disentangling Eq. 2: error barrier / mean TEST accuracy of the endpoints. */
export function normalizedBarrier(barrier: number, testAccuracyA: number, testAccuracyB: number): number {
  return barrier / (0.5 * (testAccuracyA + testAccuracyB));
}

/**
 * The endpoint floor of the error barrier, ½·|E(θA) − E(θB)| (docs/metrics.md#barriers): the max over α
 * includes both ends, so B ≥ floor whatever the path does. A barrier at its floor is two
 * endpoints that disagree, not a bump on the path; `B − floor` is the part the path adds.
 */
export function errorFloor(errors: readonly number[]): number {
  if (errors.length < 2) argError('barrier', 'need at least two error values');
  return 0.5 * Math.abs(errors[0] - errors[errors.length - 1]);
}
