/**
 * Convolution and its untied sibling, the locally connected layer, as window unfolding
 * followed by matrix products (so they reuse the tuned matmul kernels on both backends,
 * and their gradients and HVPs follow from those of unfold and matmul).
 * Weights use PyTorch's layout; outputs are NHWC feature maps [N, outH, outW, outC].
 */
import * as ag from '../../autograd/mod.ts';
import { shapeError } from '../../errors.ts';
import type { Tensor } from '../../tensor.ts';
import { type Layout, outSize, unfold, type Window, windowParams } from '../../autograd/window.ts';

/** Convolutions step by 1 unless told (pooling windows default to their own size). */
const convWindow = (win: Window): Window => ({ ...win, stride: win.stride ?? 1 });

/**
 * `nn.Conv2d`: weight [outC, C, kh, kw], bias [outC] or null; x in `layout`.
 * out[n, y, x, o] = Σ_{c,i,j} w[o, c, i, j] · in[n, c, y·s + i − p, x·s + j − p] + b[o].
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, layout: Layout, window: Window): Tensor {
  return ag.layer(() => {
    const win = convWindow(window);
    const p = windowParams(x, layout, win, 'conv2d');
    const [outC, c, kh, kw] = weight.shape;
    if (weight.shape.length !== 4 || c !== p.c || kh !== p.kh || kw !== p.kw) {
      shapeError('conv2d', `weight must be [outC, ${p.c}, ${p.kh}, ${p.kw}]`, weight.shape, x.shape);
    }
    const [oh, ow] = outSize(p);
    // On an NHWC map the windows unfold channels last, one contiguous run per window row,
    // and the (small) weight is permuted to match: ResNet-20's im2col went from 226–231 to
    // 47–54 ms a step on one thread, its step 1396 → 1258 ms (2026-12-05). The products then
    // sum each output's terms in (i, j, c) order; col2im's sums keep their order.
    const channelsLast = layout === 'nhwc' && c > 1;
    const cols = ag.reshape(unfold(x, layout, win, channelsLast), [p.n * oh * ow, c * kh * kw]);
    const w = channelsLast ? ag.permute(weight, [0, 2, 3, 1]) : weight;
    const y = ag.matmul(cols, ag.reshape(w, [outC, c * kh * kw]), { transB: true, bias: bias ?? undefined });
    return ag.reshape(y, [p.n, oh, ow, outC]);
  });
}

/**
 * A locally connected layer (a convolution whose kernel differs at every output position,
 * Disentangling App. D): weight [outC, outH, outW, C, kh, kw], bias [outC, outH, outW].
 * out[n, y, x, o] = Σ_{c,i,j} w[o, y, x, c, i, j] · in[n, c, y·s + i − p, x·s + j − p] + b[o, y, x].
 */
export function locallyConnected2d(x: Tensor, weight: Tensor, bias: Tensor | null, layout: Layout, window: Window): Tensor {
  return ag.layer(() => {
    const win = convWindow(window);
    const p = windowParams(x, layout, win, 'locallyConnected2d');
    const [oh, ow] = outSize(p);
    const [outC] = weight.shape;
    const k = p.c * p.kh * p.kw;
    if (
      weight.shape.length !== 6 || weight.shape[1] !== oh || weight.shape[2] !== ow || weight.shape[3] !== p.c ||
      weight.shape[4] !== p.kh || weight.shape[5] !== p.kw
    ) {
      shapeError('locallyConnected2d', `weight must be [outC, ${oh}, ${ow}, ${p.c}, ${p.kh}, ${p.kw}]`, weight.shape, x.shape);
    }
    const positions = oh * ow;
    // One product per output position: [P, N, k] · [P, outC, k]ᵀ → [P, N, outC].
    const cols = ag.permute(ag.reshape(unfold(x, layout, win), [p.n, positions, k]), [1, 0, 2]);
    const w = ag.permute(ag.reshape(weight, [outC, positions, k]), [1, 0, 2]);
    let y = ag.permute(ag.matmul(cols, w, { transB: true }), [1, 0, 2]);
    if (bias) y = ag.add(y, ag.permute(ag.reshape(bias, [outC, positions]), [1, 0]));
    return ag.reshape(y, [p.n, oh, ow, outC]);
  });
}
