/** A training run's resolved optimisation settings, and the optimizer they describe. */
import { RidgelineError } from '../errors.ts';
import { Adam, type Optimizer, Sgd } from './optimizers.ts';
import type { ScheduleConfig } from './schedule.ts';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

export interface TrainConfig {
  optimizer: OptimizerKind;
  momentum: number;
  /** SGD's momentum dampening (PyTorch's `dampening`); absent = 0. */
  dampening?: number;
  nesterov: boolean;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  schedule: ScheduleConfig;
  /** Global-norm gradient clipping threshold, or null for none. */
  clip: number | null;
  batch: number;
}

export function createOptimizer(c: TrainConfig): Optimizer {
  switch (c.optimizer) {
    case 'sgd':
      return new Sgd({
        lr: c.schedule.lr,
        momentum: c.momentum,
        dampening: c.dampening ?? 0,
        weightDecay: c.weightDecay,
        nesterov: c.nesterov,
      });
    case 'adam':
    case 'adamw':
      return new Adam({
        lr: c.schedule.lr,
        beta1: c.beta1,
        beta2: c.beta2,
        eps: c.eps,
        weightDecay: c.weightDecay,
        decoupled: c.optimizer === 'adamw',
      });
    default:
      throw new RidgelineError('E_SPEC', `unknown optimizer '${c.optimizer}'; valid: ${OPTIMIZERS.join(', ')}`);
  }
}
