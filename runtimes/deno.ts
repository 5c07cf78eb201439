/** Deno adapter: `deno run -A runtimes/deno.ts <command>`. */
import { runCli } from './cli.ts';
import { cpuSpawner } from './kernel_threads_host.ts';

declare const Deno: {
  args: string[];
  version: { deno: string };
  env: { get(name: string): string | undefined };
  stdout: { isTerminal(): boolean };
  exit(code: number): never;
};

const code = await runCli(Deno.args, {
  runtime: `deno ${Deno.version.deno}`,
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  spawnWorker: cpuSpawner(),
  interactive: Deno.stdout.isTerminal() && !Deno.env.get('CI'),
});
Deno.exit(code);
