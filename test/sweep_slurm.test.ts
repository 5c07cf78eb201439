/**
 * Sweeps on a real single-node Slurm cluster (test/slurm_cluster.ts, from Debian's
 * slurm-wlm + munge): sbatch arrays of pull workers give results equal to the local
 * executor's bit for bit; an array larger than MaxArraySize is split; and preemption — a
 * task requeued mid-node — resumes the node from its partial checkpoint. Also, without a
 * cluster: a worker killed mid-node resumes from its partial checkpoint.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../core/store/sealed.ts';
import { startSlurmCluster } from './slurm_cluster.ts';
import { skipOutsideCi } from './util.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist/runtimes/node.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-sweep-slurm-'));

function ridgeline(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function specFile(base: Record<string, unknown>, grid: Record<string, unknown[]>): string {
  const file = join(tmp(), 'sweep.json');
  writeFileSync(file, JSON.stringify({ name: 'slurm-test', base, grid }));
  return file;
}

/** Cell payloads of a store by node id (ids are content hashes: equal work, equal id). */
function cells(store: string): [string, string][] {
  const out: [string, string][] = [];
  for (const ab of readdirSync(join(store, 'objects'))) {
    for (const id of readdirSync(join(store, 'objects', ab))) {
      const record = JSON.parse(readFileSync(join(store, 'objects', ab, id, 'node.json'), 'utf8')).payload;
      if (record.kind === 'cell') out.push([id, canonicalJson(record.payload)]);
    }
  }
  return out.sort();
}

const SMALL = {
  data: 'synthetic:gauss:n=600,dim=16,classes=4',
  model: 'mlp-2',
  width: 16,
  batch: 30,
  unit: 'steps',
  k1: [0, 20],
  steps: 60,
  alphas: 5,
};
// A longer line, so that a kill or a requeue lands in the middle of a training node.
// Long enough that a preemption lands mid-trunk: the trunk's 3000 steps take ~2 s with step
// replay (its 1000 steps took 0.6 s, and the first partial checkpoint came ~0.1 s before the end).
const LONG = { ...SMALL, data: 'synthetic:gauss:n=3000,dim=256,classes=4', width: 512, k1: [0, 3000], steps: 3200 };

