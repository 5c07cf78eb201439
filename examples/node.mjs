// Node: `node examples/node.mjs` (after `npm run build`), or in a project with ridgeline
// installed. The fork experiment of fork_pair.mjs with its result files on disk, through
// this runtime's file system (runtimeHost), in a temporary directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBackend, createBackend, forkSpecFrom, runForkExperiment, runtimeHost } from 'ridgeline';
import { barrierLine, FORK_OPTIONS } from './fork_pair.mjs';

const { backend, reason } = await createBackend('auto');
console.log(reason);
try {
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-example-'));
  const result = await runForkExperiment(forkSpecFrom(FORK_OPTIONS), out, backend, runtimeHost());
  console.log(`result files in ${out} (result.json, report.html, …)`);
  console.log(barrierLine(result.cells[0]));
} finally {
  closeBackend(backend);
}
