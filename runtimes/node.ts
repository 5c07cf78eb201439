#!/usr/bin/env node
/** Node adapter: `node dist/runtimes/node.js <command>` (the `ridgeline` bin). */
import { runCli } from './cli.ts';
import { cpuSpawner } from './kernel_threads_host.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  runtime: `node ${process.versions.node}`,
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  spawnWorker: cpuSpawner(),
  interactive: Boolean(process.stdout.isTTY) && !process.env.CI,
});
