/**
 * The same fixed computation (SGD steps of a small MLP on generated data, fixed seed) must
 * give bit-identical parameters under Node, Deno and Bun on the CPU backend: every random
 * draw comes from the portable Philox generator and every kernel from the same WASM.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/ → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const ARGS = ['demo', '--json', '--backend', 'cpu', '--steps', '10', '--seed', '7'];

const RUNTIMES: [string, string, string[]][] = [
  ['node', process.execPath, [join(root, 'dist/runtimes/node.js'), ...ARGS]],
  ['deno', bin('deno'), ['run', '-A', join(root, 'runtimes/deno.ts'), ...ARGS]],
  ['bun', bin('bun'), [join(root, 'runtimes/bun.ts'), ...ARGS]],
];

interface DemoResult {
  runtime: string;
  paramsHash: string;
  finalLoss: number;
}

function run(name: string, cmd: string, args: string[]): DemoResult {
  assert.ok(existsSync(cmd), `${name} is missing at ${cmd} (a devDependency: run npm install)`);
  // A crash (signal) or a hang must fail with what the runtime printed, not hang the suite.
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, `${name} exited with ${r.status ?? r.signal}: ${r.stderr || r.error}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as DemoResult;
}

test('10 SGD steps of an MLP give bit-identical parameters under Node, Deno and Bun (cpu backend)', () => {
  const results = RUNTIMES.map(([name, cmd, args]) => ({ name, ...run(name, cmd, args) }));
  for (const r of results) assert.match(r.runtime, new RegExp(`^${r.name} `), `${r.name} reports its runtime`);
  const [first, ...others] = results;
  assert.ok(Number.isFinite(first.finalLoss), 'training produced a finite loss');
  for (const r of others) {
    assert.equal(r.paramsHash, first.paramsHash, `${r.name} parameters differ from ${first.name}`);
    assert.equal(r.finalLoss, first.finalLoss, `${r.name} final loss differs from ${first.name}`);
  }
});
