/**
 * The "run a fork" view: the spec form, the run in the worker with progress and a cancel
 * button, each cell's curves drawn the moment the worker publishes it, and at the end the
 * backend line, the cells table and the fork report.
 */
import * as Comlink from 'comlink';
import { FORK_DEFAULTS, type ForkSpec } from '../../core/experiments/fork_spec.ts';
import { PRESETS, presetSpec } from '../../core/experiments/presets.ts';
import type { ForkResult } from '../../core/experiments/result_schema.ts';
import { forkReportHtml } from '../../core/report/html.ts';
import { $, automation, messageOf, showError } from './automation.ts';
import { cellName, cellsTable } from './cells_table.ts';
import { curveChart, curveControls, type CurveView } from './curves.ts';
import { mountChart } from './plot.ts';
import { BROWSER_BACKENDS, type BrowserBackendChoice, type ProgressEvent } from './protocol.ts';
import { progressInto } from './progress_line.ts';
import { CancelledError, cancelWorker, runOnWorker } from './worker_client.ts';

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

function specOptions(form: HTMLFormElement): { options: Record<string, string>; backend: BrowserBackendChoice } {
  const fields = new FormData(form);
  const options: Record<string, string> = {};
  fields.forEach((value, name) => {
    if (name !== 'extra' && name !== 'backend' && String(value).trim() !== '') options[name] = String(value).trim();
  });
  const backend = String(fields.get('backend')) as BrowserBackendChoice;
  if (!BROWSER_BACKENDS.includes(backend)) throw new Error(`E_SPEC: unknown backend '${backend}'`);
  return { options: { ...options, ...parseExtra(String(fields.get('extra') ?? '')) }, backend };
}

export function setupForkView(): void {
  const form = $<HTMLFormElement>('spec');
  const runButton = $<HTMLButtonElement>('run');
  const cancelButton = $<HTMLButtonElement>('cancel');
  const progressLine = $('progress');
  const logBox = $('log');
  const errorBox = $('error');
  let view: CurveView = { splits: ['test'], quantity: 'loss' };
  const live = mountChart($('live-chart'), curveChart([], view, 'cells as they finish'));
  const redraw = () => live.update(curveChart(automation.cells.map((c) => ({ ...c, name: cellName(c) })), view, 'cells as they finish'));
  curveControls($('live-controls'), view, (v) => {
    view = v;
    redraw();
  });

  const show = (result: ForkResult) => {
    const p = result.provenance;
    const seconds = result.timings.reduce((s, t) => s + t.seconds, 0);
    $('backend').textContent = `${p.backend} on ${p.adapter} · ${p.runtime} · ${seconds.toFixed(1)} s`;
    $('cells').innerHTML = cellsTable(result.cells);
    const report = forkReportHtml(result);
    $<HTMLIFrameElement>('report').srcdoc = report;
    $<HTMLAnchorElement>('open-report').href = URL.createObjectURL(new Blob([report], { type: 'text/html' }));
    $<HTMLAnchorElement>('download').href = URL.createObjectURL(new Blob([JSON.stringify(result, null, 1)], { type: 'application/json' }));
    $('result').hidden = false;
  };

  cancelButton.addEventListener('click', () => cancelWorker());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    document.body.dataset.state = 'running';
    Object.assign(automation, { result: null, error: null, log: [], cells: [] });
    runButton.disabled = true;
    cancelButton.disabled = false;
    showError(errorBox, null);
    $('result').hidden = true;
    $('live').hidden = true;
    $('live-count').textContent = '0';
    redraw();
    logBox.textContent = '';
    progressLine.textContent = 'starting…';
    const progress = progressInto(progressLine, logBox);
    const onEvent = (e: ProgressEvent) => {
      if (e.kind !== 'cell') return progress(e);
      automation.cells.push(e.cell);
      $('live').hidden = false;
      $('live-count').textContent = String(automation.cells.length);
      redraw();
    };
    try {
      const { options, backend } = specOptions(form);
      const result = await runOnWorker((w, live) => w.run(options, backend, Comlink.proxy(live(onEvent))));
      automation.result = result;
      show(result);
      progressLine.textContent = `done: ${result.cells.length} cells`;
      document.body.dataset.state = 'done';
    } catch (e) {
      const cancelled = e instanceof CancelledError;
      automation.error = cancelled ? 'cancelled' : messageOf(e);
      if (!cancelled) showError(errorBox, automation.error);
      progressLine.textContent = cancelled ? 'cancelled: the worker was stopped' : 'failed';
      document.body.dataset.state = cancelled ? 'cancelled' : 'error';
    } finally {
      runButton.disabled = false;
      cancelButton.disabled = true;
    }
  });

  // An emptied field means the default (the preset's, if one is chosen), which its placeholder shows.
  const DEFAULT_OF: Record<string, keyof ForkSpec> = {
    data: 'data',
    model: 'model',
    width: 'width',
    batch: 'batch',
    lr: 'lr',
    k1: 'k1',
    steps: 'total',
    alphas: 'alphas',
    'seed-init': 'seedInit',
  };
  const showDefaults = (base: ForkSpec, what: string) => {
    for (const [name, key] of Object.entries(DEFAULT_OF)) {
      const field = form.elements.namedItem(name);
      const v = base[key];
      const unit = key === 'total' || key === 'k1' ? ` ${base.unit}` : ''; // a preset's lengths may be in epochs
      if (field instanceof HTMLInputElement) {
        field.placeholder = v === null || v === undefined ? '' : `${what} ${Array.isArray(v) ? v.join(',') : String(v)}${unit}`;
      }
    }
  };
  showDefaults(FORK_DEFAULTS, 'default');
  // A preset runs as `ridgeline fork --preset NAME` does: its spec is the base, and only the
  // fields typed in override it, so choosing one empties the fields (their placeholders show
  // the preset's values; its lengths are in its own unit, usually epochs).
  const presetSelect = form.elements.namedItem('preset') as HTMLSelectElement;
  for (const p of PRESETS) presetSelect.add(new Option(p.name, p.name));
  const custom = new Map(Array.from(form.querySelectorAll<HTMLInputElement>('input')).map((i) => [i.name, i.value]));
  presetSelect.addEventListener('change', () => {
    const preset = PRESETS.find((p) => p.name === presetSelect.value);
    presetSelect.title = preset?.reproduces ?? '';
    for (const input of Array.from(form.querySelectorAll<HTMLInputElement>('input'))) {
      input.value = preset ? '' : (custom.get(input.name) ?? '');
    }
    showDefaults(preset ? presetSpec(preset.name) : FORK_DEFAULTS, preset ? 'preset' : 'default');
  });
  // Any field can be preset from the query string, e.g. ?backend=cpu&steps=80.
  new URLSearchParams(location.search).forEach((value, name) => {
    const field = form.elements.namedItem(name);
    if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = value;
  });
  if (!crossOriginIsolated) {
    logBox.textContent =
      'this page is not cross-origin isolated: the CPU backend needs SharedArrayBuffer (serve it with COOP/COEP headers: ridgeline serve)\n';
  }
}
