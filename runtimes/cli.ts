/**
 * The `ridgeline` command line, shared by every runtime: the adapters (node.ts, deno.ts,
 * bun.ts) only supply arguments, output and runtime facts, never science.
 */
import { RidgelineError } from '../core/errors.ts';
import { runSmokeTraining } from '../core/experiments/smoke_run.ts';
import type { KernelWorkerSpawner } from '../core/cpu/kernel_threads.ts';
import { BACKEND_CHOICES, selectBackend } from '../core/select_backend.ts';

export interface RuntimeHost {
  /** e.g. `node 20.20.2`. */
  runtime: string;
  print(line: string): void;
  error(line: string): void;
  /** Whether stdout is an interactive terminal (progress bars) and not CI. */
  interactive: boolean;
  /** Starts the CPU backend's helper thread, where the runtime can. */
  spawnWorker?: KernelWorkerSpawner;
}

interface OptionSpec {
  name: string;
  value: string;
  help: string;
  default?: string;
}

interface CommandSpec {
  summary: string;
  options: OptionSpec[];
  run(opts: Record<string, string>, host: RuntimeHost): Promise<number>;
}

const COMMON: OptionSpec[] = [
  { name: 'backend', value: BACKEND_CHOICES.join('|'), help: 'compute backend', default: 'auto' },
];

const COMMANDS: Record<string, CommandSpec> = {
  demo: {
    summary: 'train a small MLP on a generated task and report its loss (placeholder main job)',
    options: [
      ...COMMON,
      { name: 'steps', value: 'N', help: 'SGD steps', default: '300' },
      { name: 'seed', value: 'N', help: 'seed for data, init and order', default: '0' },
      { name: 'json', value: '', help: 'print the result as JSON' },
    ],
    async run(opts, host) {
      const steps = parseCount('--steps', opts.steps);
      const seed = parseCount('--seed', opts.seed);
      const { backend, reason } = await selectBackend(opts.backend, { spawnWorker: host.spawnWorker });
      const quiet = 'json' in opts;
      if (!quiet) host.print(reason);
      const started = performance.now();
      const result = await runSmokeTraining(backend, {
        seed,
        steps,
        onStep: (step, loss) => {
          if (!quiet && (step % Math.max(1, Math.floor(steps / 10)) === 0 || step === steps - 1)) {
            host.print(`step ${String(step + 1).padStart(5)}/${steps}  loss ${loss.toFixed(4)}`);
          }
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const summary = {
        runtime: host.runtime,
        backend: backend.kind,
        backendDescription: backend.description,
        seed,
        steps,
        finalLoss: result.losses[result.losses.length - 1],
        trainAccuracy: result.accuracy,
        paramsHash: result.hash,
        seconds,
      };
      if (quiet) host.print(JSON.stringify(summary));
      else host.print(`done in ${seconds.toFixed(2)} s: train accuracy ${(100 * result.accuracy).toFixed(1)} %, parameters ${result.hash}`);
      return 0;
    },
  },
};

function parseCount(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new RidgelineError('E_SPEC', `${flag}: expected a non-negative integer, got '${text}'`);
  return n;
}

function usage(): string {
  const lines = ['usage: ridgeline <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "run 'ridgeline <command> --help' for a command's options");
  return lines.join('\n');
}

function commandUsage(name: string, c: CommandSpec): string {
  const lines = [`usage: ridgeline ${name} [options]`, '', c.summary, '', 'options:'];
  for (const o of c.options) {
    const flag = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(28)} this text`);
  return lines.join('\n');
}

/** Parses `--name value` / `--name=value` / boolean `--flag` against the command's options. */
function parseOptions(name: string, c: CommandSpec, args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of c.options) if (o.default !== undefined) out[o.name] = o.default;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new RidgelineError('E_SPEC', `${name}: unexpected argument '${arg}'`);
    const [key, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = c.options.find((o) => o.name === key);
    if (!spec) {
      throw new RidgelineError('E_SPEC', `${name}: unknown option --${key}; valid: ${c.options.map((o) => `--${o.name}`).join(', ')}`);
    }
    if (!spec.value) {
      out[key] = 'true';
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new RidgelineError('E_SPEC', `${name}: --${key} needs a value (${spec.value})`);
    out[key] = value;
  }
  return out;
}

/** Runs the CLI; returns the process exit code. Errors are printed as one clear line. */
export async function runCli(argv: string[], host: RuntimeHost): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    host.print(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
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
