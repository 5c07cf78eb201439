/**
 * Data augmentation for [C, H, W] images (docs/fork.md's augmentation seed, as in the
 * Disentangling paper's App. A): a random translation by up to ±maxShift pixels on each
 * axis with zero fill (what `RandomCrop(H, padding=maxShift)` does), then a horizontal flip
 * with probability ½ (`RandomHorizontalFlip`).
 *
 * No hidden state: the transform of batch position i at global step s is a pure function
 * of (augSeed, s, i), so a resumed run or a forked child redraws exactly the same
 * augmentations. The draws, for another implementation to follow:
 *   stream  rngStream(augSeed, `augment/step-${s}`), seeked to word AUGMENT_WORDS · i;
 *   dy = intBelow(2·maxShift + 1) − maxShift, then dx likewise, then flip = intBelow(2) = 1
 *   (the flip word is drawn, and ignored, even when flips are off, so turning flips off does
 *   not change the shifts).
 * Each example owns AUGMENT_WORDS = 16 words; intBelow's rejection (probability < 2^-29 per
 * draw for these ranges) could in principle read into the next example's words, which
 * keeps every draw deterministic.
 *
 * Semantics: out[c, h, w] = in[c, h − dy, w − dx] (content moves down by dy and right by
 * dx; pixels shifted in from outside are `fill[c]`, default 0), then if flip,
 * out[c, h, w] ← out[c, h, W − 1 − w]. Zero fill happens in the data's current space: after
 * standard normalization 0 is the train mean of the channel; pass
 * fill[c] = −mean[c] / std[c] for black (the value 0 before normalization).
 */
import { RidgelineError } from '../errors.ts';
import { rngStream } from '../rng.ts';

/** Words of the step stream reserved per batch position. */
export const AUGMENT_WORDS = 16;

export interface AugmentOptions {
  /** The augmentation seed (docs/fork.md), an integer in [0, 2^53). */
  seed: number;
  /** Largest translation in pixels on each axis; default 4. 0 disables translation. */
  maxShift?: number;
  /** Random horizontal flips; default true. */
  flip?: boolean;
  /** Per-channel value of pixels shifted in from outside; default 0 for every channel. */
  fill?: readonly number[];
}

/** The transform applied to one image. */
export interface AugmentParams {
  /** Rows the content moves down (negative: up). */
  dy: number;
  /** Columns the content moves right (negative: left). */
  dx: number;
  flip: boolean;
}

/** Validates options (E_SPEC) and the image shape they are used with. */
export function checkAugmentOptions(options: AugmentOptions, inputShape?: readonly number[]): void {
  const { seed, maxShift = 4, flip = true, fill } = options;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RidgelineError('E_SPEC', `augmentation seed must be an integer in [0, 2^53), got ${seed}`);
  }
  if (!Number.isSafeInteger(maxShift) || maxShift < 0 || maxShift > 1024) {
    throw new RidgelineError('E_SPEC', `augmentation maxShift must be an integer in [0, 1024], got ${maxShift}`);
  }
  if (typeof flip !== 'boolean') throw new RidgelineError('E_SPEC', `augmentation flip must be true or false, got ${String(flip)}`);
  if (inputShape !== undefined) {
    if (inputShape.length !== 3) {
      throw new RidgelineError('E_SPEC', `augmentation needs [C, H, W] images, got input shape [${inputShape.join(', ')}]`);
    }
    if (fill !== undefined && fill.length !== inputShape[0]) {
      throw new RidgelineError('E_SPEC', `augmentation fill has ${fill.length} values, expected one per channel (${inputShape[0]})`);
    }
  }
  if (fill !== undefined && !fill.every((v) => Number.isFinite(v))) {
    throw new RidgelineError('E_SPEC', `augmentation fill values must be finite, got [${fill.join(', ')}]`);
  }
}

/** The transform of batch position `index` at global step `step` (see the module comment). */
export function augmentParams(seed: number, step: number, index: number, maxShift = 4, flip = true): AugmentParams {
  if (!Number.isSafeInteger(step) || step < 0) throw new RidgelineError('E_ARG', `augmentParams: step must be an integer ≥ 0, got ${step}`);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RidgelineError('E_ARG', `augmentParams: index must be an integer ≥ 0, got ${index}`);
  }
  const rng = rngStream(seed, `augment/step-${step}`).seek(AUGMENT_WORDS * index);
  return drawParams(rng, maxShift, flip);
}

function drawParams(rng: { intBelow(n: number): number }, maxShift: number, flip: boolean): AugmentParams {
  const dy = rng.intBelow(2 * maxShift + 1) - maxShift;
  const dx = rng.intBelow(2 * maxShift + 1) - maxShift;
  const f = rng.intBelow(2) === 1;
  return { dy, dx, flip: flip && f };
}

/**
 * Writes the transformed image `src[srcOffset …]` of shape [C, H, W] to `dst[dstOffset …]`.
 * `src` and `dst` must not overlap.
 */
export function transformImage(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  shape: readonly number[],
  params: AugmentParams,
  fill?: readonly number[],
): void {
  const [C, H, W] = shape as [number, number, number];
  const { dy, dx, flip } = params;
  for (let c = 0; c < C; c++) {
    const fv = fill?.[c] ?? 0;
    const plane = c * H * W;
    for (let h = 0; h < H; h++) {
      const sh = h - dy;
      const outRow = dstOffset + plane + h * W;
      if (sh < 0 || sh >= H) {
        dst.fill(fv, outRow, outRow + W);
        continue;
      }
      const inRow = srcOffset + plane + sh * W;
      for (let w = 0; w < W; w++) {
        const sw = (flip ? W - 1 - w : w) - dx; // flip after translate: out[w] = t[W-1-w]
        dst[outRow + w] = sw >= 0 && sw < W ? src[inRow + sw]! : fv;
      }
    }
  }
}

/**
 * Augments a batch in place: `x` holds `size` images of shape `inputShape` = [C, H, W],
 * position i transformed by `augmentParams(options.seed, step, i, …)`.
 */
export function augmentBatch(
  x: Float32Array,
  size: number,
  inputShape: readonly number[],
  options: AugmentOptions,
  step: number,
): Float32Array {
  checkAugmentOptions(options, inputShape);
  const { seed, maxShift = 4, flip = true, fill } = options;
  const f = inputShape[0]! * inputShape[1]! * inputShape[2]!;
  if (x.length !== size * f) throw new RidgelineError('E_ARG', `augmentBatch: x holds ${x.length} values, expected ${size}×${f}`);
  if (!Number.isSafeInteger(step) || step < 0) throw new RidgelineError('E_ARG', `augmentBatch: step must be an integer ≥ 0, got ${step}`);
  const rng = rngStream(seed, `augment/step-${step}`);
  const scratch = new Float32Array(f);
  for (let i = 0; i < size; i++) {
    const params = drawParams(rng.seek(AUGMENT_WORDS * i), maxShift, flip);
    if (params.dx === 0 && params.dy === 0 && !params.flip) continue;
    scratch.set(x.subarray(i * f, (i + 1) * f));
    transformImage(scratch, 0, x, i * f, inputShape, params, fill);
  }
  return x;
}
