/**
 * Real runs for the explorer tests, made by the CLI as a user would: a small fork on
 * synthetic data with its loss surface, λmax/λmin along a short training run, a convex
 * hull run, a two-point sweep, re-basin at two widths, two checkpoints trained on a slice of the bundled MNIST
 * digits, the barrier between them (`barrier --json`, also written as a run with `--out`)
 * and their weight matching (`align --json`, saved as align.json).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ForkResult } from '../core/experiments/result_schema.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');

/** Runs the CLI, failing the test with its stderr if it fails. */
export function ridgeline(args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `ridgeline ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The fork spec the page's form and the CLI both run (CLI option names). */
export const FORK_SPEC: Record<string, string> = {
  data: 'synthetic:gauss:n=400,dim=12,classes=4',
  model: 'mlp-2',
  width: '16',
  batch: '32',
  unit: 'steps',
  k1: '0,10',
  steps: '40',
  alphas: '5',
};
/** The checkpoints' model and data, as the barrier view's fields take them. */
export const PAIR = { model: 'mlp-2', width: '16', data: 'mnist', limit: '600', alphas: '7' };

/** Every run makeFixtures writes under runs/, as the index sorts them, with its kind. */
export const RUN_KINDS_MADE: [string, string][] = [
  ['align-pair', 'align'],
  ['fork-synthetic', 'fork'],
  ['hessian-track', 'hessian'],
  ['hull-synthetic', 'hull'],
  ['pair-barrier', 'barrier'],
  ['rebasin-widths', 'rebasin'],
  ['sweep-lr', 'sweep'],
];

export interface Fixtures {
  /** Holds runs/ (the runs folder) and ckpt/ (the two checkpoints, outside it). */
  dir: string;
  runs: string;
  fork: ForkResult;
  a: string;
  b: string;
  /** What `barrier --json --backend cpu` printed for (a, b) on PAIR. */
  barrier: Record<string, unknown>;
}

export function makeFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-explorer-'));
  const runs = join(dir, 'runs');
  mkdirSync(runs);
  const opts = (o: Record<string, string>) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, v]);
  ridgeline(['fork', ...opts(FORK_SPEC), '--backend', 'cpu', '--out', join(runs, 'fork-synthetic')]);
  ridgeline(['surface', '--run', join(runs, 'fork-synthetic'), '--grid', '5', '--range=-0.5,1.5', '--backend', 'cpu']);
  const { k1: _k, alphas: _al, unit: _u, ...net } = FORK_SPEC;
  ridgeline(['hessian', ...opts(net), '--every', '10', '--subset', '200', '--backend', 'cpu', '--out', join(runs, 'hessian-track')]);
  const { steps: _st, ...hullNet } = net;
  ridgeline([
    'hull',
    ...opts(hullNet),
    '--unit',
    'steps',
    '--splits',
    '0,10',
    '--train',
    '30',
    '--children',
    '3',
    '--samples',
    '5',
    '--hulls',
    '1',
    '--backend',
    'cpu',
    '--out',
    join(runs, 'hull-synthetic'),
  ]);
  ridgeline([
    'rebasin',
    '--data',
    FORK_SPEC.data,
    '--model',
    'mlp-2',
    '--widths',
    '8,16',
    '--batch',
    '32',
    '--epochs',
    '3',
    '--alphas',
    '5',
    '--backend',
    'cpu',
    '--out',
    join(runs, 'rebasin-widths'),
  ]);
  const sweepSpec = join(dir, 'sweep.json');
  const { steps: _s, ...base } = FORK_SPEC;
  writeFileSync(
    sweepSpec,
    JSON.stringify({ name: 'lr', base: { ...base, k1: [0, 10], steps: 30, width: 16, batch: 32, alphas: 5 }, grid: { lr: [0.05, 0.1] } }),
  );
  ridgeline([
    'sweep',
    'run',
    sweepSpec,
    '--store',
    join(dir, 'sweep-store'),
    '--out',
    join(runs, 'sweep-lr'),
    '--jobs',
    '1',
    '--backend',
    'cpu',
  ]);
  const { alphas: _a, ...trainOpts } = PAIR;
  for (const [name, seed] of [['A', '1'], ['B', '2']]) {
    ridgeline([
      'train',
      ...opts(trainOpts),
      '--steps',
      '30',
      '--lr',
      '0.05',
      '--seed-init',
      seed,
      '--seed-order',
      seed,
      '--backend',
      'cpu',
      '--out',
      join(dir, 'ckpt', name),
    ]);
  }
  const [a, b] = ['A', 'B'].map((n) => join(dir, 'ckpt', n, 'final.safetensors'));
  const barrier = JSON.parse(
    ridgeline(['barrier', ...opts(PAIR), '--a', a, '--b', b, '--backend', 'cpu', '--json', '--out', join(runs, 'pair-barrier')]),
  ) as Record<string, unknown>;
  mkdirSync(join(runs, 'align-pair'));
  writeFileSync(
    join(runs, 'align-pair', 'align.json'),
    ridgeline(['align', ...opts(PAIR), '--a', a, '--b', b, '--method', 'weight', '--backend', 'cpu', '--json']),
  );
  const fork = JSON.parse(readFileSync(join(runs, 'fork-synthetic', 'result.json'), 'utf8')) as ForkResult;
  return { dir, runs, fork, a, b, barrier };
}
