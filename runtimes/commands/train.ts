/** `ridgeline train`: one training run from a seed or a safetensors init, ending in a checkpoint. */
import { loadDataset } from '../../core/data/registry.ts';
import { RidgelineError } from '../../core/errors.ts';
import { trainRun } from '../../core/experiments/train_run.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { createModel } from '../../core/nn/registry.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { loadWeights, saveCheckpoint } from '../../core/train/checkpoint.ts';
import { disposeState } from '../../core/train/state.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, requireOption } from '../command.ts';
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
    MATH_OPTION,
    { name: 'out', value: 'DIR', help: 'writes DIR/final.safetensors, DIR/final.optim.safetensors, DIR/train.json; DIR must be empty' },
    { name: 'force', value: '', help: 'write into a non-empty --out DIR, replacing an earlier checkpoint there' },
  ],
  async run(opts, host) {
    const out = requireOption('train', opts, 'out', 'DIR');
    if ((opts.steps === undefined) === (opts.epochs === undefined)) {
      throw new RidgelineError('E_SPEC', 'train: give exactly one of --steps N or --epochs N');
    }
    const { out: _o, init, backend: choice, math: _math, force, ...rest } = opts;
    const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0] }, rest);
    // A train run does not resume: writing into a directory with files in it would
    // silently replace an earlier checkpoint, so that takes --force.
    await prepareOutDir(host.files, out, { fresh: { option: '--out', force: force === 'true' } });
    const { backend, reason } = await selectBackend(choice ?? 'auto', backendOptions(host, opts));
    host.progress.log(reason);
    const dataset = await loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
    const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
    const initWeights = init ? await loadWeights(host.files, init, model) : undefined;
    const run = await trainRun(backend, model, dataset, spec, {
      init: initWeights,
      onStart: (steps) => host.progress.start(`train ${model.name} on ${dataset.name}`, steps),
      onLosses: (first, l) => host.progress.update(first + l.length, `loss ${l[l.length - 1].toFixed(4)}`),
    });
    try {
      host.progress.finish(`final loss ${run.losses[run.losses.length - 1]?.toFixed(4)}`);
      await saveCheckpoint(host.files, joinPath(out, 'final'), model, run.state, { orderSeed: String(spec.seedOrder) });
      await host.files.write(
        joinPath(out, 'train.json'),
        JSON.stringify(
          {
            spec,
            init: init ?? null,
            steps: run.steps,
            runtime: host.runtime,
            backend: backend.description,
            math: backend.math,
            losses: run.losses,
          },
          null,
          1,
        ),
      );
    } finally {
      disposeState(run.state);
    }
    host.print(`checkpoint: ${joinPath(out, 'final.safetensors')} (+ final.optim.safetensors)`);
    return 0;
  },
};
