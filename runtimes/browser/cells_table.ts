/** The table of a fork's cells (barriers, accuracies, distances): the fork view's and the run view's. */
import type { ForkCell } from '../../core/experiments/result_schema.ts';
import { escapeXml } from '../../core/report/svg.ts';

const fmt = (x: number) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(4));
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

export function cellsTable(cells: readonly ForkCell[]): string {
  const head = [
    'k1',
    'k2',
    'repeat',
    'train loss barrier',
    'test loss barrier',
    'test error barrier',
    'endpoint floor',
    'test acc. A / B',
    '‖θA − θB‖',
    'connected',
  ];
  const rows = cells.map((c) => [
    String(c.k1),
    String(c.k2),
    String(c.repeat ?? 0),
    fmt(c.train.lossBarrier),
    fmt(c.test.lossBarrier),
    pct(c.test.errorBarrier),
    pct(c.test.errorFloor),
    `${pct(c.test.accuracyA)} / ${pct(c.test.accuracyB)}`,
    fmt(c.weightDistance),
    c.connected ? 'yes' : 'no',
  ]);
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((x) => `<${tag}>${escapeXml(x)}</${tag}>`).join('')}</tr>`;
  return `<thead>${tr(head, 'th')}</thead><tbody>${rows.map((r) => tr(r, 'td')).join('')}</tbody>`;
}

/** A cell's name in legends and selects. */
export const cellName = (c: ForkCell) => `k1=${c.k1} k2=${c.k2}${c.repeat ? ` r${c.repeat}` : ''}`;
