/**
 * A real single-node Slurm cluster for tests (Debian's slurm-wlm + munge, as root, no
 * systemd; the recipe of docs/design.md#clusters-and-peers): munged shared by all clusters,
 * and a slurmctld + slurmd of our own with a temporary slurm.conf, state, spool, pid files
 * and logs in a temporary directory. Clients reach it through `SLURM_CONF` in `env`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

export interface SlurmCluster {
  /** The cluster's slurm.conf. */
  conf: string;
  /** process.env less any inherited SLURM_* / SBATCH_* settings, plus SLURM_CONF: for every client command. */
  env: NodeJS.ProcessEnv;
  /** The temporary directory of conf, state, spool, pid files and logs (removed by stop). */
  dir: string;
  /** Slurm's MaxArraySize: an array may hold this many tasks, indices 0 … maxArraySize − 1. */
  maxArraySize: number;
  /** CPUs of the node (jobs of one CPU each run this many at once). */
  cpus: number;
  /** Cancels the cluster's jobs, stops slurmctld and slurmd (by their pid files), removes `dir`. */
  stop(): Promise<void>;
}

/**
 * Every cluster directory is `ridgeline-slurm-PID-XXXXXX` in os.tmpdir(), PID its test
 * process: how a later run finds the daemons of a killed run (the name is atomic, where an
 * owner file written after mkdtemp would leave a moment in which another run sees no owner).
 */
const DIR_PREFIX = 'ridgeline-slurm-';
/** Small, so a test of the engine's splitting of larger arrays submits few tasks. */
const MAX_ARRAY_SIZE = 1001;
/** First port pair tried (slurmctld, slurmd); off Slurm's defaults 6817/6818 so a real cluster on the machine is left alone. */
const BASE_PORT = 16817;
/** Slurm's programs live in sbin, which a non-login PATH may lack. */
const SEARCH_PATH = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function which(name: string): string | null {
  for (const dir of SEARCH_PATH) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The command line of `pid`, '' when it is gone: checked before a kill, so a reused pid is never hit. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once every process is gone. */
async function killAll(pids: number[], graceMs = 10_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch { /* already gone */ }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone meanwhile */ }
  }
  while (pids.some(alive)) await sleep(20);
}

/** The daemons started from `dir`'s slurm.conf that are still running. */
function daemonsOf(dir: string): number[] {
  return ['slurmctld.pid', 'slurmd.pid']
    .map((f) => readPid(join(dir, f)))
    .filter((pid): pid is number => pid !== null && alive(pid) && cmdline(pid).includes(join(dir, 'slurm.conf')));
}

/**
 * Stops the daemons of clusters whose test process died without stop() (killed, timed out)
 * and removes their directories. Clusters of live processes (another work tree's tests
 * running at the same time) are left alone: their name holds a live pid.
 */
async function sweepStale(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (!owner || alive(Number(owner[1]))) continue;
    const dir = join(tmpdir(), name);
    await killAll(daemonsOf(dir));
    rmSync(dir, { recursive: true, force: true });
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first pair (p, p + 1) from BASE_PORT that nobody listens on (another cluster of ours, say). */
async function freePortPair(): Promise<[number, number]> {
  for (let p = BASE_PORT; p < BASE_PORT + 200; p += 2) {
    if ((await portFree(p)) && (await portFree(p + 1))) return [p, p + 1];
  }
  throw new Error(`no free port pair in ${BASE_PORT}–${BASE_PORT + 199} for slurmctld and slurmd`);
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 30_000 });

/** Makes sure munged answers (it is shared by all clusters and left running); the reason when it cannot. */
async function ensureMunge(munge: string): Promise<string | null> {
  if (run(munge, ['-n']).status === 0) return null;
  const key = '/etc/munge/munge.key';
  if (!existsSync(key)) {
    // As user munge, so that munged (which runs as munge) can read the key it creates.
    const r = run('runuser', ['-u', 'munge', '--', which('mungekey')!, '--create']);
    if (r.status !== 0) return `mungekey --create failed: ${(r.stderr || String(r.error)).trim()}`;
  }
  // /run is a tmpfs on most machines: the socket directory is gone after each boot.
  mkdirSync('/run/munge', { recursive: true, mode: 0o755 });
  const chown = run('chown', ['munge:munge', '/run/munge']);
  if (chown.status !== 0) return `chown munge /run/munge failed: ${chown.stderr.trim()}`;
  const r = run('runuser', ['-u', 'munge', '--', which('munged')!]);
  if (r.status !== 0) return `munged did not start: ${(r.stderr || String(r.error)).trim()}`;
  for (let i = 0; i < 100; i++) {
    if (run(munge, ['-n']).status === 0) return null;
    await sleep(50);
  }
  return 'munged started but munge -n still fails';
}

