/**
 * The convex-hull experiment's report (docs/metrics.md#convex-hulls): hull.csv (one row per split point) and
 * one self-contained hull.html (inline CSS and SVG, no script, no network), laid out after
 * Yunis et al.: P_conv and P_rand against the split point (Fig. 2 top), distances (Fig. 2
 * bottom), singular values of the stacked endpoints (Fig. 3), accuracies and shared
 * correct predictions (Fig. 5).
 */
import type { HullResult, HullSplitResult } from '../experiments/hull_runner.ts';
import { toCsv } from './csv.ts';
import { htmlDocument } from './page.ts';
import {
  displayMinus,
  escapeXml as esc,
  formatSig,
  type LegendEntry,
  lineChart,
  MARKERS,
  QUALITATIVE,
  sequentialColors,
  type Series,
  smallMultiples,
} from './svg.ts';

export const HULL_COLUMNS = [
  'split',
  'step',
  'endStep',
  'pConv',
  'pConvStd',
  'pRand',
  'pRandStd',
  'accuracyEndpoints',
  'accuracyConvex',
  'accuracyRandom',
  'lossEndpoints',
  'lossConvex',
  'lossRandom',
  'distanceEndpointEndpoint',
  'distanceConvEnd',
  'distanceRandEnd',
  'sharedInterHull',
  'sharedIntraHull',
  'correctEndpoint',
  'rank',
  'rankCentered',
  'singularValues',
  'singularValuesCentered',
] as const;

const bySplit = (r: HullResult) => [...r.splits].sort((a, b) => a.split - b.split);

/** One row per split point, pooled over hulls; σ lists are space-separated (mean over hulls). */
export function hullCsv(result: HullResult): string {
  return toCsv(
    HULL_COLUMNS,
    bySplit(result).map((s) => [
      s.split,
      s.step,
      s.endStep,
      s.pConv.mean,
      s.pConv.std,
      s.pRand.mean,
      s.pRand.std,
      s.accuracy.endpoints,
      s.accuracy.convex,
      s.accuracy.random,
      s.loss.endpoints,
      s.loss.convex,
      s.loss.random,
      s.distance.endpointEndpoint,
      s.distance.convEnd,
      s.distance.randEnd,
      s.diversity.interHull,
      s.diversity.intraHull,
      s.diversity.endpoint,
      Math.min(...s.hulls.map((h) => h.rank)),
      Math.min(...s.hulls.map((h) => h.rankCentered)),
      s.singularValues.join(' '),
      s.singularValuesCentered.join(' '),
    ]),
  );
}

const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);
const pct = (v: number, digits = 1) => (finite(v) ? displayMinus((100 * v).toFixed(digits)) : 'n/a');
const num = (v: number, digits = 4) => (finite(v) ? formatSig(v, digits) : 'n/a');

/** Sentences computed from the data (docs/fork.md#presets: P_conv → 1 after an early split, P_rand ≈ 0). */
function headline(r: HullResult, splits: HullSplitResult[]): string {
  const u = r.units;
  const [a, b] = [splits[0], splits[splits.length - 1]];
  const out: string[] = [];
  const range = (f: (s: HullSplitResult) => number) => {
    const v = splits.map(f);
    return Math.min(...v) === Math.max(...v) ? num(v[0], 3) : `${num(Math.min(...v), 3)}–${num(Math.max(...v), 3)}`;
  };
  if (splits.length > 1) {
    const trend = b.pConv.mean === a.pConv.mean
      ? `stays at ${num(a.pConv.mean, 3)} from k = ${a.split} to k = ${b.split} ${u}`
      : `${b.pConv.mean > a.pConv.mean ? 'rises' : 'falls'} from ${num(a.pConv.mean, 3)} at k = ${a.split} ${u} to ${
        num(b.pConv.mean, 3)
      } at k = ${b.split} ${u}`;
    out.push(`P_conv ${trend}, while P_rand lies in ${range((s) => s.pRand.mean)}.`);
  } else {
    out.push(`At k = ${a.split} ${u}, P_conv = ${num(a.pConv.mean, 3)} and P_rand = ${num(a.pRand.mean, 3)}.`);
  }
  const first = splits.find((s) => s.pConv.mean >= 0.9);
  out.push(first ? `The first split with P_conv ≥ 0.9 is k = ${first.split} ${u}.` : 'No split reaches P_conv ≥ 0.9.');
  out.push(
    `Shared correct predictions at the last split: ${pct(b.diversity.endpoint)} % per endpoint, ${
      pct(b.diversity.intraHull)
    } % within a hull, ${pct(b.diversity.interHull)} % across all hulls.`,
  );
  return out.join(' ');
}

