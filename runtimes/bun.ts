/** Bun adapter: `bun runtimes/bun.ts <command>`. */
import { runCli } from './cli.ts';
import { cpuSpawner } from './kernel_threads_host.ts';

declare const Bun: { version: string };

process.exitCode = await runCli(process.argv.slice(2), {
  runtime: `bun ${Bun.version}`,
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  spawnWorker: cpuSpawner(),
  interactive: Boolean(process.stdout.isTTY) && !process.env.CI,
});
