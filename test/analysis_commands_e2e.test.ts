/** The analysis commands (predict, layerwise, toy, evolve, surface) end to end through the CLI on small real fork runs. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const ridgeline = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });

const run = mkdtempSync(join(tmpdir(), 'ridgeline-analysis-'));
const forked = ridgeline([
  'fork',
  '--data',
  'synthetic:gauss:n=600,dim=12,classes=4',
  '--model',
  'mlp-3',
  '--width',
  '24',
  '--batch',
  '32',
  '--unit',
  'steps',
  '--k1',
  '0,30',
  '--steps',
  '90',
  '--alphas',
  '7',
  '--backend',
  'cpu',
  '--out',
  run,
]);

test('predict on a fork run: measured curve matches the run, predictions are finite and written with a report', () => {
  assert.equal(forked.status, 0, forked.stderr);
  const r = ridgeline(['predict', '--run', run, '--subset', '200', '--alphas', '7', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.pairs.length, 2);
  assert.equal(result.source.subset, 200);
  for (const p of result.pairs) {
    assert.equal(p.measured[0], 0);
    assert.equal(p.measured[6], 0);
    assert.equal(p.prop1[0], 0);
    assert.ok(p.curvature.q1 > 0 && p.curvature.q2 > 0, 'cross-entropy Hessians of trained nets are positive along Δ here');
    assert.ok([p.prop1Barrier, p.correctedBarrier, p.measuredBarrier].every(Number.isFinite));
  }
  for (const f of ['predict.json', 'predict.csv', 'predict.html']) assert.ok(existsSync(join(run, f)), f);
  assert.match(readFileSync(join(run, 'predict.html'), 'utf8'), /<svg/);
});

test('layerwise on a fork run: every layer and cumulative set, the full set equals the full-path gap', () => {
  const r = ridgeline(['layerwise', '--run', run, '--subset', '200', '--alphas', '7', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const pred = JSON.parse(readFileSync(join(run, 'predict.json'), 'utf8'));
  for (const [i, p] of result.pairs.entries()) {
    assert.deepEqual(p.sets.map((s: { set: string }) => s.set), ['0', '2', '4', '0', '0+2', '0+2+4']);
    const all = p.sets[5];
    all.measured.forEach((b: number, k: number) => assert.ok(Math.abs(b - pred.pairs[i].measured[k]) < 1e-9, `α index ${k}`));
    assert.ok(
      Math.abs(all.prop2Max - pred.pairs[i].prop1Barrier) < 1e-9 * (1 + Math.abs(all.prop2Max)),
      'Prop. 2 over all layers is Prop. 1',
    );
  }
  assert.ok(existsSync(join(run, 'layerwise.html')));
});

test('toy landscapes: closed forms reproduced by sampling through the barrier code', () => {
  const r = ridgeline(['toy', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.equal(rows.length, 7);
  for (const row of rows) assert.ok(Math.abs(row.sampled - row.closedForm) < 1e-5 * (1 + row.closedForm), JSON.stringify(row));
});

test('bad input: predict without pairs, or with both sources, names what is missing', () => {
  const none = ridgeline(['predict']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /E_SPEC: predict: give --run DIR \(a fork run\) or both --a FILE and --b FILE/);
  const missing = ridgeline(['layerwise', '--run', join(run, 'nope')]);
  assert.match(missing.stderr, /E_SPEC: --run .*nope: no result.json there/);
  const sub = ridgeline(['predict', '--run', run, '--subset', '0']);
  assert.match(sub.stderr, /E_SPEC: --subset: expected an integer ≥ 1/);
});

test('evolve and surface on a run that records several child checkpoints per fork point', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-evolve-'));
  const f = ridgeline([
    'fork',
    '--data',
    'synthetic:gauss:n=600,dim=12,classes=4',
    '--model',
    'mlp-2',
    '--width',
    '24',
    '--batch',
    '32',
    '--unit',
    'steps',
    '--k1',
    '0,20',
    '--k2',
    '10,40',
    '--alphas',
    '5',
    '--backend',
    'cpu',
    '--out',
    dir,
  ]);
  assert.equal(f.status, 0, f.stderr);
  const e = ridgeline(['evolve', '--run', dir, '--json']);
  assert.equal(e.status, 0, e.stderr);
  const points = JSON.parse(e.stdout.trim().split('\n').pop()!);
  assert.equal(points.length, 4);
  for (const p of points) {
    assert.ok(p.angleFromOrigin > 0 && p.angleFromOrigin < 180 && p.angleFromFork > 0 && p.angleFromFork < 180);
    assert.ok(p.planeCosine >= -1 && p.planeCosine <= 1);
  }
  assert.ok(
    points.filter((p: { k2: number }) => p.k2 === 40).every((p: { planeCosine: number }) => Math.abs(p.planeCosine - 1) < 1e-12),
    'the final plane determines itself',
  );
  assert.ok(existsSync(join(dir, 'evolve.html')) && existsSync(join(dir, 'evolve.csv')));
  const s = ridgeline(['surface', '--run', dir, '--k1', '20', '--k2', '40', '--grid', '4', '--range', '-1,2', '--json']);
  assert.equal(s.status, 0, s.stderr);
  const grid = JSON.parse(s.stdout.trim().split('\n').pop()!);
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  const cell = result.cells.find((c: { k1: number; k2: number }) => c.k1 === 20 && c.k2 === 40);
  const [zero, one] = [grid.s.indexOf(0), grid.s.indexOf(1)];
  assert.equal(grid.loss[zero][one], cell.train.lossA, 'the surface at A is A');
  assert.equal(grid.loss[one][zero], cell.train.lossB, 'the surface at B is B');
  assert.ok(existsSync(join(dir, 'surface-k1-20-k2-40.html')));
  const bad = ridgeline(['surface', '--run', dir, '--k1', '7']);
  assert.match(bad.stderr, /E_SPEC: --k1: no cell with k1 = 7; valid: 0, 20/);
});

test('a damaged result.json: every analysis stops with one E_DAMAGED line naming it; the fork rebuilds it from its verified cells', () => {
  const copy = mkdtempSync(join(tmpdir(), 'ridgeline-analysis-damaged-'));
  cpSync(run, copy, { recursive: true });
  const good = readFileSync(join(copy, 'result.json'), 'utf8');
  for (const damage of ['{}', good.slice(0, good.length >> 1), good.replace(/"checkpointA": "[^"]*"/, '"checkpointA": 7')]) {
    writeFileSync(join(copy, 'result.json'), damage);
    for (const command of ['predict', 'layerwise', 'evolve', 'surface']) {
      const r = ridgeline([command, '--run', copy]);
      assert.equal(r.status, 1, `${command}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('E_'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^E_DAMAGED: .*result\.json is damaged/);
      assert.ok(!/\n\s+at /.test(r.stderr), `${command}: a stack trace`);
    }
  }
  const again = ridgeline([
    'fork',
    '--data',
    'synthetic:gauss:n=600,dim=12,classes=4',
    '--model',
    'mlp-3',
    '--width',
    '24',
    '--batch',
    '32',
    '--unit',
    'steps',
    '--k1',
    '0,30',
    '--steps',
    '90',
    '--alphas',
    '7',
    '--backend',
    'cpu',
    '--out',
    copy,
  ]);
  assert.equal(again.status, 0, again.stderr);
  const rebuilt = JSON.parse(readFileSync(join(copy, 'result.json'), 'utf8'));
  assert.deepEqual(rebuilt.cells, JSON.parse(good).cells);
  rmSync(copy, { recursive: true, force: true });
});
