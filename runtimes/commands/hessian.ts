/**
 * `ridgeline hessian`: λ_max, λ_min and λ_min/λ_max of the training loss's Hessian on a
 * fixed subset (docs/metrics.md#second-order), at a checkpoint or every N steps of a training run (Yunis Fig. 4).
 * Also the shared setup of the second-order commands (data, model, tracking run), which
 * `convexity` imports.
 */
import type { Backend } from '../../core/backend.ts';
import type { Dataset, Split } from '../../core/data/dataset.ts';
import { BatchLoader } from '../../core/data/loader.ts';
import { loadDataset } from '../../core/data/registry.ts';
import { RidgelineError } from '../../core/errors.ts';
import { trainConfigOf } from '../../core/experiments/train_config.ts';
import { applyOptions, FORK_DEFAULTS, type ForkSpec } from '../../core/experiments/fork_spec.ts';
import { joinPath } from '../../core/io.ts';
import { measureAlongTraining } from '../../core/lmc/convexity.ts';
import { DatasetDerivatives, DEFAULT_DERIVATIVE_BATCH, subsetOf } from '../../core/lmc/dataset_derivatives.ts';
import { EIGEN_DEFAULTS, EIGEN_METHODS, type EigenMethod, type ExtremeEigenvalues, extremeEigenvalues } from '../../core/lmc/hessian.ts';
import type { Model } from '../../core/nn/model.ts';
import { createModel } from '../../core/nn/registry.ts';
import { toCsv } from '../../core/report/csv.ts';
import { selectBackend } from '../../core/select_backend.ts';
import type { TrainConfig } from '../../core/train/config.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { loadWeights } from '../../core/train/checkpoint.ts';
import { disposeState, readWeights, stateFromWeights, type TrainState } from '../../core/train/state.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, type OptionSpec } from '../command.ts';
import type { RuntimeHost } from '../host.ts';
import { MODEL_OPTIONS, OPTIMIZER_OPTIONS } from './spec_options.ts';

export const SUBSET_DEFAULT = 1000;

/** Options of the tracking mode (a training run measured every N steps). */
export const TRACKING_OPTIONS: OptionSpec[] = [
  { name: 'every', value: 'N', help: 'tracking mode: measure every N training steps (and at the start and end)' },
  { name: 'steps', value: 'N', help: 'tracking mode: training length in steps' },
  { name: 'epochs', value: 'N', help: 'tracking mode: training length in epochs' },
  { name: 'init', value: 'FILE', help: 'tracking mode: initial weights (safetensors) instead of --seed-init' },
  ...OPTIMIZER_OPTIONS,
];

export const COMMON_OPTIONS: OptionSpec[] = [
  {
    name: 'subset',
    value: 'N',
    help: 'the loss is the mean over the first N training examples (recorded)',
    default: String(SUBSET_DEFAULT),
  },
  {
    name: 'eval-batch',
    value: 'N',
    help: 'rows per batch of loss / HVP evaluation (results do not depend on it)',
    default: String(DEFAULT_DERIVATIVE_BATCH),
  },
  BACKEND_OPTION,
  MATH_OPTION,
  { name: 'json', value: '', help: 'print the result as JSON on stdout' },
  { name: 'out', value: 'DIR', help: 'write the JSON and CSV files into DIR' },
];

function bad(command: string, message: string): never {
  throw new RidgelineError('E_SPEC', `${command}: ${message}`);
}

export function integerOption(command: string, opts: Record<string, string>, name: string, fallback: number, min: number): number {
  const text = opts[name];
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(v) || v < min) bad(command, `--${name}: expected an integer ≥ ${min}, got '${text}'`);
  return v;
}

export interface Setup {
  backend: Backend;
  dataset: Dataset;
  model: Model;
  spec: ForkSpec;
  /** The fixed evaluation subset: the first `subset.n` training examples. */
  subset: Split;
  evalBatch: number;
  /** Present in tracking mode. */
  tracking: { every: number; steps: number; loader: BatchLoader; config: TrainConfig; init: string | null } | null;
}

