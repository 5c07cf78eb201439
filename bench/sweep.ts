/**
 * A 12-cell sweep on this machine: wall time of `ridgeline sweep run --jobs 2` against the
 * same cells run one after another as 12 `ridgeline fork` runs (the ratio, goal ≤ 0.55×),
 * and the share of work the graph's deduplication saves (trunks shared across k1 values).
 *
 * The cells: mlp-2 (width 256) on 6 000 MNIST digits, SGD, 6 epochs in all, k1 = 0…5
 * (k2 = 6 − k1), two init seeds: 12 one-cell forks. As separate forks each trains its own
 * parent to k1; in the sweep the parent's line of a seed is trained once, its checkpoints
 * at k1 = 1…5 shared by the cells. Run it with nothing else busy (two cores).
 *
 *   node dist/bench/sweep.js [--quick]   (--quick: 2 000 digits, 3 epochs — a smoke run)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandSweep, parseSweepSpec } from '../core/sweep/sweep_spec.ts';
import { planSweep } from '../core/sweep/manifest.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { cpuBusyFraction } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const quick = process.argv.includes('--quick');
if (process.argv.includes('--help')) {
  console.log(
    'usage: node dist/bench/sweep.js [--quick]\n\nA 12-cell sweep with --jobs 2 against 12 sequential forks: wall-time ratio and the work saved by deduplication.',
  );
  process.exit(0);
}

const epochs = quick ? 3 : 6;
const base = {
  data: 'mnist',
  limit: quick ? 2000 : 6000,
  model: 'mlp-2',
  width: 256,
  batch: 64,
  epochs,
  alphas: 11,
  optimizer: 'sgd',
  lr: 0.05,
};
const k1s = Array.from({ length: epochs }, (_, i) => i);
const grid = { seedInit: [0, 1], k1: k1s.map((k) => [k]) };

function run(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    throw new Error(`ridgeline ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return (performance.now() - t0) / 1000;
}

const busy = await cpuBusyFraction();
console.log(`machine: ${busy > 0.15 ? `WARNING ${(100 * busy).toFixed(0)} % busy before the bench — figures will be skewed` : 'idle'}`);
const specFile = join(mkdtempSync(join(tmpdir(), 'ridgeline-bench-sweep-')), 'sweep.json');
writeFileSync(specFile, JSON.stringify({ name: 'bench', base, grid }));

// The work each way, in the graph's cost units (example passes): the sweep's nodes once,
// against the sum over the 12 cells planned as separate forks.
const spec = parseSweepSpec(JSON.parse(JSON.stringify({ base, grid })), specFile);
const { gridKeys, points } = expandSweep(spec);
const files = nodeFileStore();
const whole = await planSweep(spec, gridKeys, points, files, 'cpu');
let separate = 0;
for (const p of points) separate += (await planSweep(spec, gridKeys, [p], files, 'cpu')).nodes.reduce((a, n) => a + n.cost, 0);
const shared = whole.nodes.reduce((a, n) => a + n.cost, 0);
console.log(`cells: ${points.length} (k1 = ${k1s.join(', ')} × 2 seeds; ${epochs} epochs of ${base.limit} digits each)`);
console.log(
  `work: ${(shared / 1e6).toFixed(1)} M example passes as one sweep vs ${
    (separate / 1e6).toFixed(1)
  } M as separate forks — deduplication saves ${(100 * (1 - shared / separate)).toFixed(1)} %`,
);

let sequential = 0;
for (const p of points) {
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-bench-fork-'));
  const args = [
    'fork',
    '--data',
    'mnist',
    '--limit',
    String(base.limit),
    '--model',
    'mlp-2',
    '--width',
    '256',
    '--batch',
    '64',
    '--epochs',
    String(epochs),
    '--alphas',
    '11',
    '--lr',
    '0.05',
    '--seed-init',
    String(p.point.seedInit),
    '--k1',
    String((p.point.k1 as number[])[0]),
    '--backend',
    'cpu',
    '--out',
    out,
  ];
  sequential += run(args);
}
console.log(`${points.length} forks one after another: ${sequential.toFixed(1)} s`);
const one = run([
  'sweep',
  'run',
  specFile,
  '--store',
  mkdtempSync(join(tmpdir(), 'ridgeline-bench-store-')),
  '--jobs',
  '1',
  '--backend',
  'cpu',
]);
console.log(`sweep --jobs 1: ${one.toFixed(1)} s (${(one / sequential).toFixed(2)}× the forks: deduplication alone)`);
const two = run([
  'sweep',
  'run',
  specFile,
  '--store',
  mkdtempSync(join(tmpdir(), 'ridgeline-bench-store-')),
  '--jobs',
  '2',
  '--backend',
  'cpu',
]);
console.log(`sweep --jobs 2: ${two.toFixed(1)} s (${(two / sequential).toFixed(2)}× the forks; goal ≤ 0.55×)`);
