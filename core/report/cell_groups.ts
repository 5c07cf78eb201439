/**
 * What the fork report's sections share: cells grouped by (k1, k2) with their repeats, the
 * curves averaged over them, and the report's number formats.
 */
import type { CurvePoint, ForkCell, SplitMetrics } from '../experiments/result_schema.ts';
import { sortedCells } from './csv.ts';
import { displayMinus, formatSig, type Point } from './svg.ts';

export interface Group {
  k1: number;
  k2: number;
  cells: ForkCell[];
}

export const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
export const avg = (g: Group, f: (c: ForkCell) => number) => mean(g.cells.map(f));

/** Cells grouped by (k1, k2), sorted; each group holds the repeats. */
export function groupCells(cells: readonly ForkCell[]): Group[] {
  const map = new Map<string, Group>();
  for (const cell of sortedCells(cells)) {
    const key = `${cell.k1}|${cell.k2}`;
    const g = map.get(key) ?? { k1: cell.k1, k2: cell.k2, cells: [] };
    g.cells.push(cell);
    map.set(key, g);
  }
  return [...map.values()];
}

/** Which of a cell's paths to read: as trained (the default), or after alignment / REPAIR. */
export type PathOf = (c: ForkCell) => { train: SplitMetrics; test: SplitMetrics } | undefined;

/** Pointwise mean of the repeats' curves, matched by α (grids are equal within a run). */
export function meanCurve(g: Group, split: 'train' | 'test', f: (p: CurvePoint) => number, path: PathOf = (c) => c): Point[] {
  const byAlpha = new Map<number, number[]>();
  for (const cell of g.cells) {
    for (const p of path(cell)?.[split].curve ?? []) byAlpha.set(p.alpha, [...(byAlpha.get(p.alpha) ?? []), f(p)]);
  }
  return [...byAlpha.entries()].sort((a, b) => a[0] - b[0]).map(([x, ys]) => ({ x, y: mean(ys) }));
}
// ---------------------------------------------------------------- number formats

export const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);
/** Percent with two decimals (docs/metrics.md: percent tables print 100·B). */
export const pct = (v: number, digits = 2) => (finite(v) ? displayMinus((100 * v).toFixed(digits)) : 'n/a');
export const num = (v: number, digits = 4) => (finite(v) ? formatSig(v, digits) : 'n/a');
