/**
 * Weight and activation matching (issue 13): B = π(A) is matched back to π exactly, still
 * for small noise; matching two independently trained networks reduces their barrier; the
 * `align` command writes B in A's basis and reports both barriers; bad input is one line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { activationMatching } from '../core/align/activation_matching.ts';
import { permutationsOf, permuteState } from '../core/align/permute.ts';
import { backendGram, weightMatching } from '../core/align/weight_matching.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { createModel } from '../core/nn/registry.ts';
import { rngStream } from '../core/rng.ts';
import { loadWeights } from '../core/train/checkpoint.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { findTorchPython, peerEnv } from './torch_python.ts';
import { randomF32, skipOutsideCi } from './util.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-align-'));
const be = await createCpuBackend();
const randomPerm = (size: number, seed: number) => Int32Array.from(rngStream(seed, 'perm').permutation(size));

for (
  const [name, shape, options] of [['mlp-3', [64], { width: 48 }], ['lenet5', [1, 28, 28], {}], ['resnet20', [3, 32, 32], {}]] as const
) {
  test(`${name}: B = π(A) is matched back to π exactly by weight matching, also with noise of 1 % of the weights' scale`, async () => {
    const model = createModel(name, shape, 10, options);
    const a = model.init(3);
    const pi = Object.fromEntries(permutationsOf(model).map((p, k) => [p.name, randomPerm(p.size, 7 + k)]));
    const b = permuteState(model, a, pi);
    for (const noise of [0, 0.01]) {
      const noisy = b.map((t, i) => {
        const scale = noise * t.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const r = randomF32(i, t.length);
        return t.map((v, j) => v + scale * r[j]);
      });
      const m = await weightMatching(model, a, noisy, { seed: 1, gram: noise === 0 ? undefined : backendGram(be) });
      // π(A) = B, so aligning B needs π⁻¹: unit i of the result is unit π⁻¹(i) of B.
      for (const [g, perm] of Object.entries(pi)) {
        const inv = new Int32Array(perm.length);
        perm.forEach((p, i) => (inv[p] = i));
        assert.deepEqual([...m.perms[g]], [...inv], `${g} recovered (noise ${noise})`);
      }
      assert.ok(m.objective >= m.objectiveBefore);
    }
  });
}

test('activation matching recovers π for B = π(A) from the activations (correlation 1 on the matched pairs)', async () => {
  const model = createModel('mlp-2', [32], 5, { width: 40 });
  const a = model.init(5);
  const pi = Object.fromEntries(permutationsOf(model).map((p, k) => [p.name, randomPerm(p.size, 17 + k)]));
  const b = permuteState(model, a, pi);
  const split = { x: randomF32(1, 300 * 32), y: new Float32Array(300), n: 300 };
  const m = await activationMatching(be, model, a, b, split, { limit: 300, batch: 128 });
  for (const [g, perm] of Object.entries(pi)) {
    const inv = new Int32Array(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    assert.deepEqual([...m.perms[g]], [...inv], g);
    assert.ok(m.meanCorrelation[g] > 0.999999 - 1e-6, `${g}: mean correlation ${m.meanCorrelation[g]}`);
  }
});

function ridgeline(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DATA = ['--data', 'mnist', '--limit', '2000'];

test('align on two independently trained MLPs: both methods lower the barrier; the written B computes the same function as the permuted B and loads as weights', () => {
  const dir = tmp();
  for (const seed of [1, 2]) {
    const r = ridgeline([
      'train',
      '--model',
      'mlp-2',
      '--width',
      '128',
      ...DATA,
      '--seed-init',
      String(seed),
      '--seed-order',
      String(seed),
      '--steps',
      '300',
      '--lr',
      '0.05',
      '--backend',
      'cpu',
      '--out',
      join(dir, `net${seed}`),
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  const [a, b] = [join(dir, 'net1', 'final.safetensors'), join(dir, 'net2', 'final.safetensors')];
  for (const method of ['weight', 'activation']) {
    const out = join(dir, `aligned-${method}.safetensors`);
    const r = ridgeline([
      'align',
      '--model',
      'mlp-2',
      '--width',
      '128',
      ...DATA,
      '--a',
      a,
      '--b',
      b,
      '--method',
      method,
      '--out',
      out,
      '--json',
      '--backend',
      'cpu',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(res.objective > res.objectiveBefore, `${method}: objective ${res.objectiveBefore} → ${res.objective}`);
    assert.ok(
      res.after.train.lossBarrier < res.before.train.lossBarrier,
      `${method}: barrier ${res.before.train.lossBarrier} → ${res.after.train.lossBarrier}`,
    );
    assert.ok(res.after.weightDistance < res.before.weightDistance);
    // The endpoints' losses do not change: B and its permutation compute the same function.
    assert.ok(
      Math.abs(res.after.train.lossB - res.before.train.lossB) < 1e-5 * res.before.train.lossB,
      `${method}: ${res.after.train.lossB} vs ${res.before.train.lossB}`,
    );
    // The written file is B in A's basis: its barrier with A is the one reported after alignment.
    const check = ridgeline(['barrier', '--model', 'mlp-2', '--width', '128', ...DATA, '--a', a, '--b', out, '--json', '--backend', 'cpu']);
    assert.equal(check.status, 0, check.stderr);
    assert.equal(JSON.parse(check.stdout.trim().split('\n').pop()!).train.lossBarrier, res.after.train.lossBarrier);
    // barrier --align reports both curves: the plain one and the aligned one.
    const both = ridgeline([
      'barrier',
      '--model',
      'mlp-2',
      '--width',
      '128',
      ...DATA,
      '--a',
      a,
      '--b',
      b,
      '--align',
      method,
      '--json',
      '--backend',
      'cpu',
    ]);
    assert.equal(both.status, 0, both.stderr);
    const br = JSON.parse(both.stdout.trim().split('\n').pop()!);
    assert.equal(br.train.lossBarrier, res.before.train.lossBarrier);
    assert.deepEqual(br.aligned.train.curve, res.after.train.curve);
  }
});

test('align bad input: different widths, checkpoints of another model, activation matching without data, an unknown method: one clear line each (a model without a symmetry: align_permute)', () => {
  const dir = tmp();
  for (const [w, name] of [['16', 'w16'], ['24', 'w24']]) {
    assert.equal(
      ridgeline(['train', '--model', 'mlp-2', '--width', w, ...DATA, '--steps', '2', '--backend', 'cpu', '--out', join(dir, name)]).status,
      0,
    );
  }
  const [a, b] = [join(dir, 'w16', 'final.safetensors'), join(dir, 'w24', 'final.safetensors')];
  const cases: [string[], RegExp][] = [
    [['align', '--model', 'mlp-2', '--width', '16', ...DATA, '--a', a, '--b', b], /E_SHAPE: .*w24.*has shape \[24, 784\] but model mlp-2/],
    [
      ['align', '--model', 'cnn', '--data', 'mnist', '--limit', '100', '--a', a, '--b', b],
      /E_SHAPE: .*w16.*tensor '0.weight' has shape \[16, 784\] but model cnn/,
    ],
    [
      ['align', '--model', 'mlp-2', '--width', '16', '--a', a, '--b', a, '--method', 'activation'],
      /E_SPEC: --method activation needs --data D/,
    ],
    [
      ['align', '--model', 'mlp-2', '--width', '16', ...DATA, '--a', a, '--b', a, '--method', 'magic'],
      /E_SPEC: --method: unknown value 'magic'; valid: weight, activation/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = ridgeline(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('cross-check: an independent PyTorch + SciPy weight matching of the same two trained checkpoints finds the same permutations and objective', async (t) => {
  const { python, reason } = findTorchPython();
  if (!python) return skipOutsideCi(t, reason);
  const dir = tmp();
  for (const seed of [3, 4]) {
    const r = ridgeline([
      'train',
      '--model',
      'mlp-3',
      '--width',
      '64',
      ...DATA,
      '--seed-init',
      String(seed),
      '--seed-order',
      String(seed),
      '--steps',
      '200',
      '--backend',
      'cpu',
      '--out',
      join(dir, `net${seed}`),
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  const [fa, fb] = [join(dir, 'net3', 'final.safetensors'), join(dir, 'net4', 'final.safetensors')];
  const model = createModel('mlp-3', [1, 28, 28], 10, { width: 64 });
  const files = nodeFileStore();
  const ours = await weightMatching(model, await loadWeights(files, fa, model), await loadWeights(files, fb, model), { seed: 5 });
  const py = spawnSync(python, [join(root, 'bench/rebasin_reference.py'), fa, fb, '--order', ours.order.join(',')], {
    encoding: 'utf8',
    env: peerEnv(),
    timeout: 300_000,
  });
  assert.equal(py.status, 0, py.stderr);
  const ref = JSON.parse(py.stdout.trim().split('\n').pop()!);
  assert.ok(
    Math.abs(ref.objective_before - ours.objectiveBefore) <= 1e-9 * Math.abs(ours.objectiveBefore),
    `before: ${ref.objective_before} vs ${ours.objectiveBefore}`,
  );
  assert.ok(Math.abs(ref.objective - ours.objective) <= 1e-9 * Math.abs(ours.objective), `after: ${ref.objective} vs ${ours.objective}`);
  for (const [g, perm] of Object.entries(ours.perms)) assert.deepEqual(ref.perms[g], [...perm], g);
  t.diagnostic(`objective ${ours.objectiveBefore.toFixed(4)} → ${ours.objective.toFixed(4)} in ${ours.passes} passes; SciPy agrees`);
});

test('rebasin: at each width both alignments remove most of the barrier between independently trained MLPs; --repair adds each aligned path after REPAIR (same endpoints); result, CSV, report and networks written', () => {
  const out = tmp();
  const r = ridgeline([
    'rebasin',
    '--model',
    'mlp-2',
    ...DATA,
    '--widths',
    '16,128',
    '--epochs',
    '2',
    '--lr',
    '0.05',
    '--repair',
    '--backend',
    'cpu',
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  assert.equal(result.rows.length, 2 * 5);
  assert.notDeepEqual(result.seeds.a, result.seeds.b, 'independent initialisations and orders');
  for (const width of [16, 128]) {
    type Row = { width: number; method: string; repaired?: boolean; train: { lossA: number; lossB: number; lossBarrier: number } };
    const [none, weight, activation] = ['none', 'weight', 'activation'].map((m) =>
      result.rows.find((x: Row) => x.width === width && x.method === m && !x.repaired)
    );
    for (const aligned of [weight, activation]) {
      const repaired = result.rows.find((x: Row) => x.width === width && x.method === aligned.method && x.repaired);
      assert.deepEqual(
        [repaired.train.lossA, repaired.train.lossB],
        [aligned.train.lossA, aligned.train.lossB],
        `width ${width} ${aligned.method}: REPAIR keeps the endpoints`,
      );
      assert.notEqual(repaired.train.lossBarrier, aligned.train.lossBarrier);
    }
    assert.ok(none.train.lossBarrier > 0.1, `width ${width}: a real barrier as trained (${none.train.lossBarrier})`);
    for (const aligned of [weight, activation]) {
      assert.ok(
        aligned.train.lossBarrier < 0.5 * none.train.lossBarrier,
        `width ${width} ${aligned.method}: ${none.train.lossBarrier} → ${aligned.train.lossBarrier}`,
      );
      // B's endpoint is the same function after permutation.
      assert.ok(Math.abs(aligned.train.lossB - none.train.lossB) <= 1e-5 * none.train.lossB);
    }
    for (const f of ['a', 'b', 'b-weight-aligned', 'b-activation-aligned']) {
      assert.ok(existsSync(join(out, `width-${width}`, `${f}.safetensors`)), f);
    }
  }
  assert.equal(readFileSync(join(out, 'rebasin.csv'), 'utf8').trim().split('\r\n').length, 1 + 10);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /weight matching \+ REPAIR/);
  assert.doesNotMatch(html, /<script/);
});
