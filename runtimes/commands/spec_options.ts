/** The experiment options shared by `fork` and `train`, with their --help texts. */
import { ALIGN_METHODS } from '../../core/align/match.ts';
import { REPAIR_EXAMPLES } from '../../core/align/repair.ts';
import { FORK_DEFAULTS, FORK_MODES, NORMALIZATIONS, UNITS } from '../../core/experiments/fork_spec.ts';
import { MODEL_NAMES } from '../../core/nn/registry.ts';
import { OPTIMIZERS } from '../../core/train/config.ts';
import { SCHEDULES } from '../../core/train/schedule.ts';
import type { OptionSpec } from '../command.ts';

const d = FORK_DEFAULTS;

export const MODEL_OPTIONS: OptionSpec[] = [
  { name: 'model', value: 'M', help: `model: ${MODEL_NAMES.join(', ')} (e.g. mlp-2)`, default: d.model },
  {
    name: 'width',
    value: 'N',
    help: 'hidden width: linear-L / mlp-L (512), vgg-reduced (95), vit-lite embedding (648), siren (256)',
    default: 'per model',
  },
  { name: 'slope', value: 'P', help: 'LeakyReLU slope in [0, 1] (0 = ReLU)', default: String(d.slope) },
  {
    name: 'data',
    value: 'D',
    help:
      'dataset: mnist[:DIR], fashion-mnist[:DIR], cifar10:DIR, cifar100:DIR, waveform[:FILE.wav], synthetic:gauss[...], synthetic:teacher[...]',
    default: d.data,
  },
  { name: 'limit', value: 'N', help: 'use only the first N examples of each split' },
  {
    name: 'normalize',
    value: NORMALIZATIONS.join('|'),
    help: 'input normalisation (standard: per channel, train statistics)',
    default: d.normalize,
  },
];

export const OPTIMIZER_OPTIONS: OptionSpec[] = [
  { name: 'optimizer', value: OPTIMIZERS.join('|'), help: 'optimizer (PyTorch semantics)', default: d.optimizer },
  { name: 'lr', value: 'X', help: 'learning rate', default: String(d.lr) },
  { name: 'momentum', value: 'X', help: 'SGD momentum', default: String(d.momentum) },
  { name: 'dampening', value: 'X', help: 'SGD momentum dampening', default: String(d.dampening) },
  { name: 'nesterov', value: '', help: 'Nesterov momentum (SGD)' },
  { name: 'weight-decay', value: 'X', help: 'weight decay (coupled for sgd/adam, decoupled for adamw)', default: String(d.weightDecay) },
  { name: 'beta1', value: 'X', help: 'Adam β1', default: String(d.beta1) },
  { name: 'beta2', value: 'X', help: 'Adam β2', default: String(d.beta2) },
  { name: 'eps', value: 'X', help: 'Adam ε', default: String(d.eps) },
  {
    name: 'warmup',
    value: 'EPOCHS',
    help: 'linear learning-rate warm-up length (PyTorch LinearLR from 1/W of the rate)',
    default: String(d.warmup),
  },
  { name: 'schedule', value: SCHEDULES.join('|'), help: 'learning-rate schedule after warm-up', default: d.schedule },
  { name: 'milestones', value: 'LIST', help: 'epochs where the step schedule multiplies the rate by 0.1' },
  { name: 'clip', value: 'X|none', help: 'clip gradients to this global L2 norm', default: 'none' },
  { name: 'batch', value: 'N', help: 'minibatch size (drop_last)', default: String(d.batch) },
  { name: 'seed-init', value: 'N', help: 'seed of the initial weights', default: String(d.seedInit) },
  { name: 'seed-order', value: 'N', help: "seed of the (parent's) data order", default: String(d.seedOrder) },
  { name: 'augment', value: '', help: 'augment training images: random translate ±4 px (black fill) and horizontal flip' },
  { name: 'seed-augment', value: 'N', help: 'augmentation seed (a line with order seed s uses N + s)', default: String(d.seedAugment) },
];

/** What --repair adds (after "also"), for every command that offers it. */
export const REPAIR_HELP =
  `the aligned path after REPAIR (each interpolated hidden channel rescaled to the interpolated endpoint statistics on ${REPAIR_EXAMPLES} training examples; for batch norm use --reset-bn)`;

/** Alignment of each measured pair (fork, barrier): the path is also measured after permuting B into A's basis. */
export const ALIGN_OPTIONS: OptionSpec[] = [
  {
    name: 'align',
    value: `${ALIGN_METHODS.join('|')}|none`,
    help: 'also measure each pair after aligning B to A (weight matching, or activation matching on training data)',
    default: 'none',
  },
  {
    name: 'align-seed',
    value: 'N',
    help: "seed of the matching (weight matching's order of visiting the permutations)",
    default: String(d.alignSeed),
  },
  { name: 'repair', value: '', help: `with --align: also ${REPAIR_HELP}` },
];

export const FORK_OPTIONS: OptionSpec[] = [
  { name: 'preset', value: 'NAME', help: "a named experiment (see 'ridgeline presets'); other options override it" },
  ...MODEL_OPTIONS,
  { name: 'k1', value: 'LIST', help: 'fork points (in --unit)', default: d.k1.join(',') },
  { name: 'k2', value: 'LIST', help: 'child training lengths after the fork (default: total − k1)' },
  { name: 'epochs', value: 'N', help: 'total length when --k2 is not given (k2 = N − k1), in epochs' },
  { name: 'steps', value: 'N', help: 'total length when --k2 is not given (k2 = N − k1), in steps' },
  { name: 'unit', value: UNITS.join('|'), help: 'unit of k1, k2', default: d.unit },
  { name: 'mode', value: FORK_MODES.join('|'), help: "two children per fork, or the k1/k2 paper's main run + one child", default: d.mode },
  {
    name: 'repeats',
    value: 'N',
    help: 'repetitions of the whole procedure, each with its own init, order and augmentation seeds (repeat 0 uses the given seeds)',
    default: String(d.repeats),
  },
  { name: 'alphas', value: 'T', help: 'points on the linear path (both ends included)', default: String(d.alphas) },
  ...OPTIMIZER_OPTIONS,
  { name: 'from', value: 'FILE', help: 'start the parent from these weights (safetensors) instead of --seed-init' },
  { name: 'threshold', value: 'X', help: 'test error barrier below which a pair counts as connected', default: String(d.threshold) },
  { name: 'eval-batch', value: 'N', help: 'rows per evaluation batch', default: String(d.evalBatch) },
  { name: 'reset-bn', value: '', help: 'recompute batch-norm statistics on training data at each path point (default: interpolate them)' },
  ...ALIGN_OPTIONS,
];
