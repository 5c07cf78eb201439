/**
 * AlexNet as the k1/k2 paper uses it for TinyImageNet (torchvision's layout with batch
 * norm after the first two convolutions, dropout before the first two fully connected
 * layers; ≈ 58 M parameters for 200 classes at 64×64). Defined so that its parameters are
 * counted and its checkpoints match PyTorch's names; training it is for larger machines.
 * The adaptive 6×6 average pool is supported when the feature map is 1×1 (broadcast) or a
 * multiple of 6 (plain average pooling), which covers 64×64 and 224×224 inputs.
 */
import * as ag from '../autograd/mod.ts';
import { RidgelineError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder } from './builder.ts';
import { flattenChw, imageOf, linear } from './functional/basic.ts';
import { conv2d } from './functional/conv.ts';
import { dropout } from './functional/dropout.ts';
import { batchNorm } from './functional/norm.ts';
import { avgPool2d, maxPool2d } from './functional/pool.ts';
import type { ForwardOptions, Model } from './model.ts';
import { imageShape, spatialAfter } from './shapes.ts';

const POOLED = 6;

function adaptiveAvgPool6(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  if (h === 1 && w === 1) return ag.broadcastTo(x, [n, POOLED, POOLED, c]);
  if (h % POOLED === 0 && w % POOLED === 0) return avgPool2d(x, { kernel: [h / POOLED, w / POOLED] });
  throw new RidgelineError(
    'E_SPEC',
    `alexnet: adaptive pooling of a ${h}×${w} feature map to 6×6 is not supported (use 64×64 or 224×224 images)`,
  );
}

export function alexnet(inputShape: readonly number[], classes: number): Model {
  const [c, h, w] = imageShape(inputShape, 'alexnet');
  spatialAfter([h, w], [[11, 4, 2], [3, 2, 0], [5, 1, 2], [3, 2, 0], [3, 1, 1], [3, 1, 1], [3, 1, 1], [3, 2, 0]], 'alexnet');
  const b = new ModelBuilder();
  // Every conv's channels (with their batch norm) and every hidden linear's units are
  // interchangeable; classifier.1 sees the pooled maps flattened (C, 6, 6).
  const [p0, p4, p8, p10, p12, q1, q4] = [
    ['features.0', 64],
    ['features.4', 192],
    ['features.8', 384],
    ['features.10', 256],
    ['features.12', 256],
    ['classifier.1', 4096],
    ['classifier.4', 4096],
  ]
    .map(([name, size]) => b.hidden(name as string, size as number));
  const c0 = b.conv('features.0', c, 64, 11, true, { out: p0 });
  const bn1 = b.batchNorm('features.1', 64, p0);
  const c4 = b.conv('features.4', 64, 192, 5, true, { in: p0, out: p4 });
  const bn5 = b.batchNorm('features.5', 192, p4);
  const c8 = b.conv('features.8', 192, 384, 3, true, { in: p4, out: p8 });
  const c10 = b.conv('features.10', 384, 256, 3, true, { in: p8, out: p10 });
  const c12 = b.conv('features.12', 256, 256, 3, true, { in: p10, out: p12 });
  const f1 = b.linear('classifier.1', 256 * POOLED * POOLED, 4096, true, { in: p12, inBlock: POOLED * POOLED, out: q1 });
  const f4 = b.linear('classifier.4', 4096, 4096, true, { in: q1, out: q4 });
  const f6 = b.linear('classifier.6', 4096, classes, true, { in: q4 });
  const forward = (ps: readonly Tensor[], x: Tensor, o: ForwardOptions) => {
    const train = o.train ?? false;
    const bn = (t: Tensor, s: typeof bn1) =>
      batchNorm(t, { weight: ps[s.w], bias: ps[s.b], runningMean: ps[s.mean], runningVar: ps[s.var] }, train, o.bnUpdate);
    const drop = (t: Tensor, layer: string) => (train ? dropout(t, 0.5, o.noiseSeed ?? 0, layer, o.step ?? 0) : t);
    const pool = (t: Tensor) => maxPool2d(t, { kernel: 3, stride: 2 });
    let t = pool(ag.relu(bn(conv2d(imageOf(x, inputShape), ps[c0.w], ps[c0.b!], 'nchw', { kernel: 11, stride: 4, padding: 2 }), bn1)));
    t = pool(ag.relu(bn(conv2d(t, ps[c4.w], ps[c4.b!], 'nhwc', { kernel: 5, padding: 2 }), bn5)));
    t = ag.relu(conv2d(t, ps[c8.w], ps[c8.b!], 'nhwc', { kernel: 3, padding: 1 }));
    t = ag.relu(conv2d(t, ps[c10.w], ps[c10.b!], 'nhwc', { kernel: 3, padding: 1 }));
    t = pool(ag.relu(conv2d(t, ps[c12.w], ps[c12.b!], 'nhwc', { kernel: 3, padding: 1 })));
    let v = flattenChw(adaptiveAvgPool6(t));
    v = ag.relu(linear(drop(v, 'classifier.0'), ps[f1.w], ps[f1.b!]));
    v = ag.relu(linear(drop(v, 'classifier.3'), ps[f4.w], ps[f4.b!]));
    return linear(v, ps[f6.w], ps[f6.b!]);
  };
  return b.build({
    name: 'alexnet',
    description:
      `AlexNet (5 conv with batch norm on the first two, 3 fc with dropout) on ${c}×${h}×${w} → ${classes} (large-machine model)`,
    inputShape,
    classes,
    forward,
  });
}
