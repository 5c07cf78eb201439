/**
 * What `sweep collect` writes from a finished sweep (sweep_result.ts): a tidy CSV with one
 * row per fork cell of every grid point, and summaries over the replicate axis.
 *
 * A group is one grid point with its seed keys (REPLICATE_KEYS) dropped, plus one (k1, k2):
 * its replicates are every seed combination of the grid times every repeat, and each metric
 * is summarised over them with `summarize` (mean, sample sd, 95 % Student-t interval, n).
 *
 * CSV conventions are csv.ts's (RFC 4180, CRLF, header first, numbers as `String(x)` so that
 * they parse back exactly, booleans `true`/`false`, null as an empty field). Array and object
 * values (the spec's k1 list, milestones, the children's seeds) are written as compact JSON
 * in one quoted field, e.g. `"[0,1,2,4]"`: pandas.read_csv loads such a column as strings of
 * one type whatever the array's length (`json.loads` gives the list back), where a
 * `;`-joined list would read as an integer when it has one element. Header names are
 * camelCase throughout, as in csv.ts and result.json.
 *
 * Regression grid points (SIREN) store the RMSE as their "error" and 1 − RMSE as their
 * "accuracy" (result_schema.ts), so every barrier formula and every summary applies
 * unchanged; the tidy CSV's `task` column and each group's `task` say which it is.
 */
import { argError } from '../errors.ts';
import { FORK_DEFAULTS } from '../experiments/fork_spec.ts';
import { type ForkCell, type SplitMetrics, SUMMARY_METRICS } from '../experiments/result_schema.ts';
import { SUMMARY_METRIC_OF } from '../lmc/fork_summary.ts';
import { summarize, type Summary } from '../lmc/repeat_stats.ts';
import { type CsvValue, sortedCells, toCsv } from '../report/csv.ts';
import { type GridValue, REPLICATE_KEYS, type SweepCollection, type SweepPointResult } from './sweep_result.ts';

// ---------------------------------------------------------------- values and order

/** A CSV field for any spec or grid value: scalars as they are, arrays and objects as JSON. */
export function csvValue(v: unknown): CsvValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

const rank = (
  v: unknown,
) => (v === null || v === undefined ? 0 : typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2 : typeof v === 'string' ? 3 : 4);

/**
 * A total order on grid values: null, booleans, numbers (numerically), strings (by code
 * unit), then arrays and objects (by their JSON), so that every listing is deterministic
 * whatever order the store assembled the points in.
 */
