/**
 * `sweep collect` over synthetic sweeps (a generator of grid points with realistic fork
 * cells): the tidy CSV has one row per cell × seed and parses back (through an RFC 4180
 * parser written here) to the very numbers; the summaries pool exactly the seed keys and
 * repeats, with means, n and intervals checked against the CSV's rows; the summary CSV
 * matches the summaries; the HTML report draws one heat-map cell per (k1, k2), error bars
 * where replicates vary, and escapes every name; Python's csv module reads the CSV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FORK_DEFAULTS, type ForkSpec } from '../core/experiments/fork_spec.ts';
import { repeatSeeds } from '../core/experiments/repeat_seeds.ts';
import type { CurvePoint, ForkCell, SplitMetrics } from '../core/experiments/result_schema.ts';
import { displayMinus, formatSig } from '../core/report/svg.ts';
import { sweepReportHtml } from '../core/report/sweep_html.ts';
import {
  summarizeSweep,
  SUMMARY_STAT_SUFFIXES,
  SWEEP_METRICS,
  type SweepSummary,
  sweepSummaryCsv,
  sweepTidyCsv,
  TIDY_CELL_COLUMNS,
} from '../core/sweep/collect.ts';
import { type GridValue, REPLICATE_KEYS, type SweepCollection, type SweepPointResult } from '../core/sweep/sweep_result.ts';
import { seeded, skipOutsideCi } from './util.ts';

// ---------------------------------------------------------------- CSV parsing

/** RFC 4180: quoted fields with doubled quotes, CRLF after every record (the last too). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else inQuotes = false;
    } else if (ch === '"') {
      assert.ok(field === '' && !wasQuoted, `a quote may only open a field (offset ${i})`);
      inQuotes = true;
      wasQuoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      wasQuoted = false;
    } else if (ch === '\r') {
      assert.equal(text[i + 1], '\n', `CR without LF at ${i}`);
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      wasQuoted = false;
      i++;
    } else {
      assert.ok(ch !== '\n', `bare LF at ${i}`);
      assert.ok(!wasQuoted, `text after a closing quote at ${i}`);
      field += ch;
    }
  }
  assert.ok(!inQuotes, 'unterminated quoted field');
  assert.ok(field === '' && row.length === 0, 'the last record ends with CRLF');
  return rows;
}

/** The rows as objects keyed by the header, after checking every row's width. */
function records(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...body] = parseCsv(text);
  for (const r of body) assert.equal(r.length, header.length, 'every row as wide as the header');
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))) };
}

/** A field read back as the type of `like` (the value it should hold). */
function decode(field: string, like: unknown): unknown {
  if (like === null || like === undefined) return field === '' ? null : field;
  if (typeof like === 'number') return parseFloat(field);
  if (typeof like === 'boolean') return field === 'true' ? true : field === 'false' ? false : field;
  if (typeof like === 'string') return field;
  return JSON.parse(field);
}

const sameNumber = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

// ---------------------------------------------------------------- synthetic sweeps

interface SweepShape {
  seedInits: number[];
  seedOrders: number[] | null;
  lrs: number[];
  models: string[] | null;
  milestones: number[][] | null;
  k1s: number[];
  /** null: the diagonal k2 = total − k1. */
  k2s: number[] | null;
  repeats: number;
  regression: boolean;
  mode: 'pairs' | 'main-branch';
  seed: number;
  shuffle: boolean;
}

const HOSTILE = ['mlp-2', '<b>x & "y"</b>', "vit's, lite", 'lenet5\r\nnext'];

const shapeArb: fc.Arbitrary<SweepShape> = fc.record({
  seedInits: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }),
  seedOrders: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 2 })),
  lrs: fc.uniqueArray(fc.constantFrom(0.01, 0.05, 0.1, 0.2), { minLength: 1, maxLength: 2 }),
  models: fc.option(fc.uniqueArray(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 2 })),
  milestones: fc.option(fc.constantFrom([[], [2, 4]], [[3]], [[1, 2], [5]])),
  k1s: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }).map((a) => a.sort((x, y) => x - y)),
  k2s: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }).map((a) => a.sort((x, y) => x - y))),
  repeats: fc.integer({ min: 1, max: 3 }),
  regression: fc.boolean(),
  mode: fc.constantFrom('pairs' as const, 'main-branch' as const),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  shuffle: fc.boolean(),
});

