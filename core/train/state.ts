/**
 * A network in training: its parameters, its optimizer (with state) and its global step.
 * Forking copies all three, so a child continues exactly as the parent would have —
 * momentum, Adam moments and the LR schedule included (docs/fork.md).
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Model } from '../nn/model.ts';
import { empty, fromArray, keep, type Tensor } from '../tensor.ts';
import { createOptimizer, type TrainConfig } from './config.ts';
import type { Optimizer } from './optimizers.ts';

export interface TrainState {
  params: Tensor[];
  optimizer: Optimizer;
  step: number;
}

/** Parameters from host arrays (in the model's order) with a fresh optimizer at `step`. */
export function stateFromWeights(backend: Backend, model: Model, weights: Float32Array[], config: TrainConfig, step = 0): TrainState {
  const params = model.params.map((p, i) => {
    const t = keep(fromArray(backend, weights[i], p.shape));
    return p.trainable ? ag.param(t) : t;
  });
  return { params, optimizer: createOptimizer(config), step };
}

function copyTensor(t: Tensor): Tensor {
  const c = keep(empty(t.backend, t.shape));
  t.backend.copy(t.buf, c.buf, t.size);
  return c;
}

/** A deep copy: new parameter and optimizer-state buffers, same values and step. */
export function cloneState(s: TrainState, config: TrainConfig): TrainState {
  const optimizer = createOptimizer(config);
  optimizer.setState(s.optimizer.state().map(copyTensor), s.optimizer.steps);
  return { params: s.params.map((p) => (p.requiresGrad ? ag.param(copyTensor(p)) : copyTensor(p))), optimizer, step: s.step };
}

export function disposeState(s: TrainState): void {
  s.params.forEach((p) => p.dispose());
  s.optimizer.dispose();
}

/** Parameter values on the host, in the model's order. */
export async function readWeights(s: TrainState): Promise<Float32Array[]> {
  return Promise.all(s.params.map((p) => p.data()));
}
