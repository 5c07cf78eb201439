/**
 * The run list: the index of the runs folder — from `ridgeline serve`'s `api/runs.json`, or
 * embedded in the page by `ridgeline report` (a static site has no server to ask).
 */
import type { RunEntry } from '../../core/report/run_index.ts';
import { escapeXml } from '../../core/report/svg.ts';
import { $, messageOf, showError } from './automation.ts';

export interface RunsIndex {
  runsDir: string | null;
  runs: RunEntry[];
}

let cached: Promise<RunsIndex> | null = null;

/** The index, read once per page load. */
export function runsIndex(): Promise<RunsIndex> {
  cached ??= (async () => {
    const embedded = document.getElementById('run-index')?.textContent?.trim();
    if (embedded) return JSON.parse(embedded) as RunsIndex;
    const response = await fetch('api/runs.json');
    if (!response.ok) throw new Error(`the server did not list the runs (HTTP ${response.status})`);
    return (await response.json()) as RunsIndex;
  })();
  return cached;
}

/** A run folder's URL: the runs folder is served (and exported) under `runs/`. */
export const runFolderUrl = (path: string) => ['runs', ...path.split('/').filter(Boolean).map(encodeURIComponent)].join('/');

/** `#/run/<path>`: a run's address in the app (paths may hold any character, so encoded). */
export const runHref = (path: string) => `#/run/${encodeURIComponent(path)}`;

export async function showRuns(): Promise<void> {
  const table = $('runs-table');
  try {
    const index = await runsIndex();
    $('runs-source').textContent = index.runsDir
      ? `${index.runs.length} run${index.runs.length === 1 ? '' : 's'} under ${index.runsDir}`
      : 'no runs folder: start the app with ridgeline serve --runs DIR';
    const rows = index.runs.map((r) =>
      `<tr data-path="${escapeXml(r.path)}"><td class="l"><a href="${runHref(r.path)}">${
        escapeXml(r.path || '.')
      }</a></td><td class="l">${r.kind}</td><td class="l">${escapeXml(r.title)}</td>` +
      `<td class="l">${r.numbers.map((n) => `${escapeXml(n.label)} <b>${escapeXml(n.text)}</b>`).join(' · ')}</td></tr>`
    );
    table.innerHTML =
      `<thead><tr><th class="l">run</th><th class="l">kind</th><th class="l">what</th><th class="l">key numbers</th></tr></thead><tbody>${
        rows.join('')
      }</tbody>`;
    showError($('runs-error'), null);
  } catch (e) {
    showError($('runs-error'), messageOf(e));
  }
}
