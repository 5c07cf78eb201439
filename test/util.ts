/** Test helpers: seeded data, closeness assertions with useful messages, backend choice. */
import assert from 'node:assert/strict';
import fc from 'fast-check';

/** A small seeded PRNG (mulberry32) for test data; independent of core/rng.ts on purpose. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` f32 values uniform in [lo, hi) from `seed`. */
export function randomF32(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const r = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/**
 * Asserts |got[i] − want[i]| ≤ tol(i) for every i, reporting the worst element.
 * `tol` is a number (absolute) or a function of the index.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number | ((i: number) => number),
  what: string,
): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < got.length; i++) {
    const t = typeof tol === 'number' ? tol : tol(i);
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= t)) {
      const ratio = Number.isNaN(err) ? Infinity : err / t;
      if (worst < 0 || ratio > worstRatio) {
        worst = i;
        worstRatio = ratio;
      }
    }
  }
  if (worst >= 0) {
    const t = typeof tol === 'number' ? tol : tol(worst);
    assert.fail(
      `${what}: element ${worst} is ${got[worst]}, oracle ${want[worst]} (|err| ${Math.abs(got[worst] - want[worst])} > tol ${t})`,
    );
  }
}

/** Relative-to-magnitude tolerance: atol + rtol·|want|. */
export function relTol(want: ArrayLike<number>, rtol: number, atol = 0): (i: number) => number {
  return (i) => atol + rtol * Math.abs(want[i]);
}

/**
 * Skips a test, saying why, where this machine lacks what it needs (not root, a package
 * missing); under CI (root on a fresh machine whose test command installs the packages)
 * the same reason fails the test instead of hiding it.
 */
export function skipOutsideCi(t: { skip(message: string): void }, reason: string): void {
  assert.ok(process.env.CI !== 'true', `CI must run this test: ${reason}`);
  t.skip(reason);
}

/** fast-check run counts: fewer on CI's 2 cores is not wanted; these are sized for 2 cores. */
export const RUNS = { kernel: 40, heavy: 12 } as const;

// Show the failing assertion's own message in fast-check reports, not only the inputs.
fc.configureGlobal({ includeErrorInReport: true });

/**
 * `ridgeline fork` options for a fork experiment of a few seconds (a 16-wide MLP on 400
 * synthetic points, fork at steps 0 and 10, 40 steps, 5 path points): what the runtime and
 * math-mode tests run end to end.
 */
export const SMALL_FORK_ARGS: readonly string[] = [
  '--data',
  'synthetic:gauss:n=400,dim=12,classes=4',
  '--model',
  'mlp-2',
  '--width',
  '16',
  '--batch',
  '32',
  '--unit',
  'steps',
  '--k1',
  '0,10',
  '--steps',
  '40',
  '--alphas',
  '5',
];