/** Barrier metrics of one pair that obey docs/metrics.md's relations (floor ≤ barrier, curve ends at 0 gap). */
function split(r: () => number, regression: boolean, train: boolean): SplitMetrics {
  const errA = regression ? 0.02 + 0.2 * r() : 0.01 + 0.1 * r();
  const errB = errA * (0.9 + 0.2 * r());
  const errorFloor = 0.5 * Math.abs(errA - errB);
  const errorBarrierExcess = r() < 0.1 ? 0 : 0.2 * r() ** 2;
  const errorBarrier = errorFloor + errorBarrierExcess;
  const lossA = regression ? errA ** 2 : -Math.log(1 - errA) + 0.03 * r();
  const lossB = regression ? errB ** 2 : -Math.log(1 - errB) + 0.03 * r();
  // Loss barriers may be negative (a convex stretch); −0 must keep its sign through the CSV.
  const u = r();
  const lossBarrier = u < 0.05 ? -0 : u < 0.2 ? -0.01 * r() : 0.5 * r() * (train ? 0.8 : 1);
  const curve: CurvePoint[] = [0, 0.25, 0.5, 0.75, 1].map((alpha) => {
    const bump = 4 * alpha * (1 - alpha);
    return {
      alpha,
      loss: (1 - alpha) * lossA + alpha * lossB + bump * lossBarrier,
      error: (1 - alpha) * errA + alpha * errB + bump * errorBarrier,
      gap: bump * lossBarrier,
    };
  });
  return {
    lossBarrier,
    lossBarrierAlpha: 0.5,
    errorBarrier,
    errorFloor,
    errorBarrierExcess,
    normalizedBarrier: errorBarrier / (1 - 0.5 * (errA + errB)),
    lossA,
    lossB,
    accuracyA: 1 - errA,
    accuracyB: 1 - errB,
    curve,
    predictionDistance: r() < 0.05 ? 1e-300 : 0.3 * r(),
    predictionDistanceSymmetric: 0.3 * r(),
  };
}

function cellsOf(spec: ForkSpec, regression: boolean, r: () => number): ForkCell[] {
  const cells: ForkCell[] = [];
  for (const k1 of spec.k1) {
    for (const k2 of spec.k2 ?? [spec.total! - k1]) {
      for (let repeat = 0; repeat < spec.repeats; repeat++) {
        const s = repeatSeeds(spec, repeat);
        const test = split(r, regression, false);
        const weightDistance = (1 + 3 * r()) * Math.log1p(k2);
        cells.push({
          k1,
          k2,
          repeat,
          seeds: { init: s.init, order: s.order, children: s.children, augment: s.augment },
          a: spec.mode === 'pairs' ? `child(seed ${s.children[0]})` : `main@${k1}+${k2}`,
          b: `child(seed ${s.children.at(-1)})`,
          checkpointA: `ckpt/a_${k1}_${k2}_${repeat}.safetensors`,
          checkpointB: `ckpt/b_${k1}_${k2}_${repeat}.safetensors`,
          train: split(r, regression, true),
          test,
          weightDistance,
          weightDistanceByLayer: [{ name: 'fc1', distance: weightDistance * 0.8 }, { name: 'fc2', distance: weightDistance * 0.6 }],
          connected: test.errorBarrier < spec.threshold,
        });
      }
    }
  }
  return cells;
}

/** Cartesian product of the grid, in grid-key order. */
function product(grid: [string, GridValue[]][]): Record<string, GridValue>[] {
  return grid.reduce<Record<string, GridValue>[]>((acc, [k, vs]) => acc.flatMap((p) => vs.map((v) => ({ ...p, [k]: v }))), [{}]);
}

