/**
 * The whole repository passes `deno lint` (deno is already a dev dependency) with its
 * recommended rules, configured in deno.json. One rule is off: `require-await`. Many of our
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

test('deno lint finds no problem in the repository', { timeout: 180_000 }, () => {
  const r = spawnSync(join(root, 'node_modules/.bin/deno'), ['lint'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, `deno lint:\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr + r.stdout, /Checked \d+ files/);
});
