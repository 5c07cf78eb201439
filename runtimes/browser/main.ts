/**
 * The page: reads the spec fields, runs the experiment in the worker over comlink, shows
 * progress, the backend, a table of the cells' barriers and the fork report. For
 * automation (the browser test) `body[data-state]` goes idle → running → done | error and
 * `window.ridgeline` holds the last result or error message.
 */
import * as Comlink from 'comlink';
import { FORK_DEFAULTS, type ForkSpec } from '../../core/experiments/fork_spec.ts';
import type { ForkResult } from '../../core/experiments/result_schema.ts';
import { forkReportHtml } from '../../core/report/html.ts';
import { BROWSER_BACKENDS, type BrowserBackendChoice, type ProgressEvent, type WorkerApi } from './protocol.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('spec');
const runButton = $<HTMLButtonElement>('run');
const progressLine = $('progress');
const logBox = $('log');
const errorBox = $('error');

interface Automation { result: ForkResult | null; error: string | null; log: string[] }
const automation: Automation = { result: null, error: null, log: [] };
(globalThis as unknown as { ridgeline: Automation }).ridgeline = automation;

// One worker for the page's lifetime: each run makes (and releases) its own backend.
const worker = Comlink.wrap<WorkerApi>(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));

/** `--lr 0.1 --nesterov` → { lr: '0.1', nesterov: '' }, as the CLI reads options. */
function parseExtra(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const tokens = text.trim().split(/\s+/).filter((t) => t);
  for (let i = 0; i < tokens.length; i++) {
    if (!tokens[i].startsWith('--')) throw new Error(`E_SPEC: more options: expected --name, got '${tokens[i]}'`);
    const next = tokens[i + 1];
    out[tokens[i].slice(2)] = next !== undefined && !next.startsWith('--') ? tokens[++i] : '';
  }
  return out;
}

function specOptions(): { options: Record<string, string>; backend: BrowserBackendChoice } {
  const fields = new FormData(form);
  const options: Record<string, string> = {};
  fields.forEach((value, name) => {
    if (name !== 'extra' && name !== 'backend' && String(value).trim() !== '') options[name] = String(value).trim();
  });
  const backend = String(fields.get('backend')) as BrowserBackendChoice;
  if (!BROWSER_BACKENDS.includes(backend)) throw new Error(`E_SPEC: unknown backend '${backend}'`);
  return { options: { ...options, ...parseExtra(String(fields.get('extra') ?? '')) }, backend };
}

function onProgress(): (e: ProgressEvent) => void {
  let label = '';
  let total = 0;
  return (e) => {
    if (e.kind === 'start') [label, total] = [e.label, e.total];
    if (e.kind === 'start' || e.kind === 'update') {
      const done = e.kind === 'update' ? e.done : 0;
      const status = e.kind === 'update' ? e.status : '';
      progressLine.textContent = `${label}: ${done}/${total} ${status}`;
    } else if (e.kind === 'finish') {
      progressLine.textContent = `${label}: done${e.status ? ` (${e.status})` : ''}`;
    } else {
      automation.log.push(e.line);
      logBox.textContent += `${e.line}\n`;
    }
  };
}

const fmt = (x: number) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(4));

function cellsTable(result: ForkResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const head = ['k1', 'k2', 'train loss barrier', 'test loss barrier', 'test error barrier', 'endpoint floor', 'test acc. A / B', '‖θA − θB‖', 'connected'];
  const rows = result.cells.map((c) => [
    String(c.k1), String(c.k2), fmt(c.train.lossBarrier), fmt(c.test.lossBarrier), pct(c.test.errorBarrier), pct(c.test.errorFloor),
    `${pct(c.test.accuracyA)} / ${pct(c.test.accuracyB)}`, fmt(c.weightDistance), c.connected ? 'yes' : 'no',
  ]);
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((x) => `<${tag}>${x}</${tag}>`).join('')}</tr>`;
  return `<thead>${tr(head, 'th')}</thead><tbody>${rows.map((r) => tr(r, 'td')).join('')}</tbody>`;
}

function show(result: ForkResult): void {
  const p = result.provenance;
  const seconds = result.timings.reduce((s, t) => s + t.seconds, 0);
  $('backend').textContent = `${p.backend} on ${p.adapter} · ${p.runtime} · ${seconds.toFixed(1)} s`;
  $('cells').innerHTML = cellsTable(result);
  const report = forkReportHtml(result);
  $<HTMLIFrameElement>('report').srcdoc = report;
  $<HTMLAnchorElement>('open-report').href = URL.createObjectURL(new Blob([report], { type: 'text/html' }));
  $<HTMLAnchorElement>('download').href = URL.createObjectURL(new Blob([JSON.stringify(result, null, 1)], { type: 'application/json' }));
  $('result').hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  document.body.dataset.state = 'running';
  Object.assign(automation, { result: null, error: null, log: [] });
  runButton.disabled = true;
  errorBox.hidden = true;
  $('result').hidden = true;
  logBox.textContent = '';
  progressLine.textContent = 'starting…';
  try {
    const { options, backend } = specOptions();
    const result = await worker.run(options, backend, Comlink.proxy(onProgress()));
    automation.result = result;
    show(result);
    progressLine.textContent = `done: ${result.cells.length} cells`;
    document.body.dataset.state = 'done';
  } catch (e) {
    automation.error = e instanceof Error ? e.message : String(e);
    errorBox.textContent = automation.error;
    errorBox.hidden = false;
    progressLine.textContent = 'failed';
    document.body.dataset.state = 'error';
  } finally {
    runButton.disabled = false;
  }
});

// An emptied field means the default, which its placeholder shows.
const DEFAULT_OF: Record<string, keyof ForkSpec> = { data: 'data', model: 'model', width: 'width', batch: 'batch', lr: 'lr', alphas: 'alphas', 'seed-init': 'seedInit' };
for (const [name, key] of Object.entries(DEFAULT_OF)) {
  const field = form.elements.namedItem(name);
  if (field instanceof HTMLInputElement) field.placeholder = `default ${String(FORK_DEFAULTS[key])}`;
}

// Any field can be preset from the query string, e.g. ?backend=cpu&steps=80.
new URLSearchParams(location.search).forEach((value, name) => {
  const field = form.elements.namedItem(name);
  if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = value;
});
if (!crossOriginIsolated) logBox.textContent = 'this page is not cross-origin isolated: the CPU backend needs SharedArrayBuffer (serve it with COOP/COEP headers, e.g. node dist/runtimes/browser/serve.js)\n';
