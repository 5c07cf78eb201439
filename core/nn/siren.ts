/**
 * SIREN (Sitzmann et al.), as Yunis et al. App. A use it: regression of a waveform's value
 * from its timestep with 5 linear layers, sine activations sin(ω0·(Wx + b)) with ω0 = 30
 * after the first four, and SIREN's initialisation (first layer U(±1/in), the others
 * U(±√(6/in)/ω0); biases keep PyTorch's default U(±1/√in)).
 */
import * as ag from '../autograd/mod.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder, uniformInit } from './builder.ts';
import { linear } from './functional/basic.ts';
import type { ForwardOptions, Model } from './model.ts';

export const SIREN_OMEGA = 30;
export const SIREN_WIDTH = 256;

export function siren(inputShape: readonly number[], outputs: number, width = SIREN_WIDTH): Model {
  const inputs = inputShape.reduce((a, v) => a * v, 1);
  const b = new ModelBuilder();
  const sizes = [inputs, width, width, width, width];
  // The sine is elementwise: each sine layer's units are interchangeable (rows of its linear,
  // columns of the next).
  const perms = [0, 1, 2, 3].map((l) => b.hidden(`sine${l}`, width));
  const sine = sizes.slice(0, 4).map((inF, l) => {
    const bound = l === 0 ? 1 / inF : Math.sqrt(6 / inF) / SIREN_OMEGA;
    const [w, bi] = b.module(`net.${l}.linear`, [
      { key: 'weight', shape: [sizes[l + 1], inF], init: uniformInit(bound) },
      { key: 'bias', shape: [sizes[l + 1]], init: uniformInit(1 / Math.sqrt(inF)) },
    ]);
    b.acts(perms[l], w, 0);
    b.acts(perms[l], bi, 0);
    if (l > 0) b.acts(perms[l - 1], w, 1);
    return { w, b: bi };
  });
  const out = b.module('net.4', [
    { key: 'weight', shape: [outputs, width], init: uniformInit(Math.sqrt(6 / width) / SIREN_OMEGA) },
    { key: 'bias', shape: [outputs], init: uniformInit(1 / Math.sqrt(width)) },
  ]);
  b.acts(perms[3], out[0], 1);
  const forward = (ps: readonly Tensor[], x: Tensor, o: ForwardOptions = {}) => {
    let h = x;
    sine.forEach((l, k) => {
      const z = linear(h, ps[l.w], ps[l.b]);
      // Before ω0: an affine correction of z is one of ω0·z, and it folds into the linear layer.
      o.capturePre?.(perms[k], z);
      h = ag.sin(ag.scale(z, SIREN_OMEGA));
      o.capture?.(perms[k], h);
    });
    return linear(h, ps[out[0]], ps[out[1]]);
  };
  return b.build({
    name: 'siren',
    description: `SIREN: 4 sine layers of width ${width} (ω0 = ${SIREN_OMEGA}) and a linear output, regression`,
    inputShape,
    classes: outputs,
    task: 'regression',
    forward,
  });
}
