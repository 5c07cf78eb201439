/**
 * The "barrier between two checkpoints" view: two safetensors files (chosen or dropped),
 * the model they belong to, the data (the bundled MNIST digits or dropped IDX files), and
 * the measurement in the worker with a progress bar and a cancel button. A file that is
 * not safetensors, is truncated or belongs to another model comes back as the core's one
 * line naming the file, shown in the page.
 */
import * as Comlink from 'comlink';
import { LISTED_MODELS } from '../../core/nn/registry.ts';
import { formatSig } from '../../core/report/svg.ts';
import { $, automation, messageOf, showError } from './automation.ts';
import { type CurveView, curveChart, curveControls } from './curves.ts';
import { progressInto } from './fork_view.ts';
import { mountChart } from './plot.ts';
import type { BarrierResult, BrowserBackendChoice, GivenFile } from './protocol.ts';
import { CancelledError, cancelWorker, runOnWorker } from './worker_client.ts';

const given = async (f: File): Promise<GivenFile> => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });

/** The options the worker passes to the core, as `ridgeline barrier` would get them. */
function barrierOptions(form: HTMLFormElement): Record<string, string> {
  const fields = new FormData(form);
  const options: Record<string, string> = {};
  for (const name of ['model', 'width', 'data', 'limit', 'alphas']) {
    const v = String(fields.get(name) ?? '').trim();
    if (v !== '') options[name] = v;
  }
  return options;
}

function numbers(r: BarrierResult): string {
  const pct = (v: number) => `${formatSig(100 * v, 4)} %`;
  const items = [
    ['test error barrier', pct(r.test.errorBarrier)], ['endpoint floor', pct(r.test.errorFloor)],
    ['train loss barrier', `${formatSig(r.train.lossBarrier, 5)} at α = ${r.train.lossBarrierAlpha}`],
    ['test accuracy A / B', `${pct(r.test.accuracyA)} / ${pct(r.test.accuracyB)}`], ['‖θA − θB‖', formatSig(r.weightDistance, 5)],
  ];
  return items.map(([k, v]) => `<span><b>${k}</b> ${v}</span>`).join('');
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
  dataSelect.addEventListener('change', () => ($('idx-drop').hidden = dataSelect.value !== 'mnist:dropped'));

  // Dropping a file onto a field's box sets that field (the input itself accepts drops too).
  for (const box of Array.from(section.querySelectorAll<HTMLElement>('.drop'))) {
    const input = box.querySelector('input')!;
    box.addEventListener('dragover', (e: DragEvent) => { e.preventDefault(); box.classList.add('over'); });
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
      const idx = options.data === 'mnist:dropped' ? Array.from((form.elements.namedItem('idx') as HTMLInputElement).files ?? []) : [];
      if (options.data === 'mnist:dropped' && idx.length === 0) throw new Error('E_SPEC: choose the IDX files (train/t10k images and labels), or the bundled digits');
      const request = { a: await given(a), b: await given(b), options, dataFiles: await Promise.all(idx.map(given)) };
      const backend = String(new FormData(form).get('backend')) as BrowserBackendChoice;
      const progress = progressInto(status, null, bar);
      const result = await runOnWorker((w, live) => w.barrier(request, backend, Comlink.proxy(live(progress))));
      automation.barrier = last = result;
      $('barrier-backend').textContent = `${result.backend} on ${result.adapter} · ${result.runtime} · ${result.model} (${result.modelDescription}) on ${result.data}`;
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
