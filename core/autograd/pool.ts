/**
 * Differentiable average pooling over NHWC feature maps, one fused kernel each way
 * (Backend.avgPool / avgPoolGrad) instead of unfolding every window: the windows' copy was
 * most of a pooling's time. The kernels give the bits of the composition they replace,
 * unfold + mean over each window's entries, and its gradient. Both directions are linear
 * and each other's adjoints, so their VJPs are each other and second derivatives (HVPs)
 * come for free, as for unfold and fold.
 */
import type { WindowParams } from '../backend.ts';
import { empty, type Tensor } from '../tensor.ts';
import { record } from './record.ts';
import { outSize, type Window, windowParams } from './window.ts';

/**
 * The mean of each kh×kw window of `x` [N, H, W, C] (padding counts as zeros):
 * [N, outH, outW, C]. `op` names the caller in errors.
 */
export function avgPool(x: Tensor, win: Window, op = 'avgPool'): Tensor {
  return avgPoolWith(x, windowParams(x, 'nhwc', win, op));
}

function avgPoolWith(x: Tensor, p: WindowParams): Tensor {
  const [oh, ow] = outSize(p);
  const out = empty(x.backend, [p.n, oh, ow, p.c]);
  if (out.size > 0) x.backend.avgPool(x.buf, out.buf, p);
  return record(out, 'avgPool', [x], (g) => [avgPoolGradWith(g, p, x.shape)]);
}

/** The adjoint of avgPoolWith: each window's cotangent, scaled, spread over its entries. */
function avgPoolGradWith(g: Tensor, p: WindowParams, shape: readonly number[]): Tensor {
  const dx = empty(g.backend, shape);
  if (dx.size > 0) g.backend.avgPoolGrad(g.buf, dx.buf, p);
  return record(dx, 'avgPoolGrad', [g], (u) => [avgPoolWith(u, p)]);
}
