/**
 * LeNet-5 as in the k1/k2 paper and Yunis et al.: conv 6@5×5 (padding 2), average pool,
 * conv 16@5×5, average pool, fully connected 120, 84, classes; ReLU activations
 * (61 706 parameters on 28×28 MNIST).
 */
import * as ag from '../autograd/mod.ts';
import { conv2d } from './functional/conv.ts';
import { flattenChw, imageOf, linear } from './functional/basic.ts';
import { avgPool2d } from './functional/pool.ts';
import { ModelBuilder } from './builder.ts';
import type { ForwardOptions, Model } from './model.ts';
import type { Tensor } from '../tensor.ts';
import { imageShape, spatialAfter } from './shapes.ts';

export function lenet5(inputShape: readonly number[], classes: number): Model {
  const [c, h, w] = imageShape(inputShape, 'lenet5');
  // 5×5 padding 2 keeps the size, pool halves, 5×5 valid conv, pool halves.
  const [fh, fw] = spatialAfter([h, w], [[5, 1, 2], [2, 2, 0], [5, 1, 0], [2, 2, 0]], 'lenet5');
  const b = new ModelBuilder();
  // Channels of each conv and units of each hidden linear are interchangeable; the first
  // linear sees conv 2's channels flattened (C, H, W): one block of fh·fw inputs per channel.
  const [p1, p2, p3, p4] = [b.hidden('conv1', 6), b.hidden('conv2', 16), b.hidden('fc1', 120), b.hidden('fc2', 84)];
  const c1 = b.conv('0', c, 6, 5, true, { out: p1 });
  const c2 = b.conv('3', 6, 16, 5, true, { in: p1, out: p2 });
  const f1 = b.linear('7', 16 * fh * fw, 120, true, { in: p2, inBlock: fh * fw, out: p3 });
  const f2 = b.linear('9', 120, 84, true, { in: p3, out: p4 });
  const f3 = b.linear('11', 84, classes, true, { in: p4 });
  const rest = (ps: readonly Tensor[], z1: Tensor, o: ForwardOptions = {}) => {
    const seen = (perm: string, t: Tensor) => (o.capture?.(perm, t), t);
    const pre = (perm: string, t: Tensor) => (o.capturePre?.(perm, t), t);
    let x = avgPool2d(seen(p1, ag.relu(pre(p1, z1))), { kernel: 2 });
    x = avgPool2d(seen(p2, ag.relu(pre(p2, conv2d(x, ps[c2.w], ps[c2.b!], 'nhwc', { kernel: 5 })))), { kernel: 2 });
    x = seen(p3, ag.relu(pre(p3, linear(flattenChw(x), ps[f1.w], ps[f1.b!]))));
    x = seen(p4, ag.relu(pre(p4, linear(x, ps[f2.w], ps[f2.b!]))));
    return linear(x, ps[f3.w], ps[f3.b!]);
  };
  // The first layer's product; the forward passes the bias too (the product's fused
  // epilogue: the same bits as adding it after, one pass fewer).
  const first = (x: Tensor, wt: Tensor, bias: Tensor | null = null) =>
    conv2d(imageOf(x, inputShape), wt, bias, 'nchw', { kernel: 5, padding: 2 });
  return b.build({
    name: 'lenet5',
    description: `LeNet-5 (conv 6@5×5 pad 2, avg-pool, conv 16@5×5, avg-pool, fc 120, 84, ${classes}; ReLU)`,
    inputShape,
    classes,
    forward: (ps, x, o) => rest(ps, first(x, ps[c1.w], ps[c1.b!]), o),
    firstLayer: { weight: c1.w, bias: c1.b, product: first },
    forwardFromFirst: (ps, z1) => rest(ps, z1),
  });
}
