/** Progress reporting, injected by the runtime (a TTY bar, quiet lines in CI, or nothing). */
export interface Progress {
  /** Starts a task of `total` units (steps, cells) with a label. */
  start(label: string, total: number): void;
  /** Sets how many units are done, with an optional short status (e.g. the loss). */
  update(done: number, status?: string): void;
  finish(status?: string): void;
  /** A line of log output that must not be garbled by the bar. */
  log(line: string): void;
}

export const silentProgress: Progress = {
  start() {},
  update() {},
  finish() {},
  log() {},
};
