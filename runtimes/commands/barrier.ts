/** `ridgeline barrier`: the barrier between two checkpoints, ours or PyTorch's. */
import { checkAlignable, matchNetworks } from '../../core/align/match.ts';
import { permuteState } from '../../core/align/permute.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { joinPath } from '../../core/io.ts';
import { alphaGrid } from '../../core/lmc/barrier.ts';
import { loadCheckpointPair, measureCheckpointPair } from '../../core/lmc/checkpoint_barrier.ts';
import { weightDistance } from '../../core/lmc/distances.ts';
import { pairMetrics } from '../../core/lmc/metrics.ts';
import { evaluatePath } from '../../core/lmc/path_eval.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, requireOption } from '../command.ts';
import { ALIGN_OPTIONS, MODEL_OPTIONS } from './spec_options.ts';

export const barrierCommand: Command = {
  summary: 'measure the linear-path barrier between two checkpoints (safetensors with PyTorch nn.Sequential names)',
  options: [
    ...MODEL_OPTIONS,
    { name: 'a', value: 'FILE', help: 'endpoint A (α = 0)' },
    { name: 'b', value: 'FILE', help: 'endpoint B (α = 1)' },
    { name: 'alphas', value: 'T', help: 'points on the path', default: String(FORK_DEFAULTS.alphas) },
    { name: 'eval-batch', value: 'N', help: 'rows per evaluation batch', default: String(FORK_DEFAULTS.evalBatch) },
    BACKEND_OPTION,
    MATH_OPTION,
    ...ALIGN_OPTIONS,
    { name: 'out', value: 'DIR', help: 'write DIR/barrier.json' },
    { name: 'json', value: '', help: 'print the result as JSON on stdout' },
  ],
  async run(opts, host) {
    const fileA = requireOption('barrier', opts, 'a', 'FILE');
    const fileB = requireOption('barrier', opts, 'b', 'FILE');
    const { a: _a, b: _b, out, json, backend: choice, math: _math, ...rest } = opts;
    const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0], total: 1 }, rest);
    const align = spec.align;
    if (out) await prepareOutDir(host.files, out);
    const { backend, reason } = await selectBackend(choice ?? 'auto', backendOptions(host, opts));
    if (!json) host.progress.log(reason);
    // A model that cannot be aligned (or repaired) stops before any work.
    const pair = await loadCheckpointPair(host.files, spec, fileA, fileB, undefined, (m) => checkAlignable(m, spec));
    const { dataset, model, weightsA: wA, weightsB: wB } = pair;
    const measured = await measureCheckpointPair(backend, pair, spec);
    let aligned: Record<string, unknown> | null = null;
    if (align) {
      const match = await matchNetworks(backend, model, wA, wB, align, dataset.train, { seed: spec.alignSeed });
      const wP = permuteState(model, wB, match.perms);
      const alphas = alphaGrid(spec.alphas);
      const repair = { split: dataset.train };
      aligned = {
        method: align,
        seed: spec.alignSeed,
        objectiveBefore: match.objectiveBefore,
        objective: match.objective,
        ...pairMetrics(
          await evaluatePath(backend, model, wA, wP, alphas, dataset.train, spec.evalBatch),
          await evaluatePath(backend, model, wA, wP, alphas, dataset.test, spec.evalBatch),
        ),
        weightDistance: weightDistance(wA, wP),
        ...(spec.repair
          ? {
            repaired: pairMetrics(
              await evaluatePath(backend, model, wA, wP, alphas, dataset.train, spec.evalBatch, undefined, repair),
              await evaluatePath(backend, model, wA, wP, alphas, dataset.test, spec.evalBatch, undefined, repair),
            ),
          }
          : {}),
      };
    }
    const { model: modelName, modelDescription, data, ...metrics } = measured;
    const result = {
      kind: 'barrier',
      a: fileA,
      b: fileB,
      model: modelName,
      modelDescription,
      data,
      backend: backend.description,
      math: backend.math,
      runtime: host.runtime,
      ...metrics,
      ...(aligned ? { aligned } : {}),
    };
    if (out) await host.files.write(joinPath(out, 'barrier.json'), JSON.stringify(result, null, 1));
    if (json) host.print(JSON.stringify(result));
    else {
      for (const split of ['train', 'test'] as const) {
        const m = result[split];
        host.print(
          `${split}: loss barrier ${m.lossBarrier.toFixed(5)} at α = ${m.lossBarrierAlpha}, error barrier ${
            (100 * m.errorBarrier).toFixed(2)
          } % (endpoint floor ${(100 * m.errorFloor).toFixed(2)} %), accuracies ${(100 * m.accuracyA).toFixed(2)} / ${
            (100 * m.accuracyB).toFixed(2)
          } %`,
        );
      }
      host.print(`weight distance ${result.weightDistance.toFixed(4)}${out ? `; written to ${joinPath(out, 'barrier.json')}` : ''}`);
      if (aligned) {
        const m = aligned as unknown as ReturnType<typeof pairMetrics> & { weightDistance: number };
        host.print(
          `after ${align} matching: train loss barrier ${m.train.lossBarrier.toFixed(5)}, test error barrier ${
            (100 * m.test.errorBarrier).toFixed(2)
          } %, weight distance ${m.weightDistance.toFixed(4)}`,
        );
        const r = (aligned as { repaired?: ReturnType<typeof pairMetrics> }).repaired;
        if (r) {
          host.print(
            `after ${align} matching and REPAIR: train loss barrier ${r.train.lossBarrier.toFixed(5)}, test error barrier ${
              (100 * r.test.errorBarrier).toFixed(2)
            } %`,
          );
        }
      }
    }
    return 0;
  },
};
