/**
 * core/ type-checks on its own with no runtime's types (tsconfig.core.json): a Node, Deno
 * or Bun global or a node: import in the engine is a compile error here, while the build's
 * tsconfig (which includes runtimes/ and @types/node) would accept it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('core/ type-checks without Node types (tsconfig.core.json)', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.core.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `core/ reaches outside its runtime-agnostic types:\n${r.stdout}${r.stderr}`);
});
