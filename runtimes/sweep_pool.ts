/**
 * The local executor: N worker processes (`ridgeline sweep work`) pulling nodes from one
 * store, and a display of one line per worker plus a total with an ETA. Workers report to
 * the pool through JSON lines on stdout (workerEvents); the pool never computes anything
 * itself, so a worker killed by the OS costs only its node, which another worker (or the
 * next run) takes over once the lease has expired.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Backend } from '../core/backend.ts';
import { RidgelineError } from '../core/errors.ts';
import type { Progress } from '../core/progress.ts';
import type { ObjectStore } from '../core/store/object_store.ts';
import type { SweepManifest } from '../core/sweep/manifest.ts';
import type { SweepExecutor } from '../core/sweep/fork_runner.ts';
import { rethrowFailure } from '../core/sweep/sweep_failures.ts';
import { sweepStatus } from '../core/sweep/sweep_status.ts';
import { scanSweep } from '../core/sweep/worker.ts';
import type { RuntimeHost } from './host.ts';
import { formatDuration } from './progress.ts';

/** A worker's line to the pool: `@ridgeline {json}`; anything else is a log line. */
export const EVENT_PREFIX = '@ridgeline ';

export type WorkerEvent =
  | { e: 'start'; label: string; total: number }
  | { e: 'update'; done: number; status: string }
  | { e: 'finish' }
  | { e: 'node'; phase: 'start' | 'done' | 'failed'; id: string; label: string; seconds?: number }
  | { e: 'log'; line: string };

/** The Progress a pool's worker reports through (per-step updates thinned to 4 per second). */
export function eventProgress(send: (ev: WorkerEvent) => void): Progress {
  let last = 0;
  return {
    start: (label, total) => send({ e: 'start', label, total }),
    update(done, status = '') {
      const now = performance.now();
      if (now - last < 250) return;
      last = now;
      send({ e: 'update', done, status });
    },
    finish: () => send({ e: 'finish' }),
    log: (line) => send({ e: 'log', line }),
  };
}

export interface PoolOptions {
  jobs: number;
  /** The command that starts this ridgeline (e.g. [node, dist/runtimes/node.js]). */
  self: string[];
  /** Extra `sweep work` options (backend, lease). */
  workerArgs: string[];
  write: (text: string) => void;
  interactive: boolean;
}

/** Runs the pool until every worker exits; resolves with the workers' exit codes. */
export async function runLocalPool(store: ObjectStore, manifest: SweepManifest, o: PoolOptions): Promise<number[]> {
  const costOf = new Map(manifest.nodes.map((n) => [n.id, n.cost]));
  const total = manifest.nodes.reduce((a, n) => a + n.cost, 0);
  const initially = (await scanSweep(store, manifest.nodes)).published;
  let doneCost = [...initially].reduce((a, id) => a + (costOf.get(id) ?? 0), 0);
  let doneNodes = initially.size;
  const startCost = doneCost;
  const t0 = performance.now();
  const lines: string[] = Array.from({ length: o.jobs }, () => 'starting');
  let drawn = 0;
  let lastDraw = 0;
  const totalLine = () => {
    const secs = (performance.now() - t0) / 1000;
    const rate = (doneCost - startCost) / Math.max(secs, 1e-9);
    const eta = rate > 0 ? (total - doneCost) / rate : NaN;
    return `total: ${doneNodes}/${manifest.nodes.length} nodes, ${((100 * doneCost) / Math.max(total, 1)).toFixed(1)} % of the work, ${
      formatDuration(secs)
    } elapsed${Number.isFinite(eta) ? `, ETA ${formatDuration(eta)}` : ''}`;
  };
  const draw = (force = false) => {
    if (!o.interactive) return;
    const now = performance.now();
    if (!force && now - lastDraw < 200) return;
    lastDraw = now;
    const block = [...lines.map((l, i) => `worker ${i + 1}: ${l}`.slice(0, 160)), totalLine()];
    o.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${block.map((l) => `\r\x1b[2K${l}`).join('\n')}\n`);
    drawn = block.length;
  };
  const log = (line: string) => {
    if (o.interactive && drawn > 0) {
      o.write(`\x1b[${drawn}A\r\x1b[J`);
      drawn = 0;
    }
    o.write(`${line}\n`);
    draw(true);
  };
  const runOne = (w: number) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(o.self[0], [
        ...o.self.slice(1),
        'sweep',
        'work',
        '--store',
        store.root,
        '--sweep',
        manifest.sweepId,
        '--events',
        ...o.workerArgs,
      ], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Two workers on two cores: each worker's kernels run on one thread.
        env: { ...process.env, RIDGELINE_THREADS: o.jobs > 1 ? '1' : (process.env.RIDGELINE_THREADS ?? '') },
      });
      let total_ = 1;
      let label = '';
      const onLine = (line: string) => {
        if (!line.startsWith(EVENT_PREFIX)) {
          if (line.trim()) log(`[worker ${w + 1}] ${line}`);
          return;
        }
        const ev = JSON.parse(line.slice(EVENT_PREFIX.length)) as WorkerEvent;
        if (ev.e === 'start') {
          label = ev.label;
          total_ = ev.total;
          lines[w] = label;
        } else if (ev.e === 'update') {
          lines[w] = `${label} ${ev.done}/${total_} ${ev.status}`;
        } else if (ev.e === 'node' && ev.phase === 'start') {
          lines[w] = ev.label;
        } else if (ev.e === 'node' && ev.phase === 'done') {
          doneNodes++;
          doneCost += costOf.get(ev.id) ?? 0;
          lines[w] = `idle (finished ${ev.label})`;
          if (!o.interactive) o.write(`[worker ${w + 1}] ${ev.label}: done in ${ev.seconds?.toFixed(1)} s; ${totalLine()}\n`);
        } else if (ev.e === 'node' && ev.phase === 'failed') {
          lines[w] = `failed: ${ev.label}`;
        } else if (ev.e === 'log') {
          log(`[worker ${w + 1}] ${ev.line}`);
        }
        draw();
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', (l) => l.trim() && log(`[worker ${w + 1}] ${l}`));
      child.on('error', (e) => reject(new RidgelineError('E_IO', `cannot start a sweep worker (${o.self.join(' ')}): ${e.message}`)));
      child.on('close', (code, signal) => {
        lines[w] = code === 0 ? 'finished' : `exited (${signal ?? `code ${code}`})`;
        draw(true);
        resolve(code ?? 1);
      });
    });
  draw(true);
  const codes = await Promise.all(Array.from({ length: o.jobs }, (_, w) => runOne(w)));
  if (!o.interactive) o.write(`${totalLine()}\n`);
  else draw(true);
  return codes;
}

/** A fork's nodes computed by a local pool of `jobs` worker processes (`fork --jobs N`). */
export function poolExecutor(host: RuntimeHost, backend: Pick<Backend, 'kind' | 'math'>, jobs: number): SweepExecutor {
  return async (store, manifest) => {
    await runLocalPool(store, manifest, {
      jobs,
      self: host.self,
      workerArgs: ['--backend', backend.kind, '--math', backend.math],
      write: (t) => void process.stderr.write(t),
      interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
    });
    const status = await sweepStatus(store, manifest);
    if (status.failed.length > 0) rethrowFailure({ label: status.failed[0].node.label, reason: status.failed[0].reason });
    if (status.done.length < status.nodes) {
      throw new RidgelineError(
        'E_STATE',
        `the fork's workers stopped with ${
          status.nodes - status.done.length
        } of ${status.nodes} nodes not computed (their messages are above)`,
      );
    }
  };
}
