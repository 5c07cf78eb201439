/**
 * The fork experiment's report: one self-contained HTML file (inline CSS and SVG, no
 * script, no network), readable offline and printable. Layout and plots follow the k1/k2
 * paper's figures (docs/fork.md#presets): barrier curves along α per fork point, B(k1, k2) as a heat
 * map, barrier against k1, distances against k2, and the parent's training loss.
 *
 * Repeats of a cell (main-branch mode) are averaged in the plots and listed one by one in
 * the table. Negative loss barriers are valid (docs/metrics.md#barriers) and are plotted as they are.
 */
import { htmlDocument } from './page.ts';
import type { CurvePoint, ForkCell, ForkResult } from '../experiments/result_schema.ts';
import type { Summary } from '../lmc/repeat_stats.ts';
import { alignedSection } from './aligned_html.ts';
import { avg, finite, type Group, groupCells, mean, meanCurve, num, pct } from './cell_groups.ts';
import { sortedCells } from './csv.ts';
import {
  displayMinus,
  escapeXml as esc,
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

const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

// ---------------------------------------------------------------- spec summary

/** Breadth-first search of the spec (two levels) for the first of `names`. */
function findKey(spec: Record<string, unknown>, names: readonly string[]): unknown {
  let level: unknown[] = [spec];
  for (let depth = 0; depth < 3; depth++) {
    const next: unknown[] = [];
    for (const obj of level) {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) continue;
      const rec = obj as Record<string, unknown>;
      for (const n of names) if (rec[n] !== undefined && rec[n] !== null) return rec[n];
      next.push(...Object.values(rec));
    }
    level = next;
  }
  return undefined;
}

/** Compact text of a spec value: `sgd (lr 0.1, momentum 0.9)` for `{ name: 'sgd', lr: 0.1, … }`. */
function describe(v: unknown): string {
  if (v === undefined || v === null) return 'not recorded';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map(describe).join(', ');
  const rec = v as Record<string, unknown>;
  const head = ['name', 'kind', 'type', 'id', 'preset'].map((k) => rec[k]).find((x) => typeof x === 'string');
  const rest = Object.entries(rec)
    .filter(([k, x]) => !['name', 'kind', 'type', 'id'].includes(k) && ['string', 'number', 'boolean'].includes(typeof x))
    .slice(0, 6).map(([k, x]) => `${k} ${String(x)}`);
  return [head ?? '', rest.length ? `(${rest.join(', ')})` : ''].filter(Boolean).join(' ') || 'see spec';
}

// ---------------------------------------------------------------- headline

function trend(what: string, x: number, y: number, fmt: (v: number) => string, from: string, to: string): string {
  const [a, b] = [fmt(x), fmt(y)];
  if (a === b) return `${what} stays at ${a} from ${from} to ${to}`;
  return `${what} ${y < x ? 'falls' : 'rises'} from ${a} at ${from} to ${b} at ${to}`;
}