export function compareGridValues(a: unknown, b: unknown): number {
  const [ra, rb] = [rank(a), rank(b)];
  if (ra !== rb) return ra - rb;
  if (ra === 1 || ra === 2) return Number(a) - Number(b) || 0;
  const [sa, sb] = ra === 3 ? [a as string, b as string] : [JSON.stringify(a) ?? '', JSON.stringify(b) ?? ''];
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** An identity key for a tuple of grid values (arrays compared by content). */
const tupleKey = (values: readonly unknown[]) => JSON.stringify(values.map((v) => (v === undefined ? null : v)));

const isReplicateKey = (key: string) => (REPLICATE_KEYS as readonly string[]).includes(key);

/** The grid keys that name a grid point (every grid key but the seed keys), in grid order. */
export function pointKeysOf(c: Pick<SweepCollection, 'gridKeys'>): string[] {
  return c.gridKeys.filter((k) => !isReplicateKey(k));
}

/** The replicate axis: the grid's seed keys (in grid order), then the repeat index. */
export function replicateKeysOf(c: Pick<SweepCollection, 'gridKeys'>): string[] {
  return [...c.gridKeys.filter(isReplicateKey), 'repeat'];
}

/** Points sorted by their grid values in grid-key order (ties keep the collection's order). */
function sortedPoints(c: SweepCollection): SweepPointResult[] {
  return c.points
    .map((p, i) => ({ p, i }))
    .sort((x, y) => {
      for (const k of c.gridKeys) {
        const d = compareGridValues(x.p.point[k], y.p.point[k]);
        if (d) return d;
      }
      return x.i - y.i;
    })
    .map((x) => x.p);
}

/** `name`, or `nameGrid` (then `nameGrid2`, …) when a fixed column already has that name. */
function uniqueName(name: string, taken: Set<string>): string {
  let out = taken.has(name) ? `${name}Grid` : name;
  for (let i = 2; taken.has(out); i++) out = `${name}Grid${i}`;
  taken.add(out);
  return out;
}

// ---------------------------------------------------------------- tidy CSV

const SPLITS = ['train', 'test'] as const;
const SPLIT_FIELDS = [
  'lossBarrier',
  'errorBarrier',
  'errorFloor',
  'errorBarrierExcess',
  'normalizedBarrier',
  'accuracyA',
  'accuracyB',
  'lossA',
  'lossB',
  'predictionDistance',
] as const satisfies readonly (keyof SplitMetrics)[];
const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** The cell columns of the tidy CSV, after the spec's: where, which seeds, then the metrics. */
export const TIDY_CELL_COLUMNS = [
  'task',
  'k1',
  'k2',
  'repeat',
  'repeatSeedInit',
  'repeatSeedOrder',
  'repeatSeedAugment',
  'repeatSeedChildren',
  ...SPLITS.flatMap((split) => SPLIT_FIELDS.map((f) => `${split}${cap(f)}`)),
  'weightDistance',
  'connected',
] as const;

/**
 * Every spec key of the collection: ForkSpec's keys in their declared order, then any other
 * key some point's spec holds, sorted.
 */
function specKeys(c: SweepCollection): string[] {
  const known = Object.keys(FORK_DEFAULTS);
  const extra = new Set<string>();
  for (const p of c.points) for (const k of Object.keys(p.spec ?? {})) if (!known.includes(k)) extra.add(k);
  return [...known, ...[...extra].sort()];
}

/** The tidy CSV's columns: [header name, value of a point] for spec and stray grid keys. */
function pointColumns(c: SweepCollection): { header: string[]; values: (p: SweepPointResult) => CsvValue[] } {
  const taken = new Set<string>(TIDY_CELL_COLUMNS);
  const spec = specKeys(c);
  // Grid keys the spec does not hold (none when every grid key is a spec option) get a column too.
  const stray = c.gridKeys.filter((k) => !spec.includes(k));
  const cols = [
    ...spec.map((k) => ({ name: uniqueName(k, taken), get: (p: SweepPointResult) => (p.spec as unknown as Record<string, unknown>)?.[k] })),
    ...stray.map((k) => ({ name: uniqueName(k, taken), get: (p: SweepPointResult) => p.point[k] })),
  ];
  return { header: cols.map((x) => x.name), values: (p) => cols.map((x) => csvValue(x.get(p))) };
}

function cellValues(task: SweepPointResult['task'], cell: ForkCell): CsvValue[] {
  return [
    task,
    cell.k1,
    cell.k2,
    cell.repeat,
    cell.seeds.init,
    cell.seeds.order,
    cell.seeds.augment,
    csvValue(cell.seeds.children),
    ...SPLITS.flatMap((split) => SPLIT_FIELDS.map((f) => cell[split][f])),
    cell.weightDistance,
    cell.connected,
  ];
}

/**
 * One row per fork cell of every grid point (grid point × k1 × k2 × repeat): the point's
 * resolved spec (one column per ForkSpec key; the spec's lists `k1` and `k2` become `k1Grid`
 * and `k2Grid`, since `k1` and `k2` name the cell's), then TIDY_CELL_COLUMNS. Rows run by
 * grid point (sorted by grid values in grid-key order), then k1, k2, repeat.
 */
export function sweepTidyCsv(c: SweepCollection): string {
  const cols = pointColumns(c);
  const rows: CsvValue[][] = [];
  for (const p of sortedPoints(c)) {
    const head = cols.values(p);
    for (const cell of sortedCells(p.cells)) rows.push([...head, ...cellValues(p.task, cell)]);
  }
  return toCsv([...cols.header, ...TIDY_CELL_COLUMNS], rows);
}

// ---------------------------------------------------------------- summaries

/** The metrics summarised per group: SUMMARY_METRICS, then both splits' prediction distances. */
export const SWEEP_METRICS = [...SUMMARY_METRICS, 'trainPredictionDistance', 'testPredictionDistance'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export const SWEEP_METRIC_OF: Readonly<Record<SweepMetric, (c: ForkCell) => number>> = {
  ...SUMMARY_METRIC_OF,
  trainPredictionDistance: (c) => c.train.predictionDistance,
  testPredictionDistance: (c) => c.test.predictionDistance,
};

export interface SweepGroup {
  /** The grid point's values without the seed keys, keyed and ordered as `pointKeys` (absent = null). */
  point: Record<string, GridValue>;
  k1: number;
  k2: number;
  /** Number of replicates: fork cells of this (point, k1, k2) over every seed combination and repeat. */
  n: number;
  /** Regression: "error" is the RMSE and "accuracy" 1 − RMSE. */
  task: 'classification' | 'regression';
  /** Unit of k1 and k2 (the spec's). */
  unit: 'steps' | 'epochs';
  metrics: Record<SweepMetric, Summary>;
}

export interface SweepSummary {
  sweepId: string;
  name: string;
  /** Every grid key, in the grid's order. */
  gridKeys: string[];
  /** The grid keys naming a group's point: gridKeys without REPLICATE_KEYS. */
  pointKeys: string[];
  /** The replicate axis: the grid's seed keys, then 'repeat'. */
  replicateKeys: string[];
  /** Sorted by point values (in pointKeys order), then k1, then k2. */
  groups: SweepGroup[];
}

/**
 * Per (point without seed keys, k1, k2): every SWEEP_METRICS metric over the replicates.
 * Plain data (no Maps, no undefined), so `JSON.stringify` writes all of it; a metric that
 * is NaN in any replicate (a diverged run) has a NaN mean, which JSON writes as null.
 */
export function summarizeSweep(c: SweepCollection): SweepSummary {
  const pointKeys = pointKeysOf(c);
  const byKey = new Map<
    string,
    {
      point: Record<string, GridValue>;
      k1: number;
      k2: number;
      task: SweepPointResult['task'];
      unit: SweepGroup['unit'];
      cells: ForkCell[];
    }
  >();
  // Sorted points and cells: each group's replicates are summed in one order whatever the
  // order of the collection, so the summary is bit-for-bit the same for the same sweep.
  for (const p of sortedPoints(c)) {
    const point = Object.fromEntries(pointKeys.map((k) => [k, p.point[k] ?? null])) as Record<string, GridValue>;
    for (const cell of sortedCells(p.cells)) {
      const key = tupleKey([...pointKeys.map((k) => point[k]), cell.k1, cell.k2]);
      const g = byKey.get(key) ?? { point, k1: cell.k1, k2: cell.k2, task: p.task, unit: p.spec?.unit ?? 'steps', cells: [] };
      if (g.task !== p.task) argError('summarizeSweep', `grid point ${JSON.stringify(point)} mixes classification and regression`);
      g.cells.push(cell);
      byKey.set(key, g);
    }
  }
  const groups = [...byKey.values()]
    .sort((a, b) => {
      for (const k of pointKeys) {
        const d = compareGridValues(a.point[k], b.point[k]);
        if (d) return d;
      }
      return a.k1 - b.k1 || a.k2 - b.k2;
    })
    .map(({ cells, ...g }): SweepGroup => ({
      point: { ...g.point },
      k1: g.k1,
      k2: g.k2,
      n: cells.length,
      task: g.task,
      unit: g.unit,
      metrics: Object.fromEntries(SWEEP_METRICS.map((m) => [m, summarize(cells.map(SWEEP_METRIC_OF[m]))])) as Record<SweepMetric, Summary>,
    }));
  return { sweepId: c.sweepId, name: c.name, gridKeys: [...c.gridKeys], pointKeys, replicateKeys: replicateKeysOf(c), groups };
}

/** The four columns each metric gets in the summary CSV, after its name. */
export const SUMMARY_STAT_SUFFIXES = ['Mean', 'Sd', 'Ci95Low', 'Ci95High'] as const;

/**
 * One row per group: the point keys (a key named like a fixed column gets the suffix
 * `Grid`), k1, k2, n, then for each of SWEEP_METRICS `<metric>Mean`, `<metric>Sd`,
 * `<metric>Ci95Low`, `<metric>Ci95High`.
 */
export function sweepSummaryCsv(summary: SweepSummary): string {
  const stats = SWEEP_METRICS.flatMap((m) => SUMMARY_STAT_SUFFIXES.map((s) => `${m}${s}`));
  const taken = new Set<string>(['k1', 'k2', 'n', ...stats]);
  const pointHeader = summary.pointKeys.map((k) => uniqueName(k, taken));
  const rows = summary.groups.map((g) => [
    ...summary.pointKeys.map((k) => csvValue(g.point[k])),
    g.k1,
    g.k2,
    g.n,
    ...SWEEP_METRICS.flatMap((m) => {
      const s = g.metrics[m];
      return [s.mean, s.sd, s.ci95[0], s.ci95[1]];
    }),
  ]);
  return toCsv([...pointHeader, 'k1', 'k2', 'n', ...stats], rows);
}
