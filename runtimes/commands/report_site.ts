/**
 * `ridgeline report --runs DIR --out SITE`: the explorer as a static site, for any static
 * host (a GitHub Pages folder): the app, the run index embedded in index.html as JSON (no
 * server to answer api/runs.json), each run's files (result, tables, its self-contained
 * report.html; not its store) under runs/, and the bundled MNIST digits under data/mnist/
 * for the barrier view — the same layout `ridgeline serve` answers, so one app serves both.
 */
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { indexRuns } from '../../core/report/run_index.ts';
import { type Command, optionOr, requireOption } from '../command.ts';
import { admitInside } from '../path_inside.ts';
import { appFiles, runsFolder } from './app_files.ts';

/** The empty slot in index.html that the page reads its run index from when it is filled. */
const INDEX_SLOT = '<script type="application/json" id="run-index"></script>';

/** JSON safe inside a <script> element: `<` escaped, so no `</script>` can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export const reportCommand: Command = {
  summary: 'write the explorer app with the runs under a folder as a static site (no server needed)',
  options: [
    { name: 'runs', value: 'DIR', help: 'the runs folder', default: 'runs' },
    { name: 'out', value: 'SITE', help: 'the site directory to write (index.html, runs/, data/)' },
  ],
  notes:
    'Open SITE through any static web server (the app loads ES modules, which browsers refuse from file://). Viewing runs works anywhere; computing in the page on WebAssembly needs cross-origin isolation (COOP/COEP headers), which `ridgeline serve` sends.',
  async run(opts, host) {
    const out = requireOption('report', opts, 'out', 'SITE');
    const runsDir = await runsFolder('report', optionOr(reportCommand, opts, 'runs'));
    const { appRoot, mnistDir } = await appFiles(host, 'report');
    await prepareOutDir(host.files, out);
    const runs = await indexRuns(host.files, runsDir, admitInside(runsDir));
    const copy = async (from: string, to: string) => host.files.write(to, await host.files.read(from));
    for (const run of runs) {
      for (const name of run.files) await copy(joinPath(runsDir, run.path, name), joinPath(out, 'runs', run.path, name));
    }
    for (const name of await host.files.list(appRoot)) {
      if (name === 'index.html' || name === 'build-stamp.json') continue;
      await copy(joinPath(appRoot, name), joinPath(out, name));
    }
    const page = await host.files.readText(joinPath(appRoot, 'index.html'));
    await host.files.write(
      joinPath(out, 'index.html'),
      page.replace(INDEX_SLOT, `<script type="application/json" id="run-index">${scriptJson({ runsDir, runs })}</script>`),
    );
    if (mnistDir) {
      for (const name of ['package.json', ...Array.from({ length: 10 }, (_, d) => `src/digits/${d}.json`)]) {
        await copy(joinPath(mnistDir, name), joinPath(out, 'data/mnist', name));
      }
    }
    host.print(
      `site: ${joinPath(out, 'index.html')} (${runs.length} run${runs.length === 1 ? '' : 's'} from ${runsDir}${
        mnistDir ? ', bundled MNIST digits' : ''
      }); serve the folder from any static host`,
    );
    return 0;
  },
};