test("sbatch arrays of pull workers: results equal the local executor's bit for bit; arrays past MaxArraySize are split; task logs kept", async (t) => {
  const cluster = await startSlurmCluster({ cpus: 2 });
  if ('skipped' in cluster) return skipOutsideCi(t, cluster.skipped);
  try {
    const spec = specFile(SMALL, { seedInit: [0, 1], lr: [0.05, 0.1] });
    const local = tmp();
    assert.equal(ridgeline(['sweep', 'run', spec, '--store', local, '--jobs', '2', '--backend', 'cpu']).status, 0);
    const store = tmp();
    const t0 = performance.now();
    const r = ridgeline([
      'sweep',
      'run',
      spec,
      '--store',
      store,
      '--executor',
      'slurm',
      '--tasks',
      '3',
      '--backend',
      'cpu',
      '--slurm-arg=--time=10:00',
    ], cluster.env);
    t.diagnostic(`slurm sweep: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /submitted Slurm job \d+ \(3 tasks\)/);
    assert.deepEqual(cells(store), cells(local), 'Slurm and local results are identical');
    // Tasks still queued when the sweep finished start, find nothing to do, and exit.
    for (const t1 = Date.now(); spawnSync('squeue', ['-h'], { encoding: 'utf8', env: cluster.env }).stdout.trim() !== '';) {
      assert.ok(Date.now() - t1 < 60_000, "the array's tasks did not all end");
      await new Promise((r) => setTimeout(r, 250));
    }
    const logs = readdirSync(join(store, 'logs')).filter((f) => /^slurm-[0-9a-f]{12}-p0-\d+_\d\.out$/.test(f));
    assert.equal(logs.length, 3, `one log per task: ${logs}`);
    const script = readFileSync(join(store, 'slurm', readdirSync(join(store, 'slurm'))[0]), 'utf8');
    assert.match(script, /#SBATCH --time=10:00/);
    // More tasks than MaxArraySize: split into several arrays (they find the sweep done and exit).
    const split = ridgeline([
      'sweep',
      'run',
      spec,
      '--store',
      store,
      '--executor',
      'slurm',
      '--tasks',
      String(cluster.maxArraySize + 2),
      '--backend',
      'cpu',
      '--detach',
    ], cluster.env);
    assert.equal(split.status, 0, split.stderr);
    assert.match(split.stdout, /submitted Slurm jobs \d+, \d+ \(/);
    spawnSync('scancel', ['--name', `ridgeline-${readdirSync(join(store, 'sweeps'))[0].slice(0, 12)}`], { env: cluster.env });
  } finally {
    await cluster.stop();
  }
});

test('preemption on Slurm: a task requeued mid-node resumes the node from its partial checkpoint; results equal the local run', async (t) => {
  const cluster = await startSlurmCluster({ cpus: 2 });
  if ('skipped' in cluster) return skipOutsideCi(t, cluster.skipped);
  try {
    const spec = specFile(LONG, { seedInit: [7] });
    const local = tmp();
    assert.equal(ridgeline(['sweep', 'run', spec, '--store', local, '--jobs', '1', '--backend', 'cpu']).status, 0);
    const store = tmp();
    const sub = ridgeline([
      'sweep',
      'run',
      spec,
      '--store',
      store,
      '--executor',
      'slurm',
      '--tasks',
      '1',
      '--backend',
      'cpu',
      '--lease',
      '2',
      '--partial-every',
      '0.5',
      '--detach',
    ], cluster.env);
    assert.equal(sub.status, 0, sub.stderr);
    const job = /submitted Slurm job (\d+)/.exec(sub.stdout)![1];
    // Wait for a partial checkpoint of the trunk, then preempt the task (requeue).
    const partial = join(store, 'partial');
    const t0 = Date.now();
    while (
      !(existsSync(partial) &&
        readdirSync(partial).some((id) => readdirSync(join(partial, id)).some((f) => f.endsWith('.optim.safetensors'))))
    ) {
      assert.ok(Date.now() - t0 < 240_000, 'no partial checkpoint within 4 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rq = spawnSync('scontrol', ['requeue', `${job}_0`], { encoding: 'utf8', env: cluster.env });
    assert.equal(rq.status, 0, rq.stderr);
    // The requeued task finishes the sweep; the run command (waiting) reports it done.
    const wait = ridgeline([
      'sweep',
      'run',
      spec,
      '--store',
      store,
      '--executor',
      'slurm',
      '--tasks',
      '1',
      '--backend',
      'cpu',
      '--lease',
      '2',
      '--partial-every',
      '0.5',
    ], cluster.env);
    assert.equal(wait.status, 0, wait.stderr + wait.stdout);
    assert.deepEqual(cells(store), cells(local), 'the preempted sweep equals the local one');
    const logs = readdirSync(join(store, 'logs')).map((f) => readFileSync(join(store, 'logs', f), 'utf8')).join('\n');
    assert.match(logs, /resuming from its partial checkpoint at step \d+/, logs.slice(-2000));
  } finally {
    await cluster.stop();
  }
});

test('a worker killed mid-node (SIGKILL) resumes the node from its partial checkpoint after the lease expires', async () => {
  const spec = specFile(LONG, { seedInit: [9] });
  const clean = tmp();
  assert.equal(ridgeline(['sweep', 'run', spec, '--store', clean, '--jobs', '1', '--backend', 'cpu']).status, 0);
  const store = tmp();
  // Plan only (print computes nothing), then one worker that checkpoints every 0.2 s.
  assert.equal(ridgeline(['sweep', 'run', spec, '--store', store, '--executor', 'print', '--backend', 'cpu']).status, 0);
  const work = ['sweep', 'work', '--store', store, '--backend', 'cpu', '--lease', '1', '--partial-every', '0.2'];
  const child: ChildProcess = spawn(process.execPath, [cli, ...work], { cwd: root, stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  const partial = join(store, 'partial');
  const t0 = Date.now();
  while (
    !(existsSync(partial) && readdirSync(partial).some((id) => readdirSync(join(partial, id)).some((f) => f.endsWith('.loss.json'))))
  ) {
    assert.ok(Date.now() - t0 < 240_000, 'no partial checkpoint within 4 minutes');
    assert.equal(child.exitCode, null, 'the worker finished before it could be killed');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 1100));
  const resumed = ridgeline(work);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming from its partial checkpoint at step \d+/);
  assert.deepEqual(cells(store), cells(clean), 'the resumed node gives the uninterrupted result bit for bit');
});
