/**
 * The sweep's report: one self-contained HTML file (inline CSS and SVG, no script, no
 * network) over the summaries of `summarizeSweep`. Seeds are pooled: each plotted value is
 * the mean over a group's replicates (the grid's seed keys × repeats) with its 95 %
 * Student-t interval as an error bar, so a reader sees whether two settings differ by more
 * than the seed noise.
 *
 * Per grid point (grid values without the seed keys): the test error barrier and the train
 * loss barrier against k1, one line per k2 (one line along k1 + k2 = const when the point's
 * cells lie on such a diagonal, as in the k1/k2 paper's Fig. 1), and the B(k1, k2) heat map
 * of the test error barrier: children forked from the parent at k1 and each trained k2
 * more. With several points, the test error barrier of every point against k1 in one chart
 * per k2, and heat maps sharing one colour scale. Regression points (SIREN) show the RMSE
 * barrier as it is instead of a percentage.
 */
import type { SweepCollection } from '../sweep/sweep_result.ts';
import type { SweepGroup, SweepMetric, SweepSummary } from '../sweep/collect.ts';
import type { Summary } from '../lmc/repeat_stats.ts';
import { htmlDocument } from './page.ts';
import {
  displayMinus,
  escapeXml as esc,
  formatSig,
  heatMap,
  type LegendEntry,
  lineChart,
  MARKERS,
  niceTicks,
  QUALITATIVE,
  sequentialColors,
  type Series,
  smallMultiples,
} from './svg.ts';

const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);
const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
const pct = (v: number) => (finite(v) ? displayMinus((100 * v).toFixed(2)) : 'n/a');
const num = (v: number, digits = 4) => (finite(v) ? formatSig(v, digits) : 'n/a');
const NOTE = 'style="font-size:12px;color:#555"';

/** A grid value as a reader writes it: strings bare, lists as JSON, null as "none". */
function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** One setting (a grid point without its seed keys) and its (k1, k2) groups. */
interface Setting {
  label: string;
  groups: SweepGroup[];
  task: SweepGroup['task'];
  unit: SweepGroup['unit'];
}

function settings(s: SweepSummary): Setting[] {
  const out = new Map<string, Setting>();
  for (const g of s.groups) {
    const key = JSON.stringify(s.pointKeys.map((k) => g.point[k] ?? null));
    const label = s.pointKeys.map((k) => `${k} = ${valueText(g.point[k])}`).join(', ') || 'all grid points';
    const here = out.get(key) ?? { label, groups: [], task: g.task, unit: g.unit };
    here.groups.push(g);
    out.set(key, here);
  }
  return [...out.values()];
}

/** How a metric is shown for a task: its scale, axis/column label and number format. */
function view(metric: 'testErrorBarrier' | 'trainLossBarrier', task: SweepGroup['task']) {
  if (metric === 'trainLossBarrier') {
    return {
      scale: 1,
      label: task === 'regression' ? 'train loss (MSE) barrier' : 'train loss barrier',
      fmt: (v: number) => num(v),
    };
  }
  return task === 'regression'
    ? { scale: 1, label: 'test RMSE barrier', fmt: (v: number) => num(v) }
    : { scale: 100, label: 'test error barrier (%)', fmt: (v: number) => displayMinus(v.toFixed(2)) };
}

/** The series key of a group in a setting: its k2, or the diagonal k1 + k2 = T. */
function family(set: Setting): (g: SweepGroup) => { key: number; name: string } {
  const totals = uniq(set.groups.map((g) => g.k1 + g.k2));
  const diagonal = totals.length === 1 && uniq(set.groups.map((g) => g.k1)).length > 1 && uniq(set.groups.map((g) => g.k2)).length > 1;
  return diagonal ? (g) => ({ key: g.k1 + g.k2, name: `k1 + k2 = ${g.k1 + g.k2}` }) : (g) => ({ key: g.k2, name: `k2 = ${g.k2}` });
}

/** What the lines of a setting's figure are. */
function lineNote(set: Setting): string {
  const name = family(set)(set.groups[0]).name;
  return name.startsWith('k1 + k2') ? `Cells lie on ${esc(name)}, as in the k1/k2 paper's Fig. 1.` : 'One line per k2.';
}

/** A point of a plot: the group's mean with its 95 % interval, scaled. */
const meanPoint = (x: number, m: Summary, scale: number) => ({ x, y: scale * m.mean, yLow: scale * m.ci95[0], yHigh: scale * m.ci95[1] });

