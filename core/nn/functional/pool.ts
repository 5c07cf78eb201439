/**
 * Pooling over NHWC feature maps: average and max over windows, global average.
 * Padding counts as zeros (like PyTorch's AvgPool2d with count_include_pad; our models
 * pool without padding). Average pooling is one fused op (autograd/pool.ts); max pooling
 * takes its windows from `unfold`.
 */
import * as ag from '../../autograd/mod.ts';
import { outSize, unfold, type Window, windowParams } from '../../autograd/window.ts';
import type { Tensor } from '../../tensor.ts';

/** `nn.AvgPool2d(kernel, stride)` on [N, H, W, C]. */
export function avgPool2d(x: Tensor, win: Window): Tensor {
  return ag.layer(() => ag.avgPool(x, win, 'avgPool2d'));
}

/** `nn.MaxPool2d(kernel, stride)` on [N, H, W, C]. */
export function maxPool2d(x: Tensor, win: Window): Tensor {
  return ag.layer(() => {
    const p = windowParams(x, 'nhwc', win, 'maxPool2d');
    const [oh, ow] = outSize(p);
    const cols = ag.reshape(unfold(x, 'nhwc', win), [p.n, oh, ow, p.c, p.kh * p.kw]);
    return ag.reshape(ag.maxLast(cols), [p.n, oh, ow, p.c]);
  });
}

/** Mean over the spatial axes of [N, H, W, C] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  return ag.mean(x, [1, 2]);
}
