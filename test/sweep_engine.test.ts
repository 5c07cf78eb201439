/**
 * The sweep engine (issue: sweeps at research scale): pinned node ids, claims with leases,
 * and end to end through the CLI on real (small) training — a sweep's points equal plain
 * forks bit for bit, shared work is computed once across sweeps, workers killed with SIGKILL
 * at random moments and restarted give the uninterrupted results with no published node
 * computed twice, two executors on one store duplicate nothing, damaged objects are
 * recomputed, bad specs and stores change nothing, and the batch scripts are well formed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { applyOptions, FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { memoryFileStore } from '../core/io_memory.ts';
import { ObjectStore } from '../core/store/object_store.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { canonicalJson } from '../core/store/sealed.ts';
import { splitArray } from '../core/sweep/cluster_scripts.ts';
import { type GraphNode, identityOf, type PlanFacts, planPoint } from '../core/sweep/graph.ts';
import { expandSweep, parseSweepSpec } from '../core/sweep/sweep_spec.ts';
import { skipOutsideCi } from './util.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-sweep-'));

function ridgeline(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DATA = 'synthetic:gauss:n=600,dim=16,classes=4';
const BASE = { data: DATA, model: 'mlp-2', width: 16, batch: 30, unit: 'steps', k1: [0, 20], steps: 60, alphas: 5, backend: undefined };
const { backend: _b, ...BASE_SPEC } = BASE;

function specFile(grid: Record<string, unknown[]>, name = 'test'): string {
  const file = join(tmp(), 'sweep.json');
  writeFileSync(file, JSON.stringify({ name, base: BASE_SPEC, grid }));
  return file;
}

/** Every published object of a store: id → record (kind, identity, payload). */
function objects(store: string): Map<string, { kind: string; identity: Record<string, unknown>; payload: unknown }> {
  const out = new Map<string, { kind: string; identity: Record<string, unknown>; payload: unknown }>();
  const dir = join(store, 'objects');
  if (!existsSync(dir)) return out;
  for (const ab of readdirSync(dir)) {
    for (const id of readdirSync(join(dir, ab))) {
      const f = join(dir, ab, id, 'node.json');
      if (existsSync(f)) out.set(id, JSON.parse(readFileSync(f, 'utf8')).payload);
    }
  }
  return out;
}

/** Completed executions per node (the store's audit). */
function executions(store: string): Map<string, number> {
  const dir = join(store, 'executions');
  return new Map(existsSync(dir) ? readdirSync(dir).map((id) => [id, readdirSync(join(dir, id)).length]) : []);
}

const cellPayloads = (store: string) =>
  [...objects(store).entries()].filter(([, o]) => o.kind === 'cell').map(([id, o]) => [id, canonicalJson(o.payload)]).sort();

// ---- pure parts ------------------------------------------------------------------------

const FACTS: PlanFacts = { backend: 'cpu', trainExamples: () => 1200, testExamples: () => 300, fileChecksum: () => 'none' };

test('node ids are pinned (changing the scheme must be a deliberate, versioned act) and are SHA-256 of the canonical identity', async () => {
  const spec = applyOptions(FORK_DEFAULTS, { model: 'mlp-2', width: '32', data: 'mnist', k1: '0,1', epochs: '2', batch: '60' });
  const nodes = new Map<string, GraphNode>();
  const plan = await planPoint(spec, FACTS, nodes, '');
  assert.deepEqual({ trunk: plan.trunk, cells: plan.cells.map((c) => c.node) }, {
    trunk: PINNED.trunk,
    cells: PINNED.cells,
  });
  assert.equal(nodes.size, 2 + 2 * 2 + 2 * 3, 'two trunk checkpoints, two children per k1, two evaluations and a cell per cell');
  for (const n of nodes.values()) {
    const want = createHash('sha256').update(canonicalJson(identityOf(n.task, 'cpu'))).digest('hex').slice(0, 32);
    assert.equal(n.id, want);
  }
});

const PINNED = {
  trunk: ['ff909662361bca445133161dc337400f', '54c24f181bc56e681c418fe6a393773f'],
  cells: ['3a1277e1a88aa71430529a8b3c88886b', '91e413c18d7b438d182a364cc7195366'],
};

