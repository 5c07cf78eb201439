/**
 * `npm run docs` (scripts/docs.mjs, deno doc --html) documents the public API: it runs,
 * and its symbol index names every value the `ridgeline` entry exports plus the result
 * and spec types, so an export added without reaching the reference is caught here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as library from '../runtimes/library.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Type-only exports have no runtime value to enumerate: the ones a user meets first. */
const TYPES = [
  'ForkResult',
  'ForkCell',
  'SplitMetrics',
  'ForkSpec',
  'ForkOptions',
  'Model',
  'Dataset',
  'Backend',
  'FileStore',
  'PairBarrier',
  'ExtremeEigenvalues',
  'TrainRun',
];

test('npm run docs writes an API reference naming every export', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-docs-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'scripts/docs.mjs'), '--output', out], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `scripts/docs.mjs failed:\n${r.stdout}\n${r.stderr}`);
    assert.ok(existsSync(join(out, 'index.html')));
    const index = readFileSync(join(out, 'all_symbols.html'), 'utf8');
    const names = [...Object.keys(library), ...TYPES];
    assert.ok(names.length > 60, `only ${names.length} exports`);
    const missing = names.filter((n) => !new RegExp(`\\b${n}\\b`).test(index));
    assert.deepEqual(missing, [], `exports missing from the API reference: ${missing.join(', ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
