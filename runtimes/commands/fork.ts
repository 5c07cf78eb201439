/** `ridgeline fork`: the fork experiment with its result files and report. */
import { RidgelineError } from '../../core/errors.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { runForkExperiment } from '../../core/sweep/fork_runner.ts';
import { presetSpec } from '../../core/experiments/presets.ts';
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, optionOr } from '../command.ts';
import { FORK_OPTIONS } from './spec_options.ts';
import { poolExecutor } from '../sweep_pool.ts';
import { availableParallelism } from 'node:os';

/**
 * `--jobs auto`: a pool of one single-threaded worker per core on the CPU backend. A fork's
 * graph has independent nodes (repeats, children, evaluations) to keep every core busy,
 * and a whole training run per core beats one run sharing each kernel between two
 * threads: on 2 cores the main job took 37 s against 49 s (2026-12-04), and
 * pool workers with two threads each took 51 s (their helpers compete for the cores).
 * WebGPU stays one process: the device is the parallel part.
 */
function autoJobs(kind: 'cpu' | 'webgpu'): number {
  return kind === 'cpu' ? availableParallelism() : 1;
}

export const forkCommand: Command = {
  summary: 'train a parent, fork it at each k1 into children with different data orders, and measure the barriers between them',
  options: [
    ...FORK_OPTIONS,
    BACKEND_OPTION,
    MATH_OPTION,
    { name: 'out', value: 'DIR', help: 'run directory (a killed run started again with the same DIR resumes)' },
    {
      name: 'store',
      value: 'DIR',
      help: "the store holding the run's checkpoints and cells (default DIR/store); forks and sweeps sharing one compute shared work once",
    },
    {
      name: 'jobs',
      value: 'N|auto',
      default: '1',
      help: 'worker processes (N > 1: a local pool, each with single-threaded kernels; auto: one per core on the CPU backend, ' +
        'which on 2 cores finished the main job in 37 s instead of 49 s with one two-threaded process, the same bits)',
    },
  ],
  notes: 'Writes DIR/result.json, DIR/cells.csv, DIR/curves.csv, DIR/report.html and the checkpoints (safetensors).',
  async run(opts, host) {
    const { preset, out, backend: backendChoice, math: _math, store, jobs: jobsText, ...rest } = opts;
    const base = preset ? presetSpec(preset) : FORK_DEFAULTS;
    const spec = applyOptions(base, rest);
    const dir = out ?? (preset ? joinPath('runs', preset) : undefined);
    if (!dir) throw new RidgelineError('E_SPEC', 'fork: --out DIR is required (or give --preset, which defaults to runs/PRESET)');
    // Before any work: a directory that cannot be written fails now, and the temporary
    // files of a killed earlier run are swept before this one resumes there.
    await prepareOutDir(host.files, dir);
    const { backend, reason } = await selectBackend(backendChoice ?? optionOr(forkCommand, opts, 'backend'), backendOptions(host, opts));
    host.progress.log(reason);
    const jobs = jobsText === 'auto' ? autoJobs(backend.kind) : Number(jobsText ?? '1');
    if (!Number.isSafeInteger(jobs) || jobs < 1) {
      throw new RidgelineError('E_SPEC', `--jobs must be an integer ≥ 1 or auto, got '${jobsText}'`);
    }
    const result = await runForkExperiment(spec, dir, backend, host, {
      store,
      executor: jobs > 1 ? poolExecutor(host, backend, jobs) : undefined,
    });
    const unit = spec.unit === 'epochs' ? 'ep' : 'st';
    // A regression's "error" is the RMSE (see ForkResult.task): shown as such, not in percent.
    const regression = result.task === 'regression';
    const [errorHead, endsHead] = regression ? [' test RMSE barrier', 'test RMSE A / B '] : ['test error barrier', 'test acc A / B  '];
    const perError = (v: number) => (regression ? v.toFixed(4) : `${(100 * v).toFixed(2)} %`);
    const repeated = spec.repeats > 1;
    host.print(
      `\n${`k1 (${unit})`.padStart(8)} ${`k2 (${unit})`.padStart(8)}${
        repeated ? ' rep' : ''
      }  train loss barrier  test loss barrier  ${errorHead}  (floor)  ${endsHead} weight dist  pred dist`,
    );
    for (const c of result.cells) {
      host.print([
        String(c.k1).padStart(8),
        String(c.k2).padStart(8),
        ...(repeated ? [String(c.repeat).padStart(3)] : []),
        c.train.lossBarrier.toFixed(4).padStart(19),
        c.test.lossBarrier.toFixed(4).padStart(18),
        perError(c.test.errorBarrier).padStart(19),
        `(${perError(c.test.errorFloor)})`.padStart(9),
        (regression
          ? `${(1 - c.test.accuracyA).toFixed(3)} / ${(1 - c.test.accuracyB).toFixed(3)}`
          : `${(100 * c.test.accuracyA).toFixed(1)} / ${(100 * c.test.accuracyB).toFixed(1)} %`).padStart(16),
        c.weightDistance.toFixed(2).padStart(12),
        c.train.predictionDistance.toFixed(3).padStart(10),
      ].join(' '));
    }
    if (spec.align) {
      host.print(`\nafter ${spec.align} matching${spec.repair ? ' (and REPAIR)' : ''}:`);
      for (const c of result.cells) {
        const a = c.aligned!;
        const r = a.repaired ? ` → ${perError(a.repaired.test.errorBarrier)} / ${a.repaired.train.lossBarrier.toFixed(4)} with REPAIR` : '';
        host.print(
          `  k1 ${c.k1}, k2 ${c.k2}${repeated ? `, repeat ${c.repeat}` : ''}: test error barrier / train loss barrier ${
            perError(c.test.errorBarrier)
          } / ${c.train.lossBarrier.toFixed(4)} → ${perError(a.test.errorBarrier)} / ${a.train.lossBarrier.toFixed(4)} aligned${r}`,
        );
      }
    }
    if (result.finding) host.print(`\n${result.finding.text}`);
    host.print(`\nreport: ${joinPath(dir, 'report.html')}\nresult: ${joinPath(dir, 'result.json')}`);
    return 0;
  },
};
