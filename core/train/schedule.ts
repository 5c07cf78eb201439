/**
 * Learning-rate schedules with PyTorch semantics, as a pure function of the global step,
 * so a resumed or forked run continues exactly where it was. Computed in f64 on the host
 * with portable arithmetic (identical in every runtime).
 */
import { argError } from '../errors.ts';
import { cos } from '../portable_math.ts';

export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULES)[number];

export interface ScheduleConfig {
  kind: ScheduleKind;
  lr: number;
  /** Linear warm-up over the first `warmupSteps` steps (0 = none). */
  warmupSteps: number;
  /** `step`: multiply by `gamma` (0.1) at each of these global steps (MultiStepLR). */
  milestones: number[];
  gamma: number;
  /** `cosine`: anneal to 0 over this many steps after warm-up (CosineAnnealingLR). */
  totalSteps: number;
}

/** The learning rate used by the update at global step `step` (0-based). */
export function learningRate(c: ScheduleConfig, step: number): number {
  if (!Number.isInteger(step) || step < 0) argError('learningRate', `step must be a non-negative integer, got ${step}`);
  // Warm-up ramps linearly from lr/warmup to lr, as LinearLR(start_factor=1/warmup) does.
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  switch (c.kind) {
    case 'constant':
      return c.lr;
    case 'step': {
      let lr = c.lr;
      for (const m of c.milestones) if (step >= m) lr *= c.gamma;
      return lr;
    }
    case 'cosine': {
      const span = Math.max(1, c.totalSteps - c.warmupSteps);
      const t = Math.min(step - c.warmupSteps, span);
      return 0.5 * c.lr * (1 + cos((Math.PI * t) / span));
    }
  }
}