function table(splits: HullSplitResult[], units: string): string {
  const head = [
    `k (${units})`,
    'step',
    'P_conv',
    '± std',
    'P_rand',
    '± std',
    'acc. end %',
    'acc. conv %',
    'acc. rand %',
    'loss end',
    'loss conv',
    'loss rand',
    '‖W_i − W_k‖',
    '‖W_conv − W_end‖',
    '‖W_rand − W_end‖',
    '|C| %',
    '|S_j| %',
    '|S*| %',
    'rank (centered)',
  ];
  const rows = splits.map((s) =>
    [
      s.split,
      s.step,
      num(s.pConv.mean, 3),
      num(s.pConv.std, 3),
      num(s.pRand.mean, 3),
      num(s.pRand.std, 3),
      pct(s.accuracy.endpoints, 2),
      pct(s.accuracy.convex, 2),
      pct(s.accuracy.random, 2),
      num(s.loss.endpoints),
      num(s.loss.convex),
      num(s.loss.random),
      num(s.distance.endpointEndpoint),
      num(s.distance.convEnd),
      num(s.distance.randEnd),
      pct(s.diversity.endpoint),
      pct(s.diversity.intraHull),
      pct(s.diversity.interHull),
      `${Math.min(...s.hulls.map((h) => h.rank))} (${Math.min(...s.hulls.map((h) => h.rankCentered))})`,
    ].map((v) => `<td>${esc(String(v))}</td>`).join('')
  );
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r}</tr>`).join('')
  }</tbody></table></div>`;
}

/** Lines against the split point, sharing one legend (`panel` holds one or more series sets). */
function vsSplit(
  title: string,
  panels: { title: string; series: Series[]; yDomain?: readonly [number, number] }[],
  units: string,
  legendOf = 0,
): string {
  const w = 560;
  const svgs = panels.map((p) =>
    lineChart(p.series, {
      width: w,
      height: 260,
      title: p.title,
      legend: 'none',
      xLabel: `split point k (${units})`,
      xDomain: [0, 0],
      yDomain: p.yDomain,
    })
  );
  const legend: LegendEntry[] = panels[legendOf].series.filter((s) => s.name).map((s, i) => ({
    name: s.name,
    color: s.color ?? QUALITATIVE[i],
    marker: s.marker,
  }));
  return smallMultiples(svgs, { panelWidth: w, panelHeight: 260, columns: 2, gap: 12, title, legend });
}

/** A line with markers plus a vertical bar of ± std at each point, clipped to [0, 1]. */
function withBars(name: string, color: string, shape: (typeof MARKERS)[number], pts: { x: number; y: number; std: number }[]): Series[] {
  const bars = pts.map((p) => ({
    name: '',
    color,
    points: [{ x: p.x, y: Math.max(0, p.y - p.std) }, { x: p.x, y: Math.min(1, p.y + p.std) }],
  }));
  return [{ name, color, marker: shape, points: pts.map(({ x, y }) => ({ x, y })) }, ...bars];
}