test('what a node depends on decides its id: the threshold changes only cells, another backend everything, more k1 values keep the old nodes', async () => {
  const ids = async (o: Record<string, string>, facts: PlanFacts = FACTS) => {
    const nodes = new Map<string, GraphNode>();
    await planPoint(
      applyOptions(FORK_DEFAULTS, { model: 'mlp-2', width: '16', data: 'mnist', k1: '0,1', epochs: '3', ...o }),
      facts,
      nodes,
      '',
    );
    return nodes;
  };
  const base = await ids({});
  const threshold = await ids({ threshold: '0.1' });
  for (const [id, n] of base) assert.equal(threshold.has(id), n.task.kind !== 'cell', `${n.label}`);
  const gpu = await ids({}, { ...FACTS, backend: 'webgpu' });
  assert.equal([...gpu.keys()].filter((id) => base.has(id)).length, 0);
  const wider = await ids({ k1: '0,1,2' });
  for (const id of base.keys()) assert.ok(wider.has(id), 'a sweep adding k1 = 2 reuses every node of k1 = 0, 1');
  // A cosine schedule's rate depends on the total length: there only the initial state is shared.
  const cosine = await ids({ schedule: 'cosine' });
  const cosineWider = await ids({ schedule: 'cosine', epochs: '4' });
  const sharedSteps = [...cosine.values()].filter((n) => cosineWider.has(n.id) && n.task.kind === 'checkpoint').map((n) =>
    (n.task as { step: number }).step
  );
  assert.deepEqual(sharedSteps, [0]);
  // Another learning rate trains other lines, but forks k1 = 0 from the same initial state.
  const otherLr = await ids({ lr: '0.2' });
  assert.deepEqual([...base.values()].filter((n) => otherLr.has(n.id)).map((n) => n.label), ['parent step 0 (order seed 0)']);
});

test('--align adds aligned (and with --repair, repaired) evaluations keyed by method and seed; every node of the unaligned plan keeps its id except the cells', async () => {
  const ids = async (o: Record<string, string>) => {
    const nodes = new Map<string, GraphNode>();
    await planPoint(
      applyOptions(FORK_DEFAULTS, { model: 'mlp-2', width: '16', data: 'mnist', k1: '0,1', epochs: '3', ...o }),
      FACTS,
      nodes,
      '',
    );
    return nodes;
  };
  const base = await ids({});
  const weight = await ids({ align: 'weight' });
  for (const [id, n] of base) assert.equal(weight.has(id), n.task.kind !== 'cell', `${n.label}`);
  const evals = (nodes: Map<string, GraphNode>) => [...nodes.values()].filter((n) => n.task.kind === 'eval' && 'align' in n.task);
  assert.equal(evals(weight).length, 2 * 2, 'an aligned train and test path per cell');
  for (const n of evals(weight)) assert.deepEqual((n.task as { align: unknown }).align, { method: 'weight', seed: 0 });
  const cells = [...weight.values()].filter((n) => n.task.kind === 'cell');
  for (const c of cells) {
    for (const e of Object.values((c.task as { evalAligned: Record<string, string> }).evalAligned)) assert.ok(c.deps.includes(e));
  }
  // Another seed or method: other aligned evaluations, the same unaligned ones.
  for (const other of [await ids({ align: 'weight', 'align-seed': '1' }), await ids({ align: 'activation' })]) {
    assert.equal(evals(other).filter((n) => weight.has(n.id)).length, 0);
    assert.equal([...base.keys()].filter((id) => other.has(id)).length, base.size - 2);
  }
  const repaired = await ids({ align: 'weight', repair: 'true' });
  assert.equal(evals(repaired).length, 2 * 2 * 2);
  for (const n of evals(weight)) assert.ok(repaired.has(n.id), 'the aligned paths are shared with a run that also repairs');
  assert.deepEqual(
    evals(repaired).filter((n) => !weight.has(n.id)).map((n) => (n.task as { repair: unknown }).repair),
    Array(4).fill({ examples: 2000 }),
  );
});

