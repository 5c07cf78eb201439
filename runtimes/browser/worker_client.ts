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

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs `job` on the worker; rejects with CancelledError if `cancel()` is called first.
 * One job at a time: the views disable their buttons while theirs runs.
 */
export function runOnWorker<T>(job: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
  if (!worker) {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    api = Comlink.wrap<WorkerApi>(worker);
  }
  return new Promise<T>((resolve, reject) => {
    cancelCurrent = reject;
    job(api!).then(resolve, reject).finally(() => {
      if (cancelCurrent === reject) cancelCurrent = null;
    });
  });
}

/** Stops the running job at once (terminating the worker); true if there was one. */
export function cancelWorker(): boolean {
  if (!cancelCurrent) return false;
  worker?.terminate();
  [worker, api] = [null, null];
  const reject = cancelCurrent;
  cancelCurrent = null;
  reject(new CancelledError());
  return true;
}