/** The whole report as one self-contained HTML document. */
export function hullReportHtml(result: HullResult): string {
  const splits = bySplit(result);
  const u = result.units;
  const spec = result.spec as Record<string, unknown>;
  const p = result.provenance;
  const title = `Convex hull report: ${String(spec.model)} on ${String(spec.data)}`;
  const body: string[] = [];
  if (splits.length === 0) body.push('<p>No split points were recorded.</p>');
  else {
    const line = (name: string, i: number, f: (s: HullSplitResult) => number): Series => ({
      name,
      color: QUALITATIVE[i],
      marker: MARKERS[i % MARKERS.length],
      points: splits.map((s) => ({ x: s.split, y: f(s) })),
    });
    const probs = [
      ...withBars(
        'P_conv (convex sample beats its closest endpoint)',
        QUALITATIVE[0],
        'circle',
        splits.map((s) => ({ x: s.split, y: s.pConv.mean, std: s.pConv.std })),
      ),
      ...withBars(
        'P_rand (random point at the same distance beats it)',
        QUALITATIVE[1],
        'square',
        splits.map((s) => ({ x: s.split, y: s.pRand.mean, std: s.pRand.std })),
      ),
    ];
    const colors = sequentialColors(splits.length);
    const svSeries = (f: (s: HullSplitResult) => number[]) =>
      splits.map((s, i): Series => ({
        name: `k = ${s.split}`,
        color: colors[i],
        marker: MARKERS[i % MARKERS.length],
        points: f(s).map((y, k) => ({ x: k + 1, y })),
      }));
    const svPanel = (t: string, f: (s: HullSplitResult) => number[]) =>
      lineChart(svSeries(f), {
        width: 560,
        height: 260,
        title: t,
        legend: 'none',
        xLabel: 'index k',
        yLabel: 'σ_k',
        markers: true,
        yDomain: [0, 0],
      });
    const svFig = smallMultiples([
      svPanel('stacked endpoints', (s) => s.singularValues),
      svPanel('centered (rows minus their mean)', (s) => s.singularValuesCentered),
    ], {
      panelWidth: 560,
      panelHeight: 260,
      columns: 2,
      gap: 12,
      title: 'Singular values of the P × d matrix of endpoints (mean over hulls)',
      legend: svSeries((s) => s.singularValues).map((s) => ({ name: s.name, color: s.color!, marker: s.marker })),
    });
    body.push(
      `<h2>Splits</h2>${table(splits, u)}`,
      `<p style="font-size:12px;color:#555">Pooled over ${esc(String(spec.hulls))} hull(s) × ${
        esc(String(spec.samples))
      } samples per split; all losses and accuracies on the train split. std is the population std of the 0/1 indicators (the paper's error bars). Rank counts σ above 10⁻⁶·σ_max (minimum over hulls).</p>`,
      `<h2>Convex mode connectivity</h2><figure>${
        vsSplit('Probability of lower train loss than the closest endpoint', [{
          title: 'P_conv and P_rand ± std',
          series: probs,
          yDomain: [0, 1],
        }], u)
      }<figcaption>Bars are ± one std of the indicators, clipped to [0, 1] (beyond it they carry no meaning, as the paper notes).</figcaption></figure>`,
      `<figure>${
        vsSplit('Distances', [{
          title: 'mean parameter distance',
          yDomain: [0, 0],
          series: [
            line('endpoint – endpoint', 0, (s) => s.distance.endpointEndpoint),
            line('convex sample – closest endpoint', 1, (s) => s.distance.convEnd),
            line('random point – closest endpoint', 2, (s) => s.distance.randEnd),
          ],
        }], u)
      }<figcaption>The random point is placed at the convex sample's distance from the same endpoint, so the last two lines coincide by construction (up to f32 rounding).</figcaption></figure>`,
      `<h2>Dimension of the hull</h2><figure>${svFig}<figcaption>P points span at most P − 1 dimensions around their mean: the centered σ_P is 0; a non-degenerate hull keeps σ_1 … σ_(P−1) away from 0.</figcaption></figure>`,
      `<h2>Function</h2><div class="row"><figure>${
        vsSplit('Mean train accuracy (%)', [
          {
            title: '',
            series: [
              line('endpoints', 0, (s) => 100 * s.accuracy.endpoints),
              line('convex samples', 1, (s) => 100 * s.accuracy.convex),
              line('random points', 2, (s) => 100 * s.accuracy.random),
            ],
          },
        ], u)
      }</figure><figure>${
        vsSplit('Correct on the train set (%)', [
          {
            title: '',
            series: [
              line('mean |C_i^j| (one endpoint)', 3, (s) => 100 * s.diversity.endpoint),
              line('mean |S_j| (all of a hull)', 4, (s) => 100 * s.diversity.intraHull),
              line('|S*| (all hulls)', 6, (s) => 100 * s.diversity.interHull),
            ],
          },
        ], u)
      }</figure></div><p style="font-size:12px;color:#555">Yunis et al. Fig. 5: inside a mode, endpoints share fewer correct predictions than each makes (|S_j| &lt; |C|), and hulls share fewer still (|S*| &lt; |S_j|).</p>`,
    );
  }
  if (result.parentLoss.length) {
    body.push(
      `<h2>Parent training</h2><figure>${
        lineChart([{ name: 'loss', color: QUALITATIVE[0], points: result.parentLoss.map((q) => ({ x: q.step, y: q.loss })) }], {
          width: 760,
          height: 260,
          title: 'Parent training loss',
          xLabel: 'step',
          yLabel: 'loss',
          legend: 'none',
          xMarks: splits.map((s) => ({ x: s.step })),
        })
      }<figcaption>Dotted lines mark the split points.</figcaption></figure>`,
    );
  }
  const facts: [string, string][] = [
    ['backend', `${p.backend} (${p.adapter})`],
    ['runtime', p.runtime],
    ['ridgeline', p.ridgelineVersion],
    ['git commit', p.gitCommit ?? 'not recorded'],
    ['started', p.startedAt],
    ['finished', p.finishedAt],
    [
      'seeds',
      `init ${result.seeds.init}, parent order ${result.seeds.order}, hull ${result.seeds.hull}; children ${
        result.seeds.children.map((h) => h.join(' ')).join(' | ')
      }`,
    ],
    ['schema', `version ${result.schemaVersion}, units ${u}${u === 'epochs' ? ` (${result.stepsPerEpoch} steps per epoch)` : ''}`],
    ...result.timings.map((t): [string, string] => [`time: ${t.phase}`, `${num(t.seconds, 4)} s`]),
  ];
  const summary = `P = ${esc(String(spec.children))} children per hull trained ${esc(String(spec.train))} ${esc(u)} after each split, ${
    esc(String(spec.hulls))
  } hull(s) per split, J = ${esc(String(spec.samples))} samples per hull; optimizer ${esc(String(spec.optimizer))} (lr ${
    esc(String(spec.lr))
  }), batch ${esc(String(spec.batch))}.`;
  return htmlDocument(
    title,
    `<h1>${esc(title)}</h1>
<p>${summary}</p>
${splits.length ? `<p class="headline">${esc(headline(result, splits))}</p>` : ''}
${body.join('\n')}
<footer><h2>Provenance</h2><dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<details><summary>Resolved spec (JSON)</summary><pre>${esc(JSON.stringify(result.spec, null, 2))}</pre></details></footer>`,
  );
}
