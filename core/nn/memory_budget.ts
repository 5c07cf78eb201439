/**
 * Models too large to train are refused when they are built, before any allocation, with
 * their size and the memory they would need — not later as a raw RangeError from a typed
 * array constructor or an out-of-memory WASM grow.
 */
import { RidgelineError } from '../errors.ts';
import type { Model } from './model.ts';

/**
 * The most any backend can hold: WebAssembly memory (wasm32) is at most 65 536 pages of
 * 64 KiB = 4 GiB, and the WebGPU backend's buffers are no larger in practice.
 */
export const BACKEND_MAX_BYTES = 4 * 1024 ** 3;

/**
 * Copies of the state that training keeps resident: the weights, their gradients and the
 * optimizer's state (Adam's two moments; SGD with momentum needs one, so this is the
 * worst case of the optimizers offered). Activations come on top, which is why a model
 * right at the limit may still fail later with E_BACKEND.
 */
export const TRAINING_COPIES = 4;

const GIB = 1024 ** 3;

/** Throws E_SPEC when training `model` cannot fit in BACKEND_MAX_BYTES. */
export function checkTrainable(model: Model): Model {
  const bytes = model.stateSize * 4 * TRAINING_COPIES;
  if (!(bytes <= BACKEND_MAX_BYTES)) {
    throw new RidgelineError(
      'E_SPEC',
      `model ${model.name} (${model.description}) has ${model.stateSize} parameters: training needs ${model.stateSize} × 4 bytes × ${TRAINING_COPIES} (weights, gradients, optimizer state) = ${
        (bytes / GIB).toFixed(1)
      } GiB, more than the ${BACKEND_MAX_BYTES / GIB} GiB a backend can hold; use a smaller --width`,
    );
  }
  return model;
}
