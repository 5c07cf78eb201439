#!/usr/bin/env node
// Runs the whole test suite with node's test runner over the compiled tests in dist/test
// (the build runs first, from `npm test`). Readable `spec` output on stdout, TAP to a
// file from which the closing line `N passed, N failed, N skipped` is printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackages, TEST_PACKAGES } from './system_deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join(root, 'dist/test');
const only = process.argv.slice(2);
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.js') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort()
  .map((f) => join(testDir, f));
if (files.length === 0) {
  console.error('no test files found in dist/test: did the build run?');
  process.exit(1);
}
ensurePackages(TEST_PACKAGES);
mkdirSync(join(root, 'build'), { recursive: true });
const tapFile = join(root, 'build/test-results.tap');
// WebGPU under Node (Dawn) runs on SwiftShader on a machine without a GPU (docs/design.md):
// the test processes get the driver and runtime directory the CLI's Node entry chooses,
// through the same function (from the build, which ran first).
const { SWIFTSHADER_ICD, preferIcd } = await import('../dist/runtimes/webgpu_host.js');
const env = { ...process.env };
preferIcd(SWIFTSHADER_ICD, { get: (k) => env[k], set: (k, v) => void (env[k] = v) });
const r = spawnSync(
  process.execPath,
  // A hung test fails after 20 minutes instead of eating CI's 90.
  [
    '--test',
    '--test-timeout=1200000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env },
);
const tap = readFileSync(tapFile, 'utf8');
const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
console.log(`${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped') + count('todo')} skipped`);
process.exit(r.status ?? 1);
