/**
 * The app's interactive charts: core/report/svg.ts draws them (the same code as the
 * self-contained reports), with `hoverTargets` on; this small client layer adds what a
 * page can do and a report file cannot: hovering a point shows its exact value (the number
 * as result.json holds it), dragging across the plot zooms to that x range, and a
 * double-click (or the reset button) zooms back out. Redrawing is cheap (a few hundred
 * points), so a zoom redraws the chart from the data rather than transforming the SVG.
 */
import { lineChart, type LineChartOptions, type Series } from '../../core/report/svg.ts';

export interface ChartSpec {
  series: Series[];
  options: LineChartOptions;
}

/** Below this drag width (px) a press is a click, not a zoom. */
const MIN_DRAG_PX = 6;

/** Keeps the points within [lo, hi] (the zoomed range); the axes then fit what remains. */
function clip(spec: ChartSpec, range: [number, number] | null): ChartSpec {
  if (!range) return spec;
  const [lo, hi] = range;
  return {
    series: spec.series.map((s) => ({ ...s, points: s.points.filter((p) => p.x >= lo && p.x <= hi) })),
    options: { ...spec.options, xDomain: range, xMarks: spec.options.xMarks?.filter((m) => m.x >= lo && m.x <= hi) },
  };
}

/**
 * Draws `spec` into `host` and keeps it interactive; `update` redraws with new data (a
 * toggle, another cell) keeping the zoom if it still makes sense.
 */
export function mountChart(host: HTMLElement, spec: ChartSpec): { update(next: ChartSpec): void } {
  let current = spec;
  let range: [number, number] | null = null;
  host.classList.add('chart');
  host.innerHTML =
    '<div class="chart-svg"></div><div class="tooltip" hidden></div><button type="button" class="reset-zoom" hidden>reset zoom</button>';
  const holder = host.querySelector<HTMLDivElement>('.chart-svg')!;
  const tip = host.querySelector<HTMLDivElement>('.tooltip')!;
  const reset = host.querySelector<HTMLButtonElement>('.reset-zoom')!;

  const draw = () => {
    holder.innerHTML = lineChart(clip(current, range).series, { ...clip(current, range).options, hoverTargets: true });
    reset.hidden = range === null;
  };
  const zoom = (r: [number, number] | null) => {
    range = r;
    draw();
  };
  reset.addEventListener('click', () => zoom(null));

  holder.addEventListener('pointerover', (e) => {
    const t = e.target as Element;
    if (!t.classList.contains('hover-point')) return;
    const d = (t as SVGElement).dataset;
    tip.innerHTML = '';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = d.color ?? '#000';
    const label = document.createElement('span');
    label.textContent = `${d.name}: x = ${d.x}, y = ${d.y}`;
    tip.append(swatch, label);
    const box = host.getBoundingClientRect();
    const p = t.getBoundingClientRect();
    tip.style.left = `${p.left - box.left + 12}px`;
    tip.style.top = `${p.top - box.top - 8}px`;
    tip.hidden = false;
  });
  holder.addEventListener('pointerout', (e) => {
    if ((e.target as Element).classList.contains('hover-point')) tip.hidden = true;
  });

  // Drag to zoom: pixel positions map back to data through the frame the chart recorded.
  let start: number | null = null;
  const band = document.createElement('div');
  band.className = 'zoom-band';
  band.hidden = true;
  host.append(band);
  const frame = () => {
    const svg = holder.querySelector('svg');
    const f = svg?.dataset.frame?.split(' ').map(Number);
    if (!svg || !f) return null;
    const [left, , pw, , x0, x1] = f;
    const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute('width'));
    return { svg, toData: (clientX: number) => x0 + ((clientX - svg.getBoundingClientRect().left) / scale - left) / pw * (x1 - x0) };
  };
  holder.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    start = e.clientX;
  });
  globalThis.addEventListener('pointermove', (e) => {
    if (start === null) return;
    const box = host.getBoundingClientRect();
    band.style.left = `${Math.min(start, e.clientX) - box.left}px`;
    band.style.width = `${Math.abs(e.clientX - start)}px`;
    band.hidden = Math.abs(e.clientX - start) < MIN_DRAG_PX;
  });
  globalThis.addEventListener('pointerup', (e) => {
    if (start === null) return;
    const [from, to] = [Math.min(start, e.clientX), Math.max(start, e.clientX)];
    start = null;
    band.hidden = true;
    const f = frame();
    if (f && to - from >= MIN_DRAG_PX) zoom([f.toData(from), f.toData(to)]);
  });
  holder.addEventListener('dblclick', () => zoom(null));

  draw();
  return {
    update(next) {
      current = next;
      draw();
    },
  };
}