function makeSweep(shape: SweepShape, name = 'sweep <k1/k2> & "lr"'): SweepCollection {
  const r = seeded(shape.seed);
  const grid: [string, GridValue[]][] = [['seedInit', shape.seedInits], ['lr', shape.lrs]];
  if (shape.models) grid.push(['model', shape.models]);
  if (shape.seedOrders) grid.push(['seedOrder', shape.seedOrders]);
  if (shape.milestones) grid.push(['milestones', shape.milestones]);
  const total = Math.max(...shape.k1s) + 3;
  const points: SweepPointResult[] = product(grid).map((point) => {
    const spec: ForkSpec = {
      ...FORK_DEFAULTS,
      ...(point as Partial<ForkSpec>),
      mode: shape.mode,
      unit: 'steps',
      k1: shape.k1s,
      k2: shape.k2s,
      total: shape.k2s ? null : total,
      repeats: shape.repeats,
      data: shape.regression ? 'waveform' : 'mnist',
    };
    if (shape.regression && !shape.models) spec.model = 'siren';
    const task = shape.regression ? 'regression' : 'classification';
    return { point, spec, task, cells: cellsOf(spec, shape.regression, r) };
  });
  if (shape.shuffle) {
    for (let i = points.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [points[i], points[j]] = [points[j], points[i]];
      points[i].cells.reverse();
    }
  }
  return {
    sweepId: `sha256-${shape.seed.toString(16)}`,
    name,
    gridKeys: grid.map(([k]) => k),
    points,
    provenance: {
      backend: 'cpu <wasm>',
      runtime: 'node 20',
      ridgelineVersion: '0.1.0',
      gitCommit: 'abc&def',
      collectedAt: '2026-01-02T03:04:05.000Z',
    },
  };
}

const isSeedKey = (k: string) => (REPLICATE_KEYS as readonly string[]).includes(k);

/** The tidy CSV's column holding a cell value derived from the metric (SWEEP_METRICS). */
const METRIC_FROM_ROW: Record<string, (row: Record<string, string>) => number> = Object.fromEntries(
  SWEEP_METRICS.map((m) => [
    m,
    m === 'testAccuracy'
      ? (row: Record<string, string>) => 0.5 * (parseFloat(row.testAccuracyA) + parseFloat(row.testAccuracyB))
      : (row: Record<string, string>) => parseFloat(row[m]),
  ]),
);

// ---------------------------------------------------------------- tidy CSV

test('sweepTidyCsv: one row per grid point × k1 × k2 × repeat, every value parsed back exactly', () => {
  fc.assert(
    fc.property(shapeArb, (shape) => {
      const c = makeSweep(shape);
      const { header, rows } = records(sweepTidyCsv(c));
      assert.equal(new Set(header).size, header.length, 'unique column names');
      for (const k of Object.keys(FORK_DEFAULTS)) assert.ok(header.includes(k === 'k1' || k === 'k2' ? `${k}Grid` : k), `spec column ${k}`);
      assert.deepEqual(header.slice(-TIDY_CELL_COLUMNS.length), [...TIDY_CELL_COLUMNS]);
      const cells = c.points.flatMap((p) => p.cells.map((cell) => ({ p, cell })));
      assert.equal(rows.length, cells.length, 'one row per cell × seed');
      const k1s = new Set(shape.k1s);
      const seen = new Set<string>();
      for (const { p, cell } of cells) {
        const matches = rows.filter((row) =>
          c.gridKeys.every((k) => JSON.stringify(decode(row[k], p.point[k])) === JSON.stringify(p.point[k])) &&
          Number(row.k1) === cell.k1 && Number(row.k2) === cell.k2 && Number(row.repeat) === cell.repeat
        );
        assert.equal(matches.length, 1, `exactly one row for ${JSON.stringify(p.point)} ${cell.k1}/${cell.k2}/${cell.repeat}`);
        const row = matches[0];
        seen.add(JSON.stringify(row));
        assert.ok(k1s.has(cell.k1));
        for (const split of ['train', 'test'] as const) {
          for (
            const f of [
              'lossBarrier',
              'errorBarrier',
              'errorFloor',
              'errorBarrierExcess',
              'normalizedBarrier',
              'accuracyA',
              'accuracyB',
              'lossA',
              'lossB',
              'predictionDistance',
            ] as const
          ) {
            const col = `${split}${f[0].toUpperCase()}${f.slice(1)}`;
            assert.ok(sameNumber(parseFloat(row[col]), cell[split][f]), `${col}: ${row[col]} vs ${cell[split][f]}`);
          }
        }
        assert.ok(sameNumber(parseFloat(row.weightDistance), cell.weightDistance));
        assert.equal(row.connected, String(cell.connected));
        assert.equal(row.task, p.task);
        assert.deepEqual([row.repeatSeedInit, row.repeatSeedOrder, row.repeatSeedAugment].map(Number), [
          cell.seeds.init,
          cell.seeds.order,
          cell.seeds.augment,
        ]);
        assert.deepEqual(JSON.parse(row.repeatSeedChildren), cell.seeds.children);
        // The resolved spec, key by key (lists as JSON, null as an empty field).
        for (const [k, v] of Object.entries(p.spec)) {
          const col = k === 'k1' || k === 'k2' ? `${k}Grid` : k;
          assert.deepEqual(decode(row[col], v), v, `spec ${k}`);
        }
      }
      assert.equal(seen.size, rows.length, 'no row serves two cells');
      // The same sweep in another order writes the same bytes.
      const reordered = { ...c, points: [...c.points].reverse().map((p) => ({ ...p, cells: [...p.cells].reverse() })) };
      assert.equal(sweepTidyCsv(reordered), sweepTidyCsv(c));
    }),
    { numRuns: 60 },
  );
});

