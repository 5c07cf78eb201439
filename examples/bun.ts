// Bun: `bun examples/bun.ts` (after `npm run build`; `ridgeline` resolves to this package).
// The fork experiment of fork_pair.mjs in memory, with the progress of each training line
// printed as it finishes.
import { type Progress, closeBackend, createBackend, forkSpecFrom, memoryFileStore, runForkExperiment, runtimeName } from 'ridgeline';
import { FORK_OPTIONS, barrierLine } from './fork_pair.mjs';

let label = '';
const progress: Progress = {
  start: (l) => void (label = l),
  update: () => {},
  finish: (status) => console.log(`${label}: ${status ?? 'done'}`),
  log: (line) => console.log(line),
};

const { backend, reason } = await createBackend('auto');
console.log(reason);
try {
  const host = { files: memoryFileStore(), progress, runtime: runtimeName(), version: 'example', gitCommit: null };
  const result = await runForkExperiment(forkSpecFrom(FORK_OPTIONS), 'fork-pair', backend, host);
  console.log(barrierLine(result.cells[0]));
} finally {
  closeBackend(backend);
}
