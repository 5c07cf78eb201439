/**
 * Report writers: tick logic (properties), CSV quoting and exact number round trips (through
 * an independent RFC 4180 parser written here), SVG primitives, and the HTML report of
 * synthetic fork results (well-formedness, no NaN/undefined text, content of each section)
 * for the shapes a real run can take: full grid, single cell, single k1, repeats, diagonal
 * k1 + k2 = const, partial grid, negative loss barriers, hostile strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { CELL_COLUMNS, cellsCsv, csvField, CURVE_COLUMNS, curvesCsv, toCsv } from '../core/report/csv.ts';
import { exampleErrorBarrier, exampleForkResult } from './fixtures/fork_result.ts';
import { forkReportHtml } from '../core/report/html.ts';
import { escapeXml, formatTicks, heatMap, lineChart, niceTicks, sequentialColors, smallMultiples, viridis } from '../core/report/svg.ts';

// ---------------------------------------------------------------- helpers

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF records), independent of csv.ts. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      assert.equal(field, '', `quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      row.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
      continue;
    }
    assert.ok(ch !== '\r' && ch !== '\n', `bare line break at ${i}`);
    field += ch;
    i++;
  }
  assert.equal(quoted, false, 'unterminated quoted field');
  assert.ok(field === '' && row.length === 0, 'the last record must end with CRLF');
  return rows;
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'area', 'base', 'wbr', 'source']);

/** Tag balance check: every non-void element is closed in order; no stray `<`. */
function assertWellFormed(html: string): void {
  const body = html.replace(/^<!doctype html>/i, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"<]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    assert.ok(!body.slice(last, m.index).includes('<'), `stray '<' near: ${body.slice(last, m.index).slice(0, 80)}`);
    assert.ok(!body.slice(last, m.index).includes('>'), `stray '>' near: ${body.slice(last, m.index).slice(0, 80)}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    const lower = name.toLowerCase();
    if (closing) {
      assert.equal(stack.pop(), lower, `</${name}> closes the wrong element at ${m.index}`);
    } else if (!selfClosing && !VOID.has(lower)) {
      stack.push(lower);
    }
  }
  assert.ok(!body.slice(last).includes('<'), 'stray < at the end');
  assert.deepEqual(stack, [], `unclosed elements: ${stack.join(', ')}`);
}

/** The text the reader sees (tags removed, entities decoded): must not show NaN/undefined. */
function visibleText(html: string): string {
  return html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

function assertCleanReport(html: string, result: ForkResult): void {
  assertWellFormed(html);
  assert.equal((html.match(/<svg[\s>]/g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length, 'every <svg> closed');
  for (const bad of ['NaN', 'undefined', 'Infinity', '[object Object]']) assert.ok(!html.includes(bad), `output contains ${bad}`);
  assert.ok(!/\b(NaN|undefined|Infinity)\b/.test(visibleText(html)));
  assert.ok(!/http:\/\/(?!www\.w3\.org\/2000\/svg)|https:|<script|<link|@import|url\(/i.test(html), 'no network or script');
  assert.ok(html.includes('<title>Fork report: lenet5 on mnist'), 'title');
  // Heat map of the test error barrier: one row label per k1.
  const heat = /<svg[^>]*aria-label="Test error barrier B\(k1, k2\), %"[\s\S]*?<\/svg>/.exec(html);
  assert.ok(heat, 'heat map present');
  for (const k1 of new Set(result.cells.map((c) => c.k1))) {
    assert.ok(heat[0].includes(`text-anchor="end">${k1}</text>`), `heat map row k1 = ${k1}`);
  }
  for (const k2 of new Set(result.cells.map((c) => c.k2))) {
    assert.ok(heat[0].includes(`text-anchor="middle">${k2}</text>`), `heat map column k2 = ${k2}`);
  }
}

// ---------------------------------------------------------------- ticks

const rangeArb = fc.tuple(
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 3, max: 12 }),
);

test('niceTicks: cover [min, max], increase, evenly spaced, count within bounds', () => {
  fc.assert(
    fc.property(rangeArb, ([a, b, count]) => {
      const ticks = niceTicks(a, b, count);
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      assert.ok(ticks.length >= 2 && ticks.length <= count, `length ${ticks.length} for count ${count}`);
      // Lower bound: the step is the smallest of 1, 2, 5 × 10^e that fits (ratio ≤ 2.5 apart).
      if (hi - lo > 1e-9 * Math.max(Math.abs(lo), Math.abs(hi))) assert.ok(ticks.length >= (count - 3) / 2.5 + 1);
      assert.ok(ticks[0] <= lo && ticks[ticks.length - 1] >= hi, `${ticks} covers [${lo}, ${hi}]`);
      const step = ticks[1] - ticks[0];
      assert.ok(step > 0);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      assert.ok([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-9), `nice step ${step}`);
      for (let i = 1; i < ticks.length; i++) {
        assert.ok(ticks[i] > ticks[i - 1]);
        assert.ok(Math.abs(ticks[i] - ticks[i - 1] - step) <= 1e-9 * Math.max(step, Math.abs(ticks[i])), 'even spacing');
      }
    }),
    { numRuns: 2000 },
  );
});

test('niceTicks: known answers, short decimals, degenerate ranges, bad input', () => {
  assert.deepEqual(niceTicks(0, 1, 6), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.3, 4), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(0, 20, 6), [0, 5, 10, 15, 20]);
  assert.deepEqual(niceTicks(-0.008, 0.579, 5), [-0.2, 0, 0.2, 0.4, 0.6]);
  assert.deepEqual(niceTicks(0, 0, 5), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(niceTicks(0, 2e-5, 4), [0, 1e-5, 2e-5]);
  const same = niceTicks(3, 3, 5);
  assert.ok(same[0] < 3 && same[same.length - 1] > 3);
  assert.ok(!niceTicks(-1, 1, 5).some((t) => Object.is(t, -0)));
  assert.throws(() => niceTicks(NaN, 1), /E_ARG/);
  assert.throws(() => niceTicks(0, Infinity), /E_ARG/);
  assert.deepEqual(formatTicks([0, 0.2, 0.4]), ['0.0', '0.2', '0.4']);
  assert.deepEqual(formatTicks([-10, 0, 10]), ['\u221210', '0', '10']);
  assert.deepEqual(formatTicks([0, 1e-5, 2e-5]), ['0', '1.0e-5', '2.0e-5']);
});

// ---------------------------------------------------------------- CSV

test('csvField: RFC 4180 quoting round-trips any string', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(-0), '-0');
  assert.equal(csvField(null), '');
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.oneof(fc.string(), fc.constantFrom(',', '"', '\r\n', '\n', '""', ' , ')), { minLength: 1, maxLength: 5 }), {
        maxLength: 6,
      }),
      (rows) => {
        const width = rows[0]?.length ?? 1;
        const header = Array.from({ length: width }, (_, i) => `c${i}`);
        const fitted = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
        // A single empty field on a line is indistinguishable from an empty line; RFC 4180 agrees.
        if (width === 1 && fitted.some((r) => r[0] === '')) return;
        assert.deepEqual(parseCsv(toCsv(header, fitted)), [header, ...fitted]);
      },
    ),
    { numRuns: 500 },
  );
});

test('cellsCsv and curvesCsv: shape, header, exact numbers, sorted order', () => {
  const result = exampleForkResult({ k1s: [0, 3], k2s: [1, 4, 9], repeats: 2, alphas: 11 });
  // Labels with commas and quotes must survive.
  result.cells[0].a = 'main@0+1, "ckpt"';
  result.cells = [...result.cells].reverse();
  const rows = parseCsv(cellsCsv(result));
  assert.deepEqual(rows[0], [...CELL_COLUMNS]);
  assert.equal(rows.length, 1 + 2 * result.cells.length);
  for (const r of rows) assert.equal(r.length, CELL_COLUMNS.length);
  const col = (name: string) => CELL_COLUMNS.indexOf(name as (typeof CELL_COLUMNS)[number]);
  const keys = rows.slice(1).map((r) => [Number(r[col('k1')]), Number(r[col('k2')]), Number(r[col('repeat')])]);
  assert.deepEqual(keys, [...keys].sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]), 'sorted by k1, k2, repeat');
  for (const cell of result.cells) {
    for (const split of ['train', 'test'] as const) {
      const row = rows.find((r) =>
        r[col('k1')] === String(cell.k1) && r[col('k2')] === String(cell.k2) &&
        r[col('repeat')] === String(cell.repeat) && r[col('split')] === split
      )!;
      assert.ok(row, `row for ${cell.k1}, ${cell.k2}, ${cell.repeat}, ${split}`);
      const m = cell[split];
      for (const [name, v] of Object.entries({ ...m, weightDistance: cell.weightDistance })) {
        if (typeof v !== 'number') continue;
        assert.equal(parseFloat(row[col(name)]), v, `${name} round-trips exactly`);
      }
      assert.equal(row[col('a')], cell.a);
      assert.equal(row[col('connected')], String(cell.connected));
    }
  }
  const curves = parseCsv(curvesCsv(result));
  assert.deepEqual(curves[0], [...CURVE_COLUMNS]);
  assert.equal(curves.length, 1 + result.cells.length * 2 * 11);
  const pts = result.cells.flatMap((c) => [...c.train.curve, ...c.test.curve]);
  const values = new Set(pts.flatMap((p) => [p.loss, p.error, p.gap, p.alpha]));
  for (const r of curves.slice(1)) {
    assert.equal(r.length, CURVE_COLUMNS.length);
    for (const i of [4, 5, 6, 7]) assert.ok(values.has(parseFloat(r[i])), `exact value ${r[i]}`);
  }
});

// ---------------------------------------------------------------- SVG primitives

test('escapeXml escapes markup and drops characters XML forbids', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>\u0001`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('viridis: endpoints of the matplotlib map, ramp colours distinct', () => {
  for (let t = 0; t <= 1; t += 0.05) assert.match(viridis(t), /^#[0-9a-f]{6}$/);
  const dist = (a: string, b: string) =>
    [1, 3, 5].reduce((s, i) => s + Math.abs(parseInt(a.slice(i, i + 2), 16) - parseInt(b.slice(i, i + 2), 16)), 0);
  assert.ok(dist(viridis(0), '#440154') <= 12, viridis(0));
  assert.ok(dist(viridis(0.5), '#21918c') <= 12, viridis(0.5));
  assert.ok(dist(viridis(1), '#fde725') <= 12, viridis(1));
  assert.equal(new Set(sequentialColors(6)).size, 6);
});

test('lineChart: negative values get a zero line; non-finite points break the line, never print', () => {
  const svg = lineChart([
    { name: 'gap <test>', points: [{ x: 0, y: 0 }, { x: 0.5, y: -0.3 }, { x: 0.75, y: NaN }, { x: 1, y: 0 }] },
    { name: 'one point', points: [{ x: 0.5, y: 0.2 }] },
  ], { title: 'A & B', xLabel: 'α', yLabel: 'gap', markers: true });
  assertWellFormed(svg);
  assert.ok(!/NaN|undefined|Infinity/.test(svg));
  assert.ok(svg.includes('stroke="#666"'), 'zero line');
  assert.ok(svg.includes('gap &lt;test&gt;') && svg.includes('A &amp; B'));
  assertWellFormed(lineChart([], { title: 'empty' }));
  assert.ok(lineChart([], {}).includes('no data'));
});

test('heatMap: missing and NaN cells are hatched, values labelled, colour bar drawn', () => {
  const svg = heatMap([[0.1, null], [NaN, 2.5]], { rowLabels: ['0', '5'], colLabels: ['1', '10'], title: 'B', legendLabel: '%' });
  assertWellFormed(svg);
  assert.ok(!/NaN|undefined|Infinity/.test(svg));
  assert.ok(svg.includes('>0.1</text>') && svg.includes('>2.5</text>'));
  assert.ok(svg.includes('>missing</text>'));
  assertWellFormed(heatMap([[1]], { rowLabels: ['a'], colLabels: ['b'] }));
  const panels = smallMultiples([lineChart([], { width: 100, height: 80 }), lineChart([], { width: 100, height: 80 })], {
    panelWidth: 100,
    panelHeight: 80,
    legend: [{ name: 'x', color: '#000' }],
  });
  assertWellFormed(panels);
  assert.equal((panels.match(/<svg/g) ?? []).length, 3);
});

// ---------------------------------------------------------------- HTML report

test('forkReportHtml: full grid — well-formed, every section, headline from the data', () => {
  const result = exampleForkResult();
  const html = forkReportHtml(result);
  assertCleanReport(html, result);
  for (
    const h of [
      'Cells',
      'Barrier curves along the path',
      'Barrier grid',
      'Barrier against k1',
      'Distances against k2',
      'Parent training',
      'Provenance',
    ]
  ) {
    assert.ok(html.includes(`<h2>${h}</h2>`), h);
  }
  // Headline: at the largest common k2 the barrier falls from k1 = 0 to k1 = 8.
  const from = (100 * exampleErrorBarrier(0, 20)).toFixed(2);
  const to = (100 * exampleErrorBarrier(8, 20)).toFixed(2);
  assert.ok(html.includes(`the test error barrier falls from ${from} % at k1 = 0 to ${to} % at k1 = 8`), 'headline');
  assert.equal((html.match(/<tr><td>/g) ?? []).length, result.cells.length, 'one table row per pair');
  assert.ok(html.includes('<details><summary>Resolved spec (JSON)</summary><pre>{'));
  assert.ok(html.includes('synthetic-example') && html.includes('main-branch'));
  assert.ok(html.includes('✓') && html.includes('✗'));
});

test('forkReportHtml: single cell, single k1, repeats, diagonal, partial grid, steps, empty', () => {
  const single = exampleForkResult({ k1s: [2], k2s: [5] });
  const h1 = forkReportHtml(single);
  assertCleanReport(h1, single);
  assert.ok(h1.includes('The single cell k1 = 2, k2 = 5 has a test error barrier of'));

  const oneK1 = exampleForkResult({ k1s: [0], k2s: [1, 5, 20] });
  const h2 = forkReportHtml(oneK1);
  assertCleanReport(h2, oneK1);
  assert.ok(h2.includes('At k1 = 0, the test error barrier rises from'));

  const reps = exampleForkResult({ k1s: [0, 4], k2s: [2, 8], repeats: 3 });
  const h3 = forkReportHtml(reps);
  assertCleanReport(h3, reps);
  // 12 pair rows (every repeat) and 4 rows of the over-repeats summary.
  assert.equal((h3.match(/<tr><td>/g) ?? []).length, 12 + 4, 'every repeat in the table, and each cell over repeats');
  assert.ok(h3.includes('Over repeats') && h3.includes('95 % CI'));
  assert.ok(h3.includes('mean of up to 3 repeats'));
  // The heat map shows the mean over repeats.
  const mean = (exampleErrorBarrier(0, 8) * (1 + 1.03 + 1.06) / 3) * 100;
  assert.ok(h3.includes(`>${mean.toFixed(2)}</text>`), 'repeat mean in heat map');

  const diag = exampleForkResult({ k1s: [0, 2, 4, 8], k2s: [2, 6, 8, 10], keep: (a, b) => a + b === 10, units: 'steps' });
  const h4 = forkReportHtml(diag);
  assertCleanReport(h4, diag);
  assert.ok(h4.includes('With k1 + k2 = 10 steps, the test error barrier falls from'));
  assert.ok(h4.includes('k1 + k2 = 10</text>'), 'single diagonal series in the legend');
  assert.ok(h4.includes('>missing</text>'), 'cells off the diagonal are hatched');

  const empty = exampleForkResult({ k1s: [], k2s: [] });
  const h5 = forkReportHtml(empty);
  assertWellFormed(h5);
  assert.ok(h5.includes('The run recorded no cells.') && !/NaN|undefined/.test(h5));
});

test('forkReportHtml: negative loss barriers plotted as they are; hostile strings escaped', () => {
  const result = exampleForkResult({ k1s: [6, 10], k2s: [1, 3], lossShift: -0.05 });
  assert.ok(result.cells.every((c) => c.test.lossBarrier < 0));
  result.cells[0].a = '<script>alert("x")</script> & co';
  result.provenance.gitCommit = 'abc"def';
  (result.spec as Record<string, unknown>).note = '</pre><b>not bold</b>';
  result.parentLoss = [];
  const html = forkReportHtml(result);
  assertCleanReport(html, result);
  assert.ok(!html.includes('<script>') && html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'));
  assert.ok(html.includes('&lt;/pre&gt;&lt;b&gt;not bold'));
  assert.ok(html.includes('4 pairs have negative test loss barriers'));
  assert.ok(html.includes('No parent loss was recorded.'));
  assert.ok(/<line[^>]*stroke="#666"/.test(html), 'zero line in the loss barrier plots');
  assert.ok(html.includes('\u2212'), 'negative values printed with a minus sign');
});
