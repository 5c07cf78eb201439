/**
 * CSV exports of a fork result (RFC 4180): one table of cells, one of path curves.
 *
 * Numbers are written with `String(x)`, the shortest text that parses back to the same
 * double, so that `parseFloat(field) === x` for every finite value: barriers are
 * differences of nearby losses and rounding here would hide exactly what they measure.
 * −0 keeps its sign (String(-0) is "0"). Lines end in CRLF as the RFC asks, header first.
 */
import { type ForkCell, type ForkResult, type SplitMetrics, SUMMARY_METRICS } from '../experiments/result_schema.ts';

export type CsvValue = string | number | boolean | null | undefined;

const SPLITS = ['train', 'test'] as const;

/** One field: quoted when it holds a comma, quote, CR or LF (quotes doubled inside). */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A whole CSV document: header row, then one line per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

/** Cells in reading order: by k1, then k2, then repeat (input order breaks ties). */
export function sortedCells(cells: readonly ForkCell[]): ForkCell[] {
  return cells
    .map((cell, i) => ({ cell, i }))
    .sort((p, q) => p.cell.k1 - q.cell.k1 || p.cell.k2 - q.cell.k2 || p.cell.repeat - q.cell.repeat || p.i - q.i)
    .map((p) => p.cell);
}

export const CELL_COLUMNS = [
  'k1',
  'k2',
  'repeat',
  'a',
  'b',
  'split',
  'lossBarrier',
  'lossBarrierAlpha',
  'errorBarrier',
  'errorFloor',
  'errorBarrierExcess',
  'normalizedBarrier',
  'lossA',
  'lossB',
  'accuracyA',
  'accuracyB',
  'predictionDistance',
  'predictionDistanceSymmetric',
  'weightDistance',
  'connected',
] as const;

/** Columns a run with --align adds to cells.csv (and --repair fills the repaired ones). */
export const ALIGNED_CELL_COLUMNS = [
  'alignMethod',
  'alignedLossBarrier',
  'alignedErrorBarrier',
  'alignedErrorFloor',
  'alignedWeightDistance',
  'repairedLossBarrier',
  'repairedErrorBarrier',
] as const;

const aligned = (result: ForkResult) => result.cells.some((c) => c.aligned);

/**
 * One row per (cell, split). `weightDistance` and `connected` belong to the cell and are
 * repeated on both rows, so that each row can be read alone (a filter on `split` keeps all).
 * A run with --align adds the aligned (and repaired) barriers of the same split as columns.
 */
export function cellsCsv(result: ForkResult): string {
  const withAligned = aligned(result);
  const rows: CsvValue[][] = [];
  for (const cell of sortedCells(result.cells)) {
    for (const split of SPLITS) {
      const m: SplitMetrics = cell[split];
      const al = cell.aligned;
      rows.push([
        cell.k1,
        cell.k2,
        cell.repeat,
        cell.a,
        cell.b,
        split,
        m.lossBarrier,
        m.lossBarrierAlpha,
        m.errorBarrier,
        m.errorFloor,
        m.errorBarrierExcess,
        m.normalizedBarrier,
        m.lossA,
        m.lossB,
        m.accuracyA,
        m.accuracyB,
        m.predictionDistance,
        m.predictionDistanceSymmetric,
        cell.weightDistance,
        cell.connected,
        ...(withAligned
          ? [
            al?.method,
            al?.[split].lossBarrier,
            al?.[split].errorBarrier,
            al?.[split].errorFloor,
            al?.weightDistance,
            al?.repaired?.[split].lossBarrier,
            al?.repaired?.[split].errorBarrier,
          ]
          : []),
      ]);
    }
  }
  return toCsv(withAligned ? [...CELL_COLUMNS, ...ALIGNED_CELL_COLUMNS] : CELL_COLUMNS, rows);
}

export const CURVE_COLUMNS = ['k1', 'k2', 'repeat', 'split', 'alpha', 'loss', 'error', 'gap'] as const;

/**
 * Every α point of every curve (train and test), long format for plotting tools. A run with
 * --align adds a column `path` (trained, aligned, repaired) and the aligned curves' rows.
 */
export function curvesCsv(result: ForkResult): string {
  const withAligned = aligned(result);
  const rows: CsvValue[][] = [];
  for (const cell of sortedCells(result.cells)) {
    const paths: [string, { train: SplitMetrics; test: SplitMetrics } | undefined][] = [
      ['trained', cell],
      ['aligned', cell.aligned],
      ['repaired', cell.aligned?.repaired],
    ];
    for (const [path, metrics] of withAligned ? paths : paths.slice(0, 1)) {
      if (!metrics) continue;
      for (const split of SPLITS) {
        for (const p of metrics[split].curve) {
          rows.push([cell.k1, cell.k2, cell.repeat, split, p.alpha, p.loss, p.error, p.gap, ...(withAligned ? [path] : [])]);
        }
      }
    }
  }
  return toCsv(withAligned ? [...CURVE_COLUMNS, 'path'] : CURVE_COLUMNS, rows);
}

export const SUMMARY_COLUMNS = ['k1', 'k2', 'metric', 'n', 'mean', 'sd', 'ci95Low', 'ci95High'] as const;

/** Every summarised metric of every cell over its repeats (docs/fork.md), long format. */
export function summaryCsv(result: ForkResult): string {
  const rows: CsvValue[][] = [];
  for (const cell of result.summary) {
    for (const metric of SUMMARY_METRICS) {
      const s = cell.metrics[metric];
      rows.push([cell.k1, cell.k2, metric, s.n, s.mean, s.sd, s.ci95[0], s.ci95[1]]);
    }
  }
  return toCsv(SUMMARY_COLUMNS, rows);
}
