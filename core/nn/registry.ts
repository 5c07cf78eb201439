/** The model registry: names of SPEC §6 → models for a dataset's input and class counts. */
import { RidgelineError } from '../errors.ts';
import type { Model } from './model.ts';
import { sequentialModel } from './sequential.ts';

export interface ModelOptions {
  /** Hidden width of linear-L and mlp-L (default 512). */
  width?: number;
  /** LeakyReLU slope of mlp-L in [0, 1] (default 0 = ReLU). */
  slope?: number;
}

export const MODEL_NAMES = ['logreg', 'linear-L', 'mlp-L'] as const;

function spec(message: string): never {
  throw new RidgelineError('E_SPEC', message);
}

/** Builds `name` (e.g. `mlp-2`, `linear-4`, `logreg`) for `inputs` features and `classes`. */
export function createModel(name: string, inputs: number, classes: number, o: ModelOptions = {}): Model {
  const width = o.width ?? 512;
  const slope = o.slope ?? 0;
  if (!Number.isInteger(width) || width < 1) spec(`--width must be a positive integer, got ${width}`);
  if (!(slope >= 0 && slope <= 1)) spec(`--slope must be in [0, 1], got ${slope}`);
  if (name === 'logreg') {
    return sequentialModel({ sizes: [inputs, classes], slope: null, name, description: `logistic regression ${inputs} → ${classes}` });
  }
  const m = /^(linear|mlp)-(\d+)$/.exec(name);
  if (m) {
    const layers = Number(m[2]);
    if (layers < 1) spec(`model '${name}': needs at least one layer`);
    const sizes = [inputs, ...Array(layers - 1).fill(width), classes];
    const isMlp = m[1] === 'mlp';
    const act = slope === 0 ? 'ReLU' : slope === 1 ? 'identity' : `LeakyReLU(${slope})`;
    return sequentialModel({
      sizes,
      slope: isMlp ? slope : null,
      name,
      description: isMlp ? `${layers}-layer MLP, width ${width}, ${act}` : `${layers}-layer deep linear network, width ${width}`,
    });
  }
  spec(`unknown model '${name}'; valid: ${MODEL_NAMES.join(', ')} (L = number of linear layers, e.g. mlp-2)`);
}
