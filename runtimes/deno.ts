/** Deno adapter: `deno run -A runtimes/deno.ts <command>`. */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';

declare const Deno: {
  args: string[];
  version: { deno: string };
  env: { get(name: string): string | undefined };
  stderr: { isTerminal(): boolean };
  exit(code: number): never;
};

const interactive = Deno.stderr.isTerminal() && !Deno.env.get('CI');
Deno.exit(await runCli(Deno.args, createHost(`deno ${Deno.version.deno}`, interactive)));
