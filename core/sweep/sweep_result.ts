/**
 * What a finished sweep hands to `sweep collect`: every grid point's resolved fork spec and
 * its fork cells (k1 × k2 × repeat), assembled from the store's evaluation nodes. The
 * replicate axis is every seed key of the grid plus the repeat index: collect aggregates
 * over it, and every other grid key (and k1, k2) names a grid point.
 */
import type { ForkSpec } from '../experiments/fork_spec.ts';
import type { ForkCell } from '../experiments/result_schema.ts';

/** Grid keys that draw replicates rather than name a grid point. */
export const REPLICATE_KEYS = ['seedInit', 'seedOrder', 'seedAugment'] as const;

export type GridValue = number | string | boolean | null | number[];

export interface SweepPointResult {
  /** This point's grid values, keyed as in the sweep's grid (e.g. `{seedInit: 3, lr: 0.05}`). */
  point: Record<string, GridValue>;
  /** The fully resolved fork spec of this point (base + grid values). */
  spec: ForkSpec;
  task: 'classification' | 'regression';
  /** One per (k1, k2, repeat). */
  cells: ForkCell[];
}

export interface SweepCollection {
  /** The sweep's content hash (its manifest's name in the store). */
  sweepId: string;
  name: string;
  /** The grid's keys in the spec's order. */
  gridKeys: string[];
  points: SweepPointResult[];
  provenance: { backend: string; runtime: string; ridgelineVersion: string; gitCommit: string | null; collectedAt: string };
}
