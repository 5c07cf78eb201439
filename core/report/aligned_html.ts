/**
 * The fork report's section for a run with --align (docs/metrics.md#alignment-modulo-permutation): each cell's path as trained,
 * after aligning B to A, and (with --repair) after REPAIR, drawn on the same axes, with a
 * table of the barriers before and after. Absent when no cell was aligned.
 */
import type { CurvePoint, ForkCell } from '../experiments/result_schema.ts';
import { type Group, meanCurve, num, type PathOf, pct } from './cell_groups.ts';
import { sortedCells } from './csv.ts';
import { escapeXml as esc, type LegendEntry, lineChart, QUALITATIVE, smallMultiples } from './svg.ts';

const NOTE = 'style="font-size:12px;color:#555"';

export function alignedSection(groups: readonly Group[], cells: readonly ForkCell[]): string {
  const first = cells.find((c) => c.aligned)?.aligned;
  if (!first) return '';
  const repaired = cells.some((c) => c.aligned?.repaired);
  const paths: { name: string; color: string; of: PathOf }[] = [
    { name: 'before alignment', color: QUALITATIVE[0], of: (c) => c },
    { name: `after ${first.method} matching`, color: QUALITATIVE[1], of: (c) => c.aligned },
    ...(repaired ? [{ name: 'after matching and REPAIR', color: QUALITATIVE[2], of: (c: ForkCell) => c.aligned?.repaired }] : []),
  ];
  const legend: LegendEntry[] = paths.map((p) => ({ name: p.name, color: p.color }));
  const columns = Math.min(3, groups.length);
  const panelWidth = Math.min(560, Math.floor((1140 - 12 * (columns - 1)) / columns));
  const figure = (title: string, split: 'train' | 'test', f: (q: CurvePoint) => number, yLabel: string) =>
    smallMultiples(
      groups.map((g) =>
        lineChart(paths.map((p) => ({ name: p.name, color: p.color, points: meanCurve(g, split, f, p.of) })), {
          width: panelWidth,
          height: 240,
          title: `k1 = ${g.k1}, k2 = ${g.k2}`,
          legend: 'none',
          xLabel: 'α (0 = A, 1 = B)',
          yLabel,
        })
      ),
      { panelWidth, panelHeight: 240, columns, gap: 12, title, legend },
    );
  const head = [
    'k1',
    'k2',
    'rep',
    'test err. barrier % before',
    'after',
    ...(repaired ? ['after REPAIR'] : []),
    'train loss barrier before',
    'after',
    ...(repaired ? ['after REPAIR'] : []),
    '‖θA − θB‖',
    '‖θA − π(θB)‖',
    'Σ⟨W_A, W_B⟩',
    'Σ⟨W_A, π(W_B)⟩',
  ];
  const rows = sortedCells(cells).filter((c) => c.aligned).map((c) => {
    const a = c.aligned!;
    return [
      c.k1,
      c.k2,
      c.repeat,
      pct(c.test.errorBarrier),
      pct(a.test.errorBarrier),
      ...(repaired ? [a.repaired ? pct(a.repaired.test.errorBarrier) : '—'] : []),
      num(c.train.lossBarrier),
      num(a.train.lossBarrier),
      ...(repaired ? [a.repaired ? num(a.repaired.train.lossBarrier) : '—'] : []),
      num(c.weightDistance),
      num(a.weightDistance),
      num(a.objectiveBefore, 6),
      num(a.objective, 6),
    ].map((v) => `<td>${esc(String(v))}</td>`).join('');
  });
  const table = `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table></div>`;
  return `<h2>Before / after alignment</h2>
${table}
<figure>${figure('Test error along the path, before / after alignment', 'test', (q) => 100 * q.error, 'test error (%)')}</figure>
<figure>${figure('Train loss gap along the path, before / after alignment', 'train', (q) => q.gap, 'train loss gap')}</figure>
<p ${NOTE}>B's hidden units were permuted into A's basis by ${
    esc(first.method)
  } matching (seed ${first.seed}) before measuring the path from A to π(B); the permuted network computes the same function as B, so only the path changes.${
    repaired
      ? " REPAIR rescales every hidden channel of each interpolated network to the interpolation of the endpoints' pre-activation statistics on training data."
      : ''
  }</p>
`;
}
