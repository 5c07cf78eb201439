// Bun: `bun examples/bun.ts` (after `npm run build`; `ridgeline` resolves to this package).
// The fork experiment of fork_pair.mjs in memory, with the progress of each training line
// printed as it finishes.
import { closeBackend, createBackend, forkSpecFrom, memoryFileStore, type Progress, runForkExperiment, runtimeName } from 'ridgeline';
import { barrierLine, FORK_OPTIONS } from './fork_pair.mjs';

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
