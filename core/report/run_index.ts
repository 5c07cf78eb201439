/**
 * The index of a runs folder that the explorer app lists: every directory (down to a few
 * levels) holding a result file that ridgeline writes, what kind of result it is and its
 * key numbers. The kind is read from the file itself (its `kind` field, or the fields a
 * sweep collection has), never guessed from directory names, so a renamed run still shows.
 *
 * Runtime-agnostic (a FileStore): `ridgeline serve` answers `api/runs.json` with it and
 * `ridgeline report` embeds it in the static site.
 */
import type { FileStore } from '../io.ts';
import { joinPath } from '../io.ts';
import { formatSig } from './svg.ts';

/** The result files ridgeline writes, in the order a directory's main result is chosen. */
export const RESULT_FILES = ['result.json', 'sweep.json', 'hessian.json', 'hull.json', 'barrier.json', 'align.json'] as const;

export const RUN_KINDS = ['fork', 'sweep', 'hessian', 'hull', 'barrier', 'align', 'rebasin'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export interface KeyNumber {
  label: string;
  /** The value as in the result file (for sorting, and for a test to compare). */
  value: number;
  /** As a reader wants it: a percentage for errors, a few significant digits otherwise. */
  text: string;
}

export interface RunEntry {
  /** The run's directory relative to the runs folder, `/`-separated ('' for the folder itself). */
  path: string;
  kind: RunKind;
  /** The result file the app reads (a name in `files`). */
  result: string;
  title: string;
  numbers: KeyNumber[];
  /** The directory's files (not its subdirectories: a run's store stays out of the list). */
  files: string[];
  /** Its self-contained HTML report, if it has one. */
  report: string | null;
}

/** Subdirectories that hold a run's internals, not runs: their contents are never listed. */
const INTERNAL_DIRS = new Set(['store', 'objects', 'partial', 'claims', 'executions', 'node_modules']);
/** Deep enough for runs/GROUP/RUN/..., shallow enough that a mistaken --runs / returns promptly. */
const MAX_DEPTH = 3;

const pct = (label: string, v: number): KeyNumber => ({ label, value: v, text: `${formatSig(100 * v, 3)} %` });
const num = (label: string, v: number): KeyNumber => ({ label, value: v, text: formatSig(v, 4) });
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A parsed result file of any kind and schema version: read field by field, each use
 * tolerating its absence (older files lack newer fields), so `any` rather than a union of
 * every writer's type.
 */
// deno-lint-ignore no-explicit-any -- see above: a result file of any schema version
export type ResultJson = Record<string, any>;
type Json = ResultJson;

/** The kind of a parsed result file, or null if ridgeline did not write it. */
export function resultKind(file: string, json: unknown): RunKind | null {
  if (!json || typeof json !== 'object') return null;
  const j = json as Json;
  if (typeof j.kind === 'string' && (RUN_KINDS as readonly string[]).includes(j.kind) && j.kind !== 'sweep') return j.kind as RunKind;
  // A sweep collection has no kind field: its sweep id and grid points say what it is.
  if (file === 'sweep.json' && typeof j.sweepId === 'string' && Array.isArray(j.points)) return 'sweep';
  return null;
}

/** The title and key numbers of one result, by kind. Fields missing from an older file are left out. */
export function describeResult(kind: RunKind, j: Json): { title: string; numbers: KeyNumber[] } {
  const numbers: KeyNumber[] = [];
  const add = (n: KeyNumber) => finite(n.value) && numbers.push(n);
  const spec = (j.spec ?? {}) as Json;
  const modelData = (s: Json) => [s.model?.name ?? s.model, s.data?.name ?? s.data].filter((x) => typeof x === 'string').join(' on ');
  switch (kind) {
    case 'fork': {
      const cells = (j.cells ?? []) as Json[];
      add({ label: 'cells', value: cells.length, text: String(cells.length) });
      const byK1 = [...cells].sort((a, b) => a.k1 - b.k1);
      if (byK1.length) {
        add(pct(`test error barrier at k1 = ${byK1[0].k1}`, byK1[0].test?.errorBarrier));
        if (byK1.length > 1) add(pct(`at k1 = ${byK1[byK1.length - 1].k1}`, byK1[byK1.length - 1].test?.errorBarrier));
        add(num(`train loss barrier at k1 = ${byK1[0].k1}`, byK1[0].train?.lossBarrier));
      }
      return { title: `fork: ${modelData(spec)}`, numbers };
    }
    case 'sweep': {
      const points = (j.points ?? []) as Json[];
      add({ label: 'grid points', value: points.length, text: String(points.length) });
      const cells = points.reduce((s, p) => s + (p.cells?.length ?? 0), 0);
      add({ label: 'cells', value: cells, text: String(cells) });
      return { title: `sweep ${j.name ?? ''}`.trim(), numbers };
    }
    case 'hessian': {
      const points = (j.points ?? []) as Json[];
      const last = points[points.length - 1] ?? {};
      add({ label: 'points', value: points.length, text: String(points.length) });
      add(num('λmax', last.lambdaMax));
      add(num('λmin', last.lambdaMin));
      add(num('λmin/λmax', last.ratio));
      return { title: `hessian: ${[j.model, j.data].filter((x) => typeof x === 'string').join(' on ')}`.replace(/: $/, ''), numbers };
    }
    case 'hull': {
      for (const s of (j.splits ?? []) as Json[]) add(pct(`P_conv at split ${s.split}`, s.pConv?.mean));
      return { title: `hull: ${modelData(spec)}`, numbers };
    }
    case 'barrier':
      add(pct('test error barrier', j.test?.errorBarrier));
      add(num('train loss barrier', j.train?.lossBarrier));
      add(num('‖θA − θB‖', j.weightDistance));
      return { title: `barrier: ${[j.model, j.data].join(' on ')}`, numbers };
    case 'align':
      add(pct('test error barrier before', j.before?.test?.errorBarrier));
      add(pct('after', j.after?.test?.errorBarrier));
      return { title: `align (${j.method}): ${[j.model, j.data].join(' on ')}`, numbers };
    case 'rebasin': {
      const rows = (j.rows ?? []) as Json[];
      for (const r of rows.filter((r) => r.method !== 'none').slice(0, 3)) {
        add(pct(`test error barrier, width ${r.width}, ${r.method}`, r.test?.errorBarrier));
      }
      return { title: `rebasin: ${modelData(spec)}`, numbers };
    }
  }
}

/** The run in `dir` (relative path `rel`), or null if it holds no result file of ours. */
async function runIn(files: FileStore, dir: string, rel: string, names: string[], admit: Admit): Promise<RunEntry | null> {
  for (const file of RESULT_FILES) {
    if (!names.includes(file) || !(await admit(joinPath(dir, file)))) continue;
    let json: unknown;
    try {
      json = JSON.parse(await files.readText(joinPath(dir, file)));
    } catch {
      continue; // unreadable or not JSON: not a result the app could show
    }
    const kind = resultKind(file, json);
    if (!kind) continue;
    const fileNames: string[] = [];
    // FileStore has no stat: what lists nothing is taken for a file (an empty directory would be too, harmlessly).
    for (const name of names) {
      if ((await files.list(joinPath(dir, name))).length === 0 && (await admit(joinPath(dir, name)))) fileNames.push(name);
    }
    const report = ['report.html', 'hull.html'].find((r) => fileNames.includes(r)) ?? null;
    return { path: rel, kind, result: file, ...describeResult(kind, json as Json), files: fileNames, report };
  }
  return null;
}

/**
 * Whether a path may be listed: the runtime's check that it stays inside the runs folder
 * once symlinks are resolved (a FileStore cannot see links), so the index never describes,
 * and `report` never copies, what lies outside.
 */
export type Admit = (path: string) => Promise<boolean>;

/** Every run under `root`, sorted by path. */
export async function indexRuns(files: FileStore, root: string, admit: Admit = async () => true): Promise<RunEntry[]> {
  const runs: RunEntry[] = [];
  const visit = async (dir: string, rel: string, depth: number) => {
    const names = (await files.list(dir)).filter((n) => !n.startsWith('.')).sort();
    const run = await runIn(files, dir, rel, names, admit);
    if (run) runs.push(run);
    if (depth >= MAX_DEPTH) return;
    for (const name of names) {
      if (INTERNAL_DIRS.has(name)) continue;
      const child = joinPath(dir, name);
      if ((await files.list(child)).length > 0 && (await admit(child))) await visit(child, rel ? `${rel}/${name}` : name, depth + 1);
    }
  };
  await visit(root, '', 0);
  return runs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
