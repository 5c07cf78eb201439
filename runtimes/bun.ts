/** Bun adapter: `bun runtimes/bun.ts <command>`. */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';

declare const Bun: { version: string };

const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
process.exitCode = await runCli(process.argv.slice(2), createHost(`bun ${Bun.version}`, interactive));
