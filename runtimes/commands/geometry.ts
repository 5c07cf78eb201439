/** `ridgeline evolve` and `ridgeline surface`: geometry of a fork run's siblings. */
import { RidgelineError } from '../../core/errors.ts';
import { evolveRun, forkCheckpoint } from '../../core/experiments/evolve_runner.ts';
import { inRun, pairsFromRun, readForkResult } from '../../core/experiments/pair_source.ts';
import type { ForkResult } from '../../core/experiments/result_schema.ts';
import { lossSurface, surfaceAxis } from '../../core/experiments/surface_runner.ts';
import { joinPath } from '../../core/io.ts';
import { subsetOf } from '../../core/lmc/dataset_derivatives.ts';
import { evolveReportHtml, surfaceReportHtml } from '../../core/report/geometry_html.ts';
import { toCsv } from '../../core/report/csv.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { loadWeights } from '../../core/train/checkpoint.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, requireOption } from '../command.ts';
import type { RuntimeHost } from '../host.ts';

async function readRun(host: RuntimeHost, dir: string): Promise<ForkResult> {
  const result = await readForkResult(host.files, dir);
  if (result.spec.mode !== 'pairs') {
    throw new RidgelineError('E_SPEC', `--run ${dir}: sibling geometry needs a pairs-mode run (this one is ${result.spec.mode})`);
  }
  return result;
}

const provenance = (host: RuntimeHost, backend?: string) => ({
  runtime: host.runtime,
  ...(backend ? { backend } : {}),
  'git commit': host.gitCommit ?? 'not recorded',
  ridgeline: host.version,
});

export const evolveCommand: Command = {
  summary:
    'sibling angles (from the origin and the fork point), solution-plane cosine and barriers at every recorded child checkpoint of a fork run (give fork several --k2 values)',
  options: [
    { name: 'run', value: 'DIR', help: 'a finished pairs-mode fork run' },
    { name: 'json', value: '', help: 'print the points as JSON' },
  ],
  notes: 'Writes DIR/evolve.json, DIR/evolve.csv and DIR/evolve.html.',
  async run(opts, host) {
    const dir = requireOption('evolve', opts, 'run', 'DIR');
    const result = await readRun(host, dir);
    const { model } = await pairsFromRun(host.files, dir);
    const points = await evolveRun(host.files, dir, result, model);
    await host.files.write(joinPath(dir, 'evolve.json'), JSON.stringify({ schemaVersion: 1, kind: 'evolve', run: dir, points }, null, 1));
    await host.files.write(joinPath(dir, 'evolve.csv'), toCsv(Object.keys(points[0]), points.map((p) => Object.values(p))));
    await host.files.write(
      joinPath(dir, 'evolve.html'),
      evolveReportHtml({
        title: `Sibling geometry: ${model.name}`,
        summary: `Fork run ${dir}: ${points.length} (k1, k2) checkpoints.`,
        provenance: provenance(host),
        spec: result.spec,
      }, points),
    );
    if (opts.json) host.print(JSON.stringify(points));
    else {
      host.print(`${'k1'.padStart(6)} ${'k2'.padStart(6)}  angle(origin)°  angle(fork)°  plane cos  train loss barrier`);
      for (const p of points) {
        host.print(
          `${String(p.k1).padStart(6)} ${String(p.k2).padStart(6)}  ${p.angleFromOrigin.toFixed(3).padStart(13)}  ${
            p.angleFromFork.toFixed(2).padStart(12)
          }  ${p.planeCosine.toFixed(4).padStart(9)}  ${p.trainLossBarrier.toFixed(5).padStart(18)}`,
        );
      }
      host.print(`report: ${joinPath(dir, 'evolve.html')}`);
    }
    return 0;
  },
};