/** The y range of series including their intervals, and 0 (barriers are read against 0). */
function yRange(series: readonly Series[]): readonly [number, number] {
  const ys = series.flatMap((q) => q.points.flatMap((p) => [p.y, p.yLow ?? p.y, p.yHigh ?? p.y])).filter(finite);
  return [Math.min(0, ...ys), Math.max(0, ...ys)];
}

const PANEL_W = 460;
const PANEL_H = 260;
const INTERVAL = '95 % t interval';

/** Test error barrier and train loss barrier against k1 for one setting, one line per k2. */
function settingFigure(set: Setting, title: string): string {
  const fam = family(set);
  const keys = new Map<number, string>();
  for (const g of set.groups) keys.set(fam(g).key, fam(g).name);
  const ordered = [...keys.entries()].sort((a, b) => a[0] - b[0]);
  const colors = sequentialColors(ordered.length);
  const seriesOf = (metric: 'testErrorBarrier' | 'trainLossBarrier'): Series[] =>
    ordered.map(([key, name], i) => ({
      name,
      color: colors[i],
      marker: MARKERS[i % MARKERS.length],
      points: set.groups.filter((g) => fam(g).key === key).sort((a, b) => a.k1 - b.k1)
        .map((g) => meanPoint(g.k1, g.metrics[metric], view(metric, set.task).scale)),
    }));
  const panels = (['testErrorBarrier', 'trainLossBarrier'] as const).map((metric) => {
    const series = seriesOf(metric);
    return lineChart(series, {
      width: PANEL_W,
      height: PANEL_H,
      title: view(metric, set.task).label,
      legend: 'none',
      markers: true,
      xLabel: `k1 (${set.unit})`,
      xDomain: [0, 0],
      yDomain: yRange(series),
      intervalLabel: INTERVAL,
    });
  });
  const legend: LegendEntry[] = ordered.map(([, name], i) => ({ name, color: colors[i], marker: MARKERS[i % MARKERS.length] }));
  return smallMultiples(panels, { panelWidth: PANEL_W, panelHeight: PANEL_H, columns: 2, gap: 14, title, legend });
}

/** Test error barrier against k1, one chart per k2 (or diagonal), one line per setting. */
function comparisonFigure(sets: Setting[], task: SweepGroup['task']): string {
  const v = view('testErrorBarrier', task);
  const panelKeys = new Map<string, number>();
  for (const set of sets) {
    for (const g of set.groups) {
      const f = family(set)(g);
      panelKeys.set(f.name, f.key);
    }
  }
  const panels = [...panelKeys.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => ({
    name,
    series: sets.map((set, i): Series => ({
      name: set.label,
      color: QUALITATIVE[i % QUALITATIVE.length],
      marker: MARKERS[i % MARKERS.length],
      points: set.groups.filter((g) => family(set)(g).name === name).sort((a, b) => a.k1 - b.k1).map((g) =>
        meanPoint(g.k1, g.metrics.testErrorBarrier, v.scale)
      ),
    })).filter((q) => q.points.length > 0),
  }));
  const yDomain = yRange(panels.flatMap((p) => p.series));
  const unit = sets[0].unit;
  const svgs = panels.map((p) =>
    lineChart(p.series, {
      width: 372,
      height: PANEL_H,
      title: p.name,
      legend: 'none',
      markers: true,
      xLabel: `k1 (${unit})`,
      xDomain: [0, 0],
      yDomain,
      intervalLabel: INTERVAL,
    })
  );
  const legend = sets.map((set, i) => ({
    name: set.label,
    color: QUALITATIVE[i % QUALITATIVE.length],
    marker: MARKERS[i % MARKERS.length],
  }));
  return smallMultiples(svgs, {
    panelWidth: 372,
    panelHeight: PANEL_H,
    columns: 3,
    gap: 12,
    title: `${v.label[0].toUpperCase()}${v.label.slice(1)} against k1, by setting`,
    legend,
  });
}

