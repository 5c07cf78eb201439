/** Spatial sizes through a stack of windows, with a clear error when an input is too small. */
import { windowOutSize } from '../backend.ts';
import { RidgelineError } from '../errors.ts';

/** [kernel, stride, padding] of one window-sliding layer. */
export type WindowStep = readonly [number, number, number];

/** [H, W] after the windows `steps`, in order; E_SPEC naming the model when one does not fit. */
export function spatialAfter(
  hw: readonly [number, number] | readonly number[],
  steps: readonly WindowStep[],
  model: string,
): [number, number] {
  let [h, w] = hw;
  for (const [k, s, p] of steps) {
    const nh = windowOutSize(h, k, s, p);
    const nw = windowOutSize(w, k, s, p);
    if (nh < 1 || nw < 1) {
      throw new RidgelineError(
        'E_SPEC',
        `model ${model} needs larger images: ${hw[0]}×${hw[1]} shrinks to ${h}×${w} before a ${k}×${k} window (stride ${s}, padding ${p})`,
      );
    }
    [h, w] = [nh, nw];
  }
  return [h, w];
}

/** Checks an image input shape [C, H, W]. */
export function imageShape(inputShape: readonly number[], model: string): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new RidgelineError(
      'E_SPEC',
      `model ${model} needs image data [C, H, W]; this dataset has examples of shape [${inputShape.join(', ')}]`,
    );
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}