test('claims: one winner of a race, a live lease blocks, an expired one is taken over and the old owner may not publish', async () => {
  let now = 1_000_000;
  const files = memoryFileStore();
  const store = new ObjectStore(files, 'store', () => now);
  const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim('n1', `w${i}`, 1000)));
  assert.equal(claims.filter((c) => c !== null).length, 1, 'exactly one of eight racing workers wins');
  const first = claims.find((c) => c !== null)!;
  now += 900;
  assert.equal(await store.claim('n1', 'late', 1000), null, 'a live lease blocks');
  assert.ok(await store.heartbeat(first));
  now += 900;
  assert.equal(await store.claim('n1', 'late', 1000), null, 'the heartbeat renewed the lease');
  now += 1001;
  const taken = await store.claim('n1', 'taker', 1000);
  assert.ok(taken && taken.generation === first.generation + 1, 'an expired lease is taken over by the next generation');
  assert.equal(await store.stillOwns(first), false);
  assert.equal(await store.heartbeat(first), false, 'the presumed-dead owner learns it lost the node');
  await store.release(taken!);
  assert.ok(await store.claim('n1', 'next', 1000), 'a released claim is free at once');
});

test('publishing while heartbeats and late claimants write into the claim directory (real files): every node publishes, none fails', async () => {
  // CI once failed a Slurm sweep with "ENOTEMPTY … rmdir claims/<id>": a heartbeat's
  // temporary lock file appeared while publish removed the claim directory.
  const store = await ObjectStore.open(nodeFileStore(), join(tmp(), 'store'));
  for (let i = 0; i < 40; i++) {
    const id = createHash('sha256').update(`race ${i}`).digest('hex').slice(0, 32);
    const claim = (await store.claim(id, 'owner', 60_000))!;
    await store.files.write(join(store.stagingDir(id), 'x.bin'), new Uint8Array([i]));
    let stop = false;
    const hammer = (async () => {
      for (let k = 0; !stop; k++) {
        await store.heartbeat(claim);
        await store.claim(id, `late${k}`, 60_000);
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, i % 3));
      await store.publish(id, 'test', { i }, ['x.bin'], { i }, 'owner', 0);
    } finally {
      stop = true;
      await hammer;
    }
    const record = await store.read<{ i: number }>(id, { verifyFiles: true });
    assert.equal(record?.payload.i, i, `node ${i} published and verified`);
  }
});

test('sweep specs: unknown keys, empty grids, values out of range and duplicates are refused naming the key', () => {
  const cases: [unknown, RegExp][] = [
    [{ base: {}, grid: { seedInit: [0], lrr: [0.1] } }, /unknown key 'lrr'/],
    [{ base: {}, grid: {} }, /the grid is empty/],
    [{ base: {}, grid: { lr: [] } }, /grid 'lr' is an empty list/],
    [{ base: {}, grid: { lr: [-1] } }, /lr = -1.*--lr: must be ≥ 0/],
    [{ base: { bogus: 1 }, grid: { lr: [0.1] } }, /base: unknown key 'bogus'/],
    [{ base: {}, grid: { lr: [0.1, 0.1] } }, /occurs twice/],
    [{ base: {}, grid: { lr: [0.1] }, extra: 1 }, /unknown key 'extra'/],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => expandSweep(parseSweepSpec(json, 'S.json')),
      (e: Error) => re.test(e.message) && e.message.startsWith('E_SPEC'),
      `${JSON.stringify(json)}`,
    );
  }
  const ok = expandSweep(parseSweepSpec({ base: { preset: 'fashion-mlp2' }, grid: { 'seed-init': [0, 1], lr: [0.05, 0.1] } }, 'S.json'));
  assert.deepEqual(ok.points.map((p) => [p.point.seedInit, p.point.lr, p.spec.seedInit, p.spec.lr]), [
    [0, 0.05, 0, 0.05],
    [0, 0.1, 0, 0.1],
    [1, 0.05, 1, 0.05],
    [1, 0.1, 1, 0.1],
  ]);
});

test('Slurm arrays are split to fit MaxArraySize: every task once, no index at or past the limit', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 3000 }), (tasks, max) => {
    const parts = splitArray(tasks, max);
    assert.equal(parts.reduce((a, p) => a + p.to - p.from + 1, 0), tasks);
    for (const p of parts) assert.ok(p.from === 0 && p.to < max);
    assert.equal(parts.length, Math.ceil(tasks / max));
  }));
});

// ---- end to end -----------------------------------------------------------------------

