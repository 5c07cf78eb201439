/**
 * Pairs of networks to analyse (predictions, layer-wise barriers): every cell of a finished
 * fork run (its result.json names the checkpoints, its spec the model and data), or two
 * checkpoint files given directly.
 */
import type { Dataset } from '../data/dataset.ts';
import { loadDataset } from '../data/registry.ts';
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import type { Model } from '../nn/model.ts';
import { createModel } from '../nn/registry.ts';
import { loadWeights } from '../train/checkpoint.ts';
import type { ForkSpec } from './fork_spec.ts';
import type { ForkResult } from './result_schema.ts';

export interface AnalysedPair {
  label: string;
  k1: number | null;
  k2: number | null;
  fileA: string;
  fileB: string;
}

export interface PairSource {
  model: Model;
  dataset: Dataset;
  /** Options the model and data came from (recorded in the analysis result). */
  spec: Pick<ForkSpec, 'model' | 'width' | 'slope' | 'data' | 'limit' | 'normalize' | 'alphas'>;
  pairs: AnalysedPair[];
  /** The fork run analysed, if any. */
  run: string | null;
}

type ModelData = PairSource['spec'];

/** A path result.json records: relative to the run directory, or absolute (a store elsewhere). */
export function inRun(dir: string, path: string): string {
  return path.startsWith('/') ? path : joinPath(dir, path);
}

/** The result.json of the fork run in `dir`, checked (see parseForkResult). */
export async function readForkResult(files: FileStore, dir: string): Promise<ForkResult> {
  const file = joinPath(dir, 'result.json');
  if (!(await files.exists(file))) {
    throw new RidgelineError('E_SPEC', `--run ${dir}: no result.json there; run 'ridgeline fork … --out ${dir}' to completion first`);
  }
  return parseForkResult(file, await files.readText(file));
}

export async function pairsFromRun(files: FileStore, dir: string): Promise<PairSource> {
  const result = await readForkResult(files, dir);
  const spec = result.spec as unknown as ModelData;
  const { model, dataset } = await modelAndData(files, spec);
  const pairs = result.cells.map((c) => ({
    label: `k1 = ${c.k1}, k2 = ${c.k2}${c.repeat ? `, repeat ${c.repeat}` : ''}`,
    k1: c.k1,
    k2: c.k2,
    fileA: inRun(dir, c.checkpointA),
    fileB: inRun(dir, c.checkpointB),
  }));
  return { model, dataset, spec, pairs, run: dir };
}

/**
 * A fork run's result.json, checked for what the analyses use; a damaged one is one clear
 * error (the fork rebuilds it from its verified cells when run again with the same --out).
 */
function parseForkResult(file: string, text: string): ForkResult {
  const damaged = (why: string): never => {
    throw new RidgelineError(
      'E_DAMAGED',
      `${file} is damaged (${why}); run the same 'ridgeline fork … --out' again to rebuild it from the run's verified cells`,
    );
  };
  let result: ForkResult;
  try {
    result = JSON.parse(text) as ForkResult;
  } catch {
    return damaged('not JSON');
  }
  if (!result || typeof result !== 'object' || result.kind !== 'fork') damaged("not a fork result (no kind 'fork')");
  if (!result.spec || typeof result.spec !== 'object' || typeof result.spec.model !== 'string' || typeof result.spec.data !== 'string') {
    damaged('its spec lacks model and data');
  }
  if (!Array.isArray(result.cells)) damaged('no list of cells');
  result.cells.forEach((c, i) => {
    if (!c || typeof c.checkpointA !== 'string' || typeof c.checkpointB !== 'string' || !Number.isFinite(c.k1) || !Number.isFinite(c.k2)) {
      damaged(`cell ${i} lacks its checkpoints or k1/k2`);
    }
  });
  return result;
}

export async function pairFromFiles(files: FileStore, spec: ModelData, fileA: string, fileB: string): Promise<PairSource> {
  const { model, dataset } = await modelAndData(files, spec);
  return { model, dataset, spec, pairs: [{ label: 'A–B', k1: null, k2: null, fileA, fileB }], run: null };
}

async function modelAndData(files: FileStore, s: ModelData): Promise<{ model: Model; dataset: Dataset }> {
  const dataset = await loadDataset(s.data, files, { limit: s.limit ?? undefined, normalize: s.normalize });
  const model = createModel(s.model, dataset.inputShape, dataset.classes, { width: s.width, slope: s.slope });
  return { model, dataset };
}

export async function loadPair(files: FileStore, source: PairSource, pair: AnalysedPair): Promise<[Float32Array[], Float32Array[]]> {
  return [await loadWeights(files, pair.fileA, source.model), await loadWeights(files, pair.fileB, source.model)];
}
