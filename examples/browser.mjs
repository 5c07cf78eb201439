// The page's script (see browser.html): the fork experiment of fork_pair.mjs in memory, on
// navigator.gpu when the browser has a fast adapter and on the WebAssembly kernels
// otherwise. It runs on the page's main thread for brevity; an app would run it in a Web
// Worker, as runtimes/browser does, to keep the page responsive.
import { closeBackend, createBackend, forkSpecFrom, memoryFileStore, runForkExperiment, silentProgress } from 'ridgeline/browser';
import { barrierLine, FORK_OPTIONS } from './fork_pair.mjs';

const output = document.getElementById('output');
const print = (line) => {
  output.textContent += `${line}\n`;
  console.log(line);
};

try {
  const { backend, reason } = await createBackend('auto');
  print(reason);
  try {
    const host = {
      files: memoryFileStore(),
      progress: silentProgress,
      runtime: `browser ${navigator.userAgent}`,
      version: 'example',
      gitCommit: null,
    };
    const result = await runForkExperiment(forkSpecFrom(FORK_OPTIONS), 'fork-pair', backend, host);
    print(barrierLine(result.cells[0]));
  } finally {
    closeBackend(backend);
  }
} catch (e) {
  print(`error ${e.message}`);
}
output.dataset.done = 'true';
