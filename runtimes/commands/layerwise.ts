/** `ridgeline layerwise`: Adilova et al.'s layer-wise barriers next to their predictions. */
import { joinPath } from '../../core/io.ts';
import { layerwisePairs } from '../../core/experiments/layerwise_runner.ts';
import { layerwiseReportHtml } from '../../core/report/analysis_html.ts';
import { toCsv } from '../../core/report/csv.ts';
import { selectBackend } from '../../core/select_backend.ts';
import type { Command } from '../command.ts';
import { ANALYSIS_OPTIONS, analysisSource } from './analysis_options.ts';

export const layerwiseCommand: Command = {
  summary: 'layer-wise barriers of each pair, for each layer and cumulative layer sets, next to their Prop. 2 / Eq. 21 predictions',
  options: ANALYSIS_OPTIONS,
  notes: 'Writes OUT/layerwise.json, OUT/layerwise.csv and OUT/layerwise.html.',
  async run(opts, host) {
    const { source, out, ...settings } = await analysisSource('layerwise', opts, host);
    const { backend, reason } = await selectBackend(opts.backend ?? 'auto', { spawnWorker: host.spawnWorker });
    host.progress.log(reason);
    const { subset, pairs } = await layerwisePairs(backend, host.files, source, settings, host.progress);
    const result = { schemaVersion: 1, kind: 'layerwise', source: { run: source.run, spec: source.spec, subset }, runtime: host.runtime, backend: backend.description, gitCommit: host.gitCommit, pairs };
    if (out) {
      await host.files.write(joinPath(out, 'layerwise.json'), JSON.stringify(result, null, 1));
      await host.files.write(joinPath(out, 'layerwise.csv'), toCsv(
        ['pair', 'k1', 'k2', 'kind', 'layers', 'measuredBarrier', 'prop2Barrier', 'eq21'],
        pairs.flatMap((p) => p.sets.map((s) => [p.label, p.k1 ?? '', p.k2 ?? '', s.kind, s.set, s.measuredMax, s.prop2Max, s.eq21])),
      ));
      await host.files.write(joinPath(out, 'layerwise.html'), layerwiseReportHtml({
        title: `Layer-wise barriers: ${source.model.name} on ${source.dataset.name}`,
        summary: `${pairs.length} pair(s), ${subset} training examples, ${settings.alphas} α points; ${source.run ? `fork run ${source.run}` : 'two checkpoints'}.`,
        provenance: { runtime: host.runtime, backend: backend.description, 'git commit': host.gitCommit ?? 'not recorded', ridgeline: host.version },
        spec: result.source,
      }, pairs));
    }
    if (opts.json) host.print(JSON.stringify(result));
    else {
      for (const p of pairs) {
        host.print(p.label);
        for (const s of p.sets) host.print(`  ${s.kind.padEnd(10)} ${s.set.padEnd(12)} measured ${s.measuredMax.toFixed(5).padStart(9)}  Prop. 2 ${s.prop2Max.toFixed(5).padStart(9)}  Eq. 21 ${s.eq21.toFixed(5).padStart(9)}`);
      }
      if (out) host.print(`report: ${joinPath(out, 'layerwise.html')}`);
    }
    return 0;
  },
};
