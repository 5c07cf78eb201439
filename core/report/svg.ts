/**
 * Tiny plotting primitives: each returns one standalone `<svg>` string (no scripts, no
 * external fonts, no element ids, so any number of charts can be inlined in one HTML page
 * without id collisions; gradients and hatches are drawn as plain shapes for that reason).
 *
 * Colours are colour-blind safe: a viridis ramp computed from a polynomial fit for ordered
 * quantities (k1, k2, heat maps) and the Okabe–Ito palette for categories. Series also
 * differ by marker shape, so lines stay distinguishable in grey-scale print.
 *
 * Text widths are estimated (no font metrics without a DOM): ~0.6 em per character of a
 * sans-serif face, which errs wide so that reserved margins do not clip labels.
 */
import { argError } from '../errors.ts';

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for XML/HTML content and attribute values (quotes included). */
export function escapeXml(text: string): string {
  // C0 control characters (other than tab, LF, CR) are not allowed in XML 1.0 at all.
  // Control characters are not allowed in XML 1.0: removing them is the point of this pattern.
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/[&<>"']/g, (ch) => XML_ENTITIES[ch]);
}

/** Estimated rendered width of `text` at `size` px. */
export function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

/** Coordinates with two decimals: enough for a screen, short enough to keep pages small. */
const c = (v: number) => String(Math.round(v * 100) / 100);

// ---------------------------------------------------------------- ticks

/**
 * "Nice" axis ticks: an increasing, evenly spaced run of multiples of 1, 2 or 5 × 10^e whose
 * first tick is ≤ min and last ≥ max, with at most max(3, count) ticks (and at least about
 * (count − 2)/2.5 + 1: the chosen step is the smallest nice one that fits). No 2.5 steps:
 * k1, k2 and step axes are integers, and 2.5 would print them as 2.5, 5.0, 7.5.
 * Each tick is computed as (integer · mantissa) scaled by an exact power of ten, so ticks
 * print as short decimals (0.3, not 0.30000000000000004). A zero-width range is widened
 * by 10 % of its magnitude (or ±1 around 0). Three ticks is the floor because a range
 * straddling 0 can never be covered by two multiples of one step.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) argError('niceTicks', `min and max must be finite (got ${min}, ${max})`);
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  const n = Math.max(3, Math.floor(Number.isFinite(count) ? count : 5));
  const mag = Math.max(Math.abs(lo), Math.abs(hi));
  // Below ~1e-9 relative width the integer multiples would exceed 2^53 and lose spacing;
  // below 1e-290 the power of ten 10^−e overflows, so such a range is treated as 0.
  if (hi - lo <= mag * 1e-9 || mag < 1e-290) {
    const pad = mag >= 1e-290 ? mag * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  // Dividing an integer by an exact power of ten rounds once, to the nearest short decimal.
  const value = (i: number, m: number, e: number) => (e >= 0 ? i * m * 10 ** e : (i * m) / 10 ** -e);
  let e = Math.floor(Math.log10((hi - lo) / (n - 1))) - 1;
  for (let guard = 0; guard < 64; guard++, e++) {
    for (const m of [1, 2, 5]) {
      const step = m * 10 ** e;
      let i0 = Math.floor(lo / step);
      let i1 = Math.ceil(hi / step);
      // The quotients above can land one step off after rounding; settle on the exact cover
      // (a few nudges at most; the cap keeps a pathological input from looping).
      for (let k = 0; k < 4 && value(i0, m, e) > lo; k++) i0--;
      for (let k = 0; k < 4 && value(i0 + 1, m, e) <= lo; k++) i0++;
      for (let k = 0; k < 4 && value(i1, m, e) < hi; k++) i1++;
      for (let k = 0; k < 4 && value(i1 - 1, m, e) >= hi; k++) i1--;
      if (i1 - i0 + 1 <= n && value(i0, m, e) <= lo && value(i1, m, e) >= hi) {
        const ticks: number[] = [];
        for (let i = i0; i <= i1; i++) ticks.push(value(i, m, e) + 0); // + 0 turns −0 into 0
        return ticks;
      }
    }
  }
  return [lo, hi]; // only when hi − lo overflows to Infinity (|values| near 1e308)
}

/** Minus sign for display (U+2212 is the typographic minus; '-' reads as a hyphen). */
export const displayMinus = (s: string) => s.replace(/^-/, '\u2212');

/** Labels for `ticks` with the fewest decimals that still tell neighbouring ticks apart. */
export function formatTicks(ticks: readonly number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0] ?? 1) || 1;
  const mag = Math.max(...ticks.map(Math.abs), 0);
  if (mag >= 1e6 || (mag > 0 && mag < 1e-4)) {
    const digits = Math.min(12, Math.max(0, Math.ceil(Math.log10(mag / step))));
    return ticks.map((t) => (t === 0 ? '0' : displayMinus(t.toExponential(digits))));
  }
  let d = 0;
  while (d < 12 && ticks.some((t) => Math.abs(Number(t.toFixed(d)) - t) > step * 1e-6)) d++;
  return ticks.map((t) => displayMinus(t.toFixed(d)));
}

