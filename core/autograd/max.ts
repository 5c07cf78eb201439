/** The differentiable maximum over the last axis, the reduction of max pooling. */
import { empty, type Tensor } from '../tensor.ts';
import { addScalar, div, mul, neg, sign, sub, sum } from './ops.ts';
import { noGrad, record } from './record.ts';

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
    const share = noGrad(() => {
      // max ≥ x, so sign(max − x) ∈ {0, 1} and 1 − sign is the indicator of the maxima.
      const hit = addScalar(neg(sign(sub(m, x))), 1);
      return div(hit, sum(hit, [-1], true));
    });
    return [mul(share, g)];
  });
}
