/**
 * Multi-head self-attention (the ViT block of Disentangling App. D), composed of matmuls,
 * the softmax and data movement, so gradients and HVPs come from those ops' rules.
 */
import * as ag from '../../autograd/mod.ts';
import { shapeError } from '../../errors.ts';
import type { Tensor } from '../../tensor.ts';

export interface AttentionWeights {
  /** [3·heads·headDim, D] and [3·heads·headDim]: q, k, v stacked, as timm's `qkv`. */
  qkvWeight: Tensor;
  qkvBias: Tensor;
  /** [D, heads·headDim] and [D]. */
  projWeight: Tensor;
  projBias: Tensor;
}

/** softmax(q·kᵀ/√d)·v per head over tokens x [N, T, D], projected back to [N, T, D]. */
export function selfAttention(x: Tensor, w: AttentionWeights, heads: number): Tensor {
  return ag.layer(() => {
    const [n, t, d] = x.shape;
    const inner = w.qkvWeight.shape[0] / 3;
    const headDim = inner / heads;
    if (x.shape.length !== 3 || w.qkvWeight.shape[1] !== d || !Number.isInteger(headDim)) {
      shapeError(
        'selfAttention',
        `tokens must be [N, T, ${w.qkvWeight.shape[1]}] and qkv rows divisible by 3·${heads}`,
        x.shape,
        w.qkvWeight.shape,
      );
    }
    const qkv = ag.matmul(ag.reshape(x, [n * t, d]), w.qkvWeight, { transB: true, bias: w.qkvBias });
    // [N, T, 3, H, Dh] → [3, N, H, T, Dh]: q, k and v become contiguous thirds.
    const split = ag.reshape(ag.permute(ag.reshape(qkv, [n, t, 3, heads, headDim]), [2, 0, 3, 1, 4]), [3, n * heads, t, headDim]);
    const part = (i: number) => ag.reshape(ag.takeRows(split, i, 1), [n * heads, t, headDim]);
    const scores = ag.scale(ag.matmul(part(0), part(1), { transB: true }), 1 / Math.sqrt(headDim));
    const mixed = ag.matmul(ag.softmax(scores), part(2)); // [N·H, T, Dh]
    const merged = ag.reshape(ag.permute(ag.reshape(mixed, [n, heads, t, headDim]), [0, 2, 1, 3]), [n * t, inner]);
    return ag.reshape(ag.matmul(merged, w.projWeight, { transB: true, bias: w.projBias }), [n, t, d]);
  });
}
