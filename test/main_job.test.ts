/**
 * The main job (`npm start`: the mnist-mlp2 preset) shows the k1/k2 paper's headline, on a
 * reduced version (the first 2 000 digits of each split, the preset's 3 repeats): the test
 * error barrier at k1 = 0 lies above the one at the last k1 by more than the spread between
 * repeats, the train loss barrier falls too, and the report states it with the numbers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ForkResult } from '../core/experiments/result_schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'runtimes', 'node.js');

const mainJob = (out: string, jobs: string): ForkResult => {
  const r = spawnSync(process.execPath, [
    cli,
    'fork',
    '--preset',
    'mnist-mlp2',
    '--limit',
    '2000',
    '--backend',
    'cpu',
    '--jobs',
    jobs,
    '--out',
    out,
  ], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 600_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult;
};

test('the main job, reduced to 2 000 digits: the barrier falls with k1 by more than the spread over repeats, and the report says so', () => {
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-main-job-'));
  const single = mkdtempSync(join(tmpdir(), 'ridgeline-main-job-1-'));
  try {
    // As `npm start` runs it (a pool of one worker per core here), and in one process: the same bits.
    const result = mainJob(out, 'auto');
    const inProcess = mainJob(single, '1');
    assert.deepEqual(result.cells, inProcess.cells);
    assert.deepEqual(result.summary, inProcess.summary);
    assert.equal(result.spec.repeats, 3);
    const f = result.finding!;
    assert.equal(f.firstK1, 0);
    assert.equal(f.lastK1, 2);
    assert.equal(f.first.n, 3);
    assert.ok(f.drop > f.spread, `test error barrier ${f.first.mean} ± ${f.first.sd} at k1 = 0 vs ${f.last.mean} ± ${f.last.sd} at k1 = 2`);
    assert.ok(f.holds);
    const at = (k1: number) => result.summary.find((s) => s.k1 === k1)!.metrics;
    assert.ok(
      at(0).trainLossBarrier.mean - at(2).trainLossBarrier.mean > Math.max(at(0).trainLossBarrier.sd, at(2).trainLossBarrier.sd),
      'train loss barrier falls with k1',
    );
    // Past the fork the barrier is (nearly) its endpoint floor; at k1 = 0 the path adds most of it.
    assert.ok(at(0).testErrorBarrierExcess.mean > 0.5 * at(0).testErrorBarrier.mean);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.includes(f.text.replace(/&/g, '&amp;')), 'the report states the finding');
    assert.ok(html.includes('Over repeats') && html.includes('endpoint floor'));
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(single, { recursive: true, force: true });
  }
});
