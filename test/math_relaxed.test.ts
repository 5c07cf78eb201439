/**
 * The opt-in relaxed math mode (core/math_mode.ts): the clear refusal where the runtime has
 * no relaxed SIMD (this Node 20, as users run it), the relaxed kernels against the f64
 * oracle and in training, and relaxed results under Deno, which has relaxed SIMD: fused,
 * recorded, and kept apart from strict results in a shared store. The strict default is
 * pinned elsewhere (test/kernel_order_cpu.test.ts, test/runtime_matrix.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { RidgelineError } from '../core/errors.ts';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { runSmokeTraining } from '../core/experiments/smoke_run.ts';
import { parseResultsKey, resultsKey } from '../core/math_mode.ts';
import { selectBackend } from '../core/select_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { kernelSuite } from './suites/kernels.ts';
import { randomF32, SMALL_FORK_ARGS } from './util.ts';

// dist/test/ → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deno = join(root, 'node_modules', '.bin', 'deno');
const bun = join(root, 'node_modules', '.bin', 'bun');
const NODE_FLAG = '--experimental-wasm-relaxed-simd';
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-relaxed-'));

const RUNTIMES = {
  node: [process.execPath, [join(root, 'dist/runtimes/node.js')]],
  /** Node 20 as the README tells users to run it for relaxed math. */
  nodeRelaxed: [process.execPath, [NODE_FLAG, join(root, 'dist/runtimes/node.js')]],
  deno: [deno, ['run', '-A', join(root, 'runtimes/deno.ts')]],
  bun: [bun, [join(root, 'runtimes/bun.ts')]],
} as const;

function ridgeline(runtime: keyof typeof RUNTIMES, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, pre] = RUNTIMES[runtime];
  const r = spawnSync(cmd, [...pre, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether this machine's CPU has FMA, which V8 uses for relaxed_madd (Linux: /proc/cpuinfo). */
const cpuHasFma = existsSync('/proc/cpuinfo') ? /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')) : null;

// What this process gives a library user before anything turns relaxed SIMD on.
const nativeRelaxed = await createCpuBackend({ math: 'relaxed' }).then(() => true, (e: unknown) => e);

test('without relaxed SIMD (Node 20 as users run it) the library refuses math relaxed with one E_BACKEND line', (t) => {
  if (nativeRelaxed === true) return t.skip(`this Node (${process.version}) has relaxed SIMD without a flag`);
  assert.ok(nativeRelaxed instanceof RidgelineError, String(nativeRelaxed));
  assert.equal(nativeRelaxed.code, 'E_BACKEND');
  assert.ok(!nativeRelaxed.message.includes('\n'));
  assert.match(nativeRelaxed.message, new RegExp(`no relaxed SIMD.*Deno.*${NODE_FLAG}`));
});

test('without relaxed SIMD the CLI prints that one line, no stack, exit 1 (demo, train, fork, barrier)', (t) => {
  if (nativeRelaxed === true) return t.skip(`this Node (${process.version}) has relaxed SIMD without a flag`);
  const dir = tmp();
  const data = ['--data', 'synthetic:gauss:n=100,dim=4,classes=2', '--model', 'mlp-1', '--width', '4'];
  for (
    const args of [
      ['demo', '--math', 'relaxed', '--steps', '1'],
      ['train', ...data, '--steps', '1', '--out', join(dir, 'train')],
      ['fork', ...data, '--unit', 'steps', '--k1', '0', '--steps', '2', '--out', join(dir, 'fork')],
      ['barrier', ...data, '--a', 'missing-a.safetensors', '--b', 'missing-b.safetensors'],
    ]
  ) {
    const r = ridgeline('node', [...args, '--backend', 'cpu', '--math', 'relaxed']);
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args[0]} printed more than one line:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`^E_BACKEND: math 'relaxed': this runtime's WebAssembly has no relaxed SIMD.*${NODE_FLAG}`));
  }
});