export const surfaceCommand: Command = {
  summary: 'the 2-D train loss surface on the plane through two siblings and their fork point (k1/k2 paper Fig. 5)',
  options: [
    { name: 'run', value: 'DIR', help: 'a finished pairs-mode fork run' },
    { name: 'k1', value: 'K', help: 'the cell to draw (default: the first)' },
    { name: 'k2', value: 'K', help: 'the cell to draw (default: the largest k2 of that k1)' },
    { name: 'grid', value: 'R', help: 'R × R points', default: '9' },
    { name: 'range', value: 'LO,HI', help: 'coordinate range of s and t', default: '-0.5,1.5' },
    { name: 'subset', value: 'N', help: 'first N training examples', default: '1000' },
    BACKEND_OPTION,
    MATH_OPTION,
    { name: 'json', value: '', help: 'print the grid as JSON' },
  ],
  notes: 'Writes DIR/surface-k1-K-k2-K.{json,html}.',
  async run(opts, host) {
    const dir = requireOption('surface', opts, 'run', 'DIR');
    const result = await readRun(host, dir);
    const k1 = opts.k1 !== undefined ? Number(opts.k1) : result.cells[0].k1;
    const row = result.cells.filter((c) => c.k1 === k1 && c.repeat === 0);
    if (row.length === 0) {
      throw new RidgelineError(
        'E_SPEC',
        `--k1: no cell with k1 = ${opts.k1}; valid: ${[...new Set(result.cells.map((c) => c.k1))].join(', ')}`,
      );
    }
    const cell = opts.k2 !== undefined ? row.find((c) => c.k2 === Number(opts.k2)) : row.reduce((a, b) => (b.k2 > a.k2 ? b : a));
    if (!cell) {
      throw new RidgelineError(
        'E_SPEC',
        `--k2: no cell with k1 = ${k1}, k2 = ${opts.k2}; valid: ${row.map((c) => c.k2).join(', ')}`,
      );
    }
    const [lo, hi] = (opts.range ?? '-0.5,1.5').split(',').map(Number);
    if (!(lo < 0 && hi > 1)) throw new RidgelineError('E_SPEC', `--range: expected LO,HI with LO < 0 < 1 < HI, got '${opts.range}'`);
    const grid = Number(opts.grid ?? 9);
    const axis = surfaceAxis(lo, hi, grid);
    if (!axis.includes(0) || !axis.includes(1)) {
      throw new RidgelineError(
        'E_SPEC',
        `--grid ${grid} with --range ${lo},${hi} does not hit 0 and 1 exactly; e.g. --grid 9 with -0.5,1.5`,
      );
    }
    const source = await pairsFromRun(host.files, dir);
    const { backend, reason } = await selectBackend(opts.backend ?? 'auto', backendOptions(host, opts));
    host.progress.log(reason);
    const load = (file: string) => loadWeights(host.files, file, source.model);
    const subset = subsetOf(source.dataset.train, Number(opts.subset ?? 1000));
    const r = await lossSurface(
      backend,
      source.model,
      await load(forkCheckpoint(dir, cell)),
      await load(inRun(dir, cell.checkpointA)),
      await load(inRun(dir, cell.checkpointB)),
      axis,
      subset,
    );
    const base = joinPath(dir, `surface-k1-${cell.k1}-k2-${cell.k2}`);
    await host.files.write(
      `${base}.json`,
      JSON.stringify(
        { schemaVersion: 1, kind: 'surface', run: dir, k1: cell.k1, k2: cell.k2, subset: subset.n, math: backend.math, ...r },
        null,
        1,
      ),
    );
    await host.files.write(
      `${base}.html`,
      surfaceReportHtml({
        title: `Loss surface: k1 = ${cell.k1}, k2 = ${cell.k2}`,
        summary: `Fork run ${dir}, ${subset.n} training examples, ${grid} × ${grid} grid.`,
        provenance: provenance(host, backend.description),
        spec: result.spec,
      }, r),
    );
    if (opts.json) host.print(JSON.stringify(r));
    else {host.print(
        `loss at F, A, B: ${r.loss[axis.indexOf(0)][axis.indexOf(0)].toFixed(4)}, ${r.loss[axis.indexOf(0)][axis.indexOf(1)].toFixed(4)}, ${
          r.loss[axis.indexOf(1)][axis.indexOf(0)].toFixed(4)
        }\nreport: ${base}.html`,
      );}
    return 0;
  },
};
