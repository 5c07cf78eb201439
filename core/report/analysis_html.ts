/**
 * Self-contained reports of the pair analyses: Singh et al.'s barrier predictions against
 * the measured curve, and layer-wise barriers against their predictions.
 */
import type { LayerwisePair } from '../experiments/layerwise_runner.ts';
import type { PredictedPair } from '../experiments/predict_runner.ts';
import { htmlDocument } from './page.ts';
import { escapeXml as esc, formatSig, lineChart, QUALITATIVE, type Series, smallMultiples } from './svg.ts';

export interface AnalysisMeta {
  title: string;
  summary: string;
  provenance: Record<string, string>;
  spec: unknown;
}

function footer(meta: AnalysisMeta): string {
  return `<footer><h2>Provenance</h2><dl>${
    Object.entries(meta.provenance).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')
  }</dl>
<details><summary>Resolved options (JSON)</summary><pre>${esc(JSON.stringify(meta.spec, null, 2))}</pre></details></footer>`;
}

const num = (v: number) => (Number.isFinite(v) ? formatSig(v, 4) : 'n/a');
const curve = (name: string, alphas: number[], ys: number[], color: string, dash?: string): Series => ({
  name,
  color,
  dash,
  points: alphas.map((x, i) => ({ x, y: ys[i] })),
});

export function predictReportHtml(meta: AnalysisMeta, pairs: PredictedPair[]): string {
  const rows = pairs.map((p) =>
    `<tr><td class="l">${esc(p.label)}</td><td>${num(p.measuredBarrier)}</td><td>${num(p.prop1Barrier)}</td><td>${
      num(p.correctedBarrier)
    }</td><td>${num(p.curvature.q1)}</td><td>${num(p.curvature.q2)}</td><td>${num(p.curvature.g1 - p.curvature.g2)}</td><td>${
      num(p.angleFromOrigin)
    }</td></tr>`
  ).join('');
  const panels = pairs.map((p) =>
    lineChart([
      curve('measured gap', p.alphas, p.measured, QUALITATIVE[0]),
      curve('Prop. 1', p.alphas, p.prop1, QUALITATIVE[1], '5 3'),
      curve('gradient-corrected', p.alphas, p.corrected, QUALITATIVE[2], '2 2'),
    ], { width: 360, height: 240, title: p.label, xLabel: 'α', yLabel: 'train loss gap', legend: 'none', markers: true })
  );
  const figure = smallMultiples(panels, {
    panelWidth: 360,
    panelHeight: 240,
    columns: 3,
    title: 'Measured interpolation gap and its predictions',
    legend: [{ name: 'measured gap', color: QUALITATIVE[0] }, { name: 'Prop. 1', color: QUALITATIVE[1], dash: '5 3' }, {
      name: 'gradient-corrected',
      color: QUALITATIVE[2],
      dash: '2 2',
    }],
  });
  return htmlDocument(
    meta.title,
    `<h1>${esc(meta.title)}</h1><p>${esc(meta.summary)}</p>
<h2>Pairs</h2><table><thead><tr><th class="l">pair</th><th>measured barrier</th><th>Prop. 1</th><th>gradient-corrected</th><th>ΔᵀH(θ1)Δ</th><th>ΔᵀH(θ2)Δ</th><th>(∇L1 − ∇L2)ᵀΔ</th><th>angle from origin °</th></tr></thead><tbody>${rows}</tbody></table>
<p style="font-size:12px;color:#555">Barriers are maxima over the interior α points of the train loss gap on the reported subset; predictions per docs/metrics.md#second-order (Singh et al. Prop. 1) from exact Hessian-vector products.</p>
<h2>Curves</h2>${figure}${footer(meta)}`,
  );
}

export function layerwiseReportHtml(meta: AnalysisMeta, pairs: LayerwisePair[]): string {
  const sections = pairs.map((p) => {
    const rows = p.sets.map((s) =>
      `<tr><td class="l">${esc(s.kind)}</td><td class="l">${esc(s.set)}</td><td>${num(s.measuredMax)}</td><td>${num(s.prop2Max)}</td><td>${
        num(s.eq21)
      }</td></tr>`
    ).join('');
    const chart = (kind: 'single' | 'cumulative') => {
      const sets = p.sets.filter((s) => s.kind === kind);
      return lineChart([
        { name: 'measured', color: QUALITATIVE[0], points: sets.map((s, i) => ({ x: i + 1, y: s.measuredMax })) },
        { name: 'Prop. 2', color: QUALITATIVE[1], dash: '5 3', points: sets.map((s, i) => ({ x: i + 1, y: s.prop2Max })) },
        { name: 'Eq. 21', color: QUALITATIVE[2], dash: '2 2', points: sets.map((s, i) => ({ x: i + 1, y: s.eq21 })) },
      ], {
        width: 520,
        height: 260,
        title: `${kind === 'single' ? 'each layer alone' : 'cumulative layer sets'} (${sets.map((s) => s.set).join(', ')})`,
        xLabel: kind === 'single' ? 'layer' : 'layers 1..x',
        yLabel: 'barrier',
        markers: true,
      });
    };
    return `<h2>${
      esc(p.label)
    }</h2><table><thead><tr><th class="l">kind</th><th class="l">layers</th><th>measured barrier</th><th>Prop. 2</th><th>Eq. 21</th></tr></thead><tbody>${rows}</tbody></table>${
      chart('single')
    }${chart('cumulative')}`;
  }).join('');
  return htmlDocument(meta.title, `<h1>${esc(meta.title)}</h1><p>${esc(meta.summary)}</p>${sections}${footer(meta)}`);
}