test('math relaxed with the webgpu backend is refused before any GPU is asked for; auto takes the cpu backend', async () => {
  await assert.rejects(
    selectBackend('webgpu', { math: 'relaxed', gpu: () => assert.fail('no adapter should be requested') }),
    /^RidgelineError: E_SPEC: --math relaxed is a mode of the cpu backend/,
  );
  const r = ridgeline('node', ['demo', '--backend', 'webgpu', '--math', 'relaxed']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^E_SPEC: --math relaxed is a mode of the cpu backend[^\n]*$/);
  assert.match(
    ridgeline('node', ['demo', '--math', 'fast']).stderr.trim(),
    /^E_SPEC: --math: unknown value 'fast'; valid: strict, relaxed$/,
  );
  // auto never considers WebGPU for relaxed math (the gpu entry point is not even called).
  const auto = await selectBackend('auto', { math: 'relaxed', gpu: () => assert.fail('no adapter should be requested') });
  assert.equal(auto.backend.kind, 'cpu');
  assert.equal(auto.backend.math, 'relaxed');
  assert.match(auto.reason, /--math relaxed runs on the cpu backend only/);
});

test('results keys: strict keeps the plain backend name (old stores stay valid), relaxed is its own', () => {
  assert.equal(resultsKey({ kind: 'cpu', math: 'strict' }), 'cpu');
  assert.equal(resultsKey({ kind: 'cpu', math: 'relaxed' }), 'cpu+relaxed');
  assert.deepEqual(parseResultsKey('cpu+relaxed'), { backend: 'cpu', math: 'relaxed' });
  assert.deepEqual(parseResultsKey('webgpu'), { backend: 'webgpu', math: 'strict' });
});

// Once this file has loaded, before any test runs, this process has relaxed SIMD as
// `node --experimental-wasm-relaxed-simd` would: V8 reads the flag when it validates a
// module, so it holds for every module compiled later (the helper thread's too: V8 flags
// are per process). The tests above that need it absent use `nativeRelaxed`, taken before
// this line, or fresh processes.
setFlagsFromString(NODE_FLAG);

/**
 * The whole kernel suite on the relaxed module. Its matmul bound, γ(k)·Σ|a||b|, holds for
 * fused multiply-adds too: a fused step rounds once where the strict one rounds twice, so
 * the error analysis of a dot product (Higham §3.1) only loses terms.
 */
kernelSuite('cpu, relaxed math', () => createCpuBackend({ math: 'relaxed' }));

test('the relaxed kernels fuse where the CPU has FMA, the strict ones never', async (t) => {
  const [strict, relaxed] = [await createCpuBackend(), await createCpuBackend({ math: 'relaxed' })];
  assert.equal(strict.fusesMultiplyAdd, false);
  assert.equal(strict.math, 'strict');
  assert.equal(relaxed.math, 'relaxed');
  if (cpuHasFma === null) return t.skip('cannot read the CPU flags here');
  assert.equal(relaxed.fusesMultiplyAdd, cpuHasFma);
  assert.match(relaxed.description, cpuHasFma ? /relaxed math \(fused multiply-add\)/ : /not fused by this engine/);
});

test('relaxed products: other bits than strict where fused, the same bits with one thread or two', async () => {
  const one = await createCpuBackend({ math: 'relaxed' });
  const two = await createCpuBackend({ math: 'relaxed', spawnWorker: spawnKernelWorker });
  const strict = await createCpuBackend();
  assert.equal(two.threads, 2);
  const [m, n, k] = [160, 136, 600];
  const a = randomF32(11, m * k);
  const b = randomF32(12, k * n);
  const product = (be: typeof one) => {
    const [ab, bb, out] = [be.alloc(a.length), be.alloc(b.length), be.alloc(m * n)];
    be.upload(ab, a);
    be.upload(bb, b);
    be.matmul(ab, bb, out, { batch: 1, m, n, k, transA: false, transB: true });
    const r = be.read(out);
    [ab, bb, out].forEach((x) => be.free(x));
    return new Uint32Array(r.buffer);
  };
  const [r1, r2, s] = [product(one), product(two), product(strict)];
  assert.deepEqual(r2, r1);
  const differing = r1.filter((bits, i) => bits !== s[i]).length;
  if (one.fusesMultiplyAdd) assert.ok(differing > m * n / 10, `only ${differing} of ${m * n} elements differ from strict`);
  else assert.equal(differing, 0);
  two.close();
});