/** Sentences computed from the data: the k1 trend first, as in the paper's Fig. 1. */
function headline(result: ForkResult, groups: Group[], threshold: string): string[] {
  const k1s = uniq(groups.map((g) => g.k1));
  const k2s = uniq(groups.map((g) => g.k2));
  const eb = (g: Group) => avg(g, (c) => c.test.errorBarrier);
  const ep = (v: number) => `${pct(v)} %`;
  const at = (k1: number, k2: number) => groups.find((g) => g.k1 === k1 && g.k2 === k2);
  const out: string[] = [];
  if (result.finding) out.push(result.finding.text);
  const totals = uniq(groups.map((g) => g.k1 + g.k2));
  if (groups.length === 1) {
    const g = groups[0];
    out.push(
      `The single cell k1 = ${g.k1}, k2 = ${g.k2} has a test error barrier of ${ep(eb(g))} and a test loss barrier of ${
        num(avg(g, (c) => c.test.lossBarrier))
      }.`,
    );
  } else if (k1s.length > 1 && totals.length === 1 && k2s.length > 1) {
    const [first, last] = [groups[0], groups[groups.length - 1]];
    out.push(
      `With k1 + k2 = ${totals[0]} ${result.units}, the ${
        trend('test error barrier', eb(first), eb(last), ep, `k1 = ${first.k1}`, `k1 = ${last.k1}`)
      };`,
    );
    // The k1/k2 paper's Fig. 3 plots the train interpolation gap: report its trend too.
    const tl = (g: Group) => avg(g, (c) => c.train.lossBarrier);
    out.push(`the ${trend('train loss barrier', tl(first), tl(last), num, `k1 = ${first.k1}`, `k1 = ${last.k1}`)}.`);
  } else if (k1s.length > 1) {
    const [a, b] = [k1s[0], k1s[k1s.length - 1]];
    const common = k2s.filter((k2) => at(a, k2) && at(b, k2));
    if (common.length) {
      const k2 = common[common.length - 1];
      out.push(
        `At k2 = ${k2} ${result.units}, the ${trend('test error barrier', eb(at(a, k2)!), eb(at(b, k2)!), ep, `k1 = ${a}`, `k1 = ${b}`)}.`,
      );
    } else {
      const rowMean = (k1: number) => mean(groups.filter((g) => g.k1 === k1).map(eb));
      out.push(`Averaged over k2, the ${trend('test error barrier', rowMean(a), rowMean(b), ep, `k1 = ${a}`, `k1 = ${b}`)}.`);
    }
  } else {
    const [first, last] = [groups[0], groups[groups.length - 1]];
    out.push(`At k1 = ${first.k1}, the ${trend('test error barrier', eb(first), eb(last), ep, `k2 = ${first.k2}`, `k2 = ${last.k2}`)}.`);
  }
  // Distances grow with k2 even while LMC holds (docs/fork.md#presets): show it along the longest k2 row.
  const rows = k1s.map((k1) => groups.filter((g) => g.k1 === k1));
  const row = rows.reduce((best, r) => (r.length > best.length ? r : best), rows[0]);
  const line = row.length > 1 ? row : totals.length === 1 && groups.length > 1 ? [...groups].sort((p, q) => p.k2 - q.k2) : [];
  if (line.length > 1) {
    const [p, q] = [line[0], line[line.length - 1]];
    const where = row.length > 1 ? ` (k1 = ${p.k1})` : '';
    out.push(
      `The ${
        trend(
          'weight distance',
          avg(p, (c) => c.weightDistance),
          avg(q, (c) => c.weightDistance),
          num,
          `k2 = ${p.k2}`,
          `k2 = ${q.k2}`,
        )
      }${where}.`,
    );
  }
  const cells = result.cells;
  const connected = cells.filter((c) => c.connected).length;
  out.push(
    `${connected} of ${cells.length} pair${
      cells.length === 1 ? ' is' : 's are'
    } linearly mode-connected (test error barrier below ${threshold}).`,
  );
  if (groups.length > 1) {
    const worst = groups.reduce((w, g) => (eb(g) > eb(w) ? g : w), groups[0]);
    out.push(`The largest test error barrier, ${ep(eb(worst))}, is at k1 = ${worst.k1}, k2 = ${worst.k2}.`);
  }
  const negative = cells.filter((c) => c.test.lossBarrier < 0).length;
  if (negative) {
    out.push(
      `${negative} pair${negative === 1 ? ' has a' : 's have'} negative test loss barrier${
        negative === 1 ? '' : 's'
      }: the loss is below the chord along the whole path.`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- sections

function cellTable(result: ForkResult): string {
  const head = [
    'k1',
    'k2',
    'rep',
    'A',
    'B',
    'test err. barrier %',
    'endpoint floor %',
    'above floor %',
    'train err. barrier %',
    'test loss barrier',
    'at α',
    'train loss barrier',
    'norm. barrier %',
    'test acc. A %',
    'test acc. B %',
    '‖θA − θB‖',
    'pred. dist. H(pA, pB)',
    'pred. dist. symmetric',
    'LMC',
  ];
  const rows = sortedCells(result.cells).map((c) =>
    [
      c.k1,
      c.k2,
      c.repeat,
      `<td class="l">${esc(c.a)}</td>`,
      `<td class="l">${esc(c.b)}</td>`,
      pct(c.test.errorBarrier),
      pct(c.test.errorFloor),
      pct(c.test.errorBarrierExcess),
      pct(c.train.errorBarrier),
      num(c.test.lossBarrier),
      num(c.test.lossBarrierAlpha, 3),
      num(c.train.lossBarrier),
      pct(c.test.normalizedBarrier),
      pct(c.test.accuracyA),
      pct(c.test.accuracyB),
      num(c.weightDistance),
      num(c.test.predictionDistance),
      num(c.test.predictionDistanceSymmetric),
      c.connected ? '<td class="ok" title="connected">✓</td>' : '<td class="no" title="not connected">✗</td>',
    ].map((v) => (typeof v === 'string' && v.startsWith('<td') ? v : `<td>${esc(String(v))}</td>`)).join('')
  );
  return `<div class="scroll"><table><thead><tr>${
    head.map((h, i) => `<th${i === 3 || i === 4 ? ' class="l"' : ''}>${esc(h)}</th>`).join('')
  }</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table></div>`;
}

/** Each cell's key metrics over its repeats: mean ± sd, the 95 % t interval, n (docs/fork.md). */
function summaryTable(result: ForkResult): string {
  const ms = (s: Summary, f: (v: number) => string) => `${f(s.mean)} ± ${f(s.sd)}`;
  const ci = (s: Summary, f: (v: number) => string) => (s.n > 1 ? `[${f(s.ci95[0])}, ${f(s.ci95[1])}]` : '—');
  const head = [
    'k1',
    'k2',
    'n',
    'test err. barrier %',
    '95 % CI',
    'endpoint floor %',
    'above floor %',
    'train loss barrier',
    '95 % CI',
    'test acc. %',
  ];
  const rows = result.summary.map(({ k1, k2, metrics: m }) =>
    [
      k1,
      k2,
      m.testErrorBarrier.n,
      ms(m.testErrorBarrier, pct),
      ci(m.testErrorBarrier, pct),
      ms(m.testErrorFloor, pct),
      ms(m.testErrorBarrierExcess, pct),
      ms(m.trainLossBarrier, num),
      ci(m.trainLossBarrier, num),
      ms(m.testAccuracy, pct),
    ].map((v) => `<td>${esc(String(v))}</td>`).join('')
  );
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table></div>`;
}

const WIDTH = 1140;

/** Panels of one metric, one per item, with a shared y range so that panels compare. */
function panelFigure(
  title: string,
  panels: { title: string; series: Series[] }[],
  legend: LegendEntry[],
  axes: { xLabel: string; yLabel: string; markers?: boolean },
  maxColumns = 3,
): string {
  const columns = Math.min(maxColumns, panels.length);
  const gap = 12;
  // Capped so that a lone panel (one k1) keeps a readable aspect instead of spanning the page.
  const panelWidth = Math.min(560, Math.floor((WIDTH - gap * (columns - 1)) / columns));
  const ys = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.y))).filter(finite);
  const yDomain = ys.length ? ([Math.min(...ys), Math.max(...ys)] as const) : undefined;
  const svgs = panels.map((p) =>
    lineChart(p.series, {
      width: panelWidth,
      height: 240,
      title: p.title,
      legend: 'none',
      yDomain,
      ...axes,
    })
  );
  return smallMultiples(svgs, { panelWidth, panelHeight: 240, columns, gap, title, legend });
}

interface RunFacts {
  model: string;
  data: string;
  optimizer: string;
  mode: string;
  threshold: string;
  unitNote: string;
}

function runFacts(result: ForkResult): RunFacts {
  const spec = result.spec ?? {};
  const thr = findKey(spec, ['threshold', 'connectedThreshold', 'lmcThreshold', 'barrierThreshold']);
  return {
    model: describe(findKey(spec, ['model', 'arch', 'architecture'])),
    data: describe(findKey(spec, ['data', 'dataset'])),
    optimizer: describe(findKey(spec, ['optimizer', 'optim'])),
    mode: describe(findKey(spec, ['mode', 'pairing'])),
    threshold: typeof thr === 'number' ? `${pct(thr)} %` : "the spec's threshold",
    unitNote: result.units === 'epochs' ? `epochs (${result.stepsPerEpoch} steps per epoch)` : 'steps',
  };
}

/** The page around the figures: title, run summary, headline, and the provenance footer. */
function page(result: ForkResult, headlineText: string, body: string): string {
  const f = runFacts(result);
  const p = result.provenance;
  const groups = groupCells(result.cells);
  const title = `Fork report: ${f.model} on ${f.data}`;
  const n = result.cells.length;
  const summary = `Model <b>${esc(f.model)}</b> on <b>${esc(f.data)}</b>, optimizer ${esc(f.optimizer)}, pairing mode ${esc(f.mode)}. ` +
    `Fork points k1 ∈ {${esc(uniq(groups.map((g) => g.k1)).join(', '))}} and child training k2 ∈ {${
      esc(uniq(groups.map((g) => g.k2)).join(', '))
    }}, in ${esc(f.unitNote)}; ` +
    `${n} pair${n === 1 ? '' : 's'} in ${groups.length} cell${groups.length === 1 ? '' : 's'}. ` +
    `Run on the ${esc(p.backend)} backend (${esc(p.adapter)}) under ${esc(p.runtime)}, started ${esc(p.startedAt)}.`;
  const start = Date.parse(p.startedAt);
  const end = Date.parse(p.finishedAt);
  const total = result.timings.reduce((s, t) => s + t.seconds, 0);
  const specJson = (() => {
    try {
      return JSON.stringify(result.spec, null, 2) ?? '{}';
    } catch {
      return String(result.spec);
    }
  })();
  const facts: [string, string][] = [
    ['backend', p.backend],
    ['adapter', p.adapter],
    ['math', p.math ?? 'strict'],
    ['runtime', p.runtime],
    ['ridgeline', p.ridgelineVersion],
    ['git commit', p.gitCommit ?? 'not recorded'],
    ['started', p.startedAt],
    ['finished', p.finishedAt],
    ['wall time', finite(end - start) ? `${((end - start) / 1000).toFixed(1)} s` : 'n/a'],
    ['seeds', `init ${result.seeds.init}, order ${result.seeds.order}, children ${result.seeds.children.join(', ') || 'none'}`],
    ['schema', `version ${result.schemaVersion}, units ${f.unitNote}`],
  ];
  const timingRows = result.timings.map((t) =>
    `<tr><td class="l">${esc(t.phase)}</td><td>${esc(num(t.seconds, 4))}</td>` +
    `<td>${total > 0 ? esc(pct(t.seconds / total, 1)) : 'n/a'}</td></tr>`
  ).join('');
  return htmlDocument(
    title,
    `<h1>${esc(title)}</h1>
<p>${summary}</p>
<p class="headline">${esc(headlineText)}</p>
${body}
<footer><h2>Provenance</h2>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h3 style="font-size:14px">Timings</h3>
<table><thead><tr><th class="l">phase</th><th>seconds</th><th>share %</th></tr></thead><tbody>${timingRows}</tbody></table>
<details><summary>Resolved spec (JSON)</summary><pre>${esc(specJson)}</pre></details>
</footer>`,
  );
}

const NOTE = 'style="font-size:12px;color:#555"';

/** docs/models.md: say what happens to batch-norm statistics on the path, when the model has any. */
function bnNote(result: ForkResult): string {
  const resolved = result.spec.resolved as { bufferValues?: number } | undefined;
  if (!resolved?.bufferValues) return '';
  return result.spec.resetBn
    ? ' Batch-norm running statistics were recomputed on the training data at every point of the path (--reset-bn).'
    : ' Batch-norm running statistics were interpolated like the weights (the default; --reset-bn recomputes them).';
}

/** The whole report of a fork run as one self-contained HTML document. */
export function forkReportHtml(result: ForkResult): string {
  const groups = groupCells(result.cells);
  if (groups.length === 0) {
    // The schema expects cells; an empty run still gets a page that says so and its provenance.
    return page(result, 'The run recorded no cells.', '<p>No (k1, k2) cells were recorded, so there is nothing to plot.</p>');
  }
  const k1s = uniq(groups.map((g) => g.k1));
  const k2s = uniq(groups.map((g) => g.k2));
  const units = result.units;
  const repeats = Math.max(...groups.map((g) => g.cells.length));
  const averaged = repeats > 1 ? ` Plots show the mean of up to ${repeats} repeats per cell; the table lists each.` : '';

  const k2Color = new Map(k2s.map((k2, i) => [k2, sequentialColors(k2s.length)[i]]));
  const k1Color = new Map(k1s.map((k1, i) => [k1, sequentialColors(k1s.length)[i]]));
  const totals = uniq(groups.map((g) => g.k1 + g.k2));
  const diagonal = totals.length === 1 && k1s.length > 1 && k2s.length > 1;
  const k2Legend: LegendEntry[] = k2s.map((k2) => ({ name: `k2 = ${k2}`, color: k2Color.get(k2)! }));

  // (a) barrier curves along α: one panel per k1, one line per k2.
  const curvePanels = (split: 'train' | 'test', f: (q: CurvePoint) => number) =>
    k1s.map((k1) => ({
      title: `k1 = ${k1}`,
      series: groups.filter((g) => g.k1 === k1).map((g) => ({
        name: `k2 = ${g.k2}`,
        color: k2Color.get(g.k2),
        points: meanCurve(g, split, f),
      })),
    }));
  const alphaAxes = { xLabel: 'α (0 = A, 1 = B)' };
  const curves = [
    panelFigure('Test error along the path θ(α)', curvePanels('test', (q) => 100 * q.error), k2Legend, {
      ...alphaAxes,
      yLabel: 'test error (%)',
    }),
    panelFigure('Loss gap along the path, test: L(θ(α)) − chord', curvePanels('test', (q) => q.gap), k2Legend, {
      ...alphaAxes,
      yLabel: 'test loss gap',
    }),
    panelFigure('Loss gap along the path, train', curvePanels('train', (q) => q.gap), k2Legend, { ...alphaAxes, yLabel: 'train loss gap' }),
  ];

  // (b) B(k1, k2) heat maps, k1 rows × k2 columns; absent cells are hatched.
  // Two maps side by side fit the page up to ~6 columns; wider grids wrap below each other.
  const cellWidth = Math.max(44, Math.min(64, Math.floor(400 / k2s.length)));
  const matrix = (f: (c: ForkCell) => number) =>
    k1s.map((k1) =>
      k2s.map((k2) => {
        const g = groups.find((q) => q.k1 === k1 && q.k2 === k2);
        return g ? avg(g, f) : null;
      })
    );
  // Colour scales start at (or pass through) 0, the value that means "no barrier".
  const withZero = (m: (number | null)[][]) => {
    const v = m.flat().filter((x): x is number => x !== null && finite(x));
    const t = niceTicks(Math.min(0, ...v), Math.max(0, ...v), 5);
    return [t[0], t[t.length - 1]] as const;
  };
  const heatOpts = { rowLabels: k1s.map(String), colLabels: k2s.map(String), xLabel: `k2 (${units})`, yLabel: `k1 (${units})`, cellWidth };
  const errM = matrix((c) => 100 * c.test.errorBarrier);
  const lossM = matrix((c) => c.test.lossBarrier);
  const heat = [
    heatMap(errM, {
      ...heatOpts,
      title: 'Test error barrier B(k1, k2), %',
      legendLabel: '%',
      domain: withZero(errM),
      format: (v) => displayMinus(v.toFixed(2)),
    }),
    heatMap(lossM, { ...heatOpts, title: 'Test loss barrier', legendLabel: 'loss', domain: withZero(lossM) }),
  ];

  // (c) barriers against k1 (one line per k2, or one line along k1 + k2 = const).
  const byK2 = (f: (c: ForkCell) => number): Series[] =>
    diagonal
      ? [{ name: `k1 + k2 = ${totals[0]}`, color: QUALITATIVE[0], points: groups.map((g) => ({ x: g.k1, y: avg(g, f) })) }]
      : k2s.map((k2, i) => ({
        name: `k2 = ${k2}`,
        color: k2Color.get(k2),
        marker: MARKERS[i % MARKERS.length],
        points: groups.filter((g) => g.k2 === k2).map((g) => ({ x: g.k1, y: avg(g, f) })),
      }));
  const seriesLegend = (s: Series[]): LegendEntry[] =>
    s.map((q, i) => ({ name: q.name, color: q.color ?? QUALITATIVE[i], marker: q.marker ?? 'circle' }));
  // Barriers and distances are read against 0, so 0 is always on their y axes (yDomain);
  // k1 and k2 count from 0 (a fork at initialization), so their axes start there too.
  const k1Axes = { xLabel: `k1 (${units})`, markers: true, xDomain: [0, 0] as const };
  const vsK1 = [
    { title: 'test error barrier (%)', series: byK2((c) => 100 * c.test.errorBarrier) },
    { title: 'test error barrier above the floor (%)', series: byK2((c) => 100 * c.test.errorBarrierExcess) },
    { title: 'test loss barrier', series: byK2((c) => c.test.lossBarrier) },
    { title: 'train loss barrier', series: byK2((c) => c.train.lossBarrier) },
  ];
  const barrierFig = smallMultiples(
    vsK1.map((q) => lineChart(q.series, { width: 372, height: 250, title: q.title, legend: 'none', ...k1Axes, yDomain: [0, 0] })),
    {
      panelWidth: 372,
      panelHeight: 250,
      columns: 3,
      gap: 12,
      title: 'Barriers against the fork point k1',
      legend: seriesLegend(vsK1[0].series),
    },
  );

  // (d) distances against k2 (one line per k1).
  const byK1 = (f: (c: ForkCell) => number): Series[] =>
    diagonal
      ? [{
        name: `k1 + k2 = ${totals[0]}`,
        color: QUALITATIVE[0],
        points: [...groups].sort((a, b) => a.k2 - b.k2).map((g) => ({ x: g.k2, y: avg(g, f) })),
      }]
      : k1s.map((k1, i) => ({
        name: `k1 = ${k1}`,
        color: k1Color.get(k1),
        marker: MARKERS[i % MARKERS.length],
        points: groups.filter((g) => g.k1 === k1).map((g) => ({ x: g.k2, y: avg(g, f) })),
      }));
  const dist = [
    { title: 'weight distance ‖θA − θB‖₂', series: byK1((c) => c.weightDistance) },
    { title: 'prediction distance H(pA, pB), test', series: byK1((c) => c.test.predictionDistance) },
  ];
  const distFig = smallMultiples(
    dist.map((q) =>
      lineChart(q.series, {
        width: 564,
        height: 250,
        title: q.title,
        legend: 'none',
        xLabel: `k2 (${units})`,
        markers: true,
        xDomain: [0, 0],
        yDomain: [0, 0],
      })
    ),
    {
      panelWidth: 564,
      panelHeight: 250,
      columns: 2,
      gap: 12,
      title: 'Distances between A and B against k2',
      legend: seriesLegend(dist[0].series),
    },
  );

  // (e) parent training loss, fork points marked (k1 converted to steps).
  const perUnit = units === 'epochs' ? result.stepsPerEpoch : 1;
  const parentFig = lineChart([{
    name: 'training loss',
    color: QUALITATIVE[0],
    points: result.parentLoss.map((q) => ({ x: q.step, y: q.loss })),
  }], {
    width: 760,
    height: 280,
    title: 'Parent training loss',
    xLabel: 'step',
    yLabel: 'loss',
    legend: 'none',
    xMarks: result.parentLoss.length ? k1s.map((k1) => ({ x: k1 * perUnit })) : [],
  });

  const overRepeats = repeats > 1
    ? `<h2>Over repeats</h2>
${summaryTable(result)}
<p ${NOTE}>Each repeat runs the whole procedure with its own init, data-order and augmentation seeds (listed in result.json), so the spread holds both kinds of noise. Mean ± sample standard deviation; 95 % interval of the mean from Student's t with n − 1 degrees of freedom.</p>
`
    : '';
  const body = `${overRepeats}<h2>Cells</h2>
${cellTable(result)}
<p ${NOTE}>Error barriers are max<sub>α</sub> E(θ(α)) − ½(E(θA) + E(θB)) in percent; since the max includes both ends, a barrier is never below its endpoint floor ½|E(θA) − E(θB)|, and only the part above the floor comes from the path; loss barriers are max<sub>α</sub> of the gap to the chord and may be negative; the normalized barrier divides the test error barrier by the endpoints' mean test accuracy (docs/metrics.md#barriers). Distances are on the test split.${
    bnNote(result)
  }${
    result.task === 'regression'
      ? ' This run is a regression: the loss is the mean squared error, every "error" is the RMSE (×100 where shown in percent) and "accuracy" is 1 − RMSE; the prediction distance is the mean squared difference of the outputs.'
      : ''
  }</p>
${alignedSection(groups, result.cells)}<h2>Barrier curves along the path</h2>
${curves.map((f) => `<figure>${f}</figure>`).join('\n')}
<p ${NOTE}>One panel per fork point k1, one line per k2; panels of a figure share their y axis.${esc(averaged)}</p>
<h2>Barrier grid</h2>
<div class="row">${heat.map((f) => `<figure>${f}</figure>`).join('')}</div>
<h2>Barrier against k1</h2>
<figure>${barrierFig}<figcaption>${diagonal ? `Cells lie on k1 + k2 = ${totals[0]}, as in the k1/k2 paper's Fig. 1.` : 'One line per k2.'}${
    esc(averaged)
  }</figcaption></figure>
<h2>Distances against k2</h2>
<figure>${distFig}<figcaption>Weight and prediction distances between A and B.${esc(averaged)}</figcaption></figure>
<h2>Parent training</h2>
<figure>${parentFig}<figcaption>${
    result.parentLoss.length ? 'Dotted lines mark the fork points k1.' : 'No parent loss was recorded.'
  }</figcaption></figure>`;
  return page(result, headline(result, groups, runFacts(result).threshold).join(' '), body);
}
