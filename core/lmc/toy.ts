/**
 * The 1-D toy landscapes of Singh et al. §4, whose barriers are known in closed form:
 *   two minima:   L(θ) = (θ + 1)²(θ − 1)²                  minima at ±1
 *   four minima:  L(θ) = (θ + 1.5)²(θ + 1)²(θ − 1)²(θ − 1.5)²   minima at ±1, ±1.5
 * With both minima at loss 0 the gap is L itself, so the barrier between two minima is
 * the maximum of L between them. Writing u = θ², the four-minima L is ((u − 1)(u − 9/4))²:
 * on [−1, 1] it decreases in u, so the barrier is L(0) = 81/16 at α = ½; on [1, 1.5] the
 * inner factor is smallest at u = 13/8, giving (25/64)² = 625/4096 at θ = √(13/8).
 */

export interface ToyLandscape {
  name: string;
  minima: number[];
  loss(theta: number): number;
  gradient(theta: number): number;
  hessian(theta: number): number;
  /** Closed-form barrier (and where) between two of its minima. */
  barrier(a: number, b: number): { value: number; theta: number };
}

/** L = Π f_i with f_i = (θ − m_i)², and its exact first and second derivatives. */
function productOfSquares(minima: number[]) {
  const f = (t: number, i: number) => (t - minima[i]) ** 2;
  const others = (t: number, skip: number[]) => minima.reduce((p, _m, j) => (skip.includes(j) ? p : p * f(t, j)), 1);
  const loss = (t: number) => others(t, []);
  // L' = Σ_i f_i'·Π_{j≠i} f_j with f_i' = 2(θ − m_i).
  const gradient = (t: number) => minima.reduce((s, m, i) => s + 2 * (t - m) * others(t, [i]), 0);
  // L'' = Σ_i f_i''·Π_{j≠i} f_j + Σ_{i≠k} f_i'·f_k'·Π_{j≠i,k} f_j with f_i'' = 2.
  const hessian = (t: number) => {
    let h = 0;
    minima.forEach((mi, i) => {
      h += 2 * others(t, [i]);
      minima.forEach((mk, k) => {
        if (k !== i) h += 2 * (t - mi) * 2 * (t - mk) * others(t, [i, k]);
      });
    });
    return h;
  };
  return { loss, gradient, hessian };
}

export const TWO_MINIMA: ToyLandscape = {
  name: 'two-minima',
  minima: [-1, 1],
  ...productOfSquares([-1, 1]),
  barrier: () => ({ value: 1, theta: 0 }),
};

export const FOUR_MINIMA: ToyLandscape = {
  name: 'four-minima',
  minima: [-1.5, -1, 1, 1.5],
  ...productOfSquares([-1.5, -1, 1, 1.5]),
  barrier(a, b) {
    const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
    if (lo < 0 && hi > 0) return { value: 81 / 16, theta: 0 };
    const outer = new Set([Math.abs(lo), Math.abs(hi)]);
    if (outer.has(1) && outer.has(1.5) && outer.size === 2) return { value: 625 / 4096, theta: Math.sign(hi) * Math.sqrt(13 / 8) };
    return { value: 0, theta: lo };
  },
};

export const TOY_LANDSCAPES = [TWO_MINIMA, FOUR_MINIMA];
