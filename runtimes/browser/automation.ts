/**
 * What the page exposes for automation (the browser tests) and for a curious user's
 * console as `window.ridgeline`: the last fork result, barrier result and error message,
 * and the log lines. Views set `data-state` (idle → running → done | error | cancelled) on
 * their section (the fork view on `body`, as before the app had views).
 */
import type { ForkCell, ForkResult } from '../../core/experiments/result_schema.ts';
import type { BarrierResult } from './protocol.ts';

export interface Automation {
  result: ForkResult | null;
  /** Cells of the running fork as they arrive. */
  cells: ForkCell[];
  barrier: BarrierResult | null;
  error: string | null;
  log: string[];
}

export const automation: Automation = { result: null, cells: [], barrier: null, error: null, log: [] };
(globalThis as unknown as { ridgeline: Automation }).ridgeline = automation;

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** An error as the one line the page shows: the core's `CODE: message`, never a stack. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Shows `message` in the error box `box` (or hides it for null). */
export function showError(box: HTMLElement, message: string | null): void {
  box.textContent = message ?? '';
  box.hidden = message === null;
}
