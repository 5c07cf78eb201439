/**
 * `ridgeline convexity`: local convexity between stochastic updates (Yunis et al. App. B,
 * docs/metrics.md#second-order): P(g < 0) over K pairs of one-step updates, at a checkpoint (weights + optimizer
 * state) or every N steps of a training run.
 */
import { prepareOutDir } from '../../core/out_dir.ts';
import { RidgelineError } from '../../core/errors.ts';
import { trainConfigOf } from '../../core/experiments/train_config.ts';
import { joinPath } from '../../core/io.ts';
import { type ConvexityResult, localConvexity } from '../../core/lmc/convexity.ts';
import { datasetLoss } from '../../core/lmc/dataset_derivatives.ts';
import { loadCheckpoint, OPTIM_SUFFIX, WEIGHTS_SUFFIX } from '../../core/train/checkpoint.ts';
import type { TrainConfig } from '../../core/train/config.ts';
import { disposeState, readWeights, type TrainState } from '../../core/train/state.ts';
import { toCsv } from '../../core/report/csv.ts';
import type { Command } from '../command.ts';
import type { RuntimeHost } from '../host.ts';
import { MODEL_OPTIONS, OPTIMIZER_OPTIONS } from './spec_options.ts';
import { COMMON_OPTIONS, fmt, integerOption, provenance, type Setup, setupSecondOrder, TRACKING_OPTIONS, trackRun } from './hessian.ts';

const PAIRS_DEFAULT = 20;

interface ConvexityPoint extends ConvexityResult {
  epoch: number | null;
  /** L(W) on the subset, for context. */
  loss: number;
}

/** Weights, optimizer state and step of a checkpoint written by `train` or `fork`, and the config to continue it. */
async function checkpointState(
  s: Setup,
  host: RuntimeHost,
  file: string,
  opts: Record<string, string>,
): Promise<{ state: TrainState; config: TrainConfig }> {
  const base = file.endsWith(WEIGHTS_SUFFIX) ? file.slice(0, -WEIGHTS_SUFFIX.length) : file;
  if (!(await host.files.exists(base + OPTIM_SUFFIX))) {
    throw new RidgelineError(
      'E_SPEC',
      `convexity: the updates start from the optimizer state too, and ${
        base + OPTIM_SUFFIX
      } (written next to the weights by train and fork) does not exist`,
    );
  }
  const stepsPerEpoch = Math.floor(s.dataset.train.n / s.spec.batch);
  const config = trainConfigOf(s.spec, stepsPerEpoch, 0);
  const state = await loadCheckpoint(host.files, base, s.backend, s.model, config);
  // The schedule's length only matters for cosine: --steps/--epochs if given, else the checkpoint's step.
  const given = opts.steps !== undefined || opts.epochs !== undefined;
  config.schedule.totalSteps = given ? (s.spec.unit === 'steps' ? s.spec.total! : Math.round(s.spec.total! * stepsPerEpoch)) : state.step;
  return { state, config };
}