// ---------------------------------------------------------------- colours

/**
 * Viridis at t ∈ [0, 1], from a degree-6 polynomial fit of the matplotlib map (max error
 * well under one 8-bit step): perceptually uniform and readable by the common
 * colour-vision deficiencies.
 */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const k = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  const rgb = [0, 1, 2].map((ch) => {
    let v = 0;
    for (let i = 6; i >= 0; i--) v = v * x + k[i][ch];
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  });
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** n ordered colours from viridis, stopping at 0.85 because the yellow end vanishes on white. */
export function sequentialColors(n: number): string[] {
  if (n <= 1) return [viridis(0.25)];
  return Array.from({ length: n }, (_, i) => viridis((0.85 * i) / (n - 1)));
}

/** Okabe–Ito, reordered so that the first colours have the most contrast on white (yellow last). */
export const QUALITATIVE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Whether dark text is more legible than white on a `#rrggbb` fill (WCAG relative luminance). */
export function prefersDarkText(fill: string): boolean {
  const lin = (i: number) => {
    const v = parseInt(fill.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5) > 0.18;
}

// ---------------------------------------------------------------- legend and markers

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';
export const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];

export function marker(shape: MarkerShape, x: number, y: number, color: string, r = 3): string {
  switch (shape) {
    case 'circle':
      return `<circle cx="${c(x)}" cy="${c(y)}" r="${c(r)}" fill="${color}"/>`;
    case 'square':
      return `<rect x="${c(x - r)}" y="${c(y - r)}" width="${c(2 * r)}" height="${c(2 * r)}" fill="${color}"/>`;
    case 'triangle':
      return `<polygon points="${c(x)},${c(y - 1.3 * r)} ${c(x + 1.2 * r)},${c(y + 0.9 * r)} ${c(x - 1.2 * r)},${
        c(y + 0.9 * r)
      }" fill="${color}"/>`;
    case 'diamond':
      return `<polygon points="${c(x)},${c(y - 1.4 * r)} ${c(x + 1.4 * r)},${c(y)} ${c(x)},${c(y + 1.4 * r)} ${c(x - 1.4 * r)},${
        c(y)
      }" fill="${color}"/>`;
  }
}

export interface LegendEntry {
  name: string;
  color: string;
  dash?: string;
  marker?: MarkerShape;
}

function legendSwatch(e: LegendEntry, x: number, y: number): string {
  const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : '';
  return `<line x1="${c(x)}" y1="${c(y)}" x2="${c(x + 22)}" y2="${c(y)}" stroke="${e.color}" stroke-width="2"${dash}/>` +
    (e.marker ? marker(e.marker, x + 11, y, e.color) : '');
}

/** Legend entries laid out in rows that wrap at `width`; returns the markup and its height. */
export function legendRows(entries: readonly LegendEntry[], x0: number, y0: number, width: number): { svg: string; height: number } {
  let x = x0;
  let y = y0 + 8;
  const parts: string[] = [];
  for (const e of entries) {
    const w = 30 + textWidth(e.name, 11) + 14;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += 18;
    }
    parts.push(legendSwatch(e, x, y), `<text x="${c(x + 28)}" y="${c(y + 4)}" font-size="11">${escapeXml(e.name)}</text>`);
    x += w;
  }
  return { svg: parts.join(''), height: entries.length ? y - y0 + 12 : 0 };
}

// ---------------------------------------------------------------- line chart

