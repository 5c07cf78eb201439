/**
 * The Disentangling paper's App. D family: one hidden layer of 128 filters with kernel 4,
 * stride 4 and no padding, then a linear head. `cnn` ties the kernel across positions,
 * `lc-cnn` gives every output position its own kernel (locality without weight sharing),
 * and `mlp-toeplitz` is the dense layer both embed into (the Toeplitz matrix), with its
 * hidden units in the order (filter, y, x) of the flattened feature map. On CIFAR-10:
 * 88 202 / 483 338 / 25 255 946 parameters (the paper's 0.09 M / 0.48 M / 25.26 M).
 */
import * as ag from '../autograd/mod.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder, uniformInit } from './builder.ts';
import { flattenChw, imageOf, linear } from './functional/basic.ts';
import { conv2d, locallyConnected2d } from './functional/conv.ts';
import type { ForwardOptions, Model } from './model.ts';
import { imageShape, spatialAfter } from './shapes.ts';

export const APP_D_FILTERS = 128;
export const APP_D_KERNEL = 4;

export type AppDKind = 'cnn' | 'lc-cnn' | 'mlp-toeplitz';

export function appDModel(kind: AppDKind, inputShape: readonly number[], classes: number, filters = APP_D_FILTERS): Model {
  const [c, h, w] = imageShape(inputShape, kind);
  const k = APP_D_KERNEL;
  const [oh, ow] = spatialAfter([h, w], [[k, k, 0]], kind);
  const hidden = filters * oh * ow;
  const b = new ModelBuilder();
  const win = { kernel: k, stride: k };
  // Symmetry: the Toeplitz MLP's hidden units are all interchangeable. The CNN's filters are
  // (each filter's oh·ow outputs are one block of the head's inputs). The LC layer's units
  // may be permuted per position; the group declared is its subgroup permuting whole filters.
  const units = kind === 'mlp-toeplitz' ? b.hidden('hidden', hidden) : b.hidden('filters', filters);
  const unitBlock = kind === 'mlp-toeplitz' ? 1 : oh * ow;
  let first: { w: number; b: number | null };
  let product: (x: Tensor, wt: Tensor) => Tensor;
  if (kind === 'cnn') {
    first = b.conv('0', c, filters, k, true, { out: units });
    product = (x, wt) => flattenChw(conv2d(imageOf(x, inputShape), wt, null, 'nchw', win));
  } else if (kind === 'lc-cnn') {
    // Fan-in per output unit is c·k², as for the tied convolution.
    const init = uniformInit(1 / Math.sqrt(c * k * k));
    const [wi, bi] = b.module('0', [
      { key: 'weight', shape: [filters, oh, ow, c, k, k], init },
      { key: 'bias', shape: [filters, oh, ow], init },
    ]);
    first = { w: wi, b: bi };
    b.acts(units, wi, 0);
    b.acts(units, bi, 0);
    product = (x, wt) => flattenChw(locallyConnected2d(imageOf(x, inputShape), wt, null, 'nchw', win));
  } else {
    first = b.linear('0', c * h * w, hidden, true, { out: units });
    product = (x, wt) => ag.matmul(x, wt, { transB: true });
  }
  // nn.Sequential indices: conv/lc (0), ReLU (1), Flatten (2), Linear (3); the MLP has no Flatten.
  const head = b.linear(kind === 'mlp-toeplitz' ? '2' : '3', hidden, classes, true, { in: units, inBlock: unitBlock });
  // Biases: per filter for the CNN (broadcast over positions), per unit otherwise; all in
  // the flattened (filter, y, x) order after this reshape.
  const addBias = (
    z: Tensor,
    bias: Tensor,
  ) => (kind === 'cnn'
    ? ag.reshape(ag.add(ag.reshape(z, [z.shape[0], filters, oh * ow]), ag.reshape(bias, [filters, 1])), [z.shape[0], hidden])
    : ag.add(z, ag.reshape(bias, [hidden])));
  const rest = (ps: readonly Tensor[], z1: Tensor, o: ForwardOptions = {}) => {
    const h1 = ag.relu(z1);
    // Units last only for the dense layer ([N, units]); the convolutional maps are
    // filter-major here, so activation matching of cnn / lc-cnn is not offered.
    if (kind === 'mlp-toeplitz') {
      o.capturePre?.(units, z1);
      o.capture?.(units, h1);
    }
    return linear(h1, ps[head.w], ps[head.b!]);
  };
  const names: Record<AppDKind, string> = {
    cnn: 'convolution',
    'lc-cnn': 'locally connected layer',
    'mlp-toeplitz': 'dense (Toeplitz-equivalent) layer',
  };
  return b.build({
    name: kind,
    description: `${
      names[kind]
    } of ${filters} filters ${k}×${k} stride ${k} on ${c}×${h}×${w}, ReLU, linear → ${classes} (Disentangling App. D)`,
    inputShape,
    classes,
    forward: (ps, x, o) => rest(ps, addBias(product(x, ps[first.w]), ps[first.b!]), o),
    // The bias is added inside `rest` for the shared-first-layer path, so product's
    // output (flattened) must be completed by the same bias rule.
    firstLayer: { weight: first.w, bias: null, product: (x, wt) => product(x, wt) },
    forwardFromFirst: (ps, z) => rest(ps, addBias(z, ps[first.b!])),
  });
}

/**
 * The dense Toeplitz matrix [filters·oh·ow, c·h·w] of a `cnn` or `lc-cnn` first layer
 * (weights as stored), and the matching dense bias: what `mlp-toeplitz` computes with
 * when given these, it computes exactly what the convolution computes.
 */
export function toeplitzEmbedding(
  kind: 'cnn' | 'lc-cnn',
  inputShape: readonly number[],
  weight: Float32Array,
  bias: Float32Array,
  filters = APP_D_FILTERS,
): { weight: Float32Array; bias: Float32Array } {
  const [c, h, w] = imageShape(inputShape, kind);
  const k = APP_D_KERNEL;
  const [oh, ow] = spatialAfter([h, w], [[k, k, 0]], kind);
  const dense = new Float32Array(filters * oh * ow * c * h * w);
  const denseBias = new Float32Array(filters * oh * ow);
  for (let o = 0; o < filters; o++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const unit = (o * oh + y) * ow + x;
        denseBias[unit] = kind === 'cnn' ? bias[o] : bias[unit];
        for (let ch = 0; ch < c; ch++) {
          for (let i = 0; i < k; i++) {
            for (let j = 0; j < k; j++) {
              const kernelAt = kind === 'cnn' ? ((o * c + ch) * k + i) * k + j : ((((o * oh + y) * ow + x) * c + ch) * k + i) * k + j;
              dense[unit * c * h * w + (ch * h + y * k + i) * w + x * k + j] = weight[kernelAt];
            }
          }
        }
      }
    }
  }
  return { weight: dense, bias: denseBias };
}