export const convexityCommand: Command = {
  summary: 'local convexity between two one-step stochastic updates: P(g < 0) over K pairs (Yunis et al. App. B)',
  options: [
    ...MODEL_OPTIONS,
    { name: 'checkpoint', value: 'FILE', help: 'weights FILE with FILE.optim.safetensors beside it (optimizer state and step)' },
    { name: 'pairs', value: 'K', help: 'pairs of updates per measurement', default: String(PAIRS_DEFAULT) },
    { name: 'seed', value: 'N', help: "seed of the pairs' minibatch order seeds", default: '0' },
    ...COMMON_OPTIONS,
    ...TRACKING_OPTIONS,
  ],
  notes: [
    'g = L(½(W+ΔW1) + ½(W+ΔW2)) − ½(L(W+ΔW1) + L(W+ΔW2)), L the mean loss on the --subset;',
    'ΔW1, ΔW2 are one optimizer step each (state cloned) on minibatches of size --batch drawn',
    'with two order seeds derived from (--seed, pair). g < 0 means convex along the segment.',
    'Modes: --checkpoint FILE, or --every N with --steps/--epochs (optimizer options as in `train`).',
    "With --checkpoint, --steps/--epochs only set the cosine schedule's length (default: its step).",
    'Writes DIR/convexity.json, DIR/convexity.csv (per measurement), DIR/convexity_pairs.csv with --out.',
  ].join('\n'),
  async run(opts, host) {
    const pairs = integerOption('convexity', opts, 'pairs', PAIRS_DEFAULT, 1);
    const seed = integerOption('convexity', opts, 'seed', 0, 0);
    if (opts.out) await prepareOutDir(host.files, opts.out);
    const s = await setupSecondOrder('convexity', opts, host, ['pairs', 'seed'], [
      ...OPTIMIZER_OPTIONS.map((o) => o.name),
      'steps',
      'epochs',
    ]);
    const train = { split: s.dataset.train, inputShape: s.dataset.inputShape };
    const stepsPerEpoch = Math.floor(s.dataset.train.n / s.spec.batch);
    const measure = async (state: TrainState, config: TrainConfig): Promise<ConvexityPoint> => {
      const r = await localConvexity(s.backend, s.model, state, config, train, s.subset, { pairs, seed, evalBatch: s.evalBatch });
      const loss = await datasetLoss(s.backend, s.model, await readWeights(state), s.subset, { batch: s.evalBatch });
      return { ...r, epoch: r.step / stepsPerEpoch, loss };
    };
    let points: ConvexityPoint[];
    if (opts.checkpoint !== undefined) {
      const { state, config } = await checkpointState(s, host, opts.checkpoint, opts);
      try {
        points = [await measure(state, config)];
      } finally {
        disposeState(state);
      }
    } else {
      points = await trackRun(s, host, 'convexity', (st) => measure(st, s.tracking!.config));
    }
    const result = { kind: 'convexity', ...provenance(s, host, opts.checkpoint), pairsPerPoint: pairs, seed, batch: s.spec.batch, points };
    if (opts.out) {
      await host.files.write(joinPath(opts.out, 'convexity.json'), JSON.stringify(result, null, 1));
      await host.files.write(
        joinPath(opts.out, 'convexity.csv'),
        toCsv(
          ['step', 'epoch', 'loss', 'p_negative', 'mean_gap', 'min_gap', 'max_gap', 'pairs'],
          points.map((p) => [p.step, p.epoch, p.loss, p.pNegative, p.meanGap, p.minGap, p.maxGap, p.pairs.length]),
        ),
      );
      await host.files.write(
        joinPath(opts.out, 'convexity_pairs.csv'),
        toCsv(
          ['step', 'pair', 'order_seed_a', 'order_seed_b', 'loss_a', 'loss_b', 'loss_mid', 'gap'],
          points.flatMap((p) => p.pairs.map((q) => [p.step, q.pair, q.orderSeeds[0], q.orderSeeds[1], q.lossA, q.lossB, q.lossMid, q.gap])),
        ),
      );
    }
    if (opts.json) host.print(JSON.stringify(result));
    else {
      host.print(
        `${s.model.description}; ${s.dataset.name}, L on the first ${s.subset.n} training examples; ${pairs} pairs, minibatch ${s.spec.batch}`,
      );
      host.print(
        `${'step'.padStart(7)} ${'epoch'.padStart(7)} ${'loss'.padStart(11)} ${'P(g<0)'.padStart(7)} ${'mean g'.padStart(11)} ${
          'min g'.padStart(11)
        } ${'max g'.padStart(11)}`,
      );
      for (const p of points) {
        host.print(
          `${String(p.step).padStart(7)} ${(p.epoch ?? 0).toFixed(2).padStart(7)} ${fmt(p.loss)} ${p.pNegative.toFixed(3).padStart(7)} ${
            fmt(p.meanGap)
          } ${fmt(p.minGap)} ${fmt(p.maxGap)}`,
        );
      }
      if (opts.out) host.print(`written: ${joinPath(opts.out, 'convexity.json')}, convexity.csv, convexity_pairs.csv`);
    }
    return 0;
  },
};
