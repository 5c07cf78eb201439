/**
 * The whole repository is formatted by `deno fmt` and passes `deno lint` (deno is already a
 * dev dependency), both configured in deno.json: the formatter with single quotes and
 * 140-column lines over the TypeScript and JavaScript sources (generated files, the
 * AssemblyScript kernels — decorators on functions are not TypeScript — and documents
 * excluded), so that a change's diff is its content, never its layout. The linter with its
 * recommended rules. One rule is off: `require-await`. Many of our
 * async functions have no `await` on purpose — they implement Promise-returning interfaces
 * (FileStore, Backend.data, command runners) — and being `async` is what turns a throw
 * in their argument checks into a rejected promise, which every caller handles; removing
 * `async` to please the rule would make those errors escape synchronously.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deno = (args: string[]) =>
  spawnSync(join(root, 'node_modules/.bin/deno'), args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

test('deno fmt --check: every source file is formatted (run `node_modules/.bin/deno fmt` to fix)', { timeout: 180_000 }, () => {
  const r = deno(['fmt', '--check']);
  const unformatted = [...(r.stdout + r.stderr).matchAll(/^from (\S+):$/gm)].map((m) => m[1]);
  assert.equal(r.status, 0, `deno fmt --check: not formatted:\n${unformatted.join('\n') || r.stderr}`);
  assert.match(r.stderr + r.stdout, /Checked \d+ files/);
});

test('deno lint finds no problem in the repository', { timeout: 180_000 }, () => {
  const r = spawnSync(join(root, 'node_modules/.bin/deno'), ['lint'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.equal(r.status, 0, `deno lint:\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr + r.stdout, /Checked \d+ files/);
});
