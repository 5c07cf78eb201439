/**
 * One run, drawn from its result file: key numbers, interactive charts chosen by the
 * result's kind (a fork's path curves per cell with split and quantity toggles and its
 * parent's training loss; a sweep's barrier against k1 per grid point; λmax and λmin along
 * training; alignment before/after; a barrier's curve), the cells table, and links to the
 * run's files and its self-contained report.
 */
import type { ForkCell } from '../../core/experiments/result_schema.ts';
import type { ResultJson, RunEntry } from '../../core/report/run_index.ts';
import { surfaceHeatMap } from '../../core/report/geometry_html.ts';
import { escapeXml } from '../../core/report/svg.ts';
import { $, messageOf, showError } from './automation.ts';
import { cellName, cellsTable } from './cells_table.ts';
import { curveChart, curveControls, type CurveSource, type CurveView } from './curves.ts';
import { type ChartSpec, mountChart } from './plot.ts';
import { runFolderUrl, runsIndex } from './runs_view.ts';

type Json = ResultJson;

const fileUrl = (run: RunEntry, name: string) => `${runFolderUrl(run.path)}/${encodeURIComponent(name)}`;

/** A block with a chart (and optional controls above it) appended to the run body. */
function block(body: HTMLElement, title: string): { controls: HTMLElement; chart: HTMLElement } {
  const figure = document.createElement('figure');
  figure.innerHTML = `<h3>${escapeXml(title)}</h3><div class="controls"></div><div></div>`;
  body.append(figure);
  return { controls: figure.children[1] as HTMLElement, chart: figure.children[2] as HTMLElement };
}

/** Curves of several sources with the split/quantity toggles and, for more than one, a source select. */
function curvesBlock(body: HTMLElement, title: string, sources: CurveSource[], all = 'all'): void {
  const { controls, chart } = block(body, title);
  let view: CurveView = { splits: ['test'], quantity: 'loss' };
  let chosen = -1; // every source
  const spec = () => curveChart(chosen < 0 ? sources : [sources[chosen]], view, `${view.quantity} along the path`);
  const c = mountChart(chart, spec());
  const toggles = document.createElement('div');
  toggles.className = 'controls';
  toggles.id = `${title.replace(/\W+/g, '-')}-toggles`;
  controls.append(toggles);
  curveControls(toggles, view, (v) => {
    view = v;
    c.update(spec());
  });
  if (sources.length > 1) {
    const select = document.createElement('select');
    select.name = 'cell';
    select.innerHTML = `<option value="-1">${all}</option>${
      sources.map((s, i) => `<option value="${i}">${escapeXml(s.name)}</option>`).join('')
    }`;
    select.addEventListener('change', () => {
      chosen = Number(select.value);
      c.update(spec());
    });
    const label = document.createElement('label');
    label.append('show ', select);
    controls.prepend(label);
  }
}

function chartBlock(body: HTMLElement, title: string, spec: ChartSpec): void {
  mountChart(block(body, title).chart, spec);
}

const line = (name: string, points: { x: number; y: number }[]) => ({ name, points });
const chartOf = (series: ChartSpec['series'], xLabel: string, yLabel: string): ChartSpec => ({
  series,
  options: { xLabel, yLabel, markers: true, width: 720, height: 320 },
});

/** A fork run's 2-D loss surfaces (`ridgeline surface` writes surface-k1-K-k2-K.json into the run): heat maps, loss or error. */
async function drawSurfaces(body: HTMLElement, run: RunEntry): Promise<void> {
  for (const name of run.files.filter((f) => /^surface-k1-.*\.json$/.test(f))) {
    const response = await fetch(fileUrl(run, name));
    if (!response.ok) continue; // listed but gone: the rest of the run still shows
    const r = (await response.json()) as Json;
    const { controls, chart } = block(body, `Train loss surface through F, A, B (k1 = ${r.k1}, k2 = ${r.k2})`);
    controls.innerHTML = ['loss', 'error'].map((q) =>
      `<label style="display:inline"><input type="radio" name="${name}-quantity" value="${q}"${
        q === 'loss' ? ' checked' : ''
      }> ${q}</label>`
    ).join(' ');
    const drawMap = (q: string) => (chart.innerHTML = surfaceHeatMap(r as { s: number[]; t: number[] }, `train ${q}`, r[q]));
    controls.addEventListener('change', (e) => drawMap((e.target as HTMLInputElement).value));
    drawMap('loss');
  }
}

function drawFork(body: HTMLElement, r: Json, run: RunEntry): void {
  const cells = r.cells as ForkCell[];
  curvesBlock(body, 'Path curves', cells.map((c) => ({ ...c, name: cellName(c) })), 'all cells');
  if (Array.isArray(r.parentLoss) && r.parentLoss.length) {
    chartBlock(
      body,
      'Parent training loss',
      chartOf([line('parent', r.parentLoss.map((p: Json) => ({ x: p.step, y: p.loss })))], 'step', 'training loss'),
    );
  }
  const table = document.createElement('table');
  table.id = 'run-cells';
  table.innerHTML = cellsTable(cells);
  body.append(table);
  // Each pair again in the barrier view, e.g. on another backend.
  const picks = document.createElement('p');
  picks.id = 'run-picks';
  picks.innerHTML = `measure a pair in the page: ${
    cells.map((c, i) => `<a href="#/barrier/${encodeURIComponent(run.path)}/${i}">${escapeXml(cellName(c))}</a>`).join(' · ')
  }`;
  body.append(picks);
}

