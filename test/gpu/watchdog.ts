/**
 * A time and memory bound for a GPU test process: a software driver that hangs or leaks
 * (another library's kernels on SwiftShader grew by ~65 MB/s and never finished) ends the
 * process with a message, which the test runner reports as a failure of the file.
 */
export interface WatchdogLimits {
  seconds: number;
  rssBytes: number;
}

export function startWatchdog(what: string, limits: WatchdogLimits): () => void {
  const start = Date.now();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    const elapsed = (Date.now() - start) / 1000;
    let why = '';
    if (elapsed > limits.seconds) why = `ran ${elapsed.toFixed(0)} s, over its bound of ${limits.seconds} s`;
    else if (rss > limits.rssBytes) {
      why = `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB, over its bound of ${(limits.rssBytes / 2 ** 20).toFixed(0)} MiB`;
    }
    if (why) {
      process.stderr.write(`watchdog: ${what} ${why}; stopping the process\n`);
      process.exit(70);
    }
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}
