#!/usr/bin/env node
// `npm run docs`: the typed API reference, generated from the TSDoc of the two entry points
// (runtimes/library.ts — the `ridgeline` package — and core/mod.ts — `ridgeline/core` and
// the browser bundle) by `deno doc --html`. Deno is already a dev dependency, so this needs
// no documentation generator of its own. Writes build/api/ (or the directory after
// --output); open build/api/index.html.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--output');
const output = at > 0 ? process.argv[at + 1] : join(root, 'build/api');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
// --quiet: deno reports, as warnings, the Node type packages it cannot resolve for the
// node: imports of runtimes/; they do not affect the documented API.
const r = spawnSync(join(root, 'node_modules/.bin/deno'), [
  'doc',
  '--html',
  '--quiet',
  `--name=ridgeline ${version}`,
  `--output=${output}`,
  join(root, 'runtimes/library.ts'),
  join(root, 'core/mod.ts'),
], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`docs: deno doc failed (${r.status ?? r.signal})`);
  process.exit(1);
}
console.log(`docs: ${join(output, 'index.html')}`);
