/** The worker's progress events as a page shows them: one status line, an optional bar and log. */
import { automation } from './automation.ts';
import type { ProgressEvent } from './protocol.ts';

/** A progress sink writing `label: done/total status` into `line` and log lines into `log`. */
export function progressInto(line: HTMLElement, log: HTMLElement | null, bar?: HTMLProgressElement): (e: ProgressEvent) => void {
  let label = '';
  let total = 0;
  return (e) => {
    if (e.kind === 'start') [label, total] = [e.label, e.total];
    if (e.kind === 'start' || e.kind === 'update') {
      const done = e.kind === 'update' ? e.done : 0;
      const status = e.kind === 'update' ? e.status : '';
      line.textContent = `${label}: ${done}/${total} ${status}`;
      if (bar) bar.value = total > 0 ? done / total : 0;
    } else if (e.kind === 'finish') {
      line.textContent = `${label}: done${e.status ? ` (${e.status})` : ''}`;
      if (bar) bar.value = 1;
    } else if (e.kind === 'log') {
      automation.log.push(e.line);
      if (log) log.textContent += `${e.line}\n`;
    }
  };
}