const storeA = tmp();
const specA = specFile({ seedInit: [0, 1], lr: [0.05, 0.1] });

test('a 4-point sweep with 2 workers: each point equals a plain fork of the same options bit for bit; collect writes tidy tables and a report', () => {
  const r = ridgeline(['sweep', 'run', specA, '--store', storeA, '--jobs', '2', '--backend', 'cpu', '--out', join(storeA, 'collected')]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /4 points, \d+ nodes, 0 already in the store/);
  const out = tmp();
  const fork = ridgeline([
    'fork',
    '--data',
    DATA,
    '--model',
    'mlp-2',
    '--width',
    '16',
    '--batch',
    '30',
    '--unit',
    'steps',
    '--k1',
    '0,20',
    '--steps',
    '60',
    '--alphas',
    '5',
    '--seed-init',
    '1',
    '--lr',
    '0.1',
    '--backend',
    'cpu',
    '--out',
    out,
  ]);
  assert.equal(fork.status, 0, fork.stderr);
  const forkCells = (JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult).cells;
  const sweep = JSON.parse(readFileSync(join(storeA, 'collected', 'sweep.json'), 'utf8'));
  const point = sweep.points.find((p: { point: Record<string, number> }) => p.point.seedInit === 1 && p.point.lr === 0.1);
  const strip = (cells: ForkResult['cells']) => cells.map(({ checkpointA: _a, checkpointB: _b, checkpointFork: _f, ...rest }) => rest);
  assert.deepEqual(strip(point.cells), strip(forkCells), 'the sweep point and the fork agree in every number');
  const csv = readFileSync(join(storeA, 'collected', 'cells.csv'), 'utf8').trim().split('\r\n');
  assert.equal(csv.length, 1 + 4 * 2, 'one row per cell × seed');
  assert.match(readFileSync(join(storeA, 'collected', 'report.html'), 'utf8'), /<svg/);
  const summary = JSON.parse(readFileSync(join(storeA, 'collected', 'summary.json'), 'utf8'));
  assert.equal(summary.groups.length, 2 * 2, 'grid points without the seed key × cells');
  for (const g of summary.groups) assert.equal(g.n, 2, 'two seeds per group');
  for (const [id, n] of executions(storeA)) assert.equal(n, 1, `node ${id} computed ${n} times`);
});

test("a WebGPU sweep (pool of 2 processes) gives the cells of an in-process fork on WebGPU bit for bit, and the CPU sweep's within float tolerance", (t) => {
  const store = tmp();
  const spec = specFile({ seedInit: [1], lr: [0.1] }, 'gpu');
  const r = ridgeline(['sweep', 'run', spec, '--store', store, '--jobs', '2', '--backend', 'webgpu', '--out', join(store, 'collected')]);
  if (r.status !== 0 && /adapter|WebGPU is not available/i.test(r.stderr)) {
    return skipOutsideCi(t, `no WebGPU adapter: ${r.stderr.trim().split('\n').pop()}`);
  }
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const out = tmp();
  const fork = ridgeline([
    'fork',
    '--data',
    DATA,
    '--model',
    'mlp-2',
    '--width',
    '16',
    '--batch',
    '30',
    '--unit',
    'steps',
    '--k1',
    '0,20',
    '--steps',
    '60',
    '--alphas',
    '5',
    '--seed-init',
    '1',
    '--lr',
    '0.1',
    '--backend',
    'webgpu',
    '--out',
    out,
  ]);
  assert.equal(fork.status, 0, fork.stderr);
  const strip = (cells: ForkResult['cells']) => cells.map(({ checkpointA: _a, checkpointB: _b, checkpointFork: _f, ...rest }) => rest);
  const gpuCells = JSON.parse(readFileSync(join(store, 'collected', 'sweep.json'), 'utf8')).points[0].cells as ForkResult['cells'];
  assert.deepEqual(
    strip(gpuCells),
    strip((JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult).cells),
    'sweep workers and the fork agree in every number',
  );
  const cpu = JSON.parse(readFileSync(join(storeA, 'collected', 'sweep.json'), 'utf8')).points.find((
    p: { point: Record<string, number> },
  ) => p.point.seedInit === 1 && p.point.lr === 0.1).cells as ForkResult['cells'];
  for (const [i, c] of gpuCells.entries()) {
    const [g, k] = [c.test.curve.map((p) => p.loss), cpu[i].test.curve.map((p) => p.loss)];
    assert.equal(g.length, k.length);
    for (const [j, v] of g.entries()) {
      assert.ok(Math.abs(v - k[j]) <= 1e-3 * Math.max(1, Math.abs(k[j])), `cell ${i} α ${j}: WebGPU ${v} vs CPU ${k[j]}`);
    }
  }
});

