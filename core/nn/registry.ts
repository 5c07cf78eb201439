/** The model registry: names of docs/models.md → models for a dataset's example shape and class count. */
import { RidgelineError } from '../errors.ts';
import { alexnet } from './alexnet.ts';
import { appDModel } from './app_d.ts';
import { lenet5 } from './lenet5.ts';
import { checkTrainable } from './memory_budget.ts';
import type { Model } from './model.ts';
import { resnet20 } from './resnet20.ts';
import { sequentialModel } from './sequential.ts';
import { siren } from './siren.ts';
import { vggReduced } from './vgg_reduced.ts';
import { vitLite } from './vit_lite.ts';

export interface ModelOptions {
  /** Hidden width of linear-L and mlp-L (default 512), vgg-reduced's hidden layer, vit-lite's embedding, siren's layers. */
  width?: number | null;
  /** LeakyReLU slope of mlp-L in [0, 1] (default 0 = ReLU). */
  slope?: number;
}

export const MODEL_NAMES = [
  'logreg',
  'linear-L',
  'mlp-L',
  'cnn',
  'lc-cnn',
  'mlp-toeplitz',
  'vit-lite',
  'lenet5',
  'vgg-reduced',
  'resnet20',
  'resnet20-nobn',
  'siren',
  'alexnet',
] as const;

/** Concrete names to list (the L-families at their usual depth). */
export const LISTED_MODELS: string[] = ['logreg', 'linear-2', 'mlp-2', ...MODEL_NAMES.slice(3)];

function spec(message: string): never {
  throw new RidgelineError('E_SPEC', message);
}

/**
 * Builds `name` (e.g. `mlp-2`, `lenet5`) for examples of shape `inputShape` (or a feature
 * count) and `classes` outputs (0 = regression with one output).
 */
export function createModel(name: string, inputShape: readonly number[] | number, classes: number, o: ModelOptions = {}): Model {
  return checkTrainable(buildModel(name, inputShape, classes, o));
}

function buildModel(name: string, inputShape: readonly number[] | number, classes: number, o: ModelOptions = {}): Model {
  const shape = typeof inputShape === 'number' ? [inputShape] : [...inputShape];
  const inputs = shape.reduce((a, b) => a * b, 1);
  const width = o.width ?? undefined;
  const slope = o.slope ?? 0;
  if (width !== undefined && (!Number.isInteger(width) || width < 1)) spec(`--width must be a positive integer, got ${width}`);
  if (!(slope >= 0 && slope <= 1)) spec(`--slope must be in [0, 1], got ${slope}`);
  const isRegression = classes === 0;
  if (isRegression && name !== 'siren' && !/^(linear|mlp)-\d+$/.test(name) && name !== 'logreg') {
    spec(`model '${name}' classifies; this dataset is a regression (use siren, mlp-L or linear-L)`);
  }
  if (name === 'siren') {
    if (!isRegression) spec("model 'siren' regresses a signal from its timestep; use a regression dataset (--data waveform[:FILE.wav])");
    return siren(shape, 1, width);
  }
  const outputs = Math.max(classes, 1);
  switch (name) {
    case 'logreg':
      return withTask(
        sequentialModel({
          sizes: [inputs, outputs],
          slope: null,
          name,
          description: `logistic regression ${inputs} → ${outputs}`,
          inputShape: shape,
        }),
        isRegression,
      );
    case 'cnn':
    case 'lc-cnn':
    case 'mlp-toeplitz':
      return appDModel(name, shape, classes);
    case 'vit-lite':
      return vitLite(shape, classes, width);
    case 'lenet5':
      return lenet5(shape, classes);
    case 'vgg-reduced':
      return vggReduced(shape, classes, width);
    case 'resnet20':
      return resnet20(shape, classes, true);
    case 'resnet20-nobn':
      return resnet20(shape, classes, false);
    case 'alexnet':
      return alexnet(shape, classes);
  }
  const m = /^(linear|mlp)-(\d+)$/.exec(name);
  if (m) {
    const layers = Number(m[2]);
    if (layers < 1) spec(`model '${name}': needs at least one layer`);
    const hidden = width ?? 512;
    const sizes = [inputs, ...Array(layers - 1).fill(hidden), outputs];
    const isMlp = m[1] === 'mlp';
    const act = slope === 0 ? 'ReLU' : slope === 1 ? 'identity' : `LeakyReLU(${slope})`;
    return withTask(
      sequentialModel({
        sizes,
        slope: isMlp ? slope : null,
        name,
        description: isMlp ? `${layers}-layer MLP, width ${hidden}, ${act}` : `${layers}-layer deep linear network, width ${hidden}`,
        inputShape: shape,
      }),
      isRegression,
    );
  }
  spec(`unknown model '${name}'; valid: ${MODEL_NAMES.join(', ')} (L = number of linear layers, e.g. mlp-2)`);
}

function withTask(model: Model, regression: boolean): Model {
  return regression ? { ...model, task: 'regression' } : model;
}
