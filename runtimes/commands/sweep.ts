/**
 * `ridgeline sweep run|plan|status|collect|work|forget|gc`: grids of fork experiments over a shared,
 * verified store, computed by a local worker pool, Slurm job arrays, or (printed) a
 * Kubernetes Indexed Job.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { RidgelineError } from '../../core/errors.ts';
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { sweepReportHtml } from '../../core/report/sweep_html.ts';
import { parseMath, parseResultsKey, resultsKey } from '../../core/math_mode.ts';
import { checkMathBackend, selectBackend } from '../../core/select_backend.ts';
import { ObjectStore } from '../../core/store/object_store.ts';
import { indexedJobManifest, sbatchScript, splitArray } from '../../core/sweep/cluster_scripts.ts';
import { summarizeSweep, sweepSummaryCsv, sweepTidyCsv } from '../../core/sweep/collect.ts';
import { forgetSweep, listSweeps, planSweep, readManifest, type SweepManifest, writeManifest } from '../../core/sweep/manifest.ts';
import { clearFailures } from '../../core/sweep/sweep_failures.ts';
import { expandSweep, parseSweepSpec, type SweepSpec, sweepSpecFromCli } from '../../core/sweep/sweep_spec.ts';
import { collectGarbage } from '../../core/sweep/store_gc.ts';
import { collectSweep, sweepStatus, verifySweep } from '../../core/sweep/sweep_status.ts';
import { runWorker, WORKER_DEFAULTS } from '../../core/sweep/worker.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, optionOr, type OptionSpec, requireOption } from '../command.ts';
import type { RuntimeHost } from '../host.ts';
import { formatDuration } from '../progress.ts';
import { EVENT_PREFIX, eventProgress, runLocalPool, type WorkerEvent } from '../sweep_pool.ts';
import { FORK_OPTIONS } from './spec_options.ts';

const STORE: OptionSpec = {
  name: 'store',
  value: 'DIR',
  help: 'the store: content-addressed nodes shared by every sweep and fork using it (created if absent)',
};
const SWEEP_ID: OptionSpec = {
  name: 'sweep',
  value: 'ID',
  help: 'the sweep (its id or a unique prefix; default: the only sweep in the store)',
};
const LEASE: OptionSpec = {
  name: 'lease',
  value: 'SECONDS',
  help: 'a claim whose heartbeat is older than this is taken over (its worker presumed dead)',
  default: '60',
};
const PARTIAL_EVERY: OptionSpec = {
  name: 'partial-every',
  value: 'SECONDS',
  help: "save a partial checkpoint of a long training node this often (a killed or preempted worker's successor resumes from it)",
  default: '30',
};
const SPEC_INPUT: OptionSpec[] = [
  {
    name: 'spec',
    value: 'FILE',
    help: 'the sweep spec (JSON: {"name", "base": {preset, options}, "grid": {key: [values]}}); also the first argument',
  },
  {
    name: 'grid',
    value: 'KEY=VALUES',
    help: 'a grid axis instead of a spec file, repeatable: seed-init=0..4, lr=0.05,0.1 (list keys: k1=0,1;0,2)',
    repeatable: true,
  },
  { name: 'name', value: 'NAME', help: "the sweep's name in reports (with --grid)" },
];

const seconds = (opts: Record<string, string>, name: string, c: Command) => {
  const v = Number(optionOr(c, opts, name));
  if (!Number.isFinite(v) || v <= 0) {
    throw new RidgelineError('E_SPEC', `--${name} must be a positive number of seconds, got '${opts[name]}'`);
  }
  return v * 1000;
};

const positiveInt = (name: string, text: string) => {
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 1) throw new RidgelineError('E_SPEC', `--${name} must be an integer ≥ 1, got '${text}'`);
  return v;
};

/** The sweep spec from --spec FILE or from --grid (with fork options as its base). */
async function sweepSpecOf(opts: Record<string, string>, host: RuntimeHost): Promise<SweepSpec> {
  const forkKeys = new Set(FORK_OPTIONS.map((o) => o.name));
  const base = Object.fromEntries(Object.entries(opts).filter(([k]) => forkKeys.has(k)));
  if (opts.spec) {
    if (opts.grid || Object.keys(base).length > 0) {
      throw new RidgelineError(
        'E_SPEC',
        `sweep: give a spec file or --grid with fork options, not both (the file's base holds the options)`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(await host.files.readText(opts.spec));
    } catch (e) {
      if (e instanceof SyntaxError) throw new RidgelineError('E_SPEC', `${opts.spec}: not valid JSON (${e.message})`);
      throw new RidgelineError('E_SPEC', `${opts.spec}: cannot read the sweep spec (${(e as Error).message.replace(/^E_\w+: /, '')})`);
    }
    return parseSweepSpec(json, opts.spec);
  }
  return sweepSpecFromCli(opts.name ?? null, base, opts.grid ? opts.grid.split('\n') : []);
}

/** Plans the sweep (every check that can refuse it runs here, before any write). */
async function plan(opts: Record<string, string>, host: RuntimeHost, backendKey: string): Promise<SweepManifest> {
  const spec = await sweepSpecOf(opts, host);
  const { gridKeys, points } = expandSweep(spec);
  return planSweep(spec, gridKeys, points, host.files, backendKey);
}

async function manifestOf(store: ObjectStore, opts: Record<string, string>): Promise<SweepManifest> {
  if (opts.sweep) return readManifest(store, opts.sweep);
  const ids = await listSweeps(store);
  if (ids.length !== 1) {
    throw new RidgelineError(
      'E_SPEC',
      `--sweep ID is needed: ${store.root} holds ${ids.length} sweeps (${ids.map((i) => i.slice(0, 12)).join(', ') || 'none'})`,
    );
  }
  return readManifest(store, ids[0]);
}

function describeStatus(m: SweepManifest, s: Awaited<ReturnType<typeof sweepStatus>>, print: (l: string) => void): void {
  print(`sweep ${m.sweepId.slice(0, 12)} "${m.name}" (${m.backend}): ${m.points.length} points, ${s.nodes} nodes`);
  print(
    `  done ${s.done.length} · running ${s.running.length} · pending ${s.pending.length} · failed ${s.failed.length}${
      s.blocked.length ? ` · blocked by failures ${s.blocked.length}` : ''
    }`,
  );
  const left = s.totalCost - s.doneCost;
  print(
    `  work: ${(100 * s.doneCost / Math.max(s.totalCost, 1)).toFixed(1)} % done${
      s.secondsPerCost !== null && left > 0
        ? `; about ${formatDuration(left * s.secondsPerCost)} of one worker left (at the measured rate)`
        : ''
    }`,
  );
  for (const r of s.running) print(`  running: ${r.node.label} (${r.owner}, heartbeat ${(r.heartbeatAgeMs / 1000).toFixed(0)} s ago)`);
  for (const f of s.failed) print(`  failed: ${f.node.label}: ${f.reason.split('\n')[0]}`);
}

const runCommand: Command = {
  summary: 'plan a sweep into the store and compute it (local worker pool, Slurm job arrays, or print the batch scripts)',
  options: [
    ...SPEC_INPUT,
    STORE,
    { name: 'executor', value: 'local|slurm|print', help: 'who computes the nodes', default: 'local' },
    { name: 'jobs', value: 'N', help: 'local worker processes (each with single-threaded kernels when N > 1)', default: 'cores' },
    {
      name: 'tasks',
      value: 'N',
      help: 'slurm/print: array tasks (each pulls nodes until the sweep is done)',
      default: 'graph width, ≤ 64',
    },
    { name: 'parallel', value: 'P', help: 'slurm/print: at most P tasks at once (%P)' },
    {
      name: 'slurm-arg',
      value: 'ARG',
      help:
        'slurm: passed to sbatch as "#SBATCH ARG", repeatable: --slurm-arg=--partition=P --slurm-arg=--time=2:00:00 (also --mem, --account, --cpus-per-task)',
      repeatable: true,
    },
    { name: 'detach', value: '', help: 'slurm: return after submitting instead of waiting for the sweep' },
    { name: 'image', value: 'IMAGE', help: 'print: the container image of the Kubernetes job', default: 'ridgeline:latest' },
    { name: 'volume-claim', value: 'PVC', help: 'print: the PersistentVolumeClaim holding the store', default: 'ridgeline-store' },
    { name: 'out', value: 'DIR', help: 'collect the finished sweep into DIR (as sweep collect)' },
    LEASE,
    PARTIAL_EVERY,
    BACKEND_OPTION,
    MATH_OPTION,
    ...FORK_OPTIONS,
  ],
  notes:
    'Fork options (--preset, --epochs, …) form the base of a --grid sweep. A sweep planned again finds its finished nodes; equal work in two sweeps on one store is computed once.',
  async run(opts, host) {
    const executor = optionOr(runCommand, opts, 'executor');
    if (!['local', 'slurm', 'print'].includes(executor)) {
      throw new RidgelineError('E_SPEC', `--executor: unknown value '${executor}'; valid: local, slurm, print`);
    }
    const storeDir = requireOption('sweep run', opts, 'store', 'DIR');
    const backendChoice = optionOr(runCommand, opts, 'backend');
    // The backend and its math mode decide the node ids (results differ between them in the last bits).
    const { backend, reason } = await selectBackend(backendChoice, backendOptions(host, opts));
    host.progress.log(reason);
    const manifest = await plan(opts, host, resultsKey(backend));
    const store = await ObjectStore.open(host.files, storeDir);
    await writeManifest(store, manifest);
    await clearFailures(store, manifest);
    await verifySweep(store, manifest);
    store.drainDamaged((m) => host.progress.log(m));
    const before = await sweepStatus(store, manifest);
    host.print(
      `sweep ${manifest.sweepId} "${manifest.name}": ${manifest.points.length} points, ${manifest.nodes.length} nodes, ${before.done.length} already in the store`,
    );
    // What every worker of this run is told, wherever it runs.
    const workerArgs = [
      '--backend',
      backend.kind,
      '--math',
      backend.math,
      '--lease',
      String(seconds(opts, 'lease', runCommand) / 1000),
      '--partial-every',
      String(seconds(opts, 'partial-every', runCommand) / 1000),
    ];
    const width = manifest.nodes.filter((n) => n.task.kind === 'checkpoint' && n.task.from === null).length;
    const tasks = opts.tasks ? positiveInt('tasks', opts.tasks) : Math.max(1, Math.min(64, width));
    const parallel = opts.parallel ? positiveInt('parallel', opts.parallel) : null;
    const self = host.self.map((p, i) => (i > 0 && /\.(js|ts)$/.test(p) ? resolve(p) : p));
    const storeAbs = resolve(storeDir);
    if (executor === 'print') {
      host.print(
        `\n# ---- Slurm: sbatch this script ----\n${
          sbatchScript({
            store: storeAbs,
            sweepId: manifest.sweepId,
            workerArgs,
            self,
            array: { from: 0, to: tasks - 1 },
            parallel,
            slurmArgs: opts['slurm-arg']?.split('\n') ?? [],
            part: 0,
          })
        }`,
      );
      host.print(
        `# ---- Kubernetes: kubectl apply -f this manifest ----\n${
          indexedJobManifest({
            store: storeAbs,
            sweepId: manifest.sweepId,
            workerArgs,
            tasks,
            parallel,
            image: optionOr(runCommand, opts, 'image'),
            volumeClaim: optionOr(runCommand, opts, 'volume-claim'),
            backoffLimitPerIndex: 3,
          })
        }`,
      );
      return 0;
    }
    if (executor === 'slurm') {
      const ids = await submitSlurm(storeAbs, manifest, workerArgs, self, tasks, parallel, opts['slurm-arg']?.split('\n') ?? [], host);
      host.print(
        `submitted Slurm job${ids.length > 1 ? 's' : ''} ${ids.join(', ')} (${tasks} tasks); logs in ${joinPath(storeAbs, 'logs')}`,
      );
      if (opts.detach) return 0;
      await waitForSlurm(store, manifest, ids, host);
    } else {
      const jobs = opts.jobs ? positiveInt('jobs', opts.jobs) : availableParallelism();
      await runLocalPool(store, manifest, {
        jobs,
        self,
        workerArgs,
        write: (t) => void process.stderr.write(t),
        interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
      });
    }
    const after = await sweepStatus(store, manifest);
    describeStatus(manifest, after, host.print);
    const computed = after.done.length - before.done.length;
    host.print(`computed ${computed} nodes; ${before.done.length} were already in the store`);
    if (after.failed.length > 0 || after.done.length < after.nodes) return 1;
    if (opts.out) await collectInto(store, manifest, opts.out, host, resultsKey(backend));
    return 0;
  },
};

/** Submits the sweep's array (split to fit MaxArraySize); returns the job ids. */
async function submitSlurm(
  store: string,
  m: SweepManifest,
  workerArgs: string[],
  self: string[],
  tasks: number,
  parallel: number | null,
  slurmArgs: string[],
  host: RuntimeHost,
): Promise<string[]> {
  const config = spawnSync('scontrol', ['show', 'config'], { encoding: 'utf8' });
  if (config.error || config.status !== 0) {
    throw new RidgelineError(
      'E_SPEC',
      `--executor slurm: scontrol show config failed (${
        config.error?.message ?? config.stderr.trim().split('\n')[0]
      }); is Slurm installed and SLURM_CONF set?`,
    );
  }
  const maxArraySize = Number(/MaxArraySize\s*=\s*(\d+)/.exec(config.stdout)?.[1] ?? 1001);
  const ids: string[] = [];
  // Slurm does not create the directory of --output: without it, task logs vanish.
  await host.files.mkdir(joinPath(store, 'logs'));
  for (const [part, array] of splitArray(tasks, maxArraySize).entries()) {
    const script = sbatchScript({ store, sweepId: m.sweepId, workerArgs, self, array, parallel, slurmArgs, part });
    await host.files.write(joinPath(store, 'slurm', `${m.sweepId.slice(0, 12)}-p${part}.sbatch`), script);
    const r = spawnSync('sbatch', ['--parsable'], { input: script, encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new RidgelineError(
        'E_SPEC',
        `sbatch refused the sweep's array (part ${part}): ${(r.error?.message ?? r.stderr).trim().split('\n')[0]}`,
      );
    }
    ids.push(r.stdout.trim().split(';')[0]);
  }
  return ids;
}

/** Waits until the sweep is done or none of its jobs is queued or running. */
async function waitForSlurm(store: ObjectStore, m: SweepManifest, ids: string[], host: RuntimeHost): Promise<void> {
  host.progress.start(`sweep ${m.sweepId.slice(0, 12)} on Slurm`, m.nodes.length);
  for (;;) {
    const s = await sweepStatus(store, m);
    host.progress.update(s.done.length, `${s.running.length} running, ${s.failed.length} failed`);
    if (s.done.length === s.nodes) break;
    const q = spawnSync('squeue', ['-h', '-j', ids.join(','), '-o', '%i'], { encoding: 'utf8' });
    if (q.status === 0 && q.stdout.trim() === '') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  host.progress.finish();
}

async function collectInto(store: ObjectStore, m: SweepManifest, out: string, host: RuntimeHost, backend: string): Promise<void> {
  const collection = await collectSweep(store, m, {
    backend,
    runtime: host.runtime,
    ridgelineVersion: host.version,
    gitCommit: host.gitCommit,
    collectedAt: new Date().toISOString(),
  });
  await prepareOutDir(host.files, out);
  const summary = summarizeSweep(collection);
  const outputs: [string, string][] = [
    ['cells.csv', sweepTidyCsv(collection)],
    ['summary.csv', sweepSummaryCsv(summary)],
    [
      'summary.json',
      JSON.stringify(
        { sweep: { id: m.sweepId, name: m.name, spec: m.spec, gridKeys: m.gridKeys }, provenance: collection.provenance, ...summary },
        null,
        1,
      ),
    ],
    ['report.html', sweepReportHtml(collection, summary)],
    [
      'sweep.json',
      JSON.stringify(
        {
          sweepId: m.sweepId,
          name: m.name,
          backend: m.backend,
          spec: m.spec,
          provenance: collection.provenance,
          points: collection.points,
        },
        null,
        1,
      ),
    ],
  ];
  for (const [name, text] of outputs) await host.files.write(joinPath(out, name), text);
  host.print(
    `collected ${collection.points.length} points into ${out}: cells.csv (one row per cell × seed), summary.csv, summary.json, report.html`,
  );
}

const planCommand: Command = {
  summary: "print a sweep's graph (nodes by kind, how many the store already has, the work left) without computing or writing anything",
  options: [
    ...SPEC_INPUT,
    { ...STORE, help: 'a store to count finished nodes in (optional)' },
    BACKEND_OPTION,
    MATH_OPTION,
    ...FORK_OPTIONS,
  ],
  async run(opts, host) {
    const choice = optionOr(planCommand, opts, 'backend');
    const math = parseMath(opts.math);
    checkMathBackend(choice, math);
    // As `sweep run` would choose without a GPU check: relaxed math runs on the cpu backend.
    const m = await plan(opts, host, resultsKey({ kind: choice === 'webgpu' ? 'webgpu' : 'cpu', math }));
    const store = opts.store && (await host.files.exists(joinPath(opts.store, 'store.json')))
      ? await ObjectStore.open(host.files, opts.store, { create: false })
      : null;
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
    host.print(
      `sweep ${m.sweepId} "${m.name}" on ${m.backend}: ${plural(m.points.length, 'point')} (${m.gridKeys.join(' × ')}), ${
        plural(m.points.reduce((a, p) => a + p.plan.cells.length, 0), 'cell')
      }, ${plural(m.nodes.length, 'node')}`,
    );
    for (const kind of ['checkpoint', 'eval', 'cell'] as const) {
      const nodes = m.nodes.filter((n) => n.task.kind === kind);
      host.print(
        `  ${kind.padEnd(10)} ${String(nodes.length).padStart(6)} nodes, ${
          (nodes.reduce((a, n) => a + n.cost, 0) / 1e6).toFixed(1)
        } M example passes`,
      );
    }
    host.print(
      `  total      ${
        (m.nodes.reduce((a, n) => a + n.cost, 0) / 1e6).toFixed(1)
      } M example passes (a training example counts 3: forward and backward)`,
    );
    if (store) {
      const s = await sweepStatus(store, m);
      host.print(
        `  in ${store.root}: ${s.done.length} of ${s.nodes} nodes done (${
          (100 * s.doneCost / Math.max(s.totalCost, 1)).toFixed(1)
        } % of the work)`,
      );
      if (s.secondsPerCost !== null) {
        host.print(
          `  estimated: ${
            formatDuration((s.totalCost - s.doneCost) * s.secondsPerCost)
          } of one worker (rate measured on this store's finished training nodes)`,
        );
      }
    }
    return 0;
  },
};

const statusCommand: Command = {
  summary: 'show each sweep in a store: done, running, pending and failed nodes (each failure with its reason)',
  options: [STORE, SWEEP_ID],
  async run(opts, host) {
    const store = await ObjectStore.open(host.files, requireOption('sweep status', opts, 'store', 'DIR'), { create: false });
    const ids = opts.sweep ? [(await readManifest(store, opts.sweep)).sweepId] : await listSweeps(store);
    if (ids.length === 0) host.print(`${store.root}: no sweeps yet`);
    let unfinished = false;
    for (const id of ids) {
      const m = await readManifest(store, id);
      const s = await sweepStatus(store, m);
      describeStatus(m, s, host.print);
      unfinished ||= s.done.length < s.nodes;
    }
    const damaged = await host.files.list(store.path('damaged'));
    if (damaged.length > 0) {
      host.print(`${damaged.length} damaged object(s) were found and set aside so far (notes in ${store.path('damaged')})`);
    }
    return unfinished ? 3 : 0;
  },
};

const collectCommand: Command = {
  summary: 'gather a finished sweep into tables (tidy CSV, summary with 95 % intervals) and report.html',
  options: [STORE, SWEEP_ID, { name: 'out', value: 'DIR', help: 'where the tables and report go' }],
  async run(opts, host) {
    const store = await ObjectStore.open(host.files, requireOption('sweep collect', opts, 'store', 'DIR'), { create: false });
    const m = await manifestOf(store, opts);
    await collectInto(store, m, requireOption('sweep collect', opts, 'out', 'DIR'), host, m.backend);
    return 0;
  },
};

const workCommand: Command = {
  summary:
    'one worker: pull ready nodes of a sweep from the store and compute them until the sweep is done (what pool processes, Slurm tasks and Kubernetes pods run)',
  options: [
    STORE,
    SWEEP_ID,
    LEASE,
    BACKEND_OPTION,
    { ...MATH_OPTION, default: "the sweep's" },
    { name: 'owner', value: 'NAME', help: "this worker's name in claims and logs", default: 'HOST-PID-random' },
    { name: 'events', value: '', help: 'report progress as JSON lines on stdout (for the local pool)' },
    PARTIAL_EVERY,
  ],
  async run(opts, host) {
    const store = await ObjectStore.open(host.files, requireOption('sweep work', opts, 'store', 'DIR'), { create: false });
    const manifest = await manifestOf(store, opts);
    // By default a worker computes as the sweep was planned: its backend and math mode.
    const planned = parseResultsKey(manifest.backend);
    const { backend } = await selectBackend(opts.backend ?? planned.backend, {
      ...host.backends,
      math: opts.math === undefined ? planned.math : parseMath(opts.math),
    });
    const owner = opts.owner ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const send = (ev: WorkerEvent) => void process.stdout.write(`${EVENT_PREFIX}${JSON.stringify(ev)}\n`);
    const progress = opts.events ? eventProgress(send) : host.progress;
    const report = await runWorker(store, manifest, backend, {
      owner,
      ...WORKER_DEFAULTS,
      leaseMs: seconds(opts, 'lease', workCommand),
      partialEveryMs: seconds(opts, 'partial-every', workCommand),
      progress,
      log: (line) => progress.log(line),
      onNode: opts.events
        ? ({ node, phase, seconds: s }) => send({ e: 'node', phase, id: node.id, label: node.label, seconds: s })
        : undefined,
    });
    if (!opts.events) {
      host.print(
        `worker ${owner}: computed ${report.executed.length} nodes; sweep ${
          report.done ? 'done' : `not done (${report.failed.length} failed)`
        }`,
      );
    }
    return report.failed.length > 0 ? 1 : 0;
  },
};

const forgetCommand: Command = {
  summary: 'drop a sweep from a store (its manifest); `sweep gc` then removes the nodes no other sweep needs',
  options: [STORE, { ...SWEEP_ID, help: 'the sweep to drop (its id or a unique prefix)' }],
  async run(opts, host) {
    const store = await ObjectStore.open(host.files, requireOption('sweep forget', opts, 'store', 'DIR'), { create: false });
    const m = await readManifest(store, requireOption('sweep forget', opts, 'sweep', 'ID'));
    await forgetSweep(store, m.sweepId);
    host.print(
      `forgot sweep ${m.sweepId} "${m.name}" (${m.nodes.length} nodes); 'ridgeline sweep gc --store ${store.root}' removes those no other sweep uses`,
    );
    return 0;
  },
};

const gcCommand: Command = {
  summary:
    'remove from a store everything no sweep or fork in it needs (objects, partial checkpoints, failure records, stale claims, damage notes)',
  options: [STORE, { name: 'dry-run', value: '', help: 'list what would be removed, remove nothing' }],
  notes:
    "Every node of every sweep in the store is kept, finished or not; nodes a live worker has claimed are left alone. Run `sweep forget` first to let a sweep's nodes go.",
  async run(opts, host) {
    const store = await ObjectStore.open(host.files, requireOption('sweep gc', opts, 'store', 'DIR'), { create: false });
    const dryRun = Boolean(opts['dry-run']);
    const r = await collectGarbage(store, { dryRun });
    for (const id of r.removed) host.progress.log(`${dryRun ? 'would remove' : 'removed'} ${id}`);
    for (const id of r.busy) host.progress.log(`left ${id}: a live worker holds its claim`);
    host.print(
      `${store.root}: ${r.sweeps} sweep(s) keep ${r.kept} nodes; ${
        dryRun ? 'would remove' : 'removed'
      } ${r.removed.length} unreferenced node(s)${r.busy.length ? `, left ${r.busy.length} claimed by live workers` : ''}${
        r.damagedNotes ? `, ${dryRun ? 'would clear' : 'cleared'} ${r.damagedNotes} damage note(s)` : ''
      }`,
    );
    return 0;
  },
};

export const SWEEP_COMMANDS: Record<string, Command> = {
  run: runCommand,
  plan: planCommand,
  status: statusCommand,
  collect: collectCommand,
  work: workCommand,
  forget: forgetCommand,
  gc: gcCommand,
};
