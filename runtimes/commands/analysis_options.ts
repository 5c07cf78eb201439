/** Options shared by the pair analyses (`predict`, `layerwise`): which pairs, on what data. */
import { prepareOutDir } from '../../core/out_dir.ts';
import type { Backend } from '../../core/backend.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { joinPath } from '../../core/io.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { pairFromFiles, pairsFromRun, type PairSource } from '../../core/experiments/pair_source.ts';
import { RidgelineError } from '../../core/errors.ts';
import { BACKEND_OPTION, backendOptions, MATH_OPTION, type OptionSpec } from '../command.ts';
import type { RuntimeHost } from '../host.ts';
import { MODEL_OPTIONS } from './spec_options.ts';

export const ANALYSIS_OPTIONS: OptionSpec[] = [
  { name: 'run', value: 'DIR', help: 'analyse every cell of a finished fork run (its model and data are reused)' },
  { name: 'a', value: 'FILE', help: 'or: endpoint θ1 (safetensors), with --model/--data' },
  { name: 'b', value: 'FILE', help: 'endpoint θ2' },
  ...MODEL_OPTIONS,
  { name: 'subset', value: 'N', help: 'first N training examples for losses and Hessian-vector products', default: '1000' },
  { name: 'alphas', value: 'T', help: 'points on the path', default: '11' },
  { name: 'batch', value: 'N', help: 'rows per batch', default: '1000' },
  BACKEND_OPTION,
  MATH_OPTION,
  { name: 'out', value: 'DIR', help: 'output directory (default: the --run directory)' },
  { name: 'json', value: '', help: 'print the result as JSON on stdout' },
];

export async function analysisSource(
  command: string,
  opts: Record<string, string>,
  host: RuntimeHost,
): Promise<{ source: PairSource; out: string | null; subset: number; alphas: number; batch: number }> {
  const count = (name: string, fallback: number, min: number) => {
    const v = Number(opts[name] ?? fallback);
    if (!Number.isSafeInteger(v) || v < min) {
      throw new RidgelineError('E_SPEC', `--${name}: expected an integer ≥ ${min}, got '${opts[name]}'`);
    }
    return v;
  };
  const settings = { subset: count('subset', 1000, 1), alphas: count('alphas', 11, 3), batch: count('batch', 1000, 1) };
  if (opts.run) {
    if (opts.a || opts.b) throw new RidgelineError('E_SPEC', `${command}: give either --run DIR or --a/--b, not both`);
    const source = await pairsFromRun(host.files, opts.run);
    // After the run is found (a mistyped --run must not create a directory), before any work.
    await prepareOutDir(host.files, opts.out ?? opts.run);
    return { source, out: opts.out ?? opts.run, ...settings };
  }
  if (!opts.a || !opts.b) throw new RidgelineError('E_SPEC', `${command}: give --run DIR (a fork run) or both --a FILE and --b FILE`);
  const { run: _r, a, b, subset: _s, alphas: _al, batch: _b, backend: _be, math: _m, out, json: _j, ...rest } = opts;
  const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0], total: 1 }, rest);
  if (out) await prepareOutDir(host.files, out);
  return { source: await pairFromFiles(host.files, spec, a, b), out: out ?? null, ...settings };
}

export interface PreparedAnalysis {
  source: PairSource;
  out: string | null;
  settings: { subset: number; alphas: number; batch: number };
  backend: Backend;
}

/** Resolves the pairs and picks the backend (said in one line on the progress log). */
export async function prepareAnalysis(command: string, opts: Record<string, string>, host: RuntimeHost): Promise<PreparedAnalysis> {
  const { source, out, ...settings } = await analysisSource(command, opts, host);
  const { backend, reason } = await selectBackend(opts.backend ?? 'auto', backendOptions(host, opts));
  host.progress.log(reason);
  return { source, out, settings, backend };
}

/** The JSON result of an analysis: schema, what was analysed, provenance, and the pairs. */
export function analysisResult<T>(kind: string, a: PreparedAnalysis, subset: number, host: RuntimeHost, pairs: T[]) {
  return {
    schemaVersion: 1,
    kind,
    source: { run: a.source.run, spec: a.source.spec, subset },
    runtime: host.runtime,
    backend: a.backend.description,
    math: a.backend.math,
    gitCommit: host.gitCommit,
    ridgeline: host.version,
    pairs,
  };
}

/** Writes OUT/NAME.json, .csv and .html (when there is an output directory). */
export async function writeAnalysis(
  host: RuntimeHost,
  out: string | null,
  name: string,
  files: { json: unknown; csv: string; html: () => string },
): Promise<void> {
  if (!out) return;
  await host.files.write(joinPath(out, `${name}.json`), JSON.stringify(files.json, null, 1));
  await host.files.write(joinPath(out, `${name}.csv`), files.csv);
  await host.files.write(joinPath(out, `${name}.html`), files.html());
}

/** Provenance lines of an analysis report. */
export function analysisProvenance(host: RuntimeHost, backend: Backend): Record<string, string> {
  return {
    runtime: host.runtime,
    backend: backend.description,
    math: backend.math,
    'git commit': host.gitCommit ?? 'not recorded',
    ridgeline: host.version,
  };
}
