/**
 * Fully connected `nn.Sequential` models: `logreg`, `linear-L` and `mlp-L` of SPEC §6.
 * Linear weights are stored [out, in] as in PyTorch, so the forward pass is x·Wᵀ + b.
 */
import * as ag from '../autograd/mod.ts';
import { rngStream } from '../rng.ts';
import type { Tensor } from '../tensor.ts';
import { type LayerSlice, type Model, type ParamInfo, layoutParams } from './model.ts';

export interface SequentialOptions {
  /** Widths [input, hidden…, classes]: one linear layer per consecutive pair. */
  sizes: number[];
  /** LeakyReLU slope between layers (0 = ReLU, 1 = linear); null = no activation at all. */
  slope: number | null;
  name: string;
  description: string;
}

export function sequentialModel(o: SequentialOptions): Model {
  const { sizes, slope } = o;
  const linearCount = sizes.length - 1;
  // nn.Sequential numbers activations too: Linear at 0, 2, 4, … when activations sit between.
  const moduleIndex = (l: number) => (slope === null ? l : 2 * l);
  const params: ParamInfo[] = layoutParams(
    Array.from({ length: linearCount }, (_, l) => [
      { name: `${moduleIndex(l)}.weight`, shape: [sizes[l + 1], sizes[l]] },
      { name: `${moduleIndex(l)}.bias`, shape: [sizes[l + 1]] },
    ]).flat(),
  );
  const layers: LayerSlice[] = Array.from({ length: linearCount }, (_, l) => ({
    name: String(moduleIndex(l)),
    offset: params[2 * l].offset,
    length: params[2 * l].size + params[2 * l + 1].size,
    params: [2 * l, 2 * l + 1],
  }));
  const activate = (h: Tensor) => (slope === null ? h : ag.leakyRelu(h, slope));
  const rest = (ps: readonly Tensor[], z1: Tensor) => {
    let h = z1;
    for (let l = 1; l < linearCount; l++) h = ag.add(ag.matmul(activate(h), ps[2 * l], { transB: true }), ps[2 * l + 1]);
    return h;
  };
  return {
    name: o.name,
    description: o.description,
    inputSize: sizes[0],
    classes: sizes[sizes.length - 1],
    params,
    layers,
    parameterCount: params.reduce((n, p) => n + p.size, 0),
    firstLayer: { weight: 0, bias: 1 },
    forward: (ps, x) => rest(ps, ag.add(ag.matmul(x, ps[0], { transB: true }), ps[1])),
    forwardFromFirst: rest,
    init(seed) {
      // torch.nn.Linear.reset_parameters: kaiming_uniform_(a=√5) gives U(±1/√fan_in) for
      // the weight, and the bias is U(±1/√fan_in) too.
      return params.map((p) => {
        const rng = rngStream(seed, `init/${p.name}`);
        const fanIn = p.name.endsWith('.weight') ? p.shape[1] : sizes[Math.floor(params.indexOf(p) / 2)];
        const bound = 1 / Math.sqrt(fanIn);
        const u = rng.uniforms(p.size);
        for (let i = 0; i < u.length; i++) u[i] = Math.fround(bound * (2 * u[i] - 1));
        return u;
      });
    },
  };
}
