/**
 * One training line as a library call: the loader, step count and optimizer settings a fork
 * spec implies (as `ridgeline train` derives them), trained from the spec's init seed or
 * given weights. The returned state can be cloned (`cloneState`: weights and optimizer
 * state, what a fork copies) and trained on with `trainSteps`.
 */
import type { Backend } from '../backend.ts';
import type { Dataset } from '../data/dataset.ts';
import { RidgelineError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import type { TrainConfig } from '../train/config.ts';
import { disposeState, readWeights, stateFromWeights, type TrainState } from '../train/state.ts';
import { trainSteps } from '../train/trainer.ts';
import type { ForkSpec } from './fork_spec.ts';
import { trainConfigOf } from './train_config.ts';
import { trainingLoader } from './train_loader.ts';

export interface TrainRunOptions {
  /** Training length in steps (default: the spec's total, in its unit). */
  steps?: number;
  /** Starting weights in the model's order (default: `model.init(spec.seedInit)`). */
  init?: Float32Array[];
  /** Data-order seed (default `spec.seedOrder`). */
  orderSeed?: number;
  /** Called once the training length is known, before the first step (for progress). */
  onStart?: (steps: number) => void;
  /** Called at each loss readback (every 50 steps and at the end) with the losses since the last. */
  onLosses?: (firstStep: number, losses: Float32Array) => void;
}

export interface TrainRun {
  /** Device weights and optimizer state at the last step; the caller disposes it (`disposeState`). */
  state: TrainState;
  /** The same weights on the host. */
  weights: Float32Array[];
  /** The loss of every step. */
  losses: number[];
  config: TrainConfig;
  steps: number;
}

export async function trainRun(
  backend: Backend,
  model: Model,
  dataset: Dataset,
  spec: ForkSpec,
  o: TrainRunOptions = {},
): Promise<TrainRun> {
  const orderSeed = o.orderSeed ?? spec.seedOrder;
  const loader = trainingLoader(dataset, spec, orderSeed);
  const steps = o.steps ??
    (spec.total === null ? null : spec.unit === 'steps' ? spec.total : Math.round(spec.total * loader.stepsPerEpoch));
  if (steps === null || !Number.isSafeInteger(steps) || steps < 0) {
    throw new RidgelineError('E_SPEC', `trainRun: give steps (an integer ≥ 0) or a spec with a total length, got ${steps}`);
  }
  const config = trainConfigOf(spec, loader.stepsPerEpoch, steps);
  const state = stateFromWeights(backend, model, o.init ?? model.init(spec.seedInit), config);
  const losses: number[] = [];
  o.onStart?.(steps);
  try {
    await trainSteps(backend, model, state, loader, steps, config, {
      onSync: (first, l) => {
        losses.push(...l);
        o.onLosses?.(first, l);
      },
    });
    return { state, weights: await readWeights(state), losses, config, steps };
  } catch (e) {
    disposeState(state);
    throw e;
  }
}