export interface Point {
  x: number;
  y: number;
  /**
   * An interval around y (e.g. a 95 % confidence interval), drawn as a vertical error bar
   * with caps when both ends are finite and yHigh > yLow; the axes make room for it.
   */
  yLow?: number;
  yHigh?: number;
}

export interface Series {
  name: string;
  points: readonly Point[];
  color?: string;
  /** SVG stroke-dasharray, e.g. "5 3". */
  dash?: string;
  marker?: MarkerShape;
}

export interface LineChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Draw a marker at every point (series without `marker` cycle through the shapes). */
  markers?: boolean;
  /** 'right': a column beside the plot; 'none' when a small-multiples legend is shared. */
  legend?: 'right' | 'none';
  /** Ranges to include in the axes whatever the data (shared scales across panels). */
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  /** Vertical reference lines, e.g. the fork points on a training curve. */
  xMarks?: readonly { x: number; label?: string }[];
  /** What the points' [yLow, yHigh] intervals are, for their hover text (default 'interval'). */
  intervalLabel?: string;
  /**
   * For an interactive page (the explorer app): every point gets an invisible hover target
   * carrying its exact values (`data-series`, `data-x`, `data-y`: the shortest text that
   * reads back as the same double, as JSON writes it), and the `<svg>` its plot frame and
   * data ranges (`data-frame`), so a small client script can show values and map a drag
   * back to data coordinates. Off for the self-contained reports, which stay script-free.
   */
  hoverTargets?: boolean;
}

/** Whether a point carries a drawable interval. */
const hasInterval = (p: Point) => Number.isFinite(p.yLow) && Number.isFinite(p.yHigh) && p.yHigh! > p.yLow!;

const FRAME = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11" fill="#222"';

function svgOpen(width: number, height: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${c(width)}" height="${c(height)}" viewBox="0 0 ${c(width)} ${
    c(height)
  }" role="img" aria-label="${escapeXml(label)}" ${FRAME}>` +
    (label ? `<title>${escapeXml(label)}</title>` : '');
}

