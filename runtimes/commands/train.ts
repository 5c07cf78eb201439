/** `ridgeline train`: one training run from a seed or a safetensors init, ending in a checkpoint. */
import { trainingLoader } from '../../core/experiments/train_loader.ts';
import { loadDataset } from '../../core/data/registry.ts';
import { RidgelineError } from '../../core/errors.ts';
import { trainConfigOf } from '../../core/experiments/train_config.ts';
import { FORK_DEFAULTS, applyOptions } from '../../core/experiments/fork_spec.ts';
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { createModel } from '../../core/nn/registry.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { loadWeights, saveCheckpoint } from '../../core/train/checkpoint.ts';
import { disposeState, stateFromWeights } from '../../core/train/state.ts';
import { trainSteps } from '../../core/train/trainer.ts';
import { BACKEND_OPTION, type Command, requireOption } from '../command.ts';
import { MODEL_OPTIONS, OPTIMIZER_OPTIONS } from './spec_options.ts';

export const trainCommand: Command = {
  summary: 'train one network and write its final checkpoint (weights + optimizer state); fork from it with fork --from',
  options: [
    ...MODEL_OPTIONS,
    ...OPTIMIZER_OPTIONS,
    { name: 'init', value: 'FILE', help: 'initial weights (safetensors) instead of --seed-init' },
    { name: 'steps', value: 'N', help: 'training length in steps' },
    { name: 'epochs', value: 'N', help: 'training length in epochs' },
    BACKEND_OPTION,
    { name: 'out', value: 'DIR', help: 'writes DIR/final.safetensors, DIR/final.optim.safetensors, DIR/train.json; DIR must be empty' },
    { name: 'force', value: '', help: 'write into a non-empty --out DIR, replacing an earlier checkpoint there' },
  ],
  async run(opts, host) {
    const out = requireOption('train', opts, 'out', 'DIR');
    if ((opts.steps === undefined) === (opts.epochs === undefined)) throw new RidgelineError('E_SPEC', 'train: give exactly one of --steps N or --epochs N');
    const { out: _o, init, backend: choice, force, ...rest } = opts;
    const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0] }, rest);
    // A train run does not resume: writing into a directory with files in it would
    // silently replace an earlier checkpoint, so that takes --force.
    await prepareOutDir(host.files, out, { fresh: { option: '--out', force: force === 'true' } });
    const { backend, reason } = await selectBackend(choice ?? 'auto', host.backends);
    host.progress.log(reason);
    const dataset = await loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
    const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
    const loader = trainingLoader(dataset, spec, spec.seedOrder);
    const steps = spec.unit === 'steps' ? spec.total! : Math.round(spec.total! * loader.stepsPerEpoch);
    const config = trainConfigOf(spec, loader.stepsPerEpoch, steps);
    const weights = init ? await loadWeights(host.files, init, model) : model.init(spec.seedInit);
    const state = stateFromWeights(backend, model, weights, config);
    const losses: number[] = [];
    try {
      host.progress.start(`train ${model.name} on ${dataset.name}`, steps);
      await trainSteps(backend, model, state, loader, steps, config, {
        onSync: (first, l) => {
          losses.push(...l);
          host.progress.update(first + l.length, `loss ${l[l.length - 1].toFixed(4)}`);
        },
      });
      host.progress.finish(`final loss ${losses[losses.length - 1]?.toFixed(4)}`);
      await saveCheckpoint(host.files, joinPath(out, 'final'), model, state, { orderSeed: String(spec.seedOrder) });
      await host.files.write(joinPath(out, 'train.json'), JSON.stringify({ spec, init: init ?? null, steps, runtime: host.runtime, backend: backend.description, losses }, null, 1));
    } finally {
      disposeState(state);
    }
    host.print(`checkpoint: ${joinPath(out, 'final.safetensors')} (+ final.optim.safetensors)`);
    return 0;
  },
};
