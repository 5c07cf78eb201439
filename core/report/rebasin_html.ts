/** The re-basin report: barriers before and after alignment against width, and the table (CSV too). */
import type { RebasinResult } from '../experiments/rebasin_runner.ts';
import { toCsv } from './csv.ts';
import { htmlDocument } from './page.ts';
import { escapeXml, lineChart } from './svg.ts';

const COLUMNS = [
  'width',
  'method',
  'repaired',
  'trainLossBarrier',
  'testLossBarrier',
  'trainErrorBarrier',
  'testErrorBarrier',
  'testErrorFloor',
  'testAccuracyA',
  'testAccuracyB',
  'weightDistance',
  'objective',
  'seconds',
];

export function rebasinCsv(r: RebasinResult): string {
  return toCsv(
    COLUMNS,
    r.rows.map((x) => [
      x.width,
      x.method,
      x.repaired ?? false,
      x.train.lossBarrier,
      x.test.lossBarrier,
      x.train.errorBarrier,
      x.test.errorBarrier,
      x.test.errorFloor,
      x.test.accuracyA,
      x.test.accuracyB,
      x.weightDistance,
      x.objective,
      x.seconds,
    ]),
  );
}

export function rebasinReportHtml(r: RebasinResult): string {
  // A row's path: as trained, after a matching, or after a matching and REPAIR.
  const pathOf = (
    x: RebasinResult['rows'][number],
  ) => (x.method === 'none' ? 'as trained' : `${x.method} matching${x.repaired ? ' + REPAIR' : ''}`);
  const methods = [...new Set(r.rows.map(pathOf))];
  const chart = (title: string, y: (x: RebasinResult['rows'][number]) => number, yLabel: string) =>
    lineChart(
      methods.map((m) => ({ name: m, points: r.rows.filter((x) => pathOf(x) === m).map((x) => ({ x: Math.log2(x.width), y: y(x) })) })),
      { title, xLabel: 'log₂ width', yLabel, markers: true },
    );
  const rows = r.rows.map((x) =>
    `<tr><td>${x.width}</td><td>${escapeXml(pathOf(x))}</td><td>${x.train.lossBarrier.toFixed(4)}</td><td>${
      x.test.lossBarrier.toFixed(4)
    }</td><td>${(100 * x.test.errorBarrier).toFixed(2)} %</td><td>${(100 * x.test.errorFloor).toFixed(2)} %</td><td>${
      (100 * x.test.accuracyA).toFixed(1)
    } / ${(100 * x.test.accuracyB).toFixed(1)} %</td><td>${x.weightDistance.toFixed(3)}</td><td>${x.seconds.toFixed(2)}</td></tr>`
  ).join('\n');
  const s = r.spec;
  return htmlDocument(
    'Barriers modulo permutation',
    `<h1>Barriers modulo permutation across widths</h1>
<p>${escapeXml(s.model)} on ${escapeXml(s.data)} at widths ${
      s.widths.join(', ')
    }: two networks per width from independent initialisations and data orders (A: init seed ${r.seeds.a.init}, order ${r.seeds.a.order}; B: init seed ${r.seeds.b.init}, order ${r.seeds.b.order}), ${s.total} ${s.unit} of ${
      escapeXml(s.optimizer)
    } at lr ${s.lr}, batch ${s.batch}. The barrier on the linear path A → B as trained, and after permuting B's hidden units into A's basis (Ainsworth et al.: weight matching, Algorithm 1; activation matching on training data). Alignment never changes what B computes: only the path between the two changes.${
      r.rows.some((x) => x.repaired)
        ? " REPAIR (Jordan et al.) rescales each hidden channel of every interpolated network to the interpolation of the endpoints' pre-activation statistics on training data."
        : ''
    }</p>
<div class="row"><figure>${chart('test error barrier', (x) => 100 * x.test.errorBarrier, '%')}</figure><figure>${
      chart('train loss barrier', (x) => x.train.lossBarrier, 'loss')
    }</figure></div>
<div class="scroll"><table><thead><tr><th>width</th><th>alignment</th><th>train loss barrier</th><th>test loss barrier</th><th>test error barrier</th><th>(floor)</th><th>test acc. A / B</th><th>‖θA − θB‖</th><th>matching (s)</th></tr></thead><tbody>
${rows}
</tbody></table></div>
<footer><p>${escapeXml(r.provenance.backend)} · ${escapeXml(r.provenance.runtime)} · ridgeline ${escapeXml(r.provenance.ridgelineVersion)}${
      r.provenance.gitCommit ? ` (${r.provenance.gitCommit.slice(0, 12)})` : ''
    } · ${escapeXml(r.provenance.finishedAt)}</p></footer>`,
  );
}
