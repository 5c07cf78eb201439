/**
 * Progress for terminals and logs: a redrawn bar on an interactive terminal, and in CI or
 * a pipe a plain line at most every 10 % (so logs stay short and readable).
 */
import type { Progress } from '../core/progress.ts';

/** A duration for people: `42 s`, `3 min 20 s`, `1.5 h`. */
export function formatDuration(seconds: number): string {
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.round(seconds)} s`;
}

export function terminalProgress(write: (text: string) => void, interactive: boolean): Progress {
  let label = '';
  let total = 1;
  let lastShown = -1;
  let t0 = 0;
  let active = false;
  const bar = (done: number, status: string) => {
    const frac = Math.min(1, done / Math.max(total, 1));
    const width = 28;
    const filled = Math.round(frac * width);
    const secs = (performance.now() - t0) / 1000;
    const eta = frac > 0 ? secs / frac - secs : 0;
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${status} ${secs.toFixed(0)}s elapsed, ~${
      eta.toFixed(0)
    }s left`;
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      lastShown = -1;
      t0 = performance.now();
      active = true;
    },
    update(done, status = '') {
      if (interactive) {
        write(`\r\x1b[2K${bar(done, status)}`);
        return;
      }
      const decile = Math.floor((10 * done) / Math.max(total, 1));
      if (decile > lastShown) {
        lastShown = decile;
        write(`${bar(done, status)}\n`);
      }
    },
    finish(status = '') {
      if (!active) return;
      active = false;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      write(`${interactive ? '\r\x1b[2K' : ''}${label}: done in ${secs}s${status ? ` (${status})` : ''}\n`);
    },
    log(line) {
      write(`${interactive && active ? '\r\x1b[2K' : ''}${line}\n`);
    },
  };
}