test('relaxed training learns as strict does (same task, loss within 1 %)', async () => {
  const runs = await Promise.all(
    [createCpuBackend(), createCpuBackend({ math: 'relaxed' })].map(async (be) => runSmokeTraining(await be, { seed: 3, steps: 300 })),
  );
  const [strict, relaxed] = runs;
  const first = relaxed.losses[0];
  const last = relaxed.losses[relaxed.losses.length - 1];
  assert.ok(last < first / 10, `relaxed loss ${first} → ${last}`);
  assert.ok(relaxed.accuracy > 0.9, `relaxed train accuracy ${relaxed.accuracy}`);
  const strictLast = strict.losses[strict.losses.length - 1];
  assert.ok(Math.abs(last - strictLast) <= 0.01 * strictLast, `relaxed ${last} vs strict ${strictLast}`);
});

const FORK = [...SMALL_FORK_ARGS, '--backend', 'cpu'];
const readResult = (dir: string) => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ForkResult;
const storeObjects = (store: string) => readdirSync(join(store, 'objects')).flatMap((ab) => readdirSync(join(store, 'objects', ab))).length;

test('under Deno (relaxed SIMD built in): fused results, math recorded, and a shared store keeps them apart from strict ones', {
  timeout: 600_000,
}, (t) => {
  if (!existsSync(deno)) return t.skip(`deno is missing at ${deno} (a devDependency: run npm install)`);
  const demo = (math: string) =>
    JSON.parse(
      ridgeline('deno', ['demo', '--json', '--backend', 'cpu', '--steps', '20', '--seed', '5', '--math', math]).stdout.trim().split('\n')
        .pop()!,
    );
  const [strictDemo, relaxedDemo] = [demo('strict'), demo('relaxed')];
  assert.equal(relaxedDemo.math, 'relaxed');
  assert.equal(strictDemo.math, 'strict');
  if (cpuHasFma) {
    assert.match(relaxedDemo.backendDescription, /relaxed math \(fused multiply-add\)/);
    assert.notEqual(relaxedDemo.paramsHash, strictDemo.paramsHash, "relaxed training gave strict's bits: FMA was not used");
  }

  // One store, three forks: strict (node), relaxed (deno, a pool of two workers, which must
  // be told the math mode), strict again (node) — which finds all its work done.
  const dir = tmp();
  const store = join(dir, 'store');
  const run = (runtime: keyof typeof RUNTIMES, name: string, extra: string[]) => {
    const r = ridgeline(runtime, ['fork', ...FORK, '--store', store, '--out', join(dir, name), ...extra]);
    assert.equal(r.status, 0, `${runtime} fork ${extra.join(' ')}: ${r.stderr}`);
    return readResult(join(dir, name));
  };
  const strict = run('node', 'strict', []);
  const afterStrict = storeObjects(store);
  const relaxed = run('deno', 'relaxed', ['--math', 'relaxed', '--jobs', '2']);
  const afterRelaxed = storeObjects(store);
  const again = run('node', 'again', ['--math', 'strict']);
  assert.equal(strict.provenance.math, 'strict');
  assert.equal(relaxed.provenance.math, 'relaxed');
  assert.match(relaxed.provenance.adapter, /relaxed math/);
  assert.match(readFileSync(join(dir, 'relaxed', 'report.html'), 'utf8'), /<dt>math<\/dt><dd>relaxed<\/dd>/);
  assert.notEqual(relaxed.store?.sweepId, strict.store?.sweepId);
  assert.ok(
    afterRelaxed >= 2 * afterStrict,
    `the relaxed fork added ${afterRelaxed - afterStrict} objects to the strict fork's ${afterStrict}: it reused strict work`,
  );
  assert.equal(storeObjects(store), afterRelaxed, 'the second strict fork computed work the store already had');
  assert.deepEqual(again.cells, strict.cells);
  if (cpuHasFma) assert.notDeepEqual(relaxed.cells, strict.cells);
});

