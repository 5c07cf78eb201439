/**
 * Inverted dropout with masks from the portable Philox generator: the mask of a layer at a
 * training step is a pure function of (seed, layer, step), generated on the host and
 * uploaded (an upload, not a readback), so both backends and every runtime drop exactly
 * the same units and a resumed run continues with the masks it would have drawn.
 */
import * as ag from '../../autograd/mod.ts';
import { argError } from '../../errors.ts';
import { rngStream } from '../../rng.ts';
import { fromArray, type Tensor } from '../../tensor.ts';

/** Keep-mask scaled by 1/(1 − p): entries are 0 or 1/(1 − p). */
export function dropoutMask(seed: number, layer: string, step: number, size: number, p: number): Float32Array {
  if (!(p >= 0 && p < 1)) argError('dropout', `probability must be in [0, 1), got ${p}`);
  const u = rngStream(seed, `dropout/${layer}/${step}`).uniforms(size);
  const keep = Math.fround(1 / (1 - p));
  for (let i = 0; i < size; i++) u[i] = u[i] < p ? 0 : keep;
  return u;
}

/** x ⊙ mask with the mask of (seed, layer, step); the identity when p = 0. */
export function dropout(x: Tensor, p: number, seed: number, layer: string, step: number): Tensor {
  if (p === 0) return x;
  const mask = fromArray(x.backend, dropoutMask(seed, layer, step, x.size, p), x.shape);
  return ag.mul(x, mask);
}
