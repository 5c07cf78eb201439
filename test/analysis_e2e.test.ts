/** predict, layerwise and toy end to end through the CLI on a small real fork run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const ridgeline = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });

const run = mkdtempSync(join(tmpdir(), 'ridgeline-analysis-'));
const forked = ridgeline(['fork', '--data', 'synthetic:gauss:n=600,dim=12,classes=4', '--model', 'mlp-3', '--width', '24', '--batch', '32', '--unit', 'steps', '--k1', '0,30', '--steps', '90', '--alphas', '7', '--backend', 'cpu', '--out', run]);

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
    assert.ok(Math.abs(all.prop2Max - pred.pairs[i].prop1Barrier) < 1e-9 * (1 + Math.abs(all.prop2Max)), 'Prop. 2 over all layers is Prop. 1');
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
