/**
 * Summaries over repeats (docs/fork.md): mean, sample standard deviation and the 95 % Student-t
 * interval `mean ± t(0.975, n − 1)·sd/√n`, with n. One repeat gives the value with no spread.
 */
import { argError } from '../errors.ts';

/** t(0.975, ν) for ν = 1…30 (standard tables; checked in the tests against the t density). */
const T975 = [
  12.706204736,
  4.30265273,
  3.182446305,
  2.776445105,
  2.570581836,
  2.446911851,
  2.364624252,
  2.306004135,
  2.262157163,
  2.228138852,
  2.20098516,
  2.17881283,
  2.160368656,
  2.144786688,
  2.131449546,
  2.119905299,
  2.109815578,
  2.10092204,
  2.093024054,
  2.085963447,
  2.079613845,
  2.073873068,
  2.06865761,
  2.063898562,
  2.059538553,
  2.055529439,
  2.051830516,
  2.048407142,
  2.045229642,
  2.042272456,
];

/**
 * The 0.975 quantile of Student's t with ν degrees of freedom: the table up to 30, then
 * the Cornish–Fisher expansion around the normal quantile (error < 1e-5 past ν = 30).
 */
export function studentT975(nu: number): number {
  if (!Number.isInteger(nu) || nu < 1) argError('studentT975', `degrees of freedom must be an integer ≥ 1, got ${nu}`);
  if (nu <= T975.length) return T975[nu - 1];
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3);
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  sd: number;
  /** 95 % Student-t interval of the mean; [mean, mean] for one value. */
  ci95: [number, number];
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) argError('summarize', 'no values');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0, ci95: [mean, mean] };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (studentT975(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, ci95: [mean - half, mean + half] };
}