function slurmConf(dir: string, ports: [number, number], cpus: number): string {
  // Half the machine's memory: a node configured with more than slurmd finds is drained.
  const memoryMiB = Math.floor(totalmem() / 2 ** 20 / 2);
  return [
    `ClusterName=ridgeline`,
    `SlurmctldHost=localhost`,
    `SlurmUser=root`,
    `AuthType=auth/munge`,
    `SlurmctldPort=${ports[0]}`,
    `SlurmdPort=${ports[1]}`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`,
    `SlurmdLogFile=${dir}/slurmd.log`,
    // No cgroups: linuxproc tracks a job's processes by parentage, which works in any container.
    `ProctrackType=proctrack/linuxproc`,
    `TaskPlugin=task/none`,
    `SelectType=select/cons_tres`,
    `SelectTypeParameters=CR_CPU`,
    // A node configured with more CPUs than it has (opts.cpus) would otherwise be drained.
    `SlurmdParameters=config_overrides`,
    `MaxArraySize=${MAX_ARRAY_SIZE}`,
    `ReturnToService=2`,
    // A throttled array's next task starts on the scheduler's next pass (each second), not 3 s later.
    `SchedulerParameters=batch_sched_delay=0`,
    // No mail and no MPI plugin here: the defaults only add errors to the logs.
    `MailProg=/bin/true`,
    `MpiDefault=none`,
    `NodeName=localhost CPUs=${cpus} RealMemory=${memoryMiB} State=UNKNOWN`,
    `PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/**
 * Starts a cluster of one node (`localhost`, `opts.cpus` CPUs, by default this machine's
 * count) and resolves once the node is idle; `{ skipped }` with the reason where this
 * machine cannot run one (not root, Slurm or munge not installed). Throws when it can but
 * the cluster fails to come up, with the daemons' logs. Measured here: up in 0.05 s, stop
 * in 1.5–2 s (slurmctld's shutdown); slurmctld's first scheduling pass comes ~3 s after its
 * start, later ones every second, so a job waits ≤ 1 s on a cluster that has run a while.
 */
export async function startSlurmCluster(opts: { cpus?: number } = {}): Promise<SlurmCluster | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'a Slurm cluster needs root (slurmd runs jobs as their user; munged as munge)' };
  const tools = Object.fromEntries(
    ['slurmctld', 'slurmd', 'sbatch', 'sinfo', 'squeue', 'scancel', 'scontrol', 'munged', 'munge', 'mungekey', 'runuser'].map((
      n,
    ) => [n, which(n)]),
  );
  const missing = Object.keys(tools).filter((n) => !tools[n]);
  if (missing.length) return { skipped: `${missing.join(', ')} not found (apt-get install slurm-wlm munge)` };
  const mungeProblem = await ensureMunge(tools.munge!);
  if (mungeProblem) return { skipped: mungeProblem };

  await sweepStale();
  const cpus = opts.cpus ?? availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'spool'));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, await freePortPair(), cpus));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(SLURM|SBATCH|SALLOC|SRUN|SQUEUE|SINFO)_/.test(k)) env[k] = v;
  env.SLURM_CONF = conf;

  const stop = async (): Promise<void> => {
    const jobs = run(tools.squeue!, ['-h', '-o', '%A'], env);
    const ids = (jobs.stdout ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length) run(tools.scancel!, [...new Set(ids)], env);
    await killAll(daemonsOf(dir));
    rmSync(dir, { recursive: true, force: true });
  };
  const fail = async (what: string): Promise<never> => {
    const logs = `slurmctld.log:\n${tail(join(dir, 'slurmctld.log'))}\nslurmd.log:\n${tail(join(dir, 'slurmd.log'))}`;
    await stop();
    throw new Error(`${what}\n${logs}`);
  };

  // Both daemonize and write their pid files; `-N localhost` names the node whatever the hostname.
  const ctld = run(tools.slurmctld!, ['-f', conf], env);
  if (ctld.status !== 0) await fail(`slurmctld -f ${conf} exited with ${ctld.status ?? ctld.error}: ${(ctld.stderr ?? '').trim()}`);
  // slurmd registers at once if slurmctld answers, else only on its retry a second later.
  const deadline = Date.now() + 60_000;
  while (!/ is UP/.test(run(tools.scontrol!, ['ping'], env).stdout ?? '')) {
    if (Date.now() > deadline) await fail('slurmctld did not answer scontrol ping within 60 s');
    await sleep(20);
  }
  const slurmd = run(tools.slurmd!, ['-f', conf, '-N', 'localhost'], env);
  if (slurmd.status !== 0) await fail(`slurmd -f ${conf} exited with ${slurmd.status ?? slurmd.error}: ${(slurmd.stderr ?? '').trim()}`);
  let state = '';
  while (Date.now() < deadline) {
    state = (run(tools.sinfo!, ['-h', '-N', '-o', '%T'], env).stdout ?? '').trim();
    if (state === 'idle') return { conf, env, dir, maxArraySize: MAX_ARRAY_SIZE, cpus, stop };
    await sleep(20);
  }
  return fail(`the node did not become idle within 60 s (sinfo: '${state}')`);
}
