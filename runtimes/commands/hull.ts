/** `ridgeline hull`: convex mode connectivity (Yunis et al. Algorithm 1) with its result files and report. */
import { prepareOutDir } from '../../core/out_dir.ts';
import { applyHullOptions, HULL_DEFAULTS, runHullExperiment } from '../../core/experiments/hull_runner.ts';
import { UNITS } from '../../core/experiments/fork_spec.ts';
import { hullPreset } from '../../core/experiments/presets.ts';
import { joinPath } from '../../core/io.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, requireOption } from '../command.ts';
import { MODEL_OPTIONS, OPTIMIZER_OPTIONS } from './spec_options.ts';

const d = HULL_DEFAULTS;

export const hullCommand: Command = {
  summary: 'fork P children at each split point, sample their convex hull and measure whether it is lower in loss (Yunis et al.)',
  options: [
    { name: 'preset', value: 'NAME', help: "a named hull experiment (see 'ridgeline presets'); other options override it" },
    ...MODEL_OPTIONS,
    { name: 'splits', value: 'LIST', help: 'split points k (in --unit), e.g. 0,0.25,1,2' },
    { name: 'train', value: 'T', help: 'child training length after the split (in --unit)' },
    { name: 'unit', value: UNITS.join('|'), help: 'unit of --splits and --train', default: d.unit },
    { name: 'children', value: 'P', help: 'endpoints per hull (≥ 2)', default: String(d.children) },
    { name: 'samples', value: 'J', help: 'convex and random samples per hull (≥ 1)', default: String(d.samples) },
    {
      name: 'hulls',
      value: 'H',
      help: 'independent hulls per split (≥ 1), for the shared-correct set S* across hulls',
      default: String(d.hulls),
    },
    ...OPTIMIZER_OPTIONS,
    { name: 'seed-hull', value: 'N', help: 'seed of the Dirichlet weights and random directions', default: String(d.seedHull) },
    { name: 'from', value: 'FILE', help: 'start the parent from these weights (safetensors) instead of --seed-init' },
    { name: 'eval-batch', value: 'N', help: 'rows per evaluation batch', default: String(d.evalBatch) },
    BACKEND_OPTION,
    MATH_OPTION,
    { name: 'out', value: 'DIR', help: 'run directory (a killed run started again with the same DIR resumes)' },
    { name: 'json', value: '', help: 'print hull.json on stdout (one line) instead of the table' },
  ],
  notes: [
    'Child i of hull h trains with order seed seed-order + 1 + h·P + i. All losses, accuracies and correct sets are on the',
    '(--limit’ed) train split. Writes DIR/hull.json, DIR/hull.csv, DIR/hull.html and the checkpoints (safetensors).',
  ].join('\n'),
  async run(opts, host) {
    const { out: given, json, backend: choice, math: _math, preset, ...rest } = opts;
    const out = given ?? (preset ? joinPath('runs', preset) : requireOption('hull', opts, 'out', 'DIR'));
    const spec = applyHullOptions({ ...HULL_DEFAULTS, ...(preset ? hullPreset(preset).spec : {}), ...(preset ? { preset } : {}) }, rest);
    await prepareOutDir(host.files, out);
    const { backend, reason } = await selectBackend(choice ?? 'auto', backendOptions(host, opts));
    host.progress.log(reason);
    const result = await runHullExperiment(spec, out, backend, host);
    if (json) {
      host.print(JSON.stringify(result));
      return 0;
    }
    const u = spec.unit === 'epochs' ? 'ep' : 'st';
    host.print(
      `\n${
        `k (${u})`.padStart(8)
      }   P_conv ± std    P_rand ± std   acc end / conv / rand %   ‖Wi−Wk‖  ‖Wc−We‖   |C| / |S_j| / |S*| %   σ centered`,
    );
    for (const s of result.splits) {
      host.print([
        String(s.split).padStart(8),
        `${s.pConv.mean.toFixed(2)} ± ${s.pConv.std.toFixed(2)}`.padStart(14),
        `${s.pRand.mean.toFixed(2)} ± ${s.pRand.std.toFixed(2)}`.padStart(14),
        [s.accuracy.endpoints, s.accuracy.convex, s.accuracy.random].map((v) => (100 * v).toFixed(1)).join(' / ').padStart(25),
        s.distance.endpointEndpoint.toFixed(2).padStart(8),
        s.distance.convEnd.toFixed(2).padStart(8),
        [s.diversity.endpoint, s.diversity.intraHull, s.diversity.interHull].map((v) => (100 * v).toFixed(1)).join(' / ').padStart(22),
        `  ${s.singularValuesCentered.map((v) => v.toPrecision(3)).join(' ')}`,
      ].join(' '));
    }
    host.print(`\nreport: ${joinPath(out, 'hull.html')}\nresult: ${joinPath(out, 'hull.json')}`);
    return 0;
  },
};
