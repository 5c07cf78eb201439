/** Deno adapter: `deno run -A runtimes/deno.ts <command>`. */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';
import { LAVAPIPE_ICD, preferIcd } from './webgpu_host.ts';

declare const Deno: {
  args: string[];
  version: { deno: string };
  env: { get(name: string): string | undefined; set(name: string, value: string): void };
  stderr: { isTerminal(): boolean };
  exit(code: number): never;
  execPath(): string;
};

const interactive = Deno.stderr.isTerminal() && !Deno.env.get('CI');
// Deno's wgpu runs on Mesa lavapipe (DESIGN.md); navigator.gpu is built in.
const gpu = async () => {
  preferIcd(LAVAPIPE_ICD, Deno.env);
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
};
const self = [Deno.execPath(), 'run', '-A', new URL(import.meta.url).pathname];
Deno.exit(await runCli(Deno.args, createHost(`deno ${Deno.version.deno}`, interactive, gpu, self)));