test('under Bun (JavaScriptCore has relaxed SIMD but may round twice) relaxed runs, and its description tells whether it fused', (t) => {
  if (!existsSync(bun)) return t.skip(`bun is missing at ${bun} (a devDependency: run npm install)`);
  const demo = (math: string) => {
    const r = ridgeline('bun', ['demo', '--json', '--backend', 'cpu', '--steps', '20', '--seed', '5', '--math', math]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const [strict, relaxed] = [demo('strict'), demo('relaxed')];
  assert.equal(relaxed.math, 'relaxed');
  // The probe and the training agree: not fused means strict's bits, fused means others.
  if (/not fused by this engine/.test(relaxed.backendDescription)) assert.equal(relaxed.paramsHash, strict.paramsHash);
  else assert.notEqual(relaxed.paramsHash, strict.paramsHash);
  t.diagnostic(`bun: ${relaxed.backendDescription}`);
});

test('node with the flag: a fork whose pool workers (--jobs 2) compute in relaxed math too', { timeout: 600_000 }, () => {
  const dir = tmp();
  const r = ridgeline('nodeRelaxed', ['fork', ...FORK, '--math', 'relaxed', '--jobs', '2', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  const result = readResult(dir);
  assert.equal(result.provenance.math, 'relaxed');
  assert.match(result.provenance.runtime, /^node /);
  assert.equal(result.cells.length, 2);
});

/** The error line of a refused command (exit 1): the last on stderr, after its progress log, and no stack. */
function refusal(r: { status: number | null; stderr: string }, what: string): string {
  assert.equal(r.status, 1, `${what} was not refused: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.ok(!lines.some((l) => /^\s+at /.test(l)), `${what} printed a stack:\n${r.stderr}`);
  assert.equal(lines.filter((l) => /^E_[A-Z]+: /.test(l)).length, 1, `${what}: one error line expected:\n${r.stderr}`);
  return lines[lines.length - 1];
}

test('the analyses take --math and record it; a run directory refuses a resume in the other mode by name', { timeout: 600_000 }, () => {
  const dir = tmp();
  const fork = join(dir, 'fork');
  const forkArgs = ['fork', ...FORK, '--out', fork];
  assert.equal(ridgeline('nodeRelaxed', [...forkArgs, '--math', 'relaxed']).status, 0);
  // Its checkpoints and cells are relaxed ones: a strict resume must not pass for the same run.
  const forkRefused = refusal(ridgeline('node', forkArgs), 'a strict resume of a relaxed fork');
  assert.match(forkRefused, /^E_SPEC: .*holds a run with a different spec \(--math "relaxed" → \(absent\)\)/);

  // Pair analyses (predict, layerwise) and second-order ones (hessian, convexity) record the mode they ran in.
  for (const math of ['relaxed', 'strict']) {
    const r = ridgeline('nodeRelaxed', ['predict', '--run', fork, '--out', join(dir, `predict-${math}`), '--json', '--math', math]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!).math, math);
  }
  const hessian = ridgeline('nodeRelaxed', [
    'hessian',
    ...SMALL_FORK_ARGS.slice(0, 8),
    '--every',
    '10',
    '--steps',
    '10',
    '--subset',
    '100',
    '--max-iter',
    '20',
    '--allow-unconverged',
    '--backend',
    'cpu',
    '--math',
    'relaxed',
    '--json',
  ]);
  assert.equal(hessian.status, 0, hessian.stderr);
  const measured = JSON.parse(hessian.stdout.trim().split('\n').pop()!);
  assert.equal(measured.math, 'relaxed');
  assert.match(measured.backend, /relaxed math/);

  // A hull run directory: the same refusal, in both directions.
  const hullArgs = (out: string) => [
    'hull',
    ...SMALL_FORK_ARGS.slice(0, 8),
    '--unit',
    'steps',
    '--splits',
    '0,10',
    '--train',
    '20',
    '--children',
    '2',
    '--samples',
    '4',
    '--backend',
    'cpu',
    '--out',
    out,
  ];
  const relaxedHull = join(dir, 'hull-relaxed');
  assert.equal(ridgeline('nodeRelaxed', [...hullArgs(relaxedHull), '--math', 'relaxed']).status, 0);
  assert.equal(JSON.parse(readFileSync(join(relaxedHull, 'hull.json'), 'utf8')).provenance.math, 'relaxed');
  assert.match(refusal(ridgeline('node', hullArgs(relaxedHull)), 'a strict resume of a relaxed hull'), /--math "relaxed" → \(absent\)/);
  const strictHull = join(dir, 'hull-strict');
  assert.equal(ridgeline('node', hullArgs(strictHull)).status, 0);
  assert.match(
    refusal(ridgeline('nodeRelaxed', [...hullArgs(strictHull), '--math', 'relaxed']), 'a relaxed resume of a strict hull'),
    /--math \(absent\) → "relaxed"/,
  );
  // The same mode resumes (everything reused).
  assert.equal(ridgeline('nodeRelaxed', [...hullArgs(relaxedHull), '--math', 'relaxed']).status, 0);
});
