/**
 * Runs a child process under a wall-clock and a resident-memory bound (read from
 * /proc/<pid>/status), so a GPU driver that hangs or grows without end fails the test with
 * a reason instead of eating the machine.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface BoundedResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Why the child was killed, if it was. */
  killed: string | null;
  seconds: number;
  peakRssBytes: number;
}

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function runBounded(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; seconds: number; rssBytes: number },
): Promise<BoundedResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed: string | null = null;
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      const rss = child.pid ? rssOf(child.pid) : 0;
      peak = Math.max(peak, rss);
      const elapsed = (Date.now() - start) / 1000;
      if (elapsed > opts.seconds) killed = `ran over its bound of ${opts.seconds} s`;
      else if (rss > opts.rssBytes) {
        killed = `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB went over its bound of ${(opts.rssBytes / 2 ** 20).toFixed(0)} MiB`;
      }
      if (killed) child.kill('SIGKILL');
    }, 250);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stdout, stderr, killed, seconds: (Date.now() - start) / 1000, peakRssBytes: peak });
    });
  });
}