/** Line chart of several series; non-finite points break a line rather than poison it. */
export function lineChart(series: readonly Series[], options: LineChartOptions = {}): string {
  const width = options.width ?? 480;
  const height = options.height ?? 300;
  const finite = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const xs = finite.map((p) => p.x).concat(options.xDomain ?? [], (options.xMarks ?? []).map((m) => m.x));
  const ys = finite.map((p) => p.y).concat(options.yDomain ?? [], finite.filter(hasInterval).flatMap((p) => [p.yLow!, p.yHigh!]));
  const styled = series.map((s, i) => ({
    ...s,
    color: s.color ?? QUALITATIVE[i % QUALITATIVE.length],
    marker: s.marker ?? (options.markers ? MARKERS[i % MARKERS.length] : undefined),
  }));

  const top = options.title ? 24 : 10;
  const legendW = options.legend === 'none' || series.length === 0 ? 0 : 40 + Math.max(...series.map((s) => textWidth(s.name, 11)));
  const yTicks = ys.length ? niceTicks(Math.min(...ys), Math.max(...ys), Math.max(3, Math.round((height - top - 40) / 38))) : [0, 1];
  const yLabels = formatTicks(yTicks);
  const left = (options.yLabel ? 20 : 4) + Math.max(...yLabels.map((t) => textWidth(t, 11))) + 10;
  const right = legendW + 14;
  const bottom = 24 + (options.xLabel ? 16 : 0);
  const pw = Math.max(20, width - left - right);
  const ph = Math.max(20, height - top - bottom);
  const xTicks = xs.length ? niceTicks(Math.min(...xs), Math.max(...xs), Math.max(3, Math.floor(pw / 56))) : [0, 1];
  const xLabels = formatTicks(xTicks);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;

  const out = [svgOpen(width, height, options.title ?? '')];
  if (options.hoverTargets) out[0] = out[0].replace('<svg ', `<svg data-frame="${[left, top, pw, ph, x0, x1, y0, y1].join(' ')}" `);
  if (options.title) out.push(`<text x="${c(left)}" y="15" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  // Grid and tick labels; the zero line is darker because the sign of a loss gap matters.
  yTicks.forEach((t, i) => {
    const y = sy(t);
    const stroke = t === 0 && y0 < 0 ? '#666' : '#e3e3e3';
    out.push(
      `<line x1="${c(left)}" y1="${c(y)}" x2="${c(left + pw)}" y2="${c(y)}" stroke="${stroke}"/>`,
      `<text x="${c(left - 6)}" y="${c(y + 4)}" text-anchor="end">${escapeXml(yLabels[i])}</text>`,
    );
  });
  xTicks.forEach((t, i) => {
    const x = sx(t);
    out.push(
      `<line x1="${c(x)}" y1="${c(top)}" x2="${c(x)}" y2="${c(top + ph)}" stroke="#efefef"/>`,
      `<text x="${c(x)}" y="${c(top + ph + 15)}" text-anchor="middle">${escapeXml(xLabels[i])}</text>`,
    );
  });
  out.push(`<rect x="${c(left)}" y="${c(top)}" width="${c(pw)}" height="${c(ph)}" fill="none" stroke="#999"/>`);
  for (const m of options.xMarks ?? []) {
    if (!Number.isFinite(m.x)) continue;
    out.push(`<line x1="${c(sx(m.x))}" y1="${c(top)}" x2="${c(sx(m.x))}" y2="${c(top + ph)}" stroke="#888" stroke-dasharray="2 3"/>`);
    if (m.label) out.push(`<text x="${c(sx(m.x) + 3)}" y="${c(top + 11)}" font-size="10" fill="#555">${escapeXml(m.label)}</text>`);
  }
  if (options.xLabel) {
    out.push(`<text x="${c(left + pw / 2)}" y="${c(height - 6)}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`);
  }
  if (options.yLabel) {
    out.push(
      `<text transform="translate(13 ${c(top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${
        escapeXml(options.yLabel)
      }</text>`,
    );
  }
  if (finite.length === 0) out.push(`<text x="${c(left + pw / 2)}" y="${c(top + ph / 2)}" text-anchor="middle" fill="#777">no data</text>`);

  for (const s of styled) {
    const runs: Point[][] = [[]];
    for (const p of s.points) {
      if (Number.isFinite(p.x) && Number.isFinite(p.y)) runs[runs.length - 1].push(p);
      else if (runs[runs.length - 1].length) runs.push([]);
    }
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    // Error bars first, so that lines and markers stay on top of them.
    for (const p of runs.flat().filter(hasInterval)) {
      const [x, lo, hi] = [sx(p.x), sy(p.yLow!), sy(p.yHigh!)];
      const text = `${s.name}, x = ${formatSig(p.x, 4)}: ${options.intervalLabel ?? 'interval'} [${formatSig(p.yLow!, 4)}, ${
        formatSig(p.yHigh!, 4)
      }]`;
      out.push(
        `<path d="M${c(x)} ${c(lo)}V${c(hi)}M${c(x - 3)} ${c(lo)}h6M${c(x - 3)} ${
          c(hi)
        }h6" fill="none" stroke="${s.color}" stroke-width="1.2"><title>${escapeXml(text)}</title></path>`,
      );
    }
    for (const run of runs) {
      if (run.length > 1) {
        const d = run.map((p, i) => `${i ? 'L' : 'M'}${c(sx(p.x))} ${c(sy(p.y))}`).join('');
        out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-linejoin="round"${dash}/>`);
      }
      // A lone point would be invisible without a marker, so it always gets one.
      if (s.marker || run.length === 1) { for (const p of run) out.push(marker(s.marker ?? 'circle', sx(p.x), sy(p.y), s.color)); }
    }
  }
  // Targets last, above every line, so the pointer finds them wherever lines cross.
  if (options.hoverTargets) {
    styled.forEach((s, i) => {
      for (const p of s.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y))) {
        out.push(
          `<circle class="hover-point" cx="${c(sx(p.x))}" cy="${c(sy(p.y))}" r="7" fill="transparent" data-series="${i}" data-name="${
            escapeXml(s.name)
          }" data-color="${s.color}" data-x="${p.x}" data-y="${p.y}"/>`,
        );
      }
    });
  }
  if (legendW > 0) {
    styled.forEach((s, i) => {
      const y = top + 8 + i * 17;
      out.push(legendSwatch(s, left + pw + 12, y), `<text x="${c(left + pw + 40)}" y="${c(y + 4)}">${escapeXml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('');
}

// ---------------------------------------------------------------- heat map

export interface HeatMapOptions {
  rowLabels: readonly string[];
  colLabels: readonly string[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  cellWidth?: number;
  cellHeight?: number;
  /** Text printed in each cell (default: 3 significant digits). */
  format?: (v: number) => string;
  /** Per-cell text overriding `format`, e.g. to mark special points on a loss surface. */
  cellText?: (row: number, col: number, v: number) => string;
  /** Colour-scale range; default: the nice extent of the finite values. */
  domain?: readonly [number, number];
  legendLabel?: string;
}

/** Hatch lines at 45° clipped to a rectangle by hand (patterns would need document ids). */
function hatch(x: number, y: number, w: number, h: number, spacing = 6): string {
  let d = '';
  for (let k = spacing; k < w + h; k += spacing) {
    const xa = Math.max(x, x + k - h);
    const xb = Math.min(x + w, x + k);
    d += `M${c(xa)} ${c(y + k - (xa - x))}L${c(xb)} ${c(y + k - (xb - x))}`;
  }
  return `<path d="${d}" stroke="#9a9a9a" stroke-width="1"/>`;
}

export const formatSig = (v: number, digits = 3) =>
  displayMinus(Math.abs(v) >= 1e-4 || v === 0 ? String(Number(v.toPrecision(digits))) : v.toExponential(digits - 1));

/** Matrix as coloured cells with values, row/column labels and a colour bar; missing cells hatched. */
export function heatMap(values: readonly (readonly (number | null | undefined)[])[], options: HeatMapOptions): string {
  const rows = options.rowLabels.length;
  const cols = options.colLabels.length;
  const cw = options.cellWidth ?? 64;
  const ch = options.cellHeight ?? 34;
  const fmt = options.format ?? ((v: number) => formatSig(v));
  const at = (r: number, k: number) => values[r]?.[k];
  const finite = values.flat().filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  let [lo, hi] = options.domain ??
    (finite.length ? ((t) => [t[0], t[t.length - 1]])(niceTicks(Math.min(...finite), Math.max(...finite), 5)) : [0, 1]);
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];

  const top = (options.title ? 26 : 8) + 4;
  const rowLabelW = Math.max(0, ...options.rowLabels.map((s) => textWidth(s, 11)));
  const left = (options.yLabel ? 22 : 4) + rowLabelW + 8;
  const gw = cols * cw;
  const gh = rows * ch;
  const barH = Math.max(gh, 120);
  const barTicks = niceTicks(lo, hi, 5).filter((t) => t >= lo - 1e-12 * (hi - lo) && t <= hi + 1e-12 * (hi - lo));
  const barLabels = formatTicks(barTicks);
  const barX = left + gw + 24;
  const hasMissing = finite.length < rows * cols;
  const width = Math.max(
    options.title ? left + textWidth(options.title, 13) + 8 : 0,
    barX + 20 +
      Math.max(
        textWidth(options.legendLabel ?? '', 11) - 24,
        hasMissing ? textWidth('missing', 11) - 2 : 0,
        ...barLabels.map((s) => textWidth(s, 11)),
      ) + 12,
  );
  const height = top + Math.max(gh + 22 + (options.xLabel ? 18 : 0), barH + 40) + 6;
  const t = (v: number) => (v - lo) / (hi - lo);

  const out = [svgOpen(width, height, options.title ?? '')];
  if (options.title) out.push(`<text x="${c(left)}" y="17" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  for (let r = 0; r < rows; r++) {
    const y = top + r * ch;
    out.push(`<text x="${c(left - 6)}" y="${c(y + ch / 2 + 4)}" text-anchor="end">${escapeXml(options.rowLabels[r])}</text>`);
    for (let k = 0; k < cols; k++) {
      const x = left + k * cw;
      const v = at(r, k);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        out.push(`<rect x="${c(x)}" y="${c(y)}" width="${cw}" height="${ch}" fill="#e6e6e6" stroke="#fff"/>`, hatch(x, y, cw, ch));
        continue;
      }
      const fill = viridis(t(v));
      const label = options.cellText ? options.cellText(r, k, v) : fmt(v);
      const size = Math.min(11, (cw - 6) / (label.length * 0.6));
      out.push(
        `<rect x="${c(x)}" y="${c(y)}" width="${cw}" height="${ch}" fill="${fill}" stroke="#fff"><title>${
          escapeXml(`${options.rowLabels[r]}, ${options.colLabels[k]}: ${label}`)
        }</title></rect>`,
        `<text x="${c(x + cw / 2)}" y="${c(y + ch / 2 + size / 3)}" text-anchor="middle" font-size="${c(size)}" fill="${
          prefersDarkText(fill) ? '#111' : '#fff'
        }">${escapeXml(label)}</text>`,
      );
    }
  }
  options.colLabels.forEach((s, k) => {
    out.push(`<text x="${c(left + k * cw + cw / 2)}" y="${c(top + gh + 14)}" text-anchor="middle">${escapeXml(s)}</text>`);
  });
  if (options.xLabel) {
    out.push(
      `<text x="${c(left + gw / 2)}" y="${c(top + gh + 32)}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    out.push(
      `<text transform="translate(13 ${c(top + gh / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${
        escapeXml(options.yLabel)
      }</text>`,
    );
  }

  // Colour bar as stacked slices (a gradient would need an id); high values on top.
  const slices = 48;
  for (let i = 0; i < slices; i++) {
    out.push(
      `<rect x="${c(barX)}" y="${c(top + barH - ((i + 1) * barH) / slices)}" width="14" height="${c(barH / slices + 0.5)}" fill="${
        viridis((i + 0.5) / slices)
      }"/>`,
    );
  }
  out.push(`<rect x="${c(barX)}" y="${c(top)}" width="14" height="${c(barH)}" fill="none" stroke="#999"/>`);
  barTicks.forEach((v, i) => {
    const y = top + barH - t(v) * barH;
    out.push(
      `<line x1="${c(barX + 14)}" y1="${c(y)}" x2="${c(barX + 18)}" y2="${c(y)}" stroke="#666"/>`,
      `<text x="${c(barX + 21)}" y="${c(y + 4)}">${escapeXml(barLabels[i])}</text>`,
    );
  });
  if (options.legendLabel) out.push(`<text x="${c(barX - 4)}" y="${c(top + barH + 16)}">${escapeXml(options.legendLabel)}</text>`);
  if (hasMissing) {
    const y = top + barH + 22;
    out.push(
      `<rect x="${c(barX)}" y="${c(y)}" width="14" height="10" fill="#e6e6e6"/>`,
      hatch(barX, y, 14, 10, 4),
      `<text x="${c(barX + 18)}" y="${c(y + 9)}">missing</text>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

// ---------------------------------------------------------------- small multiples

export interface SmallMultiplesOptions {
  panelWidth: number;
  panelHeight: number;
  columns?: number;
  gap?: number;
  title?: string;
  /** One legend shared by all panels, drawn in wrapped rows above them. */
  legend?: readonly LegendEntry[];
}

/**
 * A grid of panels (each an `<svg>` string of the given size, e.g. from `lineChart` with
 * `legend: 'none'`) nested in one outer `<svg>`, under an optional title and shared legend.
 */
export function smallMultiples(panels: readonly string[], options: SmallMultiplesOptions): string {
  const gap = options.gap ?? 10;
  const columns = Math.max(1, Math.min(options.columns ?? 3, panels.length || 1));
  const gridRows = Math.ceil(panels.length / columns);
  const width = columns * options.panelWidth + (columns - 1) * gap;
  const titleH = options.title ? 24 : 0;
  const legend = legendRows(options.legend ?? [], 4, titleH, width - 8);
  const top = titleH + legend.height + (legend.height ? 6 : 0);
  const height = top + gridRows * options.panelHeight + Math.max(0, gridRows - 1) * gap;
  const out = [svgOpen(width, height, options.title ?? '')];
  if (options.title) out.push(`<text x="4" y="16" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`);
  out.push(legend.svg);
  panels.forEach((panel, i) => {
    const x = (i % columns) * (options.panelWidth + gap);
    const y = top + Math.floor(i / columns) * (options.panelHeight + gap);
    out.push(`<g transform="translate(${c(x)} ${c(y)})">${panel}</g>`);
  });
  out.push('</svg>');
  return out.join('');
}
