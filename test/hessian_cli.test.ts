/**
 * `ridgeline hessian` end to end: --help, checkpoint mode (equal to the core API on the same
 * weights and subset), tracking mode files, non-convergence (exit 1 with the residual
 * unless --allow-unconverged), and bad input (E_SPEC listing valid values, E_SHAPE for a
 * checkpoint that does not fit the model).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { loadDataset } from '../core/data/registry.ts';
import { DatasetDerivatives, subsetOf } from '../core/lmc/dataset_derivatives.ts';
import { extremeEigenvalues } from '../core/lmc/hessian.ts';
import { createModel } from '../core/nn/registry.ts';
import { loadWeights } from '../core/train/checkpoint.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-hessian-'));
const DATA = 'synthetic:gauss:n=400,dim=16,classes=4';
const SMALL = ['--data', DATA, '--model', 'mlp-2', '--width', '16', '--backend', 'cpu'];
const ridgeline = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

/** A checkpoint of the SMALL model after a few steps (shared by the tests). */
const checkpoint = (() => {
  const dir = tmp();
  const r = ridgeline(['train', ...SMALL, '--steps', '20', '--batch', '32', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'final.safetensors');
})();

test('hessian --help lists the modes, options and the non-convergence rule', () => {
  const r = ridgeline(['hessian', '--help']);
  assert.equal(r.status, 0);
  for (
    const flag of [
      '--checkpoint FILE',
      '--subset N',
      '--tol X',
      '--max-iter N',
      '--seed N',
      '--method lanczos|power',
      '--eval-batch N',
      '--every N',
      '--steps N',
      '--epochs N',
      '--init FILE',
      '--allow-unconverged',
      '--json',
      '--out DIR',
      '--lr X',
    ]
  ) {
    assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
  }
  assert.match(r.stdout, /did not converge \(residual …\)/);
  assert.match(ridgeline(['--help']).stdout, /hessian .*\n.*convexity /s);
});

test('checkpoint mode: the JSON equals the core API on the same weights and recorded subset', async () => {
  const r = ridgeline(['hessian', ...SMALL, '--checkpoint', checkpoint, '--subset', '150', '--eval-batch', '64', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = lastJson(r.stdout);
  assert.equal(result.mode, 'checkpoint');
  assert.equal(result.subset, 150);
  assert.equal(result.split, 'train');
  assert.equal(result.points.length, 1);
  const p = result.points[0];
  assert.equal(p.converged, true);
  assert.ok(p.relativeResiduals.max <= 1e-3 && p.relativeResiduals.min <= 1e-3);
  assert.equal(p.ratio, p.lambdaMin / p.lambdaMax);
  const be = await createCpuBackend();
  const data = await loadDataset(DATA, nodeFileStore());
  const model = createModel('mlp-2', 16, 4, { width: 16 });
  const d = new DatasetDerivatives(be, model, await loadWeights(nodeFileStore(), checkpoint, model), subsetOf(data.train, 150), {
    batch: 64,
  });
  const want = await extremeEigenvalues((v) => d.hvp(v), d.dim);
  assert.equal(p.loss, await d.loss());
  d.dispose();
  // Same arithmetic in the same order: bit-identical.
  assert.equal(p.lambdaMax, want.lambdaMax);
  assert.equal(p.lambdaMin, want.lambdaMin);
});

test('tracking mode: measures at steps 0, N, 2N and the end; writes hessian.json and hessian.csv', () => {
  const out = tmp();
  const r = ridgeline(['hessian', ...SMALL, '--every', '4', '--steps', '10', '--batch', '32', '--subset', '100', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /λ_max .* λ_min .* λmin\/λmax/);
  const result = JSON.parse(readFileSync(join(out, 'hessian.json'), 'utf8'));
  assert.equal(result.mode, 'training');
  assert.equal(result.training.steps, 10);
  assert.deepEqual(result.points.map((p: { step: number }) => p.step), [0, 4, 8, 10]);
  const csv = readFileSync(join(out, 'hessian.csv'), 'utf8').trim().split('\r\n');
  assert.equal(csv.length, 1 + 4);
  assert.ok(csv[0].startsWith('step,epoch,loss,lambda_max,lambda_min,ratio,converged'));
  assert.equal(Number(csv[2].split(',')[3]), result.points[1].lambdaMax, 'CSV numbers round-trip');
});

test('non-convergence: exit 1 with "did not converge (residual …)"; --allow-unconverged exits 0 and still flags it', () => {
  const args = ['hessian', ...SMALL, '--checkpoint', checkpoint, '--subset', '100', '--max-iter', '2', '--tol', '1e-9'];
  const r = ridgeline(args);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /did not converge \(residual \d\.\d+e[-+]\d+ for λ_max, \d\.\d+e[-+]\d+ for λ_min/);
  assert.match(r.stdout, /did not converge \(residual/, 'the table row shows the failure instead of numbers');
  const allowed = ridgeline([...args, '--allow-unconverged', '--json']);
  assert.equal(allowed.status, 0, allowed.stderr);
  const p = lastJson(allowed.stdout).points[0];
  assert.equal(p.converged, false);
  assert.ok(p.residuals.max > 0 && p.relativeResiduals.min > 1e-9);
});

test('bad input: E_SPEC lists valid values; a checkpoint of another shape is E_SHAPE', () => {
  const cases: [string[], RegExp][] = [
    [
      ['hessian', ...SMALL, '--checkpoint', checkpoint, '--method', 'qr'],
      /E_SPEC: hessian: --method: unknown value 'qr'; valid: lanczos, power/,
    ],
    [
      ['hessian', '--model', 'resnet9', '--data', DATA, '--checkpoint', checkpoint],
      /E_SPEC: unknown model 'resnet9'; valid: logreg, linear-L, mlp-L/,
    ],
    [['hessian', ...SMALL, '--checkpoint', checkpoint, '--tol', '2'], /E_SPEC: hessian: --tol: expected a number in \(0, 1\), got '2'/],
    [['hessian', ...SMALL, '--checkpoint', checkpoint, '--max-iter', '0'], /E_SPEC: hessian: --max-iter: expected an integer ≥ 1, got '0'/],
    [
      ['hessian', ...SMALL, '--checkpoint', checkpoint, '--batch', '100'],
      /E_SPEC: hessian: --batch is the training minibatch of tracking mode; the rows per HVP batch are --eval-batch/,
    ],
    [['hessian', ...SMALL, '--checkpoint', checkpoint, '--every', '5'], /E_SPEC: hessian: --every belongs to tracking mode/],
    [
      ['hessian', ...SMALL, '--every', '5'],
      /E_SPEC: hessian: give --checkpoint FILE, or --every N with exactly one of --steps N \/ --epochs N/,
    ],
    [['hessian', ...SMALL, '--checkpoint', checkpoint, '--fast'], /E_SPEC: hessian: unknown option --fast; valid: .*--checkpoint/],
    [
      ['hessian', '--data', DATA, '--model', 'mlp-2', '--width', '32', '--checkpoint', checkpoint],
      /E_SHAPE: .*tensor '0\.weight' has shape \[16, 16\] but model mlp-2 \(2-layer MLP, width 32, ReLU\) needs \[32, 16\]/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const r = ridgeline(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