/** B(k1, k2) of each setting, on one colour scale per task (0 always on it). */
function heatMaps(sets: Setting[]): string[] {
  const matrixOf = (set: Setting) => {
    const k1s = uniq(set.groups.map((g) => g.k1));
    const k2s = uniq(set.groups.map((g) => g.k2));
    const scale = view('testErrorBarrier', set.task).scale;
    return {
      k1s,
      k2s,
      m: k1s.map((k1) =>
        k2s.map((k2) => {
          const g = set.groups.find((q) => q.k1 === k1 && q.k2 === k2);
          return g ? scale * g.metrics.testErrorBarrier.mean : null;
        })
      ),
    };
  };
  const mats = sets.map(matrixOf);
  const domainOf = (task: SweepGroup['task']) => {
    const vs = mats.filter((_, i) => sets[i].task === task).flatMap((x) => x.m.flat()).filter((x): x is number => x !== null && finite(x));
    const t = niceTicks(Math.min(0, ...vs), Math.max(0, ...vs), 5);
    return [t[0], t[t.length - 1]] as const;
  };
  return sets.map((set, i) => {
    const { k1s, k2s, m } = mats[i];
    const v = view('testErrorBarrier', set.task);
    const what = set.task === 'regression' ? 'B(k1, k2): test RMSE barrier' : 'B(k1, k2): test error barrier, %';
    return `<figure>${
      heatMap(m, {
        rowLabels: k1s.map(String),
        colLabels: k2s.map(String),
        xLabel: `k2 (${set.unit})`,
        yLabel: `k1 (${set.unit})`,
        cellWidth: Math.max(44, Math.min(64, Math.floor(400 / Math.max(1, k2s.length)))),
        title: sets.length > 1 ? `${what} — ${set.label}` : what,
        legendLabel: set.task === 'regression' ? 'RMSE' : '%',
        domain: domainOf(set.task),
        format: v.fmt,
      })
    }<figcaption>${esc(set.label)}: mean over replicates of each cell.</figcaption></figure>`;
  });
}