/**
 * Validates the mode (checkpoint xor tracking), parses the shared options, loads data and
 * model. `own` are the command's extra option names (kept out of the fork-spec parser);
 * `withCheckpoint` the tracking options that still mean something with --checkpoint.
 */
export async function setupSecondOrder(
  command: string,
  opts: Record<string, string>,
  host: RuntimeHost,
  own: string[],
  withCheckpoint: string[] = [],
): Promise<Setup> {
  const checkpoint = opts.checkpoint;
  const misplaced = TRACKING_OPTIONS.map((o) => o.name).find((n) => opts[n] !== undefined && !withCheckpoint.includes(n));
  if (checkpoint !== undefined && misplaced) {
    bad(command, `--${misplaced} belongs to tracking mode; give either --checkpoint FILE or --every N with --steps/--epochs`);
  }
  if (checkpoint === undefined && (opts.every === undefined || (opts.steps === undefined) === (opts.epochs === undefined))) {
    bad(command, 'give --checkpoint FILE, or --every N with exactly one of --steps N / --epochs N to track a training run');
  }
  const skip = new Set(['checkpoint', 'subset', 'eval-batch', 'backend', 'math', 'json', 'out', 'every', 'init', ...own]);
  const rest = Object.fromEntries(Object.entries(opts).filter(([k]) => !skip.has(k)));
  const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0], total: 1 }, rest);
  const subsetN = integerOption(command, opts, 'subset', SUBSET_DEFAULT, 1);
  const evalBatch = integerOption(command, opts, 'eval-batch', DEFAULT_DERIVATIVE_BATCH, 1);
  const every = integerOption(command, opts, 'every', 1, 1);
  const { backend, reason } = await selectBackend(opts.backend ?? 'auto', backendOptions(host, opts));
  if (!opts.json) host.progress.log(reason);
  const dataset = await loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
  if (dataset.classes === 0) bad(command, `dataset ${dataset.name} is a regression task; the Hessian here is of the softmax cross-entropy`);
  const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
  const subset = subsetOf(dataset.train, subsetN);
  let tracking: Setup['tracking'] = null;
  if (checkpoint === undefined) {
    const loader = new BatchLoader(dataset.train, dataset.inputShape, { batchSize: spec.batch, orderSeed: spec.seedOrder });
    const steps = spec.unit === 'steps' ? spec.total! : Math.round(spec.total! * loader.stepsPerEpoch);
    tracking = { every, steps, loader, config: trainConfigOf(spec, loader.stepsPerEpoch, steps), init: opts.init ?? null };
  }
  return { backend, dataset, model, spec, subset, evalBatch, tracking };
}

/** Runs the tracking-mode training with `measure` at every N steps; disposes the state. */
export async function trackRun<T>(s: Setup, host: RuntimeHost, label: string, measure: (state: TrainState) => Promise<T>): Promise<T[]> {
  const t = s.tracking!;
  const weights = t.init ? await loadWeights(host.files, t.init, s.model) : s.model.init(s.spec.seedInit);
  const state = stateFromWeights(s.backend, s.model, weights, t.config);
  const points = Math.ceil(t.steps / t.every) + 1;
  host.progress.start(`${label}: train ${s.model.name} ${t.steps} steps, measure every ${t.every}`, points);
  let done = 0;
  try {
    return await measureAlongTraining(s.backend, s.model, state, t.loader, t.config, { every: t.every, toStep: t.steps }, async (st) => {
      const r = await measure(st);
      host.progress.update(++done, `step ${st.step}`);
      return r;
    });
  } finally {
    host.progress.finish();
    disposeState(state);
  }
}

