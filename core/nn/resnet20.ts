/**
 * ResNet-20 for CIFAR (He et al. 2016, §4.2), as Yunis et al. and Singh et al. use it:
 * a 3×3 convolution to 16 channels, three stages of three basic blocks (16, 32, 64
 * channels; the first block of stages 2 and 3 halves the resolution), global average
 * pooling and a linear classifier. Shortcuts are He et al.'s option A (subsample and pad
 * the new channels with zeros; no parameters). Convolutions have no bias and use
 * Kaiming-normal initialisation (std √(2/fan_in)), as in the usual CIFAR implementation.
 * `batchNorm: false` drops every batch norm (the "BN off" variant of docs/models.md).
 */
import * as ag from '../autograd/mod.ts';
import { fromArray, type Tensor } from '../tensor.ts';
import { ModelBuilder, normalInit } from './builder.ts';
import { imageOf, linear } from './functional/basic.ts';
import { conv2d } from './functional/conv.ts';
import { batchNorm, type RunningUpdate } from './functional/norm.ts';
import { globalAvgPool } from './functional/pool.ts';
import { unfold } from '../autograd/window.ts';
import type { ForwardOptions, Model } from './model.ts';
import { imageShape, spatialAfter } from './shapes.ts';

interface Bn {
  w: number;
  b: number;
  mean: number;
  var: number;
}

/** Option-A shortcut to twice the channels at half the resolution: x[:, ::2, ::2] padded with C/2 zero channels each side. */
function padShortcut(x: Tensor): Tensor {
  const sub = unfold(x, 'nhwc', { kernel: 1, stride: 2 }); // [N, H/2, W/2, C]
  const [n, h, w, c] = sub.shape;
  // x·E with E[c, c + C/2] = 1 places the channels in the middle; products with 0 and 1 are exact.
  const e = new Float32Array(c * 2 * c);
  for (let i = 0; i < c; i++) e[i * 2 * c + i + c / 2] = 1;
  const placed = ag.matmul(ag.reshape(sub, [n * h * w, c]), fromArray(x.backend, e, [c, 2 * c]));
  return ag.reshape(placed, [n, h, w, 2 * c]);
}

export function resnet20(inputShape: readonly number[], classes: number, withBatchNorm = true): Model {
  const name = withBatchNorm ? 'resnet20' : 'resnet20-nobn';
  const [c, h, w] = imageShape(inputShape, name);
  spatialAfter([h, w], [[3, 1, 1], [3, 2, 1], [3, 2, 1]], name);
  const b = new ModelBuilder();
  const conv = (module: string, inC: number, outC: number) =>
    b.module(module, [{ key: 'weight', shape: [outC, inC, 3, 3], init: normalInit(Math.sqrt(2 / (inC * 9))) }])[0];
  const bn = (module: string, ch: number): Bn | null => (withBatchNorm ? b.batchNorm(module, ch) : null);

  // Symmetry. Each block's inner channels (conv1's outputs, bn1, conv2's inputs) form a group.
  // The residual stream of a stage is shared by the stem, every block's conv2 output, bn2 and
  // shortcut, and the next stage's inputs, and the option-A shortcut carries it exactly into
  // the next stage: stage s's channel c becomes channel c + C/2 there (zeros around it). So
  // the stream of stage 1 is one group that also acts on the middle channels of stages 2
  // and 3; the zero-padded channels a stage adds are a group of their own, also carried on.
  const streams = [b.hidden('stream1', 16), b.hidden('stream2-pad', 16), b.hidden('stream3-pad', 32)];
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  /** Where each stream group sits in a stage's channels (stage 0: 16, 1: 32, 2: 64). */
  const placement: number[][][] = [
    [range(0, 16)],
    [range(8, 24), [...range(0, 8), ...range(24, 32)]],
    [range(24, 40), [...range(16, 24), ...range(40, 48)], [...range(0, 16), ...range(48, 64)]],
  ];
  const onStream = (stage: number, param: number | null, axis: number) =>
    placement[stage].forEach((pos, g) => b.acts(streams[g], param, axis, 1, pos));
  const onBn = (stage: number, s: Bn | null) => s && [s.w, s.b, s.mean, s.var].forEach((t) => onStream(stage, t, 0));

  const stem = { conv: conv('conv1', c, 16), bn: bn('bn1', 16) };
  onStream(0, stem.conv, 0);
  onBn(0, stem.bn);
  const blocks: { conv1: number; bn1: Bn | null; conv2: number; bn2: Bn | null; stride: number; inner: string }[] = [];
  let inC = 16;
  [16, 32, 64].forEach((planes, stage) => {
    for (let i = 0; i < 3; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const p = `layer${stage + 1}.${i}`;
      const inner = b.hidden(`${p}.inner`, planes);
      const blk = {
        conv1: conv(`${p}.conv1`, inC, planes),
        bn1: bn(`${p}.bn1`, planes),
        conv2: conv(`${p}.conv2`, planes, planes),
        bn2: bn(`${p}.bn2`, planes),
        stride,
        inner,
      };
      onStream(stride === 2 ? stage - 1 : stage, blk.conv1, 1);
      b.acts(inner, blk.conv1, 0);
      if (blk.bn1) { for (const t of [blk.bn1.w, blk.bn1.b, blk.bn1.mean, blk.bn1.var]) b.acts(inner, t, 0); }
      b.acts(inner, blk.conv2, 1);
      onStream(stage, blk.conv2, 0);
      onBn(stage, blk.bn2);
      blocks.push(blk);
      inC = planes;
    }
  });
  const fc = b.linear('linear', 64, classes);
  onStream(2, fc.w, 1);

  const forwardFrom = (ps: readonly Tensor[], z1: Tensor, o: ForwardOptions) => {
    const train = o.train ?? false;
    const update: RunningUpdate = o.bnUpdate ?? { kind: 'ema' };
    const norm = (
      x: Tensor,
      s: Bn | null,
    ) => (s ? batchNorm(x, { weight: ps[s.w], bias: ps[s.b], runningMean: ps[s.mean], runningVar: ps[s.var] }, train, update) : x);
    let x = ag.relu(norm(z1, stem.bn));
    for (const blk of blocks) {
      const input = x;
      x = ag.layer(() => {
        let y = ag.relu(norm(conv2d(input, ps[blk.conv1], null, 'nhwc', { kernel: 3, stride: blk.stride, padding: 1 }), blk.bn1));
        o.capture?.(blk.inner, y);
        y = norm(conv2d(y, ps[blk.conv2], null, 'nhwc', { kernel: 3, padding: 1 }), blk.bn2);
        return ag.relu(ag.add(y, blk.stride === 1 ? input : padShortcut(input)));
      });
    }
    return linear(globalAvgPool(x), ps[fc.w], ps[fc.b!]);
  };
  const first = (x: Tensor, wt: Tensor) => conv2d(imageOf(x, inputShape), wt, null, 'nchw', { kernel: 3, padding: 1 });
  return b.build({
    name,
    description: `ResNet-20 (16/32/64 channels, 3×3 blocks, option-A shortcuts)${
      withBatchNorm ? ' with batch norm' : ' without batch norm'
    }`,
    inputShape,
    classes,
    forward: (ps, x, o) => forwardFrom(ps, first(x, ps[stem.conv]), o),
    firstLayer: { weight: stem.conv, bias: null, product: first },
    forwardFromFirst: (ps, z1) => forwardFrom(ps, z1, {}),
  });
}