function groupTable(s: SweepSummary): string {
  const ms = (m: Summary, f: (v: number) => string) => `${f(m.mean)} ± ${f(m.sd)}`;
  const ci = (m: Summary, f: (v: number) => string) => (m.n > 1 ? `[${f(m.ci95[0])}, ${f(m.ci95[1])}]` : '—');
  const head = [
    ...s.pointKeys,
    'k1',
    'k2',
    'n',
    'test err. barrier',
    '95 % CI',
    'train loss barrier',
    '95 % CI',
    'test loss barrier',
    'test acc.',
    '‖θA − θB‖',
    'pred. dist. (test)',
  ];
  const rows = s.groups.map((g) => {
    const e = (v: number) => (g.task === 'regression' ? num(v) : `${pct(v)} %`);
    const m = g.metrics;
    const mean = (k: SweepMetric, f: (v: number) => string) => f(m[k].mean);
    const cells = [
      ...s.pointKeys.map((k) => `<td class="l">${esc(valueText(g.point[k]))}</td>`),
      ...[
        g.k1,
        g.k2,
        g.n,
        ms(m.testErrorBarrier, e),
        ci(m.testErrorBarrier, e),
        ms(m.trainLossBarrier, num),
        ci(m.trainLossBarrier, num),
        mean('testLossBarrier', num),
        mean('testAccuracy', e),
        mean('weightDistance', num),
        mean('testPredictionDistance', num),
      ]
        .map((v) => `<td>${esc(String(v))}</td>`),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<div class="scroll"><table><thead><tr>${
    head.map((h, i) => `<th${i < s.pointKeys.length ? ' class="l"' : ''}>${esc(h)}</th>`).join('')
  }</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div>`;
}

/** Spec keys equal at every point, and the keys that vary. */
function specParts(c: SweepCollection): { common: Record<string, unknown>; varying: string[] } {
  const specs = c.points.map((p) => (p.spec ?? {}) as unknown as Record<string, unknown>);
  const keys = [...new Set(specs.flatMap((x) => Object.keys(x)))];
  const common: Record<string, unknown> = {};
  const varying: string[] = [];
  for (const k of keys) {
    const texts = new Set(specs.map((x) => JSON.stringify(x[k] ?? null)));
    if (texts.size === 1) common[k] = specs[0][k] ?? null;
    else varying.push(k);
  }
  return { common, varying };
}

/** The whole report of a collected sweep as one self-contained HTML document. */
export function sweepReportHtml(c: SweepCollection, s: SweepSummary): string {
  const sets = settings(s);
  const cells = c.points.reduce((n, p) => n + p.cells.length, 0);
  const { common, varying } = specParts(c);
  const title = `Sweep report: ${c.name}`;
  const p = c.provenance;
  const about = c.points.length
    ? `${typeof common.model === 'string' ? `Model <b>${esc(common.model)}</b>` : 'Models varying'} on ${
      typeof common.data === 'string' ? `<b>${esc(common.data)}</b>` : 'varying data'
    }. `
    : '';
  const replicate = s.replicateKeys.join(' × ');
  const summary =
    `${about}${c.points.length} grid point${c.points.length === 1 ? '' : 's'} over ${esc(s.gridKeys.join(', ') || 'no keys')}, ` +
    `${cells} fork cell${cells === 1 ? '' : 's'}. Seeds are pooled over the replicate axis ${esc(replicate)}: ` +
    `${sets.length} setting${sets.length === 1 ? '' : 's'} (${
      esc(s.pointKeys.join(', ') || 'no other grid keys')
    }) and ${s.groups.length} (setting, k1, k2) group${s.groups.length === 1 ? '' : 's'}. ` +
    `Collected on the ${esc(p.backend)} backend under ${esc(p.runtime)}, ${esc(p.collectedAt)}.`;

  const facts: [string, string][] = [
    ['sweep id', c.sweepId],
    ['name', c.name],
    ['grid keys', s.gridKeys.join(', ') || 'none'],
    ['setting keys', s.pointKeys.join(', ') || 'none'],
    ['replicate axis', replicate],
    ['spec keys varying', varying.join(', ') || 'none'],
    ['backend', p.backend],
    ['runtime', p.runtime],
    ['ridgeline', p.ridgelineVersion],
    ['git commit', p.gitCommit ?? 'not recorded'],
    ['collected', p.collectedAt],
  ];
  const footer = `<footer><h2>Provenance</h2>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<details><summary>Spec common to every grid point (JSON)</summary><pre>${esc(JSON.stringify(common, null, 2))}</pre></details>
</footer>`;

  if (s.groups.length === 0) {
    return htmlDocument(
      title,
      `<h1>${esc(title)}</h1>\n<p>${summary}</p>\n<p>The sweep recorded no cells, so there is nothing to plot.</p>\n${footer}`,
    );
  }
  const regression = sets.some((x) => x.task === 'regression');
  const byTask = (task: SweepGroup['task']) => sets.filter((x) => x.task === task);
  const comparisons = sets.length > 1
    ? (['classification', 'regression'] as const).filter((t) => byTask(t).length > 1).map((t) =>
      `<figure>${
        comparisonFigure(byTask(t), t)
      }<figcaption>Every ${t} setting, one line each; one chart per k2 (or per diagonal k1 + k2 = const).</figcaption></figure>`
    )
    : [];
  const errorBars = `Error bars: the ${INTERVAL} of the mean over each group's n replicates (${
    esc(replicate)
  }); groups with one replicate have none.`;
  const body = `<h1>${esc(title)}</h1>
<p>${summary}</p>
<h2>Groups</h2>
${groupTable(s)}
<p ${NOTE}>Mean ± sample standard deviation over the replicates, and the 95 % interval of the mean from Student's t with n − 1 degrees of freedom. Error barriers are max<sub>α</sub> E(θ(α)) − ½(E(θA) + E(θB)); loss barriers may be negative (docs/metrics.md#barriers).${
    regression ? ' Regression settings show the RMSE as their error (and 1 − RMSE as their accuracy), not a percentage.' : ''
  }</p>
<h2>Barrier against k1</h2>
${
    sets.map((set) =>
      `<figure>${settingFigure(set, sets.length > 1 ? set.label : 'Barriers against the fork point k1')}<figcaption>${esc(set.label)}. ${
        lineNote(set)
      } ${errorBars}</figcaption></figure>`
    ).join('\n')
  }
${comparisons.length ? `<h2>Settings compared</h2>\n${comparisons.join('\n')}\n<p ${NOTE}>${errorBars}</p>` : ''}
<h2>Barrier grid B(k1, k2)</h2>
<p ${NOTE}>B(k1, k2): the test error barrier of the pair forked at k1 and trained k2 more — two children (pairs mode), or the main run and its child (main-branch mode) — averaged over the replicates; ${
    sets.length > 1 ? 'the maps share one colour scale' : 'the colour scale includes 0'
  }; absent cells are hatched.</p>
<div class="row">${heatMaps(sets).join('')}</div>
${footer}`;
  return htmlDocument(title, body);
}
