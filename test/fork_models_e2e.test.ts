/**
 * The papers' architectures end to end through the CLI on real (small) training: a LeNet-5
 * fork on the MNIST digits on both backends (same curves within a stated tolerance), a
 * ResNet-20 fork with augmentation and --reset-bn, and the SIREN regression preset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ForkResult } from '../core/experiments/result_schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-models-'));

function fork(args: string[]): { result: ForkResult; stdout: string; report: string } {
  const out = tmp();
  const r = spawnSync(process.execPath, [cli, 'fork', ...args, '--out', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, CI: 'true' },
  });
  assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
  return {
    result: JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult,
    stdout: r.stdout,
    report: readFileSync(join(out, 'report.html'), 'utf8'),
  };
}

function checkCurves(result: ForkResult): void {
  for (const c of result.cells) {
    for (const split of [c.train, c.test]) {
      const last = split.curve.length - 1;
      assert.equal(split.curve[0].gap, 0);
      assert.equal(split.curve[last].gap, 0);
      assert.equal(split.lossBarrier, Math.max(...split.curve.slice(1, -1).map((p) => p.gap)));
      assert.ok(split.curve.every((p) => Number.isFinite(p.loss) && Number.isFinite(p.error)));
    }
  }
}

// The lenet5-mnist preset, shortened: 800 digits, 2 epochs, forks at 0 and 1 epoch.
const LENET = ['--preset', 'lenet5-mnist', '--limit', '400', '--epochs', '2', '--k1', '0,1', '--batch', '64', '--alphas', '3'];

test('lenet5-mnist (shortened to 400 digits, 10 steps per line) runs on cpu and webgpu; the two backends give the same curves within 2e-3', () => {
  const cpu = fork([...LENET, '--backend', 'cpu']).result;
  const gpu = fork([...LENET, '--backend', 'webgpu']).result;
  assert.equal(cpu.spec.model, 'lenet5');
  assert.equal((cpu.spec.resolved as { parameters: number }).parameters, 61_706);
  assert.equal(gpu.provenance.backend, 'webgpu');
  checkCurves(cpu);
  checkCurves(gpu);
  // 10 Adam steps on 320 digits: far from trained, but well above chance (0.1).
  for (const c of cpu.cells) assert.ok(c.test.accuracyA > 0.25, `LeNet-5 learns digits (test accuracy ${c.test.accuracyA})`);
  // Different summation orders in the convolution products grow through ~100 training
  // steps; the curves still agree to a few 1e-4 in loss.
  cpu.cells.forEach((c, i) => {
    const g = gpu.cells[i];
    for (const split of ['train', 'test'] as const) {
      c[split].curve.forEach((p, k) => {
        const q = g[split].curve[k];
        assert.ok(
          Math.abs(p.loss - q.loss) <= 2e-3 * Math.max(1, p.loss),
          `cell ${i} ${split} α=${p.alpha}: cpu ${p.loss} vs webgpu ${q.loss}`,
        );
      });
    }
  });
});

test('resnet20 with augmentation and --reset-bn: statistics recomputed at each point; spec and results record it', () => {
  const args = [
    '--model',
    'resnet20',
    '--data',
    'mnist',
    '--limit',
    '160',
    '--batch',
    '16',
    '--unit',
    'steps',
    '--steps',
    '4',
    '--k1',
    '0,2',
    '--alphas',
    '3',
    '--lr',
    '0.05',
    '--backend',
    'cpu',
    '--augment',
  ];
  const interpolatedRun = fork(args);
  const resetRun = fork([...args, '--reset-bn']);
  const [interpolated, reset] = [interpolatedRun.result, resetRun.result];
  // The report says which of the two was done to the statistics (docs/models.md).
  assert.match(interpolatedRun.report, /running statistics were interpolated like the weights/);
  assert.match(resetRun.report, /running statistics were recomputed on the training data/);
  assert.equal(reset.spec.resetBn, true);
  assert.equal(reset.spec.augment, true);
  assert.ok((reset.spec.resolved as { bufferValues: number }).bufferValues > 0);
  checkCurves(reset);
  // Same training (the endpoints are identical); only interior points change with reset BN.
  reset.cells.forEach((c, i) => {
    const p = interpolated.cells[i];
    assert.equal(c.weightDistance, p.weightDistance);
    assert.notEqual(c.train.curve[1].loss, p.train.curve[1].loss);
  });
});

test('siren-waveform (shortened) is a regression: MSE loss, RMSE as error, the table says so', () => {
  const { result, stdout } = fork(['--preset', 'siren-waveform', '--epochs', '8', '--k1', '0,4', '--alphas', '5', '--backend', 'cpu']);
  assert.equal(result.task, 'regression');
  assert.equal(result.spec.normalize, 'none');
  checkCurves(result);
  for (const c of result.cells) {
    // error = RMSE = √MSE at the endpoints.
    assert.ok(Math.abs(c.train.curve[0].error - Math.sqrt(c.train.curve[0].loss)) < 1e-12);
  }
  assert.match(stdout, /test RMSE barrier/);
});
