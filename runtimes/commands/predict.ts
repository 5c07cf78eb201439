/** `ridgeline predict`: Singh et al. Prop. 1 and the gradient-corrected form vs the measured barrier. */
import { joinPath } from '../../core/io.ts';
import { predictPairs } from '../../core/experiments/predict_runner.ts';
import { predictReportHtml } from '../../core/report/analysis_html.ts';
import { toCsv } from '../../core/report/csv.ts';
import { selectBackend } from '../../core/select_backend.ts';
import type { Command } from '../command.ts';
import { ANALYSIS_OPTIONS, analysisSource } from './analysis_options.ts';

export const predictCommand: Command = {
  summary: 'predict the barrier of each pair from exact Hessian-vector products (Singh et al. Prop. 1, gradient-corrected) and compare with the measured curve',
  options: ANALYSIS_OPTIONS,
  notes: 'Writes OUT/predict.json, OUT/predict.csv and OUT/predict.html.',
  async run(opts, host) {
    const { source, out, ...settings } = await analysisSource('predict', opts, host);
    const { backend, reason } = await selectBackend(opts.backend ?? 'auto', { spawnWorker: host.spawnWorker });
    host.progress.log(reason);
    const { subset, pairs } = await predictPairs(backend, host.files, source, settings, host.progress);
    const result = { schemaVersion: 1, kind: 'predict', source: { run: source.run, spec: source.spec, subset }, runtime: host.runtime, backend: backend.description, gitCommit: host.gitCommit, pairs };
    if (out) {
      await host.files.write(joinPath(out, 'predict.json'), JSON.stringify(result, null, 1));
      await host.files.write(joinPath(out, 'predict.csv'), toCsv(
        ['pair', 'k1', 'k2', 'measuredBarrier', 'prop1Barrier', 'correctedBarrier', 'q1', 'q2', 'g1', 'g2', 'angleFromOrigin'],
        pairs.map((p) => [p.label, p.k1 ?? '', p.k2 ?? '', p.measuredBarrier, p.prop1Barrier, p.correctedBarrier, p.curvature.q1, p.curvature.q2, p.curvature.g1, p.curvature.g2, p.angleFromOrigin]),
      ));
      await host.files.write(joinPath(out, 'predict.html'), predictReportHtml({
        title: `Barrier predictions: ${source.model.name} on ${source.dataset.name}`,
        summary: `${pairs.length} pair(s), ${subset} training examples, ${settings.alphas} α points; ${source.run ? `fork run ${source.run}` : 'two checkpoints'}.`,
        provenance: { runtime: host.runtime, backend: backend.description, 'git commit': host.gitCommit ?? 'not recorded', ridgeline: host.version },
        spec: result.source,
      }, pairs));
    }
    if (opts.json) host.print(JSON.stringify(result));
    else {
      host.print(`${'pair'.padEnd(24)} measured    Prop. 1   corrected`);
      for (const p of pairs) host.print(`${p.label.padEnd(24)} ${p.measuredBarrier.toFixed(5).padStart(9)} ${p.prop1Barrier.toFixed(5).padStart(10)} ${p.correctedBarrier.toFixed(5).padStart(11)}`);
      if (out) host.print(`report: ${joinPath(out, 'predict.html')}`);
    }
    return 0;
  },
};
