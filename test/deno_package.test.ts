/**
 * deno.json describes a publishable JSR package (`deno publish --dry-run`): its exports
 * resolve, the generated kernel modules they need are included although .gitignore lists
 * them, and every public symbol has the explicit type JSR's "no slow types" rule asks for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test("deno publish --dry-run accepts deno.json's package", { timeout: 180_000 }, () => {
  const r = spawnSync(join(root, 'node_modules/.bin/deno'), ['publish', '--dry-run', '--allow-dirty'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.equal(r.status, 0, `deno publish --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /core\/gpu\/wgsl\.gen\.ts/, 'the embedded WGSL is not in the package');
  assert.match(r.stdout + r.stderr, /core\/cpu\/kernels_wasm\.gen\.ts/, 'the embedded WASM is not in the package');
  assert.match(r.stdout + r.stderr, /core\/cpu\/kernels_relaxed_wasm\.gen\.ts/, 'the embedded relaxed WASM is not in the package');
});
