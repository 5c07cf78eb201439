/**
 * The fork experiment end to end through the CLI, on real (small) training: result files,
 * `barrier` reproducing a recorded curve, main-branch mode, a killed run that resumes
 * without redoing finished cells, and bad input.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ForkResult } from '../core/experiments/result_schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-fork-'));
const SMALL = [
  '--data',
  'synthetic:gauss:n=800,dim=16,classes=4',
  '--model',
  'mlp-2',
  '--width',
  '32',
  '--batch',
  '32',
  '--unit',
  'steps',
  '--alphas',
  '7',
  '--backend',
  'cpu',
];

function ridgeline(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, CI: 'true', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readResult = (dir: string) => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ForkResult;

/** The task a checkpoint object was computed for (its record beside the weights file). */
const taskOf = (weights: string) => JSON.parse(readFileSync(join(dirname(weights), 'node.json'), 'utf8')).payload.identity;

/** The record files of the published cell objects of the run in `out`. */
function cellRecords(out: string): string[] {
  const root = join(out, 'store', 'objects');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((ab) => readdirSync(join(root, ab)).map((id) => join(root, ab, id, 'node.json')))
    .filter((f) => {
      try {
        return JSON.parse(readFileSync(f, 'utf8')).payload.kind === 'cell';
      } catch {
        return false; // not yet written (or being written)
      }
    });
}

