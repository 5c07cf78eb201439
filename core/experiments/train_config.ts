/** A fork spec's optimisation settings as the trainer takes them: epoch quantities in steps. */
import type { TrainConfig } from '../train/config.ts';
import type { ForkSpec } from './fork_spec.ts';

/** The optimisation settings of a spec, with epoch quantities converted to steps. */
export function trainConfigOf(spec: ForkSpec, stepsPerEpoch: number, totalSteps: number): TrainConfig {
  return {
    optimizer: spec.optimizer,
    momentum: spec.momentum,
    dampening: spec.dampening,
    nesterov: spec.nesterov,
    weightDecay: spec.weightDecay,
    beta1: spec.beta1,
    beta2: spec.beta2,
    eps: spec.eps,
    clip: spec.clip,
    batch: spec.batch,
    schedule: {
      kind: spec.schedule,
      lr: spec.lr,
      warmupSteps: Math.round(spec.warmup * stepsPerEpoch),
      milestones: spec.milestones.map((e) => Math.round(e * stepsPerEpoch)),
      gamma: 0.1,
      totalSteps,
    },
  };
}
