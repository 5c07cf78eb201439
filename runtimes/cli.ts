/**
 * The `ridgeline` command line, shared by every runtime: the adapters (node.ts, deno.ts,
 * bun.ts) only supply a RuntimeHost, never science.
 */
import { RidgelineError } from '../core/errors.ts';
import { type Command, commandUsage, parseOptions } from './command.ts';
import { alignCommand } from './commands/align.ts';
import { barrierCommand } from './commands/barrier.ts';
import { convexityCommand } from './commands/convexity.ts';
import { demoCommand } from './commands/demo.ts';
import { forkCommand } from './commands/fork.ts';
import { evolveCommand, surfaceCommand } from './commands/geometry.ts';
import { hullCommand } from './commands/hull.ts';
import { hessianCommand } from './commands/hessian.ts';
import { layerwiseCommand } from './commands/layerwise.ts';
import { modelsCommand } from './commands/models.ts';
import { predictCommand } from './commands/predict.ts';
import { presetsCommand } from './commands/presets.ts';
import { rebasinCommand } from './commands/rebasin.ts';
import { reportCommand } from './commands/report_site.ts';
import { serveCommand } from './commands/serve.ts';
import { SWEEP_COMMANDS } from './commands/sweep.ts';
import { toyCommand } from './commands/toy.ts';
import { trainCommand } from './commands/train.ts';
import type { RuntimeHost } from './host.ts';

const COMMANDS: Record<string, Command> = {
  fork: forkCommand,
  hull: hullCommand,
  barrier: barrierCommand,
  align: alignCommand,
  rebasin: rebasinCommand,
  train: trainCommand,
  predict: predictCommand,
  layerwise: layerwiseCommand,
  evolve: evolveCommand,
  surface: surfaceCommand,
  toy: toyCommand,
  hessian: hessianCommand,
  convexity: convexityCommand,
  presets: presetsCommand,
  models: modelsCommand,
  demo: demoCommand,
  serve: serveCommand,
  report: reportCommand,
};

function usage(): string {
  const lines = ['usage: ridgeline <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  for (const [name, c] of Object.entries(SWEEP_COMMANDS)) lines.push(`  ${`sweep ${name}`.padEnd(14)} ${c.summary}`);
  lines.push('', "run 'ridgeline <command> --help' for a command's options");
  return lines.join('\n');
}

/** Runs the CLI; returns the process exit code. Errors are printed as one clear line. */
export async function runCli(argv: string[], host: RuntimeHost): Promise<number> {
  let [name, ...rest] = argv;
  // `sweep SUB`: the subcommand is part of the name; `sweep run SPEC.json` passes the spec first.
  if (name === 'sweep') {
    const sub = rest.shift();
    if (sub === '--help' || sub === '-h') {
      host.print(
        [
          'usage: ridgeline sweep <subcommand> [options]',
          '',
          ...Object.entries(SWEEP_COMMANDS).map(([n, c]) => `  ${`sweep ${n}`.padEnd(14)} ${c.summary}`),
          '',
          "run 'ridgeline sweep <subcommand> --help' for its options",
        ].join('\n'),
      );
      return 0;
    }
    if (!sub || !SWEEP_COMMANDS[sub]) {
      host.error(
        `E_SPEC: ridgeline sweep needs a subcommand: ${Object.keys(SWEEP_COMMANDS).join(', ')}${
          sub && !sub.startsWith('-') ? ` (not '${sub}')` : ''
        }`,
      );
      return 2;
    }
    name = `sweep ${sub}`;
    if (rest[0] && !rest[0].startsWith('-')) rest = ['--spec', rest[0], ...rest.slice(1)];
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    host.print(usage());
    return name ? 0 : 2;
  }
  const command = name.startsWith('sweep ') ? SWEEP_COMMANDS[name.slice(6)] : COMMANDS[name];
  if (!command) {
    host.error(`E_SPEC: unknown command '${name}'; valid: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    host.print(commandUsage(name, command));
    return 0;
  }
  try {
    return await command.run(parseOptions(name, command, rest), host);
  } catch (e) {
    if (e instanceof RidgelineError) {
      host.error(e.message);
      return 1;
    }
    throw e;
  }
}