test('two sweeps sharing cells: the shared nodes are computed once (the second computes only its new points)', () => {
  const before = executions(storeA);
  const specB = specFile({ seedInit: [1, 2], lr: [0.1] });
  const r = ridgeline(['sweep', 'run', specB, '--store', storeA, '--jobs', '1', '--backend', 'cpu']);
  assert.equal(r.status, 0, r.stderr);
  const m = /(\d+) nodes, (\d+) already in the store/.exec(r.stdout)!;
  const [nodes, reused] = [Number(m[1]), Number(m[2])];
  assert.equal(reused, nodes / 2, 'the point (seedInit 1, lr 0.1) is already there: half the nodes');
  const after = executions(storeA);
  for (const [id, n] of after) assert.equal(n, 1, `node ${id} computed ${n} times`);
  assert.equal(after.size - before.size, nodes / 2, 'only the new point was computed');
});

test('a damaged object (truncated checkpoint, edited record) is detected when a sweep starts, reported and recomputed to the same bytes', () => {
  // A checkpoint of sweep A (the one a cell names) and an evaluation that reads it.
  const sweep = JSON.parse(readFileSync(join(storeA, 'collected', 'sweep.json'), 'utf8'));
  const ckptFile = join(storeA, sweep.points[0].cells[0].checkpointA);
  const ckpt = [basename(dirname(ckptFile))];
  const [evalNode] = [...objects(storeA).entries()].filter(([, o]) => o.kind === 'eval' && o.identity.a === ckpt[0]);
  const evalRecord = join(storeA, 'objects', evalNode[0].slice(0, 2), evalNode[0], 'node.json');
  const [ckptBytes, evalText] = [readFileSync(ckptFile), readFileSync(evalRecord, 'utf8')];
  writeFileSync(ckptFile, ckptBytes.subarray(0, ckptBytes.length >> 1));
  writeFileSync(evalRecord, evalText.replace(/"loss": ([0-9.]+)/, '"loss": 0.125'));
  const r = ridgeline(['sweep', 'run', specA, '--store', storeA, '--jobs', '1', '--backend', 'cpu']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`object ${ckpt[0]} is damaged \\(checkpoint.safetensors hashes to`));
  assert.match(r.stderr, new RegExp(`object ${evalNode[0]} is damaged \\(node.json: checksum mismatch\\)`));
  assert.deepEqual(readFileSync(ckptFile), ckptBytes, 'recomputed bit for bit');
  const payloadOf = (text: string) => JSON.stringify(JSON.parse(text).payload.payload);
  assert.equal(payloadOf(readFileSync(evalRecord, 'utf8')), payloadOf(evalText), 'the evaluation recomputed to the same values');
});

