/**
 * The page's handle on its compute worker. Cancelling terminates the worker — the only way
 * to stop a WebAssembly loop or a queue of GPU work mid-step — and the next job starts a
 * fresh one, so a cancelled run leaves nothing behind.
 */
import * as Comlink from 'comlink';
import type { WorkerApi } from './protocol.ts';

let worker: Worker | null = null;
let api: Comlink.Remote<WorkerApi> | null = null;
let cancelCurrent: ((reason: Error) => void) | null = null;
let current: { active: boolean } | null = null;

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs `job` on the worker; rejects with CancelledError if `cancel()` is called first.
 * One job at a time: the views disable their buttons while theirs runs. `live` wraps the
 * job's callbacks: Chromium takes a moment (a second or two, measured) to stop a busy
 * worker after terminate(), and messages it posts meanwhile must not reach a view that
 * already says "cancelled".
 */
export function runOnWorker<T>(
  job: (api: Comlink.Remote<WorkerApi>, live: <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => void) => Promise<T>,
): Promise<T> {
  const token = { active: true };
  current = token;
  const live = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
    if (token.active) f(...a);
  };
  if (!worker) {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    api = Comlink.wrap<WorkerApi>(worker);
  }
  return new Promise<T>((resolve, reject) => {
    cancelCurrent = reject;
    job(api!, live).then(resolve, reject).finally(() => {
      if (cancelCurrent === reject) cancelCurrent = null;
    });
  });
}

/** Stops the running job at once (terminating the worker); true if there was one. */
export function cancelWorker(): boolean {
  if (!cancelCurrent) return false;
  if (current) current.active = false;
  worker?.terminate();
  [worker, api] = [null, null];
  const reject = cancelCurrent;
  cancelCurrent = null;
  reject(new CancelledError());
  return true;
}
