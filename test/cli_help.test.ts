/** Every command answers --help with its usage and options, and the top level lists them all. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

test('ridgeline --help lists every command, and each command has --help', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  const commands = [...top.stdout.matchAll(/^ {2}(\w+(?: \w+)?) {2,}/gm)].map((m) => m[1]);
  for (
    const name of [
      'fork',
      'barrier',
      'train',
      'predict',
      'layerwise',
      'evolve',
      'surface',
      'hessian',
      'convexity',
      'hull',
      'toy',
      'presets',
      'demo',
      'serve',
      'report',
      'sweep run',
      'sweep plan',
      'sweep status',
      'sweep collect',
      'sweep work',
    ]
  ) {
    assert.ok(commands.includes(name), `${name} is listed`);
  }
  for (const name of commands) {
    const r = run([...name.split(' '), '--help']);
    assert.equal(r.status, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: ridgeline ${name} \\[options\\]`), name);
    assert.match(r.stdout, /--help +this text/, `${name} documents --help`);
  }
});

test('every command that computes on a backend takes --math too (strict or relaxed kernels), with the same help', () => {
  const top = run(['--help']);
  const commands = [...top.stdout.matchAll(/^ {2}(\w+(?: \w+)?) {2,}/gm)].map((m) => m[1]);
  const mathLine = (text: string) => text.split('\n').find((l) => /^ {2}--math /.test(l));
  const withBackend = commands.filter((name) => / {2}--backend /.test(run([...name.split(' '), '--help']).stdout));
  // The analyses, the trainers and the sweeps: a regression here would silently run strict.
  for (const name of ['fork', 'hull', 'barrier', 'align', 'rebasin', 'train', 'predict', 'layerwise', 'surface', 'hessian', 'convexity']) {
    assert.ok(withBackend.includes(name), `${name} takes --backend`);
  }
  const reference = mathLine(run(['fork', '--help']).stdout);
  assert.ok(reference, 'fork documents --math');
  for (const name of withBackend) {
    const line = mathLine(run([...name.split(' '), '--help']).stdout);
    assert.ok(line, `${name} takes --backend but not --math`);
    if (!name.startsWith('sweep ')) assert.equal(line, reference, `${name}: --math help`);
  }
});

test('ridgeline sweep --help lists the subcommands', () => {
  const r = run(['sweep', '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const sub of ['run', 'plan', 'status', 'collect', 'work']) assert.match(r.stdout, new RegExp(`^  sweep ${sub} {2,}\\S`, 'm'));
});