function drawSweep(body: HTMLElement, r: Json): void {
  const series = (r.points as Json[]).map((p) => {
    const byK1 = new Map<number, number[]>();
    for (const c of p.cells as ForkCell[]) byK1.set(c.k1, [...(byK1.get(c.k1) ?? []), c.test.errorBarrier]);
    const name = Object.entries(p.point ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') || 'point';
    return line(name, [...byK1].sort((a, b) => a[0] - b[0]).map(([k1, v]) => ({ x: k1, y: v.reduce((s, x) => s + x, 0) / v.length })));
  });
  chartBlock(body, "Test error barrier against k1 (mean over each point's cells)", chartOf(series, 'k1', 'test error barrier'));
}

function drawHessian(body: HTMLElement, r: Json): void {
  const pts = (r.points as Json[]).map((p, i): Json => ({ ...p, x: p.step ?? i }));
  chartBlock(body, 'λmax along training', chartOf([line('λmax', pts.map((p) => ({ x: p.x, y: p.lambdaMax })))], 'step', 'λmax'));
  chartBlock(body, 'λmin along training', chartOf([line('λmin', pts.map((p) => ({ x: p.x, y: p.lambdaMin })))], 'step', 'λmin'));
}

function drawRebasin(body: HTMLElement, r: Json): void {
  const methods = [...new Set((r.rows as Json[]).map((x) => x.method as string))];
  const series = methods.map((m) =>
    line(
      m === 'none' ? 'as trained' : `${m} matching`,
      (r.rows as Json[]).filter((x) => x.method === m).map((x) => ({ x: x.width, y: x.test.errorBarrier })),
    )
  );
  chartBlock(body, 'Test error barrier against width, before and after alignment', chartOf(series, 'width', 'test error barrier'));
  curvesBlock(
    body,
    'Path curves',
    (r.rows as Json[]).map((x) => ({ ...x, name: `width ${x.width} ${x.method}` } as unknown as CurveSource)),
  );
}

function drawHull(body: HTMLElement, r: Json): void {
  const splits = r.splits as Json[];
  const series = [
    line('P_conv (convex combinations)', splits.map((x) => ({ x: x.split, y: x.pConv.mean }))),
    line('P_rand (random directions)', splits.map((x) => ({ x: x.split, y: x.pRand.mean }))),
  ];
  chartBlock(
    body,
    'Share of samples as good as the endpoints, against the split point',
    chartOf(series, `split point (${r.units ?? 'epochs'})`, 'proportion'),
  );
}

function draw(run: RunEntry, body: HTMLElement, r: Json): void {
  switch (run.kind) {
    case 'fork':
      return drawFork(body, r, run);
    case 'sweep':
      return drawSweep(body, r);
    case 'hessian':
      return drawHessian(body, r);
    case 'rebasin':
      return drawRebasin(body, r);
    case 'barrier':
      return curvesBlock(body, 'Path curve', [{ ...(r as CurveSource), name: 'A → B' }]);
    case 'align':
      return curvesBlock(body, 'Before and after alignment', [{ ...r.before, name: 'as trained' }, {
        ...r.after,
        name: `after ${r.method} matching`,
      }], 'both');
    case 'hull':
      return drawHull(body, r); // hull.html holds the rest of its figures
  }
}

export async function showRun(path: string): Promise<void> {
  const body = $('run-body');
  body.innerHTML = '';
  showError($('run-error'), null);
  try {
    const run = (await runsIndex()).runs.find((r) => r.path === path);
    if (!run) throw new Error(`no run '${path}' in this runs folder`);
    $('run-title').textContent = `${run.path || '.'}: ${run.title}`;
    $('run-numbers').innerHTML = run.numbers.map((n) => `<span>${escapeXml(n.label)} <b>${escapeXml(n.text)}</b></span>`).join('');
    $('run-files').innerHTML = `files: ${
      run.files.map((f) => `<a href="${fileUrl(run, f)}" target="_blank" rel="noopener">${escapeXml(f)}</a>`).join('')
    }` +
      (run.report ? ` · <a href="${fileUrl(run, run.report)}" target="_blank" rel="noopener"><b>open the full report</b></a>` : '');
    const response = await fetch(fileUrl(run, run.result));
    if (!response.ok) throw new Error(`${fileUrl(run, run.result)}: HTTP ${response.status}`);
    draw(run, body, (await response.json()) as Json);
    if (run.kind === 'fork') await drawSurfaces(body, run);
    document.getElementById('view-run')!.dataset.state = 'done';
  } catch (e) {
    showError($('run-error'), messageOf(e));
    document.getElementById('view-run')!.dataset.state = 'error';
  }
}
