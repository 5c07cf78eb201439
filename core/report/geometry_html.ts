/** Reports of sibling geometry over training (evolve) and of the 2-D loss surface. */
import type { EvolvePoint } from '../experiments/evolve_runner.ts';
import type { SurfaceResult } from '../experiments/surface_runner.ts';
import type { AnalysisMeta } from './analysis_html.ts';
import { htmlDocument } from './page.ts';
import { escapeXml as esc, formatSig, heatMap, lineChart, QUALITATIVE, smallMultiples } from './svg.ts';

function footer(meta: AnalysisMeta): string {
  return `<footer><h2>Provenance</h2><dl>${
    Object.entries(meta.provenance).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')
  }</dl>
<details><summary>Resolved options (JSON)</summary><pre>${esc(JSON.stringify(meta.spec, null, 2))}</pre></details></footer>`;
}

export function evolveReportHtml(meta: AnalysisMeta, points: EvolvePoint[]): string {
  const k1s = [...new Set(points.map((p) => p.k1))];
  const byK1 = (f: (p: EvolvePoint) => number) =>
    k1s.map((k1, i) => ({
      name: `k1 = ${k1}`,
      color: QUALITATIVE[i % QUALITATIVE.length],
      points: points.filter((p) => p.k1 === k1).map((p) => ({ x: p.k2, y: f(p) })),
    }));
  const chart = (title: string, y: string, f: (p: EvolvePoint) => number) =>
    lineChart(byK1(f), { width: 360, height: 250, title, xLabel: 'k2', yLabel: y, legend: 'none', markers: true });
  const figure = smallMultiples([
    chart('angle between siblings, from the origin', 'degrees', (p) => p.angleFromOrigin),
    chart('angle between siblings, from the fork point', 'degrees', (p) => p.angleFromFork),
    chart('solution plane: cos(θ1ᵗ − θ2ᵗ, θ1* − θ2*)', 'cosine', (p) => p.planeCosine),
    chart('train loss barrier', 'barrier', (p) => p.trainLossBarrier),
    chart('test error barrier', 'fraction', (p) => p.testErrorBarrier),
  ], {
    panelWidth: 360,
    panelHeight: 250,
    columns: 3,
    title: 'Sibling geometry over child training',
    legend: k1s.map((k1, i) => ({ name: `k1 = ${k1}`, color: QUALITATIVE[i % QUALITATIVE.length] })),
  });
  const rows = points.map((p) =>
    `<tr><td>${p.k1}</td><td>${p.k2}</td><td>${formatSig(p.angleFromOrigin, 4)}</td><td>${formatSig(p.angleFromFork, 4)}</td><td>${
      formatSig(p.planeCosine, 4)
    }</td><td>${formatSig(p.trainLossBarrier, 4)}</td><td>${formatSig(100 * p.testErrorBarrier, 3)}</td></tr>`
  ).join('');
  return htmlDocument(
    meta.title,
    `<h1>${esc(meta.title)}</h1><p>${esc(meta.summary)}</p>${figure}
<table><thead><tr><th>k1</th><th>k2</th><th>angle (origin) °</th><th>angle (fork) °</th><th>plane cosine</th><th>train loss barrier</th><th>test error barrier %</th></tr></thead><tbody>${rows}</tbody></table>${
      footer(meta)
    }`,
  );
}

/**
 * One quantity of a loss surface as a heat map, t growing upwards, with F, A and B marked
 * in their cells: the surface report's figure and the explorer app's.
 */
export function surfaceHeatMap(r: Pick<SurfaceResult, 's' | 't'>, what: string, values: number[][]): string {
  const mark = (
    i: number,
    j: number,
  ) => (r.s[j] === 0 && r.t[i] === 0 ? 'F' : r.s[j] === 1 && r.t[i] === 0 ? 'A' : r.s[j] === 0 && r.t[i] === 1 ? 'B' : '');
  const labels = (xs: number[]) => xs.map((x) => formatSig(x, 3));
  return heatMap([...values].reverse(), {
    rowLabels: labels([...r.t].reverse()),
    colLabels: labels(r.s),
    title: what,
    xLabel: 's (along θA − θF)',
    yLabel: 't (along θB − θF)',
    cellText: (row, col, v) => mark(r.t.length - 1 - row, col) || formatSig(v, 2),
    cellWidth: 46,
    cellHeight: 30,
  });
}

export function surfaceReportHtml(meta: AnalysisMeta, r: SurfaceResult): string {
  const map = (what: string, values: number[][]) => surfaceHeatMap(r, what, values);
  return htmlDocument(
    meta.title,
    `<h1>${esc(meta.title)}</h1><p>${esc(meta.summary)}</p>
<p>Affine coordinates θF + s·(θA − θF) + t·(θB − θF): F = fork point (0, 0), A = (1, 0), B = (0, 1). ‖θA − θF‖ = ${
      formatSig(r.lengthA, 4)
    }, ‖θB − θF‖ = ${formatSig(r.lengthB, 4)}, angle between the two directions ${formatSig(r.angle, 4)}°.</p>
${map('train loss', r.loss)}${map('train error', r.error)}${footer(meta)}`,
  );
}
