/**
 * The "barrier between two checkpoints" view: two safetensors files (chosen or dropped),
 * the model they belong to, the data (the bundled MNIST digits or dropped IDX files), and
 * the measurement in the worker with a progress bar and a cancel button. A file that is
 * not safetensors, is truncated or belongs to another model comes back as the core's one
 * line naming the file, shown in the page.
 */
import * as Comlink from 'comlink';
import { LISTED_MODELS } from '../../core/nn/registry.ts';
import type { ResultJson } from '../../core/report/run_index.ts';
import { formatSig } from '../../core/report/svg.ts';
import { $, automation, messageOf, showError } from './automation.ts';
import { curveChart, curveControls, type CurveView } from './curves.ts';
import { progressInto } from './progress_line.ts';
import { mountChart } from './plot.ts';
import { type BarrierResult, type BrowserBackendChoice, DROPPED, type GivenFile } from './protocol.ts';
import { CancelledError, cancelWorker, runOnWorker } from './worker_client.ts';

const given = async (f: File): Promise<GivenFile> => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });

/** The options the worker passes to the core, as `ridgeline barrier` would get them. */
function barrierOptions(form: HTMLFormElement): Record<string, string> {
  const fields = new FormData(form);
  const options: Record<string, string> = {};
  for (const name of ['model', 'width', 'data', 'limit', 'alphas', 'normalize', 'slope', 'math']) {
    const v = String(fields.get(name) ?? '').trim();
    if (v !== '') options[name] = v;
  }
  return options;
}

function numbers(r: BarrierResult): string {
  const pct = (v: number) => `${formatSig(100 * v, 4)} %`;
  const items = [
    ['test error barrier', pct(r.test.errorBarrier)],
    ['endpoint floor', pct(r.test.errorFloor)],
    ['train loss barrier', `${formatSig(r.train.lossBarrier, 5)} at α = ${r.train.lossBarrierAlpha}`],
    ['test accuracy A / B', `${pct(r.test.accuracyA)} / ${pct(r.test.accuracyB)}`],
    ['‖θA − θB‖', formatSig(r.weightDistance, 5)],
  ];
  return items.map(([k, v]) => `<span><b>${k}</b> ${v}</span>`).join('');
}

type Json = ResultJson;

/**
 * Fills the form with a fork cell's two checkpoints (fetched from the run folder, as the
 * file inputs would hold them) and the run's model, data and evaluation settings: the
 * barrier of a pair the run measured, to re-measure here (on another backend, say).
 */
export async function pickFromRun(runUrl: string, runName: string, cellIndex: number): Promise<void> {
  const form = $<HTMLFormElement>('barrier-form');
  const errorBox = $('barrier-error');
  try {
    const response = await fetch(`${runUrl}/result.json`);
    if (!response.ok) throw new Error(`${runUrl}/result.json: HTTP ${response.status}`);
    const result = (await response.json()) as Json;
    const cell = result.cells?.[cellIndex] as Json | undefined;
    if (!cell) throw new Error(`run ${runName} has no cell ${cellIndex}`);
    const spec = result.spec as Json;
    for (const [field, path] of [['a', cell.checkpointA], ['b', cell.checkpointB]] as const) {
      const file = await fetch(`${runUrl}/${String(path).split('/').map(encodeURIComponent).join('/')}`);
      if (!file.ok) {
        throw new Error(`${runName}/${path}: HTTP ${file.status} (checkpoints live in the run's store, which a static site does not copy)`);
      }
      const list = new DataTransfer();
      list.items.add(new File([await file.arrayBuffer()], `${field === 'a' ? 'A' : 'B'}-${String(path).split('/').pop()}`));
      (form.elements.namedItem(field) as HTMLInputElement).files = list.files;
    }
    const set = (
      name: string,
      value: unknown,
    ) => ((form.elements.namedItem(name) as HTMLInputElement).value = value === null || value === undefined ? '' : String(value));
    const data = form.elements.namedItem('data') as HTMLSelectElement;
    if (!Array.from(data.options).some((o) => o.value === spec.data)) data.add(new Option(`${spec.data} (the run's)`, String(spec.data)));
    set('data', spec.data);
    for (const name of ['model', 'width', 'limit', 'alphas', 'normalize', 'slope']) set(name, spec[name]);
    const picked = $('barrier-picked');
    picked.textContent =
      `From run ${runName}, cell k1 = ${cell.k1}, k2 = ${cell.k2}: ${cell.a} (A) and ${cell.b} (B). The run measured a test error barrier of ${
        (100 * cell.test.errorBarrier).toFixed(2)
      } %.`;
    picked.hidden = false;
  } catch (e) {
    showError(errorBox, messageOf(e));
  }
}