// ---------------------------------------------------------------- summaries

test('summarizeSweep: groups pool seed keys and repeats only; means, n and intervals match the rows', () => {
  fc.assert(
    fc.property(shapeArb, (shape) => {
      const c = makeSweep(shape);
      const s = summarizeSweep(c);
      const { rows } = records(sweepTidyCsv(c));
      const pointKeys = c.gridKeys.filter((k) => !isSeedKey(k));
      assert.deepEqual(s.pointKeys, pointKeys);
      assert.deepEqual(s.replicateKeys, [...c.gridKeys.filter(isSeedKey), 'repeat']);
      assert.deepEqual(s.gridKeys, c.gridKeys);
      assert.equal(s.sweepId, c.sweepId);
      // Replicates per group: every seed combination of the grid times the repeats.
      const replicates = shape.seedInits.length * (shape.seedOrders?.length ?? 1) * shape.repeats;
      const settings = shape.lrs.length * (shape.models?.length ?? 1) * (shape.milestones?.length ?? 1);
      const cellsPerSetting = shape.k1s.length * (shape.k2s?.length ?? 1);
      assert.equal(s.groups.length, settings * cellsPerSetting, 'one group per (setting, k1, k2): seeds pooled, other keys kept apart');
      const ids = s.groups.map((g) => JSON.stringify([pointKeys.map((k) => g.point[k]), g.k1, g.k2]));
      assert.equal(new Set(ids).size, ids.length, 'groups are distinct');
      for (const g of s.groups) {
        assert.deepEqual(Object.keys(g.point), pointKeys, 'a group names no seed key');
        const here = rows.filter((row) =>
          pointKeys.every((k) => JSON.stringify(decode(row[k], g.point[k])) === JSON.stringify(g.point[k])) &&
          Number(row.k1) === g.k1 && Number(row.k2) === g.k2
        );
        assert.equal(g.n, replicates);
        assert.equal(here.length, g.n, 'n = the rows of this group');
        assert.equal(g.task, shape.regression ? 'regression' : 'classification');
        for (const m of SWEEP_METRICS) {
          const values = here.map(METRIC_FROM_ROW[m]);
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          const sm = g.metrics[m];
          assert.equal(sm.n, g.n);
          assert.ok(Math.abs(sm.mean - mean) <= 1e-12 * Math.max(1, Math.abs(mean)), `${m}: mean ${sm.mean} vs ${mean}`);
          assert.ok(sm.ci95[0] <= sm.mean && sm.mean <= sm.ci95[1], `${m}: the interval holds the mean`);
          if (g.n === 1) assert.deepEqual([sm.sd, ...sm.ci95], [0, sm.mean, sm.mean]);
          else assert.ok(sm.sd >= 0 && sm.ci95[1] - sm.ci95[0] >= 0);
        }
      }
      // Deterministic order (setting values, then k1, k2), whatever order the points came in.
      const reordered = { ...c, points: [...c.points].reverse().map((p) => ({ ...p, cells: [...p.cells].reverse() })) };
      assert.deepEqual(summarizeSweep(reordered), s);
      // JSON-friendly: plain data that survives a round trip.
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    }),
    { numRuns: 60 },
  );
});

