/**
 * The path curves every view draws (a run's cells, the live cells of a running fork, a
 * measured pair of checkpoints) and the toggles over them: which splits (train, test) and
 * which quantity (loss, error, the loss gap of docs/metrics.md, Barriers). One place, so the three views
 * behave alike.
 */
import type { SplitMetrics } from '../../core/experiments/result_schema.ts';
import type { ChartSpec } from './plot.ts';

export const SPLITS = ['train', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];
export const QUANTITIES = ['loss', 'error', 'gap'] as const;
export type Quantity = (typeof QUANTITIES)[number];

export interface CurveView {
  splits: SplitName[];
  quantity: Quantity;
}

/** Something with curves on both splits: a fork cell, a barrier result, an alignment's before/after. */
export interface CurveSource {
  name: string;
  train: SplitMetrics;
  test: SplitMetrics;
}

const Y_LABEL: Record<Quantity, string> = { loss: 'loss L(θ(α))', error: 'error E(θ(α))', gap: 'loss gap' };

export function curveChart(sources: readonly CurveSource[], view: CurveView, title: string): ChartSpec {
  const series = sources.flatMap((s) =>
    view.splits.map((split) => ({
      name: `${s.name} ${split}`,
      points: s[split].curve.map((p) => ({ x: p.alpha, y: p[view.quantity] })),
      dash: split === 'train' ? '5 3' : undefined,
    }))
  );
  return { series, options: { title, xLabel: 'α (0 = A, 1 = B)', yLabel: Y_LABEL[view.quantity], markers: true, width: 720, height: 360 } };
}

/**
 * Split checkboxes and quantity radio buttons in `host`; `onChange` gets the new view.
 * Named inputs (`split`, `quantity`) so a test or a keyboard user finds them by label.
 */
export function curveControls(host: HTMLElement, view: CurveView, onChange: (v: CurveView) => void): void {
  const id = host.id || 'curves';
  host.innerHTML =
    `<fieldset><legend>split</legend>${
      SPLITS.map((s) =>
        `<label style="display:inline"><input type="checkbox" name="split" value="${s}"${
          view.splits.includes(s) ? ' checked' : ''
        }> ${s}</label> `
      ).join('')
    }</fieldset>` +
    `<fieldset><legend>quantity</legend>${
      QUANTITIES.map((q) =>
        `<label style="display:inline"><input type="radio" name="${id}-quantity" value="${q}"${
          view.quantity === q ? ' checked' : ''
        }> ${q}</label> `
      ).join('')
    }</fieldset>`;
  host.addEventListener('change', () => {
    const splits = Array.from(host.querySelectorAll<HTMLInputElement>('input[name="split"]:checked')).map((i) => i.value as SplitName);
    const quantity = (host.querySelector<HTMLInputElement>(`input[name="${id}-quantity"]:checked`)?.value ?? 'loss') as Quantity;
    onChange({ splits, quantity });
  });
}
