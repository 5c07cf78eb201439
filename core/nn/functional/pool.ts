/**
 * Pooling over NHWC feature maps: average and max over windows, global average.
 * Windows come from `unfold` (padding counts as zeros, like PyTorch's AvgPool2d with
 * count_include_pad; our models pool without padding).
 */
import * as ag from '../../autograd/mod.ts';
import { record } from '../../autograd/record.ts';
import { type Window, outSize, unfold, windowParams } from '../../autograd/window.ts';
import { type Tensor, empty } from '../../tensor.ts';

/** `nn.AvgPool2d(kernel, stride)` on [N, H, W, C]. */
export function avgPool2d(x: Tensor, win: Window): Tensor {
  return ag.layer(() => {
    const p = windowParams(x, 'nhwc', win, 'avgPool2d');
    const [oh, ow] = outSize(p);
    const cols = ag.reshape(unfold(x, 'nhwc', win), [p.n, oh, ow, p.c, p.kh * p.kw]);
    return ag.mean(cols, [4]);
  });
}

/** `nn.MaxPool2d(kernel, stride)` on [N, H, W, C]. */
export function maxPool2d(x: Tensor, win: Window): Tensor {
  return ag.layer(() => {
    const p = windowParams(x, 'nhwc', win, 'maxPool2d');
    const [oh, ow] = outSize(p);
    const cols = ag.reshape(unfold(x, 'nhwc', win), [p.n, oh, ow, p.c, p.kh * p.kw]);
    return ag.reshape(maxLast(cols), [p.n, oh, ow, p.c]);
  });
}

/**
 * Maximum over the last axis, keeping it as size 1. The cotangent goes to the maximal
 * entries, shared equally among ties (a subgradient; PyTorch gives it all to the first).
 * The routing mask is piecewise constant, so the op is linear in its cotangent and its
 * second derivative is exactly zero, as the HVP needs.
 */
export function maxLast(x: Tensor): Tensor {
  const size = x.shape[x.shape.length - 1];
  const outer = x.size / size;
  const m = empty(x.backend, [...x.shape.slice(0, -1), 1]);
  if (m.size > 0) x.backend.reduce('max', x.buf, m.buf, { outer, size, inner: 1 });
  return record(m, 'maxLast', [x], (g) => {
    const share = ag.noGrad(() => {
      // max ≥ x, so sign(max − x) ∈ {0, 1} and 1 − sign is the indicator of the maxima.
      const hit = ag.addScalar(ag.neg(ag.sign(ag.sub(m, x))), 1);
      return ag.div(hit, ag.sum(hit, [-1], true));
    });
    return [ag.mul(share, g)];
  });
}

/** Mean over the spatial axes of [N, H, W, C] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  return ag.mean(x, [1, 2]);
}