/** What every second-order result records about its inputs. */
export function provenance(s: Setup, host: RuntimeHost, checkpoint: string | undefined) {
  return {
    mode: checkpoint !== undefined ? 'checkpoint' : 'training',
    checkpoint: checkpoint ?? null,
    model: s.model.name,
    modelDescription: s.model.description,
    parameters: s.model.parameterCount,
    data: s.dataset.name,
    dataSource: s.dataset.source,
    normalization: s.dataset.normalization,
    split: 'train',
    subset: s.subset.n,
    evalBatch: s.evalBatch,
    training: s.tracking && {
      steps: s.tracking.steps,
      every: s.tracking.every,
      stepsPerEpoch: s.tracking.loader.stepsPerEpoch,
      init: s.tracking.init,
      seedInit: s.tracking.init ? null : s.spec.seedInit,
      seedOrder: s.spec.seedOrder,
      config: s.tracking.config,
    },
    backend: s.backend.description,
    math: s.backend.math,
    runtime: host.runtime,
    ridgelineVersion: host.version,
    gitCommit: host.gitCommit,
  };
}

export const fmt = (x: number, w = 11) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(5) : x.toExponential(3)).padStart(w);

interface HessianPoint extends ExtremeEigenvalues {
  step: number | null;
  epoch: number | null;
  loss: number;
  seconds: number;
}

const OWN = ['method', 'tol', 'max-iter', 'seed', 'allow-unconverged'];