test('summarizeSweep: a hand-computed example (two lr values × seedInit 0, 1 × two repeats)', () => {
  const c = makeSweep({
    seedInits: [0, 1],
    seedOrders: null,
    lrs: [0.05, 0.1],
    models: null,
    milestones: null,
    k1s: [0, 2],
    k2s: [3],
    repeats: 2,
    regression: false,
    mode: 'pairs',
    seed: 7,
    shuffle: true,
  });
  let v = 0;
  for (const p of c.points) for (const cell of p.cells) cell.test.errorBarrier = p.point.lr === 0.05 ? [0.1, 0.2, 0.3, 0.4][v++ % 4] : 0.5;
  const s = summarizeSweep(c);
  assert.deepEqual(s.groups.map((g) => [g.point.lr, g.k1, g.k2, g.n]), [[0.05, 0, 3, 4], [0.05, 2, 3, 4], [0.1, 0, 3, 4], [0.1, 2, 3, 4]]);
  const a = s.groups[0].metrics.testErrorBarrier;
  assert.ok(Math.abs(a.mean - 0.25) < 1e-15);
  assert.ok(Math.abs(a.sd - Math.sqrt(0.05 / 3)) < 1e-15);
  // t(0.975, 3) = 3.182446305: the interval is mean ± t·sd/√n.
  assert.ok(Math.abs(a.ci95[1] - (0.25 + (3.182446305 * Math.sqrt(0.05 / 3)) / 2)) < 1e-9);
  assert.deepEqual(s.groups[2].metrics.testErrorBarrier, { n: 4, mean: 0.5, sd: 0, ci95: [0.5, 0.5] });
  assert.deepEqual(s.replicateKeys, ['seedInit', 'repeat']);
});

test('sweepSummaryCsv: one row per group, point keys, k1, k2, n, then mean, sd and interval of each metric', () => {
  fc.assert(
    fc.property(shapeArb, (shape) => {
      const s = summarizeSweep(makeSweep(shape));
      const { header, rows } = records(sweepSummaryCsv(s));
      const stats = SWEEP_METRICS.flatMap((m) => SUMMARY_STAT_SUFFIXES.map((x) => `${m}${x}`));
      assert.deepEqual(header, [...s.pointKeys, 'k1', 'k2', 'n', ...stats]);
      assert.equal(rows.length, s.groups.length);
      s.groups.forEach((g, i) => {
        const row = rows[i];
        for (const k of s.pointKeys) assert.deepEqual(decode(row[k], g.point[k]), g.point[k], k);
        assert.deepEqual([row.k1, row.k2, row.n].map(Number), [g.k1, g.k2, g.n]);
        for (const m of SWEEP_METRICS) {
          const sm = g.metrics[m];
          assert.deepEqual([`${m}Mean`, `${m}Sd`, `${m}Ci95Low`, `${m}Ci95High`].map((h) => parseFloat(row[h])), [
            sm.mean,
            sm.sd,
            sm.ci95[0],
            sm.ci95[1],
          ]);
        }
      });
    }),
    { numRuns: 40 },
  );
});

test('summary CSV: a grid key named like a fixed column gets the suffix Grid', () => {
  const c = makeSweep({
    seedInits: [0],
    seedOrders: null,
    lrs: [0.1],
    models: null,
    milestones: null,
    k1s: [0],
    k2s: [2],
    repeats: 1,
    regression: false,
    mode: 'pairs',
    seed: 1,
    shuffle: false,
  });
  c.gridKeys.push('n');
  for (const p of c.points) p.point.n = 'x,y';
  const { header, rows } = records(sweepSummaryCsv(summarizeSweep(c)));
  assert.deepEqual(header.slice(0, 5), ['lr', 'nGrid', 'k1', 'k2', 'n']);
  assert.equal(rows[0].nGrid, 'x,y');
  // A grid key that is no spec option still gets a column in the tidy CSV (no clash there).
  assert.equal(records(sweepTidyCsv(c)).rows[0].n, 'x,y');
});

// ---------------------------------------------------------------- HTML

