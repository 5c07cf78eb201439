/**
 * REPAIR (issue 13, docs/metrics.md#alignment-modulo-permutation) on networks trained here from independent inits: every
 * repaired channel of θ(α) has the interpolated endpoint statistics — checked by a plain
 * f64 forward pass written in this file, not by the code under test — the ends of the path
 * are the endpoints bit for bit, REPAIR lowers the barrier left after weight matching, and
 * models it cannot correct are refused in one line (batch norm: --reset-bn).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matchNetworks } from '../core/align/match.ts';
import { permuteState } from '../core/align/permute.ts';
import { repairedPath, repairLayers } from '../core/align/repair.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { loadDataset } from '../core/data/registry.ts';
import { alphaGrid } from '../core/lmc/barrier.ts';
import { pairMetrics } from '../core/lmc/metrics.ts';
import { evaluatePath } from '../core/lmc/path_eval.ts';
import { createModel } from '../core/nn/registry.ts';
import { loadWeights } from '../core/train/checkpoint.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const be = await createCpuBackend();
const files = nodeFileStore();

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

/** Two networks of `model` trained from independent inits and orders; B aligned to A by weight matching. */
async function trainedPair(model: string, width: number, steps: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-repair-'));
  for (const seed of [1, 2]) {
    const r = ridgeline([
      'train',
      '--model',
      model,
      '--width',
      String(width),
      ...DATA,
      '--seed-init',
      String(seed),
      '--seed-order',
      String(seed),
      '--steps',
      String(steps),
      '--backend',
      'cpu',
      '--out',
      join(dir, `n${seed}`),
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  const dataset = await loadDataset('mnist', files, { limit: 2000 });
  const m = createModel(model, dataset.inputShape, dataset.classes, { width });
  const a = await loadWeights(files, join(dir, 'n1', 'final.safetensors'), m);
  const b = await loadWeights(files, join(dir, 'n2', 'final.safetensors'), m);
  const match = await matchNetworks(be, m, a, b, 'weight', dataset.train);
  return { model: m, dataset, a, b: permuteState(m, b, match.perms) };
}

/**
 * Mean and population std of every hidden layer's pre-activations of an mlp-L (PyTorch
 * names `0`, `2`, …: weight [out, in], bias [out]; ReLU between), by a plain f64 forward.
 */
function mlpStats(w: readonly Float32Array[], sizes: number[], split: Split, n: number): { mean: number[]; std: number[] }[] {
  const out = sizes.slice(1, -1).map((u) => ({ s: new Float64Array(u), ss: new Float64Array(u) }));
  for (let r = 0; r < n; r++) {
    let h: Float64Array = Float64Array.from(split.x.subarray(r * sizes[0], (r + 1) * sizes[0]));
    for (let l = 0; l + 1 < sizes.length - 1; l++) {
      const [inF, outF] = [sizes[l], sizes[l + 1]];
      const z = new Float64Array(outF);
      for (let o = 0; o < outF; o++) {
        let s = w[2 * l + 1][o];
        for (let i = 0; i < inF; i++) s += w[2 * l][o * inF + i] * h[i];
        z[o] = s;
        out[l].s[o] += s;
        out[l].ss[o] += s * s;
      }
      h = z.map((v) => Math.max(v, 0));
    }
  }
  return out.map(({ s, ss }) => {
    const mean = [...s].map((v) => v / n);
    return { mean, std: [...ss].map((v, c) => Math.sqrt(Math.max(v / n - mean[c] ** 2, 0))) };
  });
}

test('REPAIR: every hidden channel of the repaired θ(α) has the interpolated endpoint statistics (independent f64 forward), and the ends are A and π(B) exactly', async () => {
  const width = 48;
  const { model, dataset, a, b } = await trainedPair('mlp-3', width, 200);
  const examples = 1000;
  const sizes = [784, width, width, 10];
  const [sa, sb] = [mlpStats(a, sizes, dataset.train, examples), mlpStats(b, sizes, dataset.train, examples)];
  const alphas = [0, 0.3, 0.5, 1];
  const nets = await repairedPath(be, model, a, b, alphas, { split: dataset.train, examples });
  for (const [k, alpha] of alphas.entries()) {
    const got = mlpStats(nets[k], sizes, dataset.train, examples);
    for (let l = 0; l < got.length; l++) {
      for (let c = 0; c < width; c++) {
        const mean = (1 - alpha) * sa[l].mean[c] + alpha * sb[l].mean[c];
        const std = (1 - alpha) * sa[l].std[c] + alpha * sb[l].std[c];
        const tol = 1e-4 * Math.max(1, Math.abs(mean), std);
        assert.ok(Math.abs(got[l].mean[c] - mean) <= tol, `α ${alpha} layer ${l} channel ${c}: mean ${got[l].mean[c]} vs ${mean}`);
        assert.ok(Math.abs(got[l].std[c] - std) <= tol, `α ${alpha} layer ${l} channel ${c}: std ${got[l].std[c]} vs ${std}`);
      }
    }
  }
  // The correction must be real at the interior: the unrepaired midpoint's variance collapsed.
  const mid = a.map((t, i) => t.map((v, j) => 0.5 * v + 0.5 * b[i][j]));
  const plain = mlpStats(mid, sizes, dataset.train, examples);
  const shrink = plain[1].std.reduce((s, v, c) => s + v / (0.5 * sa[1].std[c] + 0.5 * sb[1].std[c] || 1), 0) / width;
  assert.ok(shrink < 0.95, `the plain midpoint's second layer keeps ${shrink} of the target spread`);
  for (const [k, end] of [[0, a], [3, b]] as const) {
    end.forEach((t, i) => assert.deepEqual(nets[k][i], t, `α = ${alphas[k]}: tensor ${model.params[i].name} is the endpoint's`));
  }
});

test('REPAIR lowers the train loss barrier left after weight matching of two independently trained MLPs, endpoints untouched', async () => {
  const { model, dataset, a, b } = await trainedPair('mlp-2', 64, 300);
  const alphas = alphaGrid(11);
  const path = async (repair: boolean) =>
    pairMetrics(
      await evaluatePath(be, model, a, b, alphas, dataset.train, 1000, undefined, repair ? { split: dataset.train } : undefined),
      await evaluatePath(be, model, a, b, alphas, dataset.test, 1000, undefined, repair ? { split: dataset.train } : undefined),
    );
  const [aligned, repaired] = [await path(false), await path(true)];
  assert.ok(aligned.train.lossBarrier > 0.005, `a barrier to repair: ${aligned.train.lossBarrier}`);
  // The statistics are the training data's, so the claim is about it (on the 400 test digits
  // of this pair the aligned path is already below its chord).
  assert.ok(
    repaired.train.lossBarrier < 0.75 * aligned.train.lossBarrier,
    `train: ${aligned.train.lossBarrier} → ${repaired.train.lossBarrier}`,
  );
  for (const split of ['train', 'test'] as const) {
    // Same endpoints: their losses are untouched.
    assert.equal(repaired[split].lossA, aligned[split].lossA);
    assert.equal(repaired[split].lossB, aligned[split].lossB);
  }
});

test('REPAIR refuses what it cannot correct, in one line: batch norm (use --reset-bn), residual streams, --repair without --align', () => {
  const bn = createModel('resnet20', [3, 32, 32], 10, {});
  assert.throws(() => repairLayers(bn), /E_SPEC|batch norm: REPAIR is for networks without it; use --reset-bn/);
  assert.throws(
    () => repairLayers(createModel('resnet20-nobn', [3, 32, 32], 10, {})),
    /REPAIR needs each hidden group produced by one layer with a bias/,
  );
  const cases: [string[], RegExp][] = [
    [
      ['barrier', '--model', 'mlp-2', '--width', '8', ...DATA, '--a', 'x', '--b', 'y', '--repair'],
      /^E_SPEC: --repair: needs --align weight\|activation/,
    ],
    [[
      'barrier',
      '--model',
      'resnet20',
      '--data',
      'mnist',
      '--limit',
      '100',
      '--a',
      'x',
      '--b',
      'y',
      '--align',
      'weight',
      '--repair',
      '--backend',
      'cpu',
    ], /^E_SPEC: resnet20 has batch norm: REPAIR is for networks without it; use --reset-bn/],
    [
      ['fork', '--model', 'mlp-2', '--width', '8', ...DATA, '--repair', '--out', mkdtempSync(join(tmpdir(), 'ridgeline-repair-'))],
      /^E_SPEC: --repair: needs --align/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = ridgeline(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim().split('\n').pop()!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
