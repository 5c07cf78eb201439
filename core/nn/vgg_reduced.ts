/**
 * The k1/k2 paper's reduced VGG for CIFAR-10: two 3×3 convolutions (64 and 128 filters,
 * padding 1, each followed by ReLU and 2×2 max pooling) and two fully connected layers
 * with dropout after the hidden one. The paper gives the structure and "855 K parameters"
 * but not the widths; VGG-16's first two blocks (64, 128) with a 95-unit hidden layer give
 * 854 943, and the hidden width is an option (--width).
 */
import * as ag from '../autograd/mod.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder } from './builder.ts';
import { flattenChw, imageOf, linear } from './functional/basic.ts';
import { conv2d } from './functional/conv.ts';
import { dropout } from './functional/dropout.ts';
import { maxPool2d } from './functional/pool.ts';
import type { ForwardOptions, Model } from './model.ts';
import { imageShape, spatialAfter } from './shapes.ts';

export const VGG_HIDDEN = 95;
export const VGG_DROPOUT = 0.5;

export function vggReduced(inputShape: readonly number[], classes: number, hidden = VGG_HIDDEN): Model {
  const [c, h, w] = imageShape(inputShape, 'vgg-reduced');
  const [fh, fw] = spatialAfter([h, w], [[3, 1, 1], [2, 2, 0], [3, 1, 1], [2, 2, 0]], 'vgg-reduced');
  const b = new ModelBuilder();
  // Channels of each conv and the hidden units are interchangeable; the first linear sees
  // conv 2's channels flattened (C, H, W): one block of fh·fw inputs per channel.
  const [p1, p2, p3] = [b.hidden('conv1', 64), b.hidden('conv2', 128), b.hidden('fc1', hidden)];
  const c1 = b.conv('0', c, 64, 3, true, { out: p1 });
  const c2 = b.conv('3', 64, 128, 3, true, { in: p1, out: p2 });
  const f1 = b.linear('7', 128 * fh * fw, hidden, true, { in: p2, inBlock: fh * fw, out: p3 });
  const f2 = b.linear('10', hidden, classes, true, { in: p3 });
  // The first layer's product; the forward passes the bias too (the product's fused
  // epilogue: the same bits as adding it after, one pass fewer).
  const first = (x: Tensor, wt: Tensor, bias: Tensor | null = null) =>
    conv2d(imageOf(x, inputShape), wt, bias, 'nchw', { kernel: 3, padding: 1 });
  const rest = (ps: readonly Tensor[], z1: Tensor, o: ForwardOptions = {}) => {
    const seen = (perm: string, t: Tensor) => (o.capture?.(perm, t), t);
    const pre = (perm: string, t: Tensor) => (o.capturePre?.(perm, t), t);
    let x = maxPool2d(seen(p1, ag.relu(pre(p1, z1))), { kernel: 2 });
    x = maxPool2d(seen(p2, ag.relu(pre(p2, conv2d(x, ps[c2.w], ps[c2.b!], 'nhwc', { kernel: 3, padding: 1 })))), { kernel: 2 });
    x = seen(p3, ag.relu(pre(p3, linear(flattenChw(x), ps[f1.w], ps[f1.b!]))));
    if (o.train) x = dropout(x, VGG_DROPOUT, o.noiseSeed ?? 0, '9', o.step ?? 0);
    return linear(x, ps[f2.w], ps[f2.b!]);
  };
  return b.build({
    name: 'vgg-reduced',
    description: `reduced VGG (conv 64@3×3, max-pool, conv 128@3×3, max-pool, fc ${hidden} + dropout ${VGG_DROPOUT}, fc ${classes}; ReLU)`,
    inputShape,
    classes,
    forward: (ps, x, o) => rest(ps, first(x, ps[c1.w], ps[c1.b!]), o),
    firstLayer: { weight: c1.w, bias: c1.b, product: first },
    forwardFromFirst: (ps, z1) => rest(ps, z1),
  });
}
