/** Small building blocks shared by the models: linear layers and layout changes. */
import * as ag from '../../autograd/mod.ts';
import { shapeError } from '../../errors.ts';
import type { Tensor } from '../../tensor.ts';

/** nn.Linear: x·wᵀ + b over the last axis of x [N, in]. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  return ag.matmul(x, w, { transB: true, bias: b ?? undefined });
}

/** Input rows [N, C·H·W] (the data's CHW order) as an NCHW feature map. */
export function imageOf(x: Tensor, inputShape: readonly number[]): Tensor {
  if (inputShape.length !== 3) shapeError('model', 'this model needs image inputs [C, H, W]', inputShape);
  return ag.reshape(x, [x.shape[0], ...inputShape]);
}

/**
 * nn.Flatten of an NHWC feature map in PyTorch's (c, h, w) order, so the next linear
 * layer's weight has PyTorch's column order and checkpoints load in PyTorch.
 */
export function flattenChw(h: Tensor): Tensor {
  const [n, hh, ww, c] = h.shape;
  return ag.reshape(ag.permute(h, [0, 3, 1, 2]), [n, c * hh * ww]);
}
