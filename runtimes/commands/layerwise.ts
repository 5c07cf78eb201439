/** `ridgeline layerwise`: Adilova et al.'s layer-wise barriers next to their predictions. */
import { layerwisePairs } from '../../core/experiments/layerwise_runner.ts';
import { joinPath } from '../../core/io.ts';
import { layerwiseReportHtml } from '../../core/report/analysis_html.ts';
import { toCsv } from '../../core/report/csv.ts';
import type { Command } from '../command.ts';
import { ANALYSIS_OPTIONS, analysisProvenance, analysisResult, prepareAnalysis, writeAnalysis } from './analysis_options.ts';

export const layerwiseCommand: Command = {
  summary: 'layer-wise barriers of each pair, for each layer and cumulative layer sets, next to their Prop. 2 / Eq. 21 predictions',
  options: ANALYSIS_OPTIONS,
  notes: 'Writes OUT/layerwise.json, OUT/layerwise.csv and OUT/layerwise.html.',
  async run(opts, host) {
    const a = await prepareAnalysis('layerwise', opts, host);
    const { subset, pairs } = await layerwisePairs(a.backend, host.files, a.source, a.settings, host.progress);
    const result = analysisResult('layerwise', a, subset, host, pairs);
    await writeAnalysis(host, a.out, 'layerwise', {
      json: result,
      csv: toCsv(
        ['pair', 'k1', 'k2', 'kind', 'layers', 'measuredBarrier', 'prop2Barrier', 'eq21'],
        pairs.flatMap((p) => p.sets.map((s) => [p.label, p.k1 ?? '', p.k2 ?? '', s.kind, s.set, s.measuredMax, s.prop2Max, s.eq21])),
      ),
      html: () =>
        layerwiseReportHtml({
          title: `Layer-wise barriers: ${a.source.model.name} on ${a.source.dataset.name}`,
          summary: `${pairs.length} pair(s), ${subset} training examples, ${a.settings.alphas} α points; ${
            a.source.run ? `fork run ${a.source.run}` : 'two checkpoints'
          }.`,
          provenance: analysisProvenance(host, a.backend),
          spec: result.source,
        }, pairs),
    });
    if (opts.json) host.print(JSON.stringify(result));
    else {
      for (const p of pairs) {
        host.print(p.label);
        for (const s of p.sets) {
          host.print(
            `  ${s.kind.padEnd(10)} ${s.set.padEnd(12)} measured ${s.measuredMax.toFixed(5).padStart(9)}  Prop. 2 ${
              s.prop2Max.toFixed(5).padStart(9)
            }  Eq. 21 ${s.eq21.toFixed(5).padStart(9)}`,
          );
        }
      }
      if (a.out) host.print(`report: ${joinPath(a.out, 'layerwise.html')}`);
    }
    return 0;
  },
};
