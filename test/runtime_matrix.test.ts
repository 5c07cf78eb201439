/**
 * The runtime matrix. (1) The same fixed computation (SGD steps of a small MLP, fixed
 * seed) gives bit-identical parameters under Node, Deno and Bun on the CPU backend. (2) The
 * same small fork experiment under Deno, Node and Bun on `cpu` and on `webgpu`: the same
 * backend and driver give identical results across runtimes; WebGPU and CPU give barrier
 * curves that agree within a stated tolerance. A crash (signal) or hang fails with what the
 * runtime printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { SMALL_FORK_ARGS } from './util.ts';

// dist/test/ → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

const RUNTIMES: Record<string, [string, string[]]> = {
  node: [process.execPath, [join(root, 'dist/runtimes/node.js')]],
  deno: [bin('deno'), ['run', '-A', join(root, 'runtimes/deno.ts')]],
  bun: [bin('bun'), [join(root, 'runtimes/bun.ts')]],
};

function run(name: string, args: string[]): string {
  const [cmd, pre] = RUNTIMES[name];
  assert.ok(existsSync(cmd), `${name} is missing at ${cmd} (a devDependency: run npm install)`);
  // Each runtime picks its own Vulkan driver, as for a user who set none (docs/design.md).
  const { VK_ICD_FILENAMES: _chosen, ...env } = process.env;
  const r = spawnSync(cmd, [...pre, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...env, NO_COLOR: '1', CI: 'true' },
  });
  assert.equal(r.status, 0, `${name} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr || r.error}`);
  return r.stdout;
}

test('10 SGD steps of an MLP give bit-identical parameters under Node, Deno and Bun (cpu backend)', () => {
  const results = Object.keys(RUNTIMES).map((name) => {
    const out = JSON.parse(run(name, ['demo', '--json', '--backend', 'cpu', '--steps', '10', '--seed', '7']).trim().split('\n').pop()!);
    assert.match(out.runtime, new RegExp(`^${name} `));
    return { name, ...out };
  });
  assert.ok(Number.isFinite(results[0].finalLoss));
  for (const r of results.slice(1)) {
    assert.equal(r.paramsHash, results[0].paramsHash, `${r.name} parameters differ from node`);
    assert.equal(r.finalLoss, results[0].finalLoss);
  }
});

const FORK = ['fork', ...SMALL_FORK_ARGS];

/** What must match across runtimes: everything but provenance and timings. */
const science = (r: ForkResult) => ({ cells: r.cells, parentLoss: r.parentLoss, seeds: r.seeds });

/**
 * WebGPU vs CPU: the backends differ by f32 rounding (summation order, exp/log), ~1e-7
 * relative per op; over 40 momentum-SGD steps that grows to ~1e-6 in weights and losses.
 * 1e-5 leaves a factor of ten and is still far below the barriers compared (~1e-3).
 */
const CROSS_BACKEND_TOL = 1e-5;

function assertCurvesClose(a: ForkResult, b: ForkResult, what: string): void {
  assert.equal(a.cells.length, b.cells.length);
  a.cells.forEach((c, i) => {
    for (const split of ['train', 'test'] as const) {
      c[split].curve.forEach((p, k) => {
        const q = b.cells[i][split].curve[k];
        assert.ok(Math.abs(p.loss - q.loss) <= CROSS_BACKEND_TOL, `${what}: k1=${c.k1} ${split} α=${p.alpha}: ${p.loss} vs ${q.loss}`);
        assert.ok(Math.abs(p.gap - q.gap) <= CROSS_BACKEND_TOL, `${what}: gap at α=${p.alpha}`);
      });
    }
  });
}

test('the same fork experiment under Node, Deno and Bun on cpu and webgpu: identical per backend and driver; webgpu ≈ cpu', () => {
  const results: Record<string, ForkResult> = {};
  for (const backend of ['cpu', 'webgpu']) {
    for (const name of Object.keys(RUNTIMES)) {
      const out = mkdtempSync(join(tmpdir(), `ridgeline-matrix-${name}-${backend}-`));
      run(name, [...FORK, '--backend', backend, '--out', out]);
      results[`${name}/${backend}`] = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    }
  }
  const adapter = (k: string) => results[k].provenance.adapter;
  assert.match(adapter('node/webgpu'), /swiftshader/i, 'Node runs Dawn on SwiftShader');
  assert.match(adapter('bun/webgpu'), /swiftshader/i, 'Bun runs bun-webgpu on SwiftShader');
  assert.match(adapter('deno/webgpu'), /llvmpipe|lavapipe/i, 'Deno runs wgpu on lavapipe');
  for (const name of ['deno', 'bun']) {
    assert.deepEqual(science(results[`${name}/cpu`]), science(results['node/cpu']), `${name} cpu = node cpu`);
  }
  assert.deepEqual(science(results['bun/webgpu']), science(results['node/webgpu']), 'same driver (SwiftShader): Bun = Node');
  assertCurvesClose(results['deno/webgpu'], results['node/webgpu'], 'lavapipe vs SwiftShader');
  for (const name of Object.keys(RUNTIMES)) assertCurvesClose(results[`${name}/webgpu`], results['node/cpu'], `${name} webgpu vs cpu`);
});