/** Elements balanced and every '<' the start of a tag: the markup parses as written. */
function assertBalanced(html: string): void {
  const stack: string[] = [];
  const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const text = html.replace(/^<!doctype html>/i, '');
  let i = 0;
  for (const m of text.matchAll(/<(\/)?([a-zA-Z][\w:-]*)(?:\s+[\w:-]+(?:="[^"<>]*")?)*\s*(\/)?>/g)) {
    assert.ok(!/[<>]/.test(text.slice(i, m.index)), `stray markup character before ${m.index}: ${text.slice(i, m.index).slice(0, 60)}`);
    i = m.index! + m[0].length;
    const name = m[2].toLowerCase();
    if (m[1]) assert.equal(stack.pop(), name, `</${name}> at ${m.index}`);
    else if (!m[3] && !VOID.has(name)) stack.push(name);
  }
  assert.ok(!/[<>]/.test(text.slice(i)));
  assert.deepEqual(stack, []);
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function settingLabel(s: SweepSummary, point: Record<string, GridValue>): string {
  return s.pointKeys.map((k) =>
    `${k} = ${point[k] === null ? 'none' : typeof point[k] === 'object' ? JSON.stringify(point[k]) : String(point[k])}`
  ).join(', ') || 'all grid points';
}

test('sweepReportHtml: a heat-map cell per (k1, k2) of each setting, error bars per point, names escaped', () => {
  fc.assert(
    fc.property(shapeArb, (shape) => {
      const c = makeSweep(shape);
      const s = summarizeSweep(c);
      const html = sweepReportHtml(c, s);
      assertBalanced(html);
      for (const bad of ['NaN', 'undefined', 'Infinity', '[object Object]', '<script', '<b>x']) {
        assert.ok(!html.includes(bad), `contains ${bad}`);
      }
      assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)|<link|url\(/.test(html), 'self-contained');
      assert.ok(
        html.includes(`<title>Sweep report: ${esc(c.name)}</title>`) && html.includes(esc(c.sweepId)) && html.includes('abc&amp;def'),
      );
      const figures = [...html.matchAll(/<figure>([\s\S]*?)<figcaption>([\s\S]*?)<\/figcaption><\/figure>/g)].map((m) => ({
        svg: m[1],
        caption: m[2],
      }));
      const bySetting = new Map<string, typeof s.groups>();
      for (const g of s.groups) {
        bySetting.set(settingLabel(s, g.point), [...(bySetting.get(settingLabel(s, g.point)) ?? []), g]);
      }
      const heats = figures.filter((f) => /^<svg[^>]*aria-label="B\(k1, k2\)/.test(f.svg));
      assert.equal(heats.length, bySetting.size, 'one heat map per setting');
      for (const [label, groups] of bySetting) {
        const heat = heats.filter((f) => f.caption.startsWith(`${esc(label)}:`));
        assert.equal(heat.length, 1, `heat map of ${label}`);
        const titles = [...heat[0].svg.matchAll(/<rect [^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => m[1]);
        assert.equal(titles.length, groups.length, 'one cell per (k1, k2)');
        for (const g of groups) {
          const v = g.metrics.testErrorBarrier.mean;
          const text = g.task === 'regression' ? formatSig(v, 4) : displayMinus((100 * v).toFixed(2));
          assert.ok(titles.includes(esc(`${g.k1}, ${g.k2}: ${text}`)), `cell ${g.k1}, ${g.k2} reads ${text}`);
          assert.ok(heat[0].svg.includes(`>${esc(text)}</text>`), 'value printed in the cell');
        }
        // Barriers against k1: each group with a spread has an error bar in both panels.
        const chart = figures.filter((f) => !/^<svg[^>]*aria-label="B\(k1, k2\)/.test(f.svg) && f.caption.startsWith(`${esc(label)}.`));
        assert.equal(chart.length, 1, `barrier figure of ${label}`);
        const bars = [...chart[0].svg.matchAll(/<path d="M[^"]*V[^"]*h6[^"]*h6"[^>]*><title>([^<]*)<\/title><\/path>/g)].map((m) => m[1]);
        const spread = (m: 'testErrorBarrier' | 'trainLossBarrier') =>
          groups.filter((g) => g.metrics[m].ci95[1] > g.metrics[m].ci95[0]).length;
        assert.equal(bars.length, spread('testErrorBarrier') + spread('trainLossBarrier'), 'an error bar per point with a spread');
        assert.ok(bars.every((b) => b.includes('95 % t interval')));
        if (groups.some((g) => g.n > 1)) assert.ok(bars.length > 0, 'replicates give error bars');
      }
      // Several settings: a comparison figure with one legend entry per setting.
      if (bySetting.size > 1) {
        const cmp = figures.find((f) => f.caption.startsWith('Every '));
        assert.ok(cmp, 'comparison figure');
        for (const label of bySetting.keys()) assert.ok(cmp.svg.includes(`>${esc(label)}</text>`), `legend ${label}`);
      }
      // The groups table: one row per group.
      assert.equal((html.match(/<tr><td/g) ?? []).length, s.groups.length);
      if (shape.regression) assert.ok(html.includes('test RMSE barrier'));
    }),
    { numRuns: 40 },
  );
});

test('sweepReportHtml: diagonal grids, hostile names, and a sweep without cells', () => {
  const c = makeSweep({
    seedInits: [0, 1, 2],
    seedOrders: null,
    lrs: [0.1],
    models: ['</td><i>'],
    milestones: null,
    k1s: [0, 1, 3],
    k2s: null,
    repeats: 1,
    regression: false,
    mode: 'pairs',
    seed: 3,
    shuffle: false,
  }, '<script>alert(1)</script>');
  const html = sweepReportHtml(c, summarizeSweep(c));
  assertBalanced(html);
  assert.ok(!html.includes('<script>') && html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!html.includes('</td><i>') && html.includes('&lt;/td&gt;&lt;i&gt;'));
  assert.ok(html.includes('Cells lie on k1 + k2 = 6'));
  assert.ok(html.includes('>missing</text>'), 'off-diagonal cells hatched');
  const empty: SweepCollection = { ...c, points: c.points.map((p) => ({ ...p, cells: [] })) };
  const h = sweepReportHtml(empty, summarizeSweep(empty));
  assertBalanced(h);
  assert.ok(h.includes('The sweep recorded no cells') && !/NaN|undefined/.test(h));
  assert.equal(records(sweepTidyCsv(empty)).rows.length, 0);
  assert.equal(records(sweepSummaryCsv(summarizeSweep(empty))).rows.length, 0);
});

// ---------------------------------------------------------------- a Python consumer

test("Python's csv module reads the tidy and summary CSVs: same rows, same columns, numbers as floats", (t) => {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return skipOutsideCi(t, `${python} is missing`);
  const c = makeSweep({
    seedInits: [0, 1],
    seedOrders: [0, 3],
    lrs: [0.05, 0.1],
    models: HOSTILE.slice(1, 3),
    milestones: [[], [2, 4]],
    k1s: [0, 2],
    k2s: [1, 4],
    repeats: 2,
    regression: false,
    mode: 'pairs',
    seed: 11,
    shuffle: true,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-sweep-'));
  try {
    const files = { tidy: sweepTidyCsv(c), summary: sweepSummaryCsv(summarizeSweep(c)) };
    for (const [k, text] of Object.entries(files)) writeFileSync(join(dir, `${k}.csv`), text);
    // What pandas.read_csv relies on: the csv dialect (excel: comma, double quote, CRLF),
    // equal widths, numeric text that float() accepts, JSON lists in one field.
    const script = String.raw`
import csv, json, sys
out = {}
for name in ('tidy', 'summary'):
    with open(sys.argv[1] + '/' + name + '.csv', newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body), 'ragged rows'
    out[name] = {'header': header, 'rows': len(body)}
    if name == 'tidy':
        i = header.index('testErrorBarrier')
        out[name]['testErrorBarrier'] = [float(r[i]) for r in body]
        j = header.index('milestones')
        out[name]['milestones'] = [json.loads(r[j]) for r in body]
        out[name]['models'] = sorted(set(r[header.index('model')] for r in body))
print(json.dumps(out))
`;
    const r = spawnSync(python, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    const tidy = records(files.tidy);
    const summary = records(files.summary);
    assert.deepEqual(got.tidy.header, tidy.header);
    assert.equal(got.tidy.rows, c.points.reduce((n, p) => n + p.cells.length, 0));
    assert.deepEqual(got.tidy.testErrorBarrier, tidy.rows.map((row) => parseFloat(row.testErrorBarrier)));
    assert.deepEqual(got.tidy.milestones, tidy.rows.map((row) => JSON.parse(row.milestones)));
    assert.deepEqual(got.tidy.models, [...HOSTILE.slice(1, 3)].sort());
    assert.deepEqual(got.summary.header, summary.header);
    assert.equal(got.summary.rows, summary.rows.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
