/**
 * `ridgeline hull` end to end through the CLI on real (small) training: result files with
 * finite numbers in range, resume without retraining, a recomputed split equal to the
 * original, --json, and bad input (options, foreign checkpoints).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HullResult } from '../core/experiments/hull_runner.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-hull-'));
const DATA = 'synthetic:gauss:n=800,dim=16,classes=4';
const SMALL = [
  'hull',
  '--data',
  DATA,
  '--model',
  'mlp-2',
  '--width',
  '32',
  '--batch',
  '32',
  '--unit',
  'steps',
  '--splits',
  '0,20,60',
  '--train',
  '60',
  '--children',
  '3',
  '--samples',
  '10',
  '--backend',
  'cpu',
];

function ridgeline(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const readResult = (dir: string) => JSON.parse(readFileSync(join(dir, 'hull.json'), 'utf8')) as HullResult;
const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

// One run shared by the tests below that only read it.
const out = tmp();
const first = ridgeline([...SMALL, '--out', out]);

test('hull writes hull.json (schema, spec, seeds, provenance), hull.csv and a self-contained hull.html, numbers finite and in range', () => {
  assert.equal(first.status, 0, first.stderr);
  const r = readResult(out);
  assert.equal(r.schemaVersion, 1);
  assert.equal(r.kind, 'hull');
  assert.equal(r.spec.children, 3);
  assert.deepEqual(r.seeds, { init: 0, order: 0, hull: 0, children: [[1, 2, 3], [4, 5, 6]] });
  assert.equal(r.provenance.backend, 'cpu');
  assert.match(r.provenance.runtime, /^node /);
  assert.ok(r.timings.some((t) => t.phase === 'hull evaluation' && t.seconds > 0));
  assert.deepEqual(r.splits.map((s) => [s.split, s.step, s.endStep]), [[0, 0, 60], [20, 20, 80], [60, 60, 120]]);
  for (const s of r.splits) {
    assert.equal(s.hulls.length, 2);
    for (const v of [s.pConv.mean, s.pRand.mean, s.accuracy.endpoints, s.accuracy.convex, s.accuracy.random]) assert.ok(inUnit(v), `${v}`);
    assert.ok(s.pConv.std >= 0 && s.pConv.std <= 0.5 && s.pRand.std >= 0 && s.pRand.std <= 0.5);
    assert.ok(s.accuracy.endpoints > 0.5, `trained children classify well above chance (${s.accuracy.endpoints})`);
    for (const v of [s.loss.endpoints, s.loss.convex, s.loss.random]) assert.ok(Number.isFinite(v) && v >= 0);
    assert.ok(s.distance.endpointEndpoint > 0 && s.distance.convEnd > 0, 'children with different data orders differ');
    assert.ok(
      Math.abs(s.distance.randEnd - s.distance.convEnd) <= 1e-5 * s.distance.convEnd,
      "W_rand lies at the convex sample's distance",
    );
    const d = s.diversity;
    assert.ok(inUnit(d.interHull) && d.interHull <= d.intraHull && d.intraHull <= d.endpoint && d.endpoint <= 1);
    assert.ok(Math.abs(d.endpoint - s.accuracy.endpoints) < 1e-12, "mean |C_i^j| / n is the endpoints' mean accuracy");
    for (const h of s.hulls) {
      assert.equal(h.samples.length, 10);
      assert.equal(h.singularValues.length, 3);
      assert.ok(h.singularValues.every((v, i) => v >= 0 && (i === 0 || v <= h.singularValues[i - 1])));
      assert.ok(h.singularValuesCentered[2] <= 1e-6 * h.singularValuesCentered[0], 'three centered points span at most 2 dimensions');
      assert.equal(h.rankCentered, 2);
      for (const c of h.checkpoints) assert.ok(existsSync(join(out, c)), c);
      assert.ok(h.samples.every((q) => q.conv === q.lossConv < q.lossEnd && q.lossEnd === h.endpointLoss[q.end]));
    }
  }
  const csv = readFileSync(join(out, 'hull.csv'), 'utf8').trim().split('\r\n');
  assert.equal(csv.length, 1 + 3, 'a header and a row per split');
  assert.match(csv[0], /^split,step,endStep,pConv,pConvStd,pRand,pRandStd,/);
  const html = readFileSync(join(out, 'hull.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /P_conv/);
  assert.doesNotMatch(html, /NaN|undefined/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, no network');
  assert.match(first.stdout, /report: .*hull\.html/);
  assert.match(first.stderr, /split-20\/hull-1\/child-2 \(order seed 6\)/, 'progress names each child line and its seed');
});

test('started again with the same --out, the run resumes: nothing retrained or recomputed, same result', () => {
  const cell = join(out, 'cells', 'split-20.json');
  const mtime = statSync(cell).mtimeMs;
  const again = ridgeline([...SMALL, '--out', out, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming the run/);
  assert.doesNotMatch(again.stderr, /order seed/, 'no training line ran');
  assert.equal(statSync(cell).mtimeMs, mtime);
  const printed = JSON.parse(again.stdout.trim().split('\n').pop()!) as HullResult;
  assert.deepEqual(printed.splits, readResult(out).splits);
});

test('a split whose cell and child checkpoint are gone is retrained from the parent checkpoint and equals the original', () => {
  const before = readResult(out).splits.find((s) => s.step === 20)!;
  rmSync(join(out, 'cells', 'split-20.json'));
  for (const suffix of ['.safetensors', '.optim.safetensors']) {
    rmSync(join(out, 'checkpoints', 'split-20', 'hull-1', `child-2-step-80${suffix}`));
  }
  const r = ridgeline([...SMALL, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /split-20\/hull-1\/child-2/);
  assert.doesNotMatch(r.stderr, /split-20\/hull-0\/child-0 \(order/, 'children with checkpoints are not retrained');
  assert.deepEqual(readResult(out).splits.find((s) => s.step === 20), before);
});

test('bad input: option values give E_SPEC errors naming the culprit; foreign checkpoints are reported and recomputed, never used', () => {
  const cases: [string[], RegExp][] = [
    [[...SMALL, '--children', '1', '--out', tmp()], /E_SPEC: --children: must be ≥ 2 \(a hull needs at least two endpoints\), got 1/],
    [[...SMALL, '--samples', '0', '--out', tmp()], /E_SPEC: --samples: must be ≥ 1/],
    [[...SMALL, '--hulls', '0', '--out', tmp()], /E_SPEC: --hulls: must be ≥ 1/],
    [[...SMALL, '--train', '0', '--out', tmp()], /E_SPEC: --train: .*must be > 0/],
    [[...SMALL, '--k1', '3', '--out', tmp()], /E_SPEC: hull: unknown option --k1/],
    [['hull', '--data', DATA, '--splits', '0', '--train', '1'], /E_SPEC: hull: --out DIR is required/],
    [['hull', '--data', DATA, '--train', '1', '--out', tmp()], /E_SPEC: --splits: give the split points k as a list in epochs/],
    // Split points and lengths are checked once steps per epoch are known (800 train examples, batch 64).
    [
      ['hull', '--data', DATA, '--splits', '0,0.01', '--train', '1', '--out', tmp()],
      /E_SPEC: --splits: split points 0 and 0.01 epochs both fall at step 0 \(12 steps per epoch\)/,
    ],
    [
      ['hull', '--data', DATA, '--splits', '0', '--train', '0.01', '--out', tmp()],
      /E_SPEC: --train: 0.01 epochs is 0 steps at 12 steps per epoch/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = ridgeline(args);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  // A child checkpoint replaced by one of another run (another model, width 16) is never
  // used: it fails its identity check, is reported by name and recomputed.
  const other = tmp();
  assert.equal(ridgeline([...SMALL, '--width', '16', '--splits', '0', '--hulls', '1', '--out', other]).status, 0);
  const dir = tmp();
  assert.equal(ridgeline([...SMALL, '--splits', '0', '--hulls', '1', '--out', dir]).status, 0);
  const clean = readResult(dir).splits;
  rmSync(join(dir, 'cells', 'split-0.json'));
  copyFileSync(
    join(other, 'checkpoints', 'split-0', 'hull-0', 'child-1-step-60.safetensors'),
    join(dir, 'checkpoints', 'split-0', 'hull-0', 'child-1-step-60.safetensors'),
  );
  const foreign = ridgeline([...SMALL, '--splits', '0', '--hulls', '1', '--out', dir]);
  assert.equal(foreign.status, 0, foreign.stderr);
  assert.match(foreign.stdout + foreign.stderr, /checkpoint split-0\/hull-0\/child-1-step-60 is not usable .*recomputing/);
  assert.deepEqual(readResult(dir).splits, clean);
  // A parent checkpoint holding another step than its name says is recomputed too.
  rmSync(join(dir, 'checkpoints', 'split-0'), { recursive: true });
  rmSync(join(dir, 'cells', 'split-0.json'));
  for (const suffix of ['.safetensors', '.optim.safetensors']) {
    copyFileSync(join(out, 'checkpoints', `parent-step-20${suffix}`), join(dir, 'checkpoints', `parent-step-0${suffix}`));
  }
  const wrongStep = ridgeline([...SMALL, '--splits', '0', '--hulls', '1', '--out', dir]);
  assert.equal(wrongStep.status, 0, wrongStep.stderr);
  assert.match(
    wrongStep.stdout + wrongStep.stderr,
    /checkpoint parent-step-0 is not usable \(it belongs elsewhere \(.*step 20 instead of 0/,
  );
  assert.deepEqual(readResult(dir).splits, clean);
});
