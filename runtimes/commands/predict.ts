/** `ridgeline predict`: Singh et al. Prop. 1 and the gradient-corrected form vs the measured barrier. */
import { predictPairs } from '../../core/experiments/predict_runner.ts';
import { joinPath } from '../../core/io.ts';
import { predictReportHtml } from '../../core/report/analysis_html.ts';
import { toCsv } from '../../core/report/csv.ts';
import type { Command } from '../command.ts';
import { ANALYSIS_OPTIONS, analysisProvenance, analysisResult, prepareAnalysis, writeAnalysis } from './analysis_options.ts';

export const predictCommand: Command = {
  summary:
    'predict the barrier of each pair from exact Hessian-vector products (Singh et al. Prop. 1, gradient-corrected) and compare with the measured curve',
  options: ANALYSIS_OPTIONS,
  notes: 'Writes OUT/predict.json, OUT/predict.csv and OUT/predict.html.',
  async run(opts, host) {
    const a = await prepareAnalysis('predict', opts, host);
    const { subset, pairs } = await predictPairs(a.backend, host.files, a.source, a.settings, host.progress);
    const result = analysisResult('predict', a, subset, host, pairs);
    await writeAnalysis(host, a.out, 'predict', {
      json: result,
      csv: toCsv(
        ['pair', 'k1', 'k2', 'measuredBarrier', 'prop1Barrier', 'correctedBarrier', 'q1', 'q2', 'g1', 'g2', 'angleFromOrigin'],
        pairs.map((
          p,
        ) => [
          p.label,
          p.k1 ?? '',
          p.k2 ?? '',
          p.measuredBarrier,
          p.prop1Barrier,
          p.correctedBarrier,
          p.curvature.q1,
          p.curvature.q2,
          p.curvature.g1,
          p.curvature.g2,
          p.angleFromOrigin,
        ]),
      ),
      html: () =>
        predictReportHtml({
          title: `Barrier predictions: ${a.source.model.name} on ${a.source.dataset.name}`,
          summary: `${pairs.length} pair(s), ${subset} training examples, ${a.settings.alphas} α points; ${
            a.source.run ? `fork run ${a.source.run}` : 'two checkpoints'
          }.`,
          provenance: analysisProvenance(host, a.backend),
          spec: result.source,
        }, pairs),
    });
    if (opts.json) host.print(JSON.stringify(result));
    else {
      host.print(`${'pair'.padEnd(24)} measured    Prop. 1   corrected`);
      for (const p of pairs) {
        host.print(
          `${p.label.padEnd(24)} ${p.measuredBarrier.toFixed(5).padStart(9)} ${p.prop1Barrier.toFixed(5).padStart(10)} ${
            p.correctedBarrier.toFixed(5).padStart(11)
          }`,
        );
      }
      if (a.out) host.print(`report: ${joinPath(a.out, 'predict.html')}`);
    }
    return 0;
  },
};
