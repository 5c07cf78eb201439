/** Bun adapter: `bun runtimes/bun.ts <command>`. */
import { runCli } from './cli.ts';

declare const Bun: { version: string };

process.exitCode = await runCli(process.argv.slice(2), {
  runtime: `bun ${Bun.version}`,
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  interactive: Boolean(process.stdout.isTTY) && !process.env.CI,
});
