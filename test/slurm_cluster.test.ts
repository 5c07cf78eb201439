/**
 * The test cluster of test/slurm_cluster.ts is a real Slurm: a throttled job array runs
 * every task once with its own SLURM_ARRAY_TASK_ID, no more than the throttle at a time;
 * sbatch refuses an array beyond MaxArraySize (which is why the engine must split large
 * sweeps); stop() leaves no daemon behind. Skips, saying why, without root or Slurm;
 * fails instead under CI, whose test command installs slurm-wlm and munge.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSlurmCluster } from './slurm_cluster.ts';
import { skipOutsideCi } from './util.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a single-node Slurm cluster runs a throttled job array, refuses one beyond MaxArraySize, and stops cleanly', async (t) => {
  const t0 = performance.now();
  // Four CPUs on any machine, so that the array's %2 throttle, not the CPU count, limits it.
  const cluster = await startSlurmCluster({ cpus: 4 });
  if ('skipped' in cluster) return skipOutsideCi(t, cluster.skipped);
  t.diagnostic(`cluster up in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const daemons = ['slurmctld.pid', 'slurmd.pid'].map((f) => Number(readFileSync(join(cluster.dir, f), 'utf8')));
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-slurm-out-'));
  const slurm = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env: cluster.env, timeout: 30_000 });
  try {
    // Each task records its start and end (ns) and then, atomically, its index.
    const task =
      'i=$SLURM_ARRAY_TASK_ID; s=$(date +%s%N); sleep 0.5; echo "$s $(date +%s%N)" > span-$i; echo $i > task-$i.tmp && mv task-$i.tmp task-$i';
    const t1 = performance.now();
    const sub = slurm('sbatch', ['--parsable', '--array=0-3%2', `--chdir=${out}`, '--output=/dev/null', '--wrap', task]);
    assert.equal(sub.status, 0, `sbatch: ${sub.stderr}`);
    const jobId = sub.stdout.trim().split(';')[0];
    assert.match(jobId, /^\d+$/);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const queued = slurm('squeue', ['-h', '-j', jobId, '-o', '%i %T']).stdout.trim();
      const done = readdirSync(out).filter((f) => /^task-\d+$/.test(f)).length;
      if (queued === '' && done === 4) break;
      assert.ok(Date.now() < deadline, `the array did not finish within 60 s: squeue '${queued}', ${done} of 4 tasks done`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.diagnostic(`4-task array (%2, 0.5 s each) done in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('task-')).sort(), ['task-0', 'task-1', 'task-2', 'task-3']);
    for (let i = 0; i < 4; i++) {
      assert.equal(readFileSync(join(out, `task-${i}`), 'utf8'), `${i}\n`, `task ${i} wrote its own SLURM_ARRAY_TASK_ID`);
    }
    // The throttle: at no task's start were more than 2 tasks running.
    const spans = [0, 1, 2, 3].map((i) => readFileSync(join(out, `span-${i}`), 'utf8').trim().split(' ').map(BigInt));
    const most = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    assert.ok(most <= 2, `%2 throttle: ${most} tasks ran at once`);

    // MaxArraySize N allows indices 0 … N − 1; one more is refused at submission.
    const last = cluster.maxArraySize - 1;
    const fits = slurm('sbatch', ['--parsable', '--hold', `--array=0-${last}`, `--chdir=${out}`, '--output=/dev/null', '--wrap', 'true']);
    assert.equal(fits.status, 0, `an array of ${cluster.maxArraySize} tasks (held) is accepted: ${fits.stderr}`);
    assert.equal(slurm('scancel', [fits.stdout.trim()]).status, 0);
    const tooLarge = slurm('sbatch', [
      '--parsable',
      '--hold',
      `--array=0-${last + 1}`,
      `--chdir=${out}`,
      '--output=/dev/null',
      '--wrap',
      'true',
    ]);
    assert.notEqual(tooLarge.status, 0, `an array of ${cluster.maxArraySize + 1} tasks must be refused, got job ${tooLarge.stdout.trim()}`);
    assert.match(tooLarge.stderr, /array/i, 'sbatch says the array is the problem');
  } finally {
    const t2 = performance.now();
    await cluster.stop();
    t.diagnostic(`cluster stopped in ${((performance.now() - t2) / 1000).toFixed(2)} s`);
    rmSync(out, { recursive: true, force: true });
  }
  assert.deepEqual(daemons.filter(alive), [], 'slurmctld and slurmd are gone');
  assert.ok(!existsSync(cluster.dir), 'the cluster directory is removed');
});
