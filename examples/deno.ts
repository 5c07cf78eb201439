// Deno: `deno run -A examples/deno.ts` in this repository (deno.json maps `ridgeline` to
// runtimes/library.ts). The fork experiment of fork_pair.mjs in memory: nothing is written
// to disk, so only --allow-read and --allow-env are really needed.
import { closeBackend, createBackend, forkSpecFrom, memoryFileStore, runForkExperiment, runtimeName, silentProgress } from 'ridgeline';
import { barrierLine, FORK_OPTIONS } from './fork_pair.mjs';

const { backend, reason } = await createBackend('auto');
console.log(reason);
try {
  const host = { files: memoryFileStore(), progress: silentProgress, runtime: runtimeName(), version: 'example', gitCommit: null };
  const result = await runForkExperiment(forkSpecFrom(FORK_OPTIONS), 'fork-pair', backend, host);
  console.log(barrierLine(result.cells[0]));
} finally {
  closeBackend(backend);
}