test('bad specs and bad stores: one clear line, nothing written', () => {
  const notStore = tmp();
  writeFileSync(join(notStore, 'data.txt'), 'mine');
  const fresh = join(tmp(), 'new-store');
  const future = tmp();
  writeFileSync(join(future, 'store.json'), JSON.stringify({ format: 'ridgeline-store', version: 99 }));
  const bad = join(tmp(), 'bad.json');
  writeFileSync(bad, '{"base": {}, "grid": {"lr": [0.1], ');
  const cases: [string[], RegExp][] = [
    [['sweep', 'run', specA, '--store', notStore], /E_SPEC: --store .* is a non-empty directory that is not a ridgeline store/],
    [['sweep', 'run', bad, '--store', fresh], /E_SPEC: .*bad\.json: not valid JSON/],
    [['sweep', 'run', specFile({ lr: [0.1], widht: [3] }), '--store', fresh], /E_SPEC: .*grid: unknown key 'widht'/],
    [['sweep', 'run', specFile({ model: ['mlp-2', 'resnet99'] }), '--store', fresh], /E_SPEC: unknown model 'resnet99'/],
    [['sweep', 'run', '--grid', 'seed-init=3..1', '--store', fresh], /E_SPEC: --grid seed-init=3\.\.1: the range is empty/],
    [['sweep', 'status', '--store', notStore], /E_SPEC: --store .*: not a ridgeline store/],
    [
      ['sweep', 'run', specA, '--store', future],
      /E_SPEC: --store .*: a store of format ridgeline-store version 99; this ridgeline reads ridgeline-store version 1/,
    ],
    [['sweep', 'run', specA, '--store', fresh, '--executor', 'ray'], /E_SPEC: --executor: unknown value 'ray'/],
    [['sweep', 'frobnicate'], /E_SPEC: ridgeline sweep needs a subcommand: run, plan, status, collect, work/],
  ];
  for (const [args, re] of cases) {
    const r = ridgeline(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr.trim(), re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('E_')).length, 1, `one error line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.equal(existsSync(fresh), false, 'a refused sweep creates no store');
  assert.deepEqual(readdirSync(notStore), ['data.txt'], 'a foreign directory is left alone');
  assert.deepEqual(readdirSync(future), ['store.json'], 'a store of another version is left alone');
});

test('workers killed with SIGKILL at random moments, then restarted: results equal the uninterrupted sweep, no published node computed twice', async (t) => {
  // Lines long enough (about a second each) for kills to land inside training nodes.
  const file = join(tmp(), 'killed.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'killed',
      base: { ...BASE_SPEC, data: 'synthetic:gauss:n=2000,dim=64,classes=4', width: 128, k1: [0, 400], steps: 1200 },
      grid: { seedInit: [3, 4] },
    }),
  );
  const spec = file;
  const clean = tmp();
  const t0 = performance.now();
  assert.equal(ridgeline(['sweep', 'run', spec, '--store', clean, '--jobs', '2', '--backend', 'cpu']).status, 0);
  const duration = performance.now() - t0;
  const store = tmp();
  let kills = 0;
  let midSweep = 0;
  const total = objects(clean).size;
  for (let round = 0; round < 8; round++) {
    const child: ChildProcess = spawn(process.execPath, [
      cli,
      'sweep',
      'run',
      spec,
      '--store',
      store,
      '--jobs',
      '2',
      '--backend',
      'cpu',
      '--lease',
      '1',
    ], {
      cwd: root,
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, CI: 'true' },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // A random moment between 15 % and 60 % of an uninterrupted sweep's time: the first
    // kill always lands mid-sweep, later ones wherever the resumed sweep has got to.
    const wait = duration * (0.15 + 0.45 * Math.random());
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), wait))]);
    if (done) break;
    process.kill(-child.pid!, 'SIGKILL'); // the pool and its workers
    await exited;
    kills++;
    // Mid-sweep: some nodes were published and some not when the workers died.
    const published = objects(store).size;
    if (published > 0 && published < total) midSweep++;
    await new Promise((r) => setTimeout(r, 1100)); // the killed workers' leases expire
  }
  const final = ridgeline(['sweep', 'run', spec, '--store', store, '--jobs', '2', '--backend', 'cpu', '--lease', '1']);
  assert.equal(final.status, 0, final.stderr);
  assert.ok(midSweep >= 1, `at least one kill landed mid-sweep (${kills} kills, ${midSweep} mid-sweep)`);
  t.diagnostic(`${kills} kills, ${midSweep} with the sweep part done`);
  assert.deepEqual(cellPayloads(store), cellPayloads(clean), `after ${kills} kills the cells equal the uninterrupted sweep`);
  const objs = objects(store);
  for (const [id, n] of executions(store)) assert.ok(n <= 1, `published node ${id} (${objs.get(id)?.kind}) computed ${n} times`);
});

test('two executors on one store at the same time: no corruption, no duplicate work', async () => {
  const spec = specFile({ seedInit: [5, 6], lr: [0.05, 0.1] }, 'concurrent');
  const store = tmp();
  assert.equal(ridgeline(['sweep', 'plan', spec]).status, 0);
  const start = () =>
    new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, [cli, 'sweep', 'run', spec, '--store', store, '--jobs', '1', '--backend', 'cpu'], {
        cwd: root,
        stdio: 'ignore',
        env: { ...process.env, CI: 'true' },
      });
      c.once('exit', resolve);
    });
  const codes = await Promise.all([start(), start()]);
  assert.deepEqual(codes, [0, 0]);
  const exec = executions(store);
  const objs = objects(store);
  assert.equal(exec.size, objs.size, 'every node executed');
  for (const [id, n] of exec) assert.equal(n, 1, `node ${id} computed ${n} times`);
  const owners = new Set(
    [...readdirSync(join(store, 'executions'))].flatMap((id) =>
      readdirSync(join(store, 'executions', id)).map((f) => f.replace(/\.json$/, ''))
    ),
  );
  assert.ok(owners.size >= 2, 'both executors did part of the work');
  assert.equal(ridgeline(['sweep', 'status', '--store', store]).status, 0, 'status: finished');
});

test('--executor print writes the sbatch array script and a Kubernetes Indexed Job for the same work', () => {
  const store = tmp();
  const r = ridgeline([
    'sweep',
    'run',
    specA,
    '--store',
    store,
    '--executor',
    'print',
    '--tasks',
    '5',
    '--parallel',
    '2',
    '--slurm-arg=--partition=gpu',
    '--slurm-arg=--time=1:00:00',
    '--backend',
    'cpu',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const id = /sweep ([0-9a-f]{32})/.exec(r.stdout)![1];
  assert.match(r.stdout, /#SBATCH --array=0-4%2/);
  assert.match(r.stdout, /#SBATCH --partition=gpu\n#SBATCH --time=1:00:00/);
  assert.match(r.stdout, /#SBATCH --requeue/);
  assert.match(r.stdout, new RegExp(`sweep work --store \\S+ --sweep ${id} --backend cpu`));
  assert.match(r.stdout, /completionMode: Indexed/);
  assert.match(r.stdout, /completions: 5\n {2}parallelism: 2\n {2}backoffLimitPerIndex: 3/);
  assert.match(r.stdout, /JOB_COMPLETION_INDEX/);
  assert.equal(Object.keys(executions(store)).length, 0, 'print computes nothing');
});

test('sweep forget + gc: only the nodes no remaining sweep needs go (a dry run lists them first), live claims stay, the kept sweep is still complete', () => {
  const store = tmp();
  cpSync(storeA, store, { recursive: true });
  const manifests = readdirSync(join(store, 'sweeps')).map((f) =>
    JSON.parse(readFileSync(join(store, 'sweeps', f), 'utf8')).payload as { sweepId: string; name: string; nodes: { id: string }[] }
  );
  assert.equal(manifests.length, 2, 'store A holds the two sweeps of the tests above');
  const [gone, kept] = manifests[0].nodes.length <= manifests[1].nodes.length ? manifests : [manifests[1], manifests[0]];
  const keptIds = new Set(kept.nodes.map((n) => n.id));
  const orphans = gone.nodes.map((n) => n.id).filter((id) => !keptIds.has(id)).sort();
  assert.ok(orphans.length > 0 && orphans.length < gone.nodes.length, 'the two sweeps share some nodes, not all');
  // A worker of some other sweep holds a live claim on an id no manifest names yet.
  const busy = 'f'.repeat(32);
  mkdirSync(join(store, 'claims', busy), { recursive: true });
  writeFileSync(
    join(store, 'claims', busy, '000000.lock'),
    JSON.stringify({ owner: 'other', generation: 0, heartbeat: Date.now(), leaseMs: 3_600_000, released: false }),
  );

  const forget = ridgeline(['sweep', 'forget', '--store', store, '--sweep', gone.sweepId.slice(0, 10)]);
  assert.equal(forget.status, 0, forget.stderr);
  const dry = ridgeline(['sweep', 'gc', '--store', store, '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.deepEqual(
    [...dry.stderr.matchAll(/would remove ([0-9a-f]{32})/g)].map((m) => m[1]).sort(),
    orphans,
    'the dry run names exactly the orphaned nodes',
  );
  assert.ok(orphans.every((id) => existsSync(join(store, 'objects', id.slice(0, 2), id, 'node.json'))), 'a dry run removes nothing');

  const gc = ridgeline(['sweep', 'gc', '--store', store]);
  assert.equal(gc.status, 0, gc.stderr);
  assert.match(gc.stdout, new RegExp(`removed ${orphans.length} unreferenced node\\(s\\), left 1 claimed by live workers`));
  for (const id of orphans) {
    assert.ok(
      !existsSync(join(store, 'objects', id.slice(0, 2), id)) && !existsSync(join(store, 'executions', id)),
      `${id} removed with its audit`,
    );
  }
  assert.ok(existsSync(join(store, 'claims', busy, '000000.lock')), 'a live claim is left alone');
  for (const id of keptIds) {
    assert.ok(existsSync(join(store, 'objects', id.slice(0, 2), id, 'node.json')), `kept node ${id} is still there`);
  }
  const status = ridgeline(['sweep', 'status', '--store', store]);
  assert.equal(status.status, 0, `the kept sweep is still complete: ${status.stdout}`);
  assert.match(status.stdout, new RegExp(`done ${kept.nodes.length} · running 0 · pending 0`));
  assert.equal(
    ridgeline(['sweep', 'status', '--store', store, '--sweep', gone.sweepId]).status,
    1,
    'the forgotten sweep is gone from the store',
  );
});

test("fork --jobs 2 --store S runs through the pool and equals the sweep point; a sweep on S then reuses the fork's nodes", () => {
  const store = tmp();
  const out = tmp();
  const fork = ridgeline([
    'fork',
    '--data',
    DATA,
    '--model',
    'mlp-2',
    '--width',
    '16',
    '--batch',
    '30',
    '--unit',
    'steps',
    '--k1',
    '0,20',
    '--steps',
    '60',
    '--alphas',
    '5',
    '--seed-init',
    '0',
    '--lr',
    '0.05',
    '--backend',
    'cpu',
    '--jobs',
    '2',
    '--store',
    store,
    '--out',
    out,
  ]);
  assert.equal(fork.status, 0, fork.stderr);
  assert.match(fork.stderr, /\[worker \d\] .*: done in/, 'pool workers computed the nodes');
  const cells = (JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult).cells;
  for (const c of cells) {
    assert.ok(
      existsSync(c.checkpointA.startsWith('/') ? c.checkpointA : join(out, c.checkpointA)),
      'the result names checkpoints in the shared store',
    );
  }
  const sweep = ridgeline(['sweep', 'run', specA, '--store', store, '--jobs', '2', '--backend', 'cpu', '--out', join(store, 'collected')]);
  assert.equal(sweep.status, 0, sweep.stderr);
  const [, nodes, reused] = /(\d+) nodes, (\d+) already in the store/.exec(sweep.stdout)!.map(Number);
  assert.ok(reused > 0 && reused < nodes, `the fork's point is reused (${reused} of ${nodes})`);
  const point = JSON.parse(readFileSync(join(store, 'collected', 'sweep.json'), 'utf8')).points.find((
    p: { point: Record<string, number> },
  ) => p.point.seedInit === 0 && p.point.lr === 0.05);
  const strip = (cs: ForkResult['cells']) => cs.map(({ checkpointA: _a, checkpointB: _b, checkpointFork: _f, ...rest }) => rest);
  assert.deepEqual(strip(point.cells), strip(cells));
  for (const [id, n] of executions(store)) assert.equal(n, 1, `node ${id} computed ${n} times`);
});

test('the same sweep under Deno and Bun (their own worker pools) gives the cells of Node bit for bit', () => {
  const node = new Map(cellPayloads(storeA) as [string, string][]);
  for (
    const [runtime, args] of [['deno', ['run', '-A', join(root, 'runtimes/deno.ts')]], ['bun', [join(root, 'runtimes/bun.ts')]]] as const
  ) {
    const store = tmp();
    const r = spawnSync(join(root, 'node_modules/.bin', runtime), [
      ...args,
      'sweep',
      'run',
      specA,
      '--store',
      store,
      '--jobs',
      '2',
      '--backend',
      'cpu',
    ], { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, CI: 'true' } });
    assert.equal(r.status, 0, `${runtime}: ${r.stderr}`);
    const cells = cellPayloads(store);
    assert.equal(cells.length, 8, `${runtime}: 4 points × 2 cells`);
    for (const [id, payload] of cells) assert.equal(payload, node.get(id), `${runtime}: cell ${id} differs from Node's`);
  }
});
