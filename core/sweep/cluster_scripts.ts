/**
 * Batch scripts for clusters: a Slurm job array and a Kubernetes Indexed Job, both running
 * `ridgeline sweep work` tasks that pull ready nodes from the shared store.
 *
 * Why pull workers and not one job per node chained with `afterok`: the graph is in the
 * store, so a task needs no schedule of its own — any task can run any ready node, a
 * requeued or preempted task resumes the node it lost (from its partial checkpoint, once
 * its lease expires) or another, a failed node does not cancel the dependency chain of the
 * rest of the sweep, and one array submission covers any graph (no thousands of jobs, no
 * dependency limits). The price: a task whose nodes all wait on others' work waits too
 * (polling the store), at most the depth of the graph.
 */
import { RidgelineError } from '../errors.ts';

export interface ArrayPlan {
  /** How many tasks in all. */
  tasks: number;
  /** At most this many at once (`%P`), or null for no limit. */
  parallel: number | null;
}

/**
 * Splits `tasks` array indices into submissions that each fit Slurm's MaxArraySize
 * (indices must be below it): [first, last] index ranges, each starting at 0.
 */
export function splitArray(tasks: number, maxArraySize: number): { from: number; to: number }[] {
  if (!Number.isSafeInteger(tasks) || tasks < 1) throw new RidgelineError('E_SPEC', `--tasks must be an integer ≥ 1, got ${tasks}`);
  if (!Number.isSafeInteger(maxArraySize) || maxArraySize < 1) {
    throw new RidgelineError('E_SPEC', `MaxArraySize ${maxArraySize} is not a positive integer`);
  }
  const out: { from: number; to: number }[] = [];
  for (let left = tasks; left > 0; left -= Math.min(left, maxArraySize)) out.push({ from: 0, to: Math.min(left, maxArraySize) - 1 });
  return out;
}

export interface SbatchOptions {
  store: string;
  sweepId: string;
  /** Options every worker gets (backend, lease, partial checkpoint interval). */
  workerArgs: string[];
  /** The command that runs ridgeline on the nodes (absolute paths). */
  self: string[];
  array: { from: number; to: number };
  parallel: number | null;
  /** Passed through verbatim as `#SBATCH` lines (e.g. --partition=gpu, --time=2:00:00). */
  slurmArgs: string[];
  /** Part number of a split submission (log names), 0 for the first. */
  part: number;
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function sbatchScript(o: SbatchOptions): string {
  const short = o.sweepId.slice(0, 12);
  return [
    '#!/bin/bash',
    `# ridgeline sweep ${o.sweepId}: array tasks pull ready nodes from the store (see 'ridgeline sweep work --help').`,
    `#SBATCH --job-name=ridgeline-${short}`,
    `#SBATCH --array=${o.array.from}-${o.array.to}${o.parallel ? `%${o.parallel}` : ''}`,
    `#SBATCH --output=${o.store}/logs/slurm-${short}-p${o.part}-%A_%a.out`,
    // A preempted or requeued task starts again and appends to its log.
    '#SBATCH --requeue',
    '#SBATCH --open-mode=append',
    ...o.slurmArgs.map((a) => `#SBATCH ${a}`),
    '',
    '# One kernel thread per CPU Slurm gave the task.',
    'export RIDGELINE_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `exec ${o.self.map(shellQuote).join(' ')} sweep work --store ${shellQuote(o.store)} --sweep ${o.sweepId} ${
      o.workerArgs.map(shellQuote).join(' ')
    } \\`,
    '  --owner "slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}-r${SLURM_RESTART_COUNT:-0}-$(hostname)-$$"',
    '',
  ].join('\n');
}

export interface IndexedJobOptions {
  store: string;
  sweepId: string;
  workerArgs: string[];
  tasks: number;
  parallel: number | null;
  image: string;
  /** The PersistentVolumeClaim holding the store (mounted at the store's path). */
  volumeClaim: string;
  /** Retries of one index before it counts as failed. */
  backoffLimitPerIndex: number;
}

/** A Kubernetes Indexed Job (batch/v1) running the same tasks; JOB_COMPLETION_INDEX names each. */
export function indexedJobManifest(o: IndexedJobOptions): string {
  const name = `ridgeline-${o.sweepId.slice(0, 12)}`;
  const command = `exec ridgeline sweep work --store ${shellQuote(o.store)} --sweep ${o.sweepId} ${
    o.workerArgs.map(shellQuote).join(' ')
  } --owner "k8s-$JOB_COMPLETION_INDEX-$HOSTNAME"`;
  return [
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${o.tasks}`,
    `  parallelism: ${o.parallel ?? o.tasks}`,
    `  backoffLimitPerIndex: ${o.backoffLimitPerIndex}`,
    `  maxFailedIndexes: ${o.tasks}`,
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: worker',
    `          image: ${JSON.stringify(o.image)}`,
    `          command: ["/bin/sh", "-c", ${JSON.stringify(command)}]`,
    '          env:',
    '            - name: RIDGELINE_THREADS',
    '              value: "1"',
    '          volumeMounts:',
    '            - name: store',
    `              mountPath: ${JSON.stringify(o.store)}`,
    '      volumes:',
    '        - name: store',
    '          persistentVolumeClaim:',
    `            claimName: ${JSON.stringify(o.volumeClaim)}`,
    '',
  ].join('\n');
}