test('fork (pairs) writes result.json with the resolved spec and provenance, CSVs and a self-contained report', () => {
  const out = tmp();
  const r = ridgeline(['fork', ...SMALL, '--k1', '0,20', '--steps', '80', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const result = readResult(out);
  assert.equal(result.schemaVersion, 2);
  assert.equal(result.spec.model, 'mlp-2');
  assert.equal(result.spec.lr, 0.05);
  assert.deepEqual(result.seeds, {
    init: 0,
    order: 0,
    children: [1, 2],
    repeats: [{ repeat: 0, init: 0, order: 0, augment: 0, children: [1, 2] }],
  });
  assert.match(result.provenance.runtime, /^node /);
  assert.equal(result.provenance.backend, 'cpu');
  assert.ok(result.timings.some((t) => t.phase === 'fork grid' && t.seconds > 0));
  assert.deepEqual(result.cells.map((c) => [c.k1, c.k2]), [[0, 80], [20, 60]]);
  for (const c of result.cells) {
    for (const split of [c.train, c.test]) {
      assert.equal(split.curve.length, 7);
      assert.equal(split.curve[0].gap, 0);
      assert.equal(split.curve[6].gap, 0);
      assert.equal(split.lossA, split.curve[0].loss);
      assert.ok(split.accuracyA > 0.5, `trained children classify well above chance (${split.accuracyA})`);
      assert.equal(split.lossBarrier, Math.max(...split.curve.slice(1, -1).map((p) => p.gap)));
    }
    assert.ok(c.weightDistance > 0 && c.test.predictionDistance > 0);
    assert.equal(c.weightDistanceByLayer.length, 2);
    assert.ok(existsSync(join(out, c.checkpointA)) && existsSync(join(out, c.checkpointB)));
  }
  const csv = readFileSync(join(out, 'cells.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 2 * 2, 'a header and a row per cell and split');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, no network');
  assert.match(r.stdout, /report: .*report\.html/);
});

test('barrier on two checkpoints of a fork run reproduces the curve the run recorded', () => {
  const out = tmp();
  assert.equal(ridgeline(['fork', ...SMALL, '--k1', '10', '--steps', '50', '--out', out]).status, 0);
  const cell = readResult(out).cells[0];
  const model = ['--data', 'synthetic:gauss:n=800,dim=16,classes=4', '--model', 'mlp-2', '--width', '32', '--alphas', '7'];
  const r = ridgeline(['barrier', ...model, '--a', join(out, cell.checkpointA), '--b', join(out, cell.checkpointB), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(b.train.curve, cell.train.curve);
  assert.deepEqual(b.test.curve, cell.test.curve);
  assert.equal(b.weightDistance, cell.weightDistance);
});

test('main-branch mode pairs the main run at k1 + k2 with a child per cell; each repeat has its own main run and seeds', () => {
  const out = tmp();
  const r = ridgeline(['fork', ...SMALL, '--mode', 'main-branch', '--repeats', '2', '--k1', '0,10', '--k2', '20,40', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const result = readResult(out);
  assert.equal(result.cells.length, 2 * 2 * 2);
  assert.deepEqual(result.seeds.children, [1]);
  const mainRuns = new Set<string>();
  for (const c of result.cells) {
    // A is the main run at k1 + k2; B a child forked from the main run at k1, at k1 + k2.
    const [a, b] = [taskOf(join(out, c.checkpointA)), taskOf(join(out, c.checkpointB))];
    assert.equal(a.step, c.k1 + c.k2);
    assert.ok('init' in a.line.start, 'A starts from initial weights');
    mainRuns.add(JSON.stringify(a.line));
    assert.equal(b.step, c.k1 + c.k2);
    const forkPoint = taskOf(
      join(out, 'store', 'objects', b.line.start.checkpoint.slice(0, 2), b.line.start.checkpoint, 'checkpoint.safetensors'),
    );
    assert.equal(forkPoint.step, c.k1);
    assert.equal(JSON.stringify(forkPoint.line), JSON.stringify(a.line), "the child forks from this repeat's main run");
    const own = result.seeds.repeats[c.repeat];
    assert.deepEqual(c.seeds, { init: own.init, order: own.order, children: own.children, augment: own.augment });
  }
  assert.equal(mainRuns.size, 2, 'each repeat has its own main run');
});

test('repeats in pairs mode: every repeat draws its own init, order, children and augmentation seeds, recorded; summaries over repeats', () => {
  const out = tmp();
  const r = ridgeline(['fork', ...SMALL, '--repeats', '3', '--k1', '0,20', '--steps', '40', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const result = readResult(out);
  const seeds = result.seeds.repeats;
  assert.equal(seeds.length, 3);
  // Repeat 0 keeps the given seeds; the others differ from it and from each other in every seed.
  assert.deepEqual(seeds[0], { repeat: 0, init: 0, order: 0, augment: 0, children: [1, 2] });
  for (const key of ['init', 'order', 'augment'] as const) assert.equal(new Set(seeds.map((s) => s[key])).size, 3, `${key} seeds repeat`);
  assert.equal(new Set(seeds.flatMap((s) => [s.order, ...s.children])).size, 9, 'order seeds of parents and children are all distinct');
  assert.equal(result.cells.length, 2 * 3);
  // Different seeds give different networks: the pairs of one cell are not copies of each other.
  const k0 = result.cells.filter((c) => c.k1 === 0);
  assert.equal(new Set(k0.map((c) => c.weightDistance)).size, 3);
  for (const c of result.cells) assert.deepEqual(c.seeds.children, seeds[c.repeat].children);
  // The summary of each cell is computed from its three pairs.
  for (const s of result.summary) {
    const values = result.cells.filter((c) => c.k1 === s.k1 && c.k2 === s.k2).map((c) => c.test.errorBarrier);
    assert.equal(s.metrics.testErrorBarrier.n, 3);
    assert.ok(Math.abs(s.metrics.testErrorBarrier.mean - values.reduce((a, b) => a + b) / 3) < 1e-15);
  }
  const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\r\n');
  assert.equal(csv[0], 'k1,k2,metric,n,mean,sd,ci95Low,ci95High');
  assert.equal(csv.length, 1 + 2 * 8);
  // Running it again resumes: the same result, nothing recomputed.
  const again = ridgeline(['fork', ...SMALL, '--repeats', '3', '--k1', '0,20', '--steps', '40', '--out', out]);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(readResult(out).cells, result.cells);
});

test('a run killed mid-way, started again with the same --out, resumes without redoing finished cells and matches an uninterrupted run', async () => {
  const args = [
    'fork',
    ...SMALL,
    '--data',
    'synthetic:gauss:n=3000,dim=64,classes=4',
    '--width',
    '128',
    '--k1',
    '0,100,200,300',
    '--steps',
    '600',
    '--alphas',
    '5',
  ];
  const out = tmp();
  const child: ChildProcess = spawn(process.execPath, [cli, ...args, '--out', out], {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, CI: 'true' },
  });
  const started = Date.now();
  while (cellRecords(out).length === 0) {
    assert.ok(Date.now() - started < 240_000, 'no cell finished within 4 minutes');
    assert.equal(child.exitCode, null, 'the run ended before it could be killed');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const finished = cellRecords(out);
  assert.ok(finished.length >= 1 && finished.length < 4, `killed with ${finished.length} of 4 cells done`);
  assert.ok(!existsSync(join(out, 'result.json')));
  const before = new Map(finished.map((f) => [f, statSync(f).mtimeMs]));
  const resumed = ridgeline([...args, '--out', out]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming the run/);
  for (const [f, mtime] of before) assert.equal(statSync(f).mtimeMs, mtime, `${f} was not recomputed`);
  assert.equal(cellRecords(out).length, 4);
  const fresh = tmp();
  assert.equal(ridgeline([...args, '--out', fresh]).status, 0);
  const [a, b] = [readResult(out), readResult(fresh)];
  assert.deepEqual(a.cells, b.cells, 'the resumed run equals an uninterrupted one');
});

test('bad input: unknown model, dataset or option values name the culprit and list valid values', () => {
  const cases: [string[], RegExp][] = [
    [['fork', '--model', 'resnet9', '--out', tmp()], /E_SPEC: unknown model 'resnet9'; valid: logreg, linear-L, mlp-L/],
    [['fork', '--data', 'cifar11', '--out', tmp()], /E_SPEC: .*unknown dataset 'cifar11'; valid: mnist/],
    [['fork', '--lr', 'fast', '--out', tmp()], /E_SPEC: --lr: expected a number, got 'fast'/],
    [['fork', '--optimizer', 'lion', '--out', tmp()], /E_SPEC: --optimizer: unknown value 'lion'; valid: sgd, adam, adamw/],
    [['fork', '--k1', '0,9', '--epochs', '5', '--out', tmp()], /E_SPEC: --k1: values 9 leave no training after the fork/],
    [['fork', '--bogus', '1'], /E_SPEC: fork: unknown option --bogus; valid: --preset/],
    [['fork', '--preset', 'nope'], /E_SPEC: --preset: unknown preset 'nope'; valid: mnist-mlp2/],
    [['fork', ...SMALL, '--k1', '0', '--steps', '10'], /E_SPEC: fork: --out DIR is required/],
    [['frok'], /E_SPEC: unknown command 'frok'; valid: (\w+, )*fork, /],
  ];
  for (const [args, want] of cases) {
    const r = ridgeline(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, want, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('bad input: --backend webgpu without a usable adapter is E_NO_ADAPTER, never a silent fallback; auto falls back saying why', () => {
  // A Vulkan loader pointed at a driver that does not exist finds no adapter.
  const noDriver = { VK_ICD_FILENAMES: join(tmp(), 'no-such-icd.json') };
  const forced = ridgeline(['fork', ...SMALL, '--k1', '0', '--steps', '10', '--backend', 'webgpu', '--out', tmp()], noDriver);
  assert.equal(forced.status, 1);
  assert.match(forced.stderr, /E_NO_ADAPTER: webgpu: requestAdapter\(\) found no adapter/);
  const auto = ridgeline(['fork', ...SMALL, '--k1', '0', '--steps', '10', '--backend', 'auto', '--out', tmp()], noDriver);
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(auto.stderr, /backend: cpu .*no usable WebGPU adapter/);
});

test('bad input: diverging training stops with E_DIVERGED naming the step and writes no result', () => {
  const out = tmp();
  const r = ridgeline(['fork', ...SMALL, '--lr', '1e7', '--k1', '0', '--steps', '40', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_DIVERGED: training diverged at step \d+/);
  assert.ok(!existsSync(join(out, 'result.json')) && !existsSync(join(out, 'report.html')));
});

test('bad input: resuming into a directory that holds a different spec is refused', () => {
  const out = tmp();
  assert.equal(ridgeline(['fork', ...SMALL, '--k1', '0', '--steps', '20', '--out', out]).status, 0);
  const r = ridgeline(['fork', ...SMALL, '--k1', '0', '--steps', '20', '--lr', '0.01', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_SPEC: .* holds a run with a different spec/);
});

test('train writes a checkpoint that fork --from uses as the parent, and barrier reads PyTorch-written weights', () => {
  const dir = tmp();
  const t = ridgeline([
    'train',
    ...SMALL.filter((a, i, all) => a !== '--alphas' && all[i - 1] !== '--alphas' && a !== '--unit' && all[i - 1] !== '--unit'),
    '--steps',
    '30',
    '--out',
    dir,
  ]);
  assert.equal(t.status, 0, t.stderr);
  const log = JSON.parse(readFileSync(join(dir, 'train.json'), 'utf8'));
  assert.equal(log.losses.length, 30);
  assert.ok(log.losses[29] < log.losses[0], 'the loss went down');
  const out = tmp();
  const f = ridgeline(['fork', ...SMALL, '--from', join(dir, 'final.safetensors'), '--k1', '0', '--steps', '20', '--out', out]);
  assert.equal(f.status, 0, f.stderr);
  const cell = readResult(out).cells[0];
  assert.ok(cell.test.accuracyA > 0.5);
  // The PyTorch fixture is nn.Sequential(Linear(784, 16), ReLU, Linear(16, 10)): mlp-2 of width 16 on 28×28 digits.
  const torchFile = join(root, 'test/fixtures/torch/mlp.safetensors');
  const b = ridgeline([
    'barrier',
    '--model',
    'mlp-2',
    '--width',
    '16',
    '--data',
    'mnist',
    '--limit',
    '200',
    '--a',
    torchFile,
    '--b',
    torchFile,
    '--json',
  ]);
  assert.equal(b.status, 0, b.stderr);
  const same = JSON.parse(b.stdout.trim().split('\n').pop()!);
  assert.equal(same.test.lossBarrier, 0, 'a network and itself have no barrier');
  assert.equal(same.weightDistance, 0);
  const wrong = ridgeline(['barrier', '--model', 'mlp-2', '--data', 'mnist', '--limit', '200', '--a', torchFile, '--b', torchFile]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /E_SHAPE: .*mlp\.safetensors: tensor '0\.weight' has shape \[16, 784\] but model mlp-2 .* needs \[512, 784\]/);
});

test('fork --align --repair: each cell also measured after aligning B to A (and after REPAIR), equal to barrier --align --repair on the same two checkpoints; CSVs and report show both', () => {
  const out = tmp();
  const net = ['--data', 'mnist', '--limit', '1500', '--model', 'mlp-2', '--width', '24', '--alphas', '5', '--backend', 'cpu'];
  const r = ridgeline([
    'fork',
    ...net,
    '--batch',
    '50',
    '--lr',
    '0.1',
    '--unit',
    'steps',
    '--k1',
    '0',
    '--steps',
    '120',
    '--align',
    'weight',
    '--align-seed',
    '3',
    '--repair',
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /after weight matching \(and REPAIR\):/);
  const result = readResult(out);
  const cell = result.cells[0];
  const al = cell.aligned!;
  assert.equal(al.method, 'weight');
  assert.equal(al.seed, 3);
  assert.ok(al.objective > al.objectiveBefore, `the children differ by a permutation: ${al.objectiveBefore} → ${al.objective}`);
  assert.ok(al.weightDistance < cell.weightDistance);
  const b = ridgeline([
    'barrier',
    ...net,
    '--a',
    join(out, cell.checkpointA),
    '--b',
    join(out, cell.checkpointB),
    '--align',
    'weight',
    '--align-seed',
    '3',
    '--repair',
    '--json',
  ]);
  assert.equal(b.status, 0, b.stderr);
  const br = JSON.parse(b.stdout.trim().split('\n').pop()!);
  assert.deepEqual(br.train.curve, cell.train.curve, 'the unaligned path is unchanged');
  for (const split of ['train', 'test'] as const) {
    assert.deepEqual(br.aligned[split].curve, al[split].curve, `${split}: aligned curve`);
    assert.deepEqual(br.aligned.repaired[split].curve, al.repaired![split].curve, `${split}: repaired curve`);
  }
  assert.equal(br.aligned.objective, al.objective);
  assert.equal(br.aligned.weightDistance, al.weightDistance);
  const cells = readFileSync(join(out, 'cells.csv'), 'utf8').split('\r\n');
  assert.match(
    cells[0],
    /,alignMethod,alignedLossBarrier,alignedErrorBarrier,alignedErrorFloor,alignedWeightDistance,repairedLossBarrier,repairedErrorBarrier$/,
  );
  assert.equal(Number(cells[1].split(',')[cells[0].split(',').indexOf('alignedLossBarrier')]), al.train.lossBarrier);
  const curves = readFileSync(join(out, 'curves.csv'), 'utf8').trim().split('\r\n');
  assert.deepEqual(['trained', 'aligned', 'repaired'].map((p) => curves.filter((l) => l.endsWith(`,${p}`)).length), [10, 10, 10]);
  assert.match(
    readFileSync(join(out, 'report.html'), 'utf8'),
    /Before \/ after alignment[\s\S]*after weight matching[\s\S]*after matching and REPAIR/,
  );
  // Without --align the same fork plans the same unaligned nodes (their ids do not involve
  // alignment): the store has them all already, only the cell without aligned paths is new.
  const objectCount = () =>
    readdirSync(join(out, 'store', 'objects')).reduce((n, ab) => n + readdirSync(join(out, 'store', 'objects', ab)).length, 0);
  const before = objectCount();
  const plain = ridgeline([
    'fork',
    ...net,
    '--batch',
    '50',
    '--lr',
    '0.1',
    '--unit',
    'steps',
    '--k1',
    '0',
    '--steps',
    '120',
    '--out',
    join(out, 'plain'),
    '--store',
    join(out, 'store'),
  ]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.deepEqual(readResult(join(out, 'plain')).cells[0].train, cell.train);
  assert.equal(readResult(join(out, 'plain')).cells[0].aligned, undefined);
  assert.equal(objectCount(), before + 1);
  // A run without alignment records its spec as before --align existed: older run directories resume.
  const specOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8'));
  assert.deepEqual(Object.keys(specOf(join(out, 'plain'))).filter((k) => /align|repair/i.test(k)), []);
  assert.equal(specOf(out).align, 'weight');
});