export const hessianCommand: Command = {
  summary: 'extreme Hessian eigenvalues λ_max, λ_min and λ_min/λ_max of the training loss, at a checkpoint or along training',
  options: [
    ...MODEL_OPTIONS,
    { name: 'checkpoint', value: 'FILE', help: 'weights (safetensors, PyTorch nn.Sequential names) to measure' },
    {
      name: 'method',
      value: EIGEN_METHODS.join('|'),
      help: 'Lanczos (full reorthogonalisation) or power iteration + shifted power iteration',
      default: EIGEN_DEFAULTS.method,
    },
    {
      name: 'tol',
      value: 'X',
      help: 'relative residual tolerance: ‖Hy − λy‖ ≤ tol·|λ_max| and ≤ tol·(λ_max − λ_min)',
      default: String(EIGEN_DEFAULTS.tol),
    },
    { name: 'max-iter', value: 'N', help: 'Lanczos steps (or power iterations per end)', default: String(EIGEN_DEFAULTS.maxIter) },
    { name: 'seed', value: 'N', help: 'seed of the start vector', default: String(EIGEN_DEFAULTS.seed) },
    { name: 'allow-unconverged', value: '', help: 'exit 0 even when a point did not reach --tol (it is still flagged)' },
    ...COMMON_OPTIONS,
    ...TRACKING_OPTIONS,
  ],
  notes: [
    'Modes: --checkpoint FILE measures one set of weights; --every N with --steps/--epochs trains',
    '(optimizer options as in `train`) and measures at step 0, N, 2N, …, and the end.',
    '--batch is the training minibatch; the HVP batch is --eval-batch.',
    'Writes DIR/hessian.json and DIR/hessian.csv with --out. A point that misses --tol prints',
    '"did not converge (residual …)" and the command exits 1 unless --allow-unconverged.',
  ].join('\n'),
  async run(opts, host) {
    if (opts.checkpoint !== undefined && opts.batch !== undefined) {
      bad('hessian', '--batch is the training minibatch of tracking mode; the rows per HVP batch are --eval-batch');
    }
    const method = opts.method ?? EIGEN_DEFAULTS.method;
    if (!(EIGEN_METHODS as readonly string[]).includes(method)) {
      bad('hessian', `--method: unknown value '${method}'; valid: ${EIGEN_METHODS.join(', ')}`);
    }
    const tol = opts.tol === undefined ? EIGEN_DEFAULTS.tol : Number(opts.tol);
    if (!(tol > 0 && tol < 1)) bad('hessian', `--tol: expected a number in (0, 1), got '${opts.tol}'`);
    const eigen = {
      method: method as EigenMethod,
      tol,
      maxIter: integerOption('hessian', opts, 'max-iter', EIGEN_DEFAULTS.maxIter, 1),
      seed: integerOption('hessian', opts, 'seed', EIGEN_DEFAULTS.seed, 0),
    };
    if (opts.out) await prepareOutDir(host.files, opts.out);
    const s = await setupSecondOrder('hessian', opts, host, OWN);
    const measure = async (weights: Float32Array[], step: number | null): Promise<HessianPoint> => {
      const t0 = performance.now();
      const d = new DatasetDerivatives(s.backend, s.model, weights, s.subset, { batch: s.evalBatch });
      try {
        const loss = await d.loss();
        const e = await extremeEigenvalues((v) => d.hvp(v), d.dim, eigen);
        const epoch = step === null || !s.tracking ? null : step / s.tracking.loader.stepsPerEpoch;
        return { step, epoch, loss, ...e, seconds: (performance.now() - t0) / 1000 };
      } finally {
        d.dispose();
      }
    };
    const points = opts.checkpoint !== undefined
      ? [await measure(await loadWeights(host.files, opts.checkpoint, s.model), null)]
      : await trackRun(s, host, 'hessian', async (st) => measure(await readWeights(st), st.step));
    const result = { kind: 'hessian', ...provenance(s, host, opts.checkpoint), ...eigen, points };
    if (opts.out) {
      await host.files.write(joinPath(opts.out, 'hessian.json'), JSON.stringify(result, null, 1));
      await host.files.write(
        joinPath(opts.out, 'hessian.csv'),
        toCsv(
          [
            'step',
            'epoch',
            'loss',
            'lambda_max',
            'lambda_min',
            'ratio',
            'converged',
            'residual_max',
            'residual_min',
            'relative_residual_max',
            'relative_residual_min',
            'iterations',
            'hvps',
            'seconds',
          ],
          points.map((
            p,
          ) => [
            p.step,
            p.epoch,
            p.loss,
            p.lambdaMax,
            p.lambdaMin,
            p.ratio,
            p.converged,
            p.residuals.max,
            p.residuals.min,
            p.relativeResiduals.max,
            p.relativeResiduals.min,
            p.iterations,
            p.hvps,
            p.seconds,
          ]),
        ),
      );
    }
    const failed = points.filter((p) => !p.converged);
    const why = (p: HessianPoint) =>
      `did not converge (residual ${p.residuals.max.toExponential(3)} for λ_max, ${p.residuals.min.toExponential(3)} for λ_min; relative ${
        p.relativeResiduals.max.toExponential(2)
      } / ${p.relativeResiduals.min.toExponential(2)} > tol ${tol} after ${p.iterations} iterations)`;
    if (opts.json) host.print(JSON.stringify(result));
    else {
      host.print(
        `${s.model.description}, ${result.parameters} parameters; ${s.dataset.name}, first ${s.subset.n} training examples; ${method}, tol ${tol}`,
      );
      host.print(
        `${'step'.padStart(7)} ${'loss'.padStart(11)} ${'λ_max'.padStart(11)} ${'λ_min'.padStart(11)} ${'λmin/λmax'.padStart(11)} ${
          'iters'.padStart(6)
        } ${'seconds'.padStart(8)}`,
      );
      for (const p of points) {
        const head = `${String(p.step ?? '-').padStart(7)} ${fmt(p.loss)}`;
        host.print(
          p.converged
            ? `${head} ${fmt(p.lambdaMax)} ${fmt(p.lambdaMin)} ${fmt(p.ratio)} ${String(p.iterations).padStart(6)} ${
              p.seconds.toFixed(1).padStart(8)
            }`
            : `${head} ${why(p)}`,
        );
      }
      if (opts.out) host.print(`written: ${joinPath(opts.out, 'hessian.json')}, ${joinPath(opts.out, 'hessian.csv')}`);
    }
    if (failed.length > 0 && !opts['allow-unconverged']) {
      host.error(
        `hessian: ${failed.length} of ${points.length} point${points.length > 1 ? 's' : ''} ${why(failed[0])}${
          failed[0].step !== null ? ` at step ${failed[0].step}` : ''
        }; raise --max-iter or --tol, or pass --allow-unconverged`,
      );
      return 1;
    }
    return 0;
  },
};
