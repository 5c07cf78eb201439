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

/**
 * The linear warm-up factor at step s: PyTorch's LinearLR(start_factor = 1/W,
 * total_iters = W) in closed form, 1/W + (1 − 1/W)·min(s, W)/W, rising from 1/W at step 0
 * to 1 at step W (not (s + 1)/W, which reaches 1 one step early and differs in between).
 */
function warmupFactor(warmupSteps: number, step: number): number {
  if (warmupSteps <= 0 || step >= warmupSteps) return 1;
  const start = 1 / warmupSteps;
  return start + ((1 - start) * step) / warmupSteps;
}

/**
 * The learning rate used by the update at global step `step` (0-based), as PyTorch's
 * schedulers give it:
 *  - constant: LinearLR warm-up only;
 *  - step: ChainedScheduler(LinearLR, MultiStepLR(milestones, gamma)), milestones in global steps;
 *  - cosine: SequentialLR([LinearLR, CosineAnnealingLR(T_max = total − W)], milestones = [W]).
 */
export function learningRate(c: ScheduleConfig, step: number): number {
  if (!Number.isInteger(step) || step < 0) argError('learningRate', `step must be a non-negative integer, got ${step}`);
  const warm = warmupFactor(c.warmupSteps, step);
  switch (c.kind) {
    case 'constant':
      return c.lr * warm;
    case 'step': {
      let lr = c.lr * warm;
      for (const m of c.milestones) if (step >= m) lr *= c.gamma;
      return lr;
    }
    case 'cosine': {
      if (step < c.warmupSteps) return c.lr * warm;
      const span = Math.max(1, c.totalSteps - c.warmupSteps);
      const t = Math.min(step - c.warmupSteps, span);
      return 0.5 * c.lr * (1 + cos((Math.PI * t) / span));
    }
  }
}
