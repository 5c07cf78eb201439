/**
 * Fully connected `nn.Sequential` models: `logreg`, `linear-L` and `mlp-L` of docs/models.md.
 * Linear weights are stored [out, in] as in PyTorch, so the forward pass is x·Wᵀ + b.
 */
import * as ag from '../autograd/mod.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder } from './builder.ts';
import { linear } from './functional/basic.ts';
import type { ForwardOptions, Model } from './model.ts';

export interface SequentialOptions {
  /** Widths [input, hidden…, classes]: one linear layer per consecutive pair. */
  sizes: number[];
  /** LeakyReLU slope between layers (0 = ReLU, 1 = linear); null = no activation at all. */
  slope: number | null;
  name: string;
  description: string;
  /** Shape of one example (default [sizes[0]]); images are flattened in (C, H, W) order. */
  inputShape?: readonly number[];
}

export function sequentialModel(o: SequentialOptions): Model {
  const { sizes, slope } = o;
  const b = new ModelBuilder();
  // nn.Sequential numbers activations too: Linear at 0, 2, 4, … when activations sit between.
  const moduleIndex = (l: number) => (slope === null ? l : 2 * l);
  // Hidden layer l's units (l = 1 … L−1) form permutation `h<l>`: the rows of linear l − 1
  // and the columns of linear l move together.
  const hiddenPerm = (l: number) => (l > 0 && l < sizes.length - 1 ? `h${l}` : undefined);
  for (let l = 1; l < sizes.length - 1; l++) b.hidden(`h${l}`, sizes[l]);
  if (sizes.length === 2) b.noHiddenUnits();
  const fc = sizes.slice(1).map((out, l) =>
    b.linear(String(moduleIndex(l)), sizes[l], out, true, { in: hiddenPerm(l), out: hiddenPerm(l + 1) })
  );
  const activate = (h: Tensor) => (slope === null ? h : ag.leakyRelu(h, slope));
  const rest = (ps: readonly Tensor[], z1: Tensor, options: ForwardOptions = {}) => {
    let h = z1;
    for (let l = 1; l < fc.length; l++) {
      options.capturePre?.(`h${l}`, h);
      const a = activate(h);
      options.capture?.(`h${l}`, a);
      h = linear(a, ps[fc[l].w], ps[fc[l].b!]);
    }
    return h;
  };
  return b.build({
    name: o.name,
    description: o.description,
    inputShape: o.inputShape ?? [sizes[0]],
    classes: sizes[sizes.length - 1],
    forward: (ps, x, options) => rest(ps, linear(x, ps[fc[0].w], ps[fc[0].b!]), options),
    firstLayer: { weight: fc[0].w, bias: fc[0].b },
    forwardFromFirst: (ps, z1) => rest(ps, z1),
  });
}
