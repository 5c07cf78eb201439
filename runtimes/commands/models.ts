/** `ridgeline models`: every model of docs/models.md with its parameter count on a dataset's shapes. */
import { loadDataset } from '../../core/data/registry.ts';
import { RidgelineError } from '../../core/errors.ts';
import { createModel, LISTED_MODELS } from '../../core/nn/registry.ts';
import type { Command } from '../command.ts';

/** Example shape and classes of the datasets whose shapes are known without reading them. */
const KNOWN_SHAPES: Record<string, { inputShape: number[]; classes: number }> = {
  mnist: { inputShape: [1, 28, 28], classes: 10 },
  'fashion-mnist': { inputShape: [1, 28, 28], classes: 10 },
  cifar10: { inputShape: [3, 32, 32], classes: 10 },
  cifar100: { inputShape: [3, 32, 32], classes: 100 },
  waveform: { inputShape: [1], classes: 0 },
  // Shapes only (no reader here): for counting the large-machine model.
  tinyimagenet: { inputShape: [3, 64, 64], classes: 200 },
};

export interface ModelRow {
  model: string;
  description: string;
  parameters: number;
  /** Buffer values (batch-norm running statistics), not counted as parameters. */
  buffers: number;
  tensors: { name: string; shape: number[]; trainable: boolean }[];
  /** Why the model cannot take this dataset, instead of the counts. */
  unavailable?: string;
}

export function modelRows(inputShape: readonly number[], classes: number, width?: number): ModelRow[] {
  return LISTED_MODELS.map((name) => {
    try {
      const m = createModel(name, inputShape, classes, { width });
      return {
        model: name,
        description: m.description,
        parameters: m.parameterCount,
        buffers: m.stateSize - m.parameterCount,
        tensors: m.params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable })),
      };
    } catch (e) {
      if (!(e instanceof RidgelineError)) throw e;
      return { model: name, description: '', parameters: 0, buffers: 0, tensors: [], unavailable: e.message.replace(/^E_SPEC: /, '') };
    }
  });
}

const millions = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : String(n));

export const modelsCommand: Command = {
  summary: "list every model with its parameter count on a dataset's example shape",
  options: [
    {
      name: 'data',
      value: 'D',
      help:
        'dataset whose shapes to use (mnist, fashion-mnist, cifar10, cifar100, waveform and tinyimagenet are known without reading files; others are loaded)',
      default: 'cifar10',
    },
    { name: 'width', value: 'N', help: 'hidden width for the models that take one (see fork --help)' },
    { name: 'json', value: '', help: 'print JSON (with every tensor name and shape) instead of a table' },
  ],
  async run(opts, host) {
    const data = opts.data ?? 'cifar10';
    const width = opts.width === undefined ? undefined : Number(opts.width);
    if (width !== undefined && !(Number.isInteger(width) && width > 0)) {
      throw new RidgelineError('E_SPEC', `models: --width must be a positive integer, got '${opts.width}'`);
    }
    const known = KNOWN_SHAPES[data];
    const { inputShape, classes } = known ?? (await loadDataset(data, host.files));
    const rows = modelRows(inputShape, classes, width);
    if (opts.json) {
      host.print(JSON.stringify({ data, inputShape, classes, models: rows }, null, 1));
      return 0;
    }
    host.print(`models on ${data} (examples [${inputShape.join(', ')}], ${classes === 0 ? 'regression' : `${classes} classes`})\n`);
    host.print(`${'model'.padEnd(15)}${'parameters'.padStart(14)}${''.padEnd(11)}description`);
    for (const r of rows) {
      if (r.unavailable) {
        host.print(`${r.model.padEnd(15)}${'—'.padStart(14)}${''.padEnd(11)}${r.unavailable}`);
        continue;
      }
      const extra = r.buffers > 0 ? ` (+${r.buffers} BN statistics)` : '';
      host.print(
        `${r.model.padEnd(15)}${r.parameters.toLocaleString('en-US').padStart(14)}  ${
          millions(r.parameters).padEnd(9)
        }${r.description}${extra}`,
      );
    }
    return 0;
  },
};