export function setupBarrierView(): void {
  const section = $('view-barrier');
  const form = $<HTMLFormElement>('barrier-form');
  const runButton = $<HTMLButtonElement>('barrier-run');
  const cancelButton = $<HTMLButtonElement>('barrier-cancel');
  const status = $('barrier-status');
  const bar = $<HTMLProgressElement>('barrier-progress');
  const errorBox = $('barrier-error');
  $('model-names').innerHTML = [...LISTED_MODELS, 'mlp-1', 'mlp-3', 'linear-1'].map((m) => `<option value="${m}">`).join('');
  const dataSelect = form.elements.namedItem('data') as HTMLSelectElement;
  dataSelect.addEventListener('change', () => ($('idx-drop').hidden = !dataSelect.value.endsWith(DROPPED)));

  // Dropping a file onto a field's box sets that field (the input itself accepts drops too).
  for (const box of Array.from(section.querySelectorAll<HTMLElement>('.drop'))) {
    const input = box.querySelector('input')!;
    box.addEventListener('dragover', (e: DragEvent) => {
      e.preventDefault();
      box.classList.add('over');
    });
    box.addEventListener('dragleave', () => box.classList.remove('over'));
    box.addEventListener('drop', (e: DragEvent) => {
      e.preventDefault();
      box.classList.remove('over');
      if (e.dataTransfer?.files.length) input.files = e.dataTransfer.files;
    });
  }

  let view: CurveView = { splits: ['train', 'test'], quantity: 'loss' };
  let last: BarrierResult | null = null;
  const chart = mountChart($('barrier-chart'), curveChart([], view, 'loss along the path'));
  const redraw = () => last && chart.update(curveChart([{ ...last, name: 'A → B' }], view, `${view.quantity} along the path from A to B`));
  curveControls($('barrier-controls'), view, (v) => {
    view = v;
    redraw();
  });

  // A pair picked from a run stops being that pair when a file is changed by hand.
  for (const name of ['a', 'b']) {
    (form.elements.namedItem(name) as HTMLInputElement).addEventListener('change', () => ($('barrier-picked').hidden = true));
  }
  cancelButton.addEventListener('click', () => cancelWorker());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    section.dataset.state = 'running';
    Object.assign(automation, { barrier: null, error: null });
    showError(errorBox, null);
    $('barrier-result').hidden = true;
    runButton.disabled = true;
    cancelButton.disabled = false;
    bar.value = 0;
    status.textContent = 'reading files…';
    try {
      const [a, b] = ['a', 'b'].map((n) => (form.elements.namedItem(n) as HTMLInputElement).files?.[0]);
      if (!a || !b) throw new Error(`E_SPEC: give both checkpoints (${!a ? 'A' : 'B'} is missing)`);
      const options = barrierOptions(form);
      const dropped = options.data.endsWith(DROPPED);
      const idx = dropped ? Array.from((form.elements.namedItem('idx') as HTMLInputElement).files ?? []) : [];
      if (dropped && idx.length === 0) throw new Error('E_SPEC: choose the data files (IDX or CIFAR binary), or the bundled digits');
      const request = { a: await given(a), b: await given(b), options, dataFiles: await Promise.all(idx.map(given)) };
      const backend = String(new FormData(form).get('backend')) as BrowserBackendChoice;
      const progress = progressInto(status, null, bar);
      const result = await runOnWorker((w, live) => w.barrier(request, backend, Comlink.proxy(live(progress))));
      automation.barrier = last = result;
      $('barrier-backend').textContent =
        `${result.backend} on ${result.adapter} · ${result.runtime} · ${result.model} (${result.modelDescription}) on ${result.data}`;
      $('barrier-numbers').innerHTML = numbers(result);
      $('barrier-result').hidden = false;
      redraw();
      status.textContent = 'done';
      section.dataset.state = 'done';
    } catch (e) {
      const cancelled = e instanceof CancelledError;
      automation.error = cancelled ? 'cancelled' : messageOf(e);
      if (!cancelled) showError(errorBox, automation.error);
      status.textContent = cancelled ? 'cancelled' : 'failed';
      section.dataset.state = cancelled ? 'cancelled' : 'error';
    } finally {
      runButton.disabled = false;
      cancelButton.disabled = true;
    }
  });
}
