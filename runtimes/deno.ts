/** Deno adapter: `deno run -A runtimes/deno.ts <command>`. */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';
import { denoGpu } from './webgpu_host.ts';

declare const Deno: {
  args: string[];
  version: { deno: string };
  env: { get(name: string): string | undefined };
  stderr: { isTerminal(): boolean };
  exit(code: number): never;
  execPath(): string;
};

const interactive = Deno.stderr.isTerminal() && !Deno.env.get('CI');
const self = [Deno.execPath(), 'run', '-A', new URL(import.meta.url).pathname];
Deno.exit(await runCli(Deno.args, createHost(`deno ${Deno.version.deno}`, interactive, denoGpu, self)));
