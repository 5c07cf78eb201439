/**
 * Summaries over repeats (docs/fork.md) and the endpoint floor (docs/metrics.md#barriers) as properties: the t
 * quantiles against a numerical integral of Student's density, the interval's definition,
 * and B ≥ ½|E(A) − E(B)| for every error curve.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { errorBarrier, errorFloor } from '../core/lmc/barrier.ts';
import { forkFinding } from '../core/lmc/fork_summary.ts';
import { studentT975, summarize } from '../core/lmc/repeat_stats.ts';
import { repeatSeeds } from '../core/experiments/repeat_seeds.ts';
import { FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { exampleForkResult } from './fixtures/fork_result.ts';

/** log Γ by Lanczos (g = 7): an independent route to the t density's constant. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(T ≤ x) for Student's t with ν degrees of freedom: ½ + ∫₀ˣ density, composite Simpson. */
function tCdf(x: number, nu: number): number {
  const k = Math.exp(logGamma((nu + 1) / 2) - logGamma(nu / 2)) / Math.sqrt(nu * Math.PI);
  const f = (t: number) => k * (1 + (t * t) / nu) ** (-(nu + 1) / 2);
  const n = 20_000;
  const h = x / n;
  let s = f(0) + f(x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(i * h);
  return 0.5 + (s * h) / 3;
}

test('t(0.975, ν) is the 0.975 quantile of the t distribution for ν = 1 … 60, 100, 1000', () => {
  for (const nu of [...Array.from({ length: 60 }, (_, i) => i + 1), 100, 1000]) {
    const p = tCdf(studentT975(nu), nu);
    assert.ok(Math.abs(p - 0.975) < 2e-6, `ν = ${nu}: CDF at the quantile is ${p}`);
  }
  assert.throws(() => studentT975(0), /E_ARG/);
});

test('summaries: mean, sample sd and the 95 % t interval by their definitions; one value has no spread', () => {
  fc.assert(fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 30 }), (v) => {
    const s = summarize(v);
    const n = v.length;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
    assert.equal(s.n, n);
    assert.ok(Math.abs(s.mean - mean) < 1e-12 && Math.abs(s.sd - sd) < 1e-12);
    assert.ok(s.mean >= Math.min(...v) - 1e-12 && s.mean <= Math.max(...v) + 1e-12);
    const half = (studentT975(n - 1) * sd) / Math.sqrt(n);
    assert.ok(Math.abs(s.ci95[0] - (mean - half)) < 1e-12 && Math.abs(s.ci95[1] - (mean + half)) < 1e-12);
  }));
  assert.deepEqual(summarize([0.25]), { n: 1, mean: 0.25, sd: 0, ci95: [0.25, 0.25] });
  // Two values 0 and 1: sd = 1/√2, half width = 12.706·(1/√2)/√2 = 6.353.
  const two = summarize([0, 1]);
  assert.ok(Math.abs(two.ci95[1] - (0.5 + 12.706204736 / 2)) < 1e-9);
});

test('the endpoint floor: the error barrier is never below ½|E(A) − E(B)|, and equals it when the path adds nothing', () => {
  const errors = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 41 });
  fc.assert(fc.property(errors, (e) => {
    assert.ok(errorBarrier(e) >= errorFloor(e) - 1e-15);
    assert.equal(errorFloor(e), errorFloor([...e].reverse()));
    // A path whose errors stay between the endpoints' (e.g. linear in α) sits exactly on its floor.
    const [a, b] = [e[0], e[e.length - 1]];
    const linear = e.map((_, i) => a + ((b - a) * i) / (e.length - 1));
    assert.ok(Math.abs(errorBarrier(linear) - errorFloor(linear)) < 1e-15);
  }));
});

test('repeat seeds: repeat 0 keeps the spec seeds; later repeats are a pure function of (base seeds, r), all distinct', () => {
  const spec = { ...FORK_DEFAULTS, seedInit: 5, seedOrder: 9, seedAugment: 3 };
  assert.deepEqual(repeatSeeds(spec, 0), { repeat: 0, init: 5, order: 9, augment: 3, children: [10, 11] });
  assert.deepEqual(repeatSeeds({ ...spec, mode: 'main-branch' }, 0).children, [10]);
  const later = Array.from({ length: 20 }, (_, r) => repeatSeeds(spec, r + 1));
  assert.deepEqual(later[3], repeatSeeds(spec, 4));
  for (const key of ['init', 'order', 'augment'] as const) {
    assert.equal(new Set([5, 9, 3, ...later.map((s) => s[key])]).size >= 21, true, key);
  }
  for (const s of later) assert.equal(new Set([s.order, ...s.children]).size, 3);
  // Each base seed moves its own derived seeds only.
  const other = repeatSeeds({ ...spec, seedInit: 6 }, 2);
  assert.notEqual(other.init, later[1].init);
  assert.equal(other.order, later[1].order);
});

test('the finding: the barrier falling with k1 by more than the spread holds; within the spread it does not', () => {
  const result = exampleForkResult({ k1s: [0, 8], k2s: [10], repeats: 3 });
  const f = forkFinding(result.cells)!;
  assert.ok(f.holds && f.drop > 0 && f.drop > f.spread, f.text);
  assert.match(f.text, /falls from .* at k1 = 0 to .* at k1 = 8/);
  // Reversing the k1 labels turns the fall into a rise: it must not hold.
  const reversed = result.cells.map((c) => ({ ...c, k1: 8 - c.k1 }));
  const r = forkFinding(reversed)!;
  assert.ok(!r.holds, r.text);
  assert.match(r.text, /does not show/);
  assert.equal(forkFinding(result.cells.filter((c) => c.k1 === 0)), null);
});
