/** The shape of a CLI command and its option parsing, shared by every command. */
import { RidgelineError } from '../core/errors.ts';
import { MATH_CHOICES, parseMath } from '../core/math_mode.ts';
import { BACKEND_CHOICES, type SelectOptions } from '../core/select_backend.ts';
import type { RuntimeHost } from './host.ts';

export interface OptionSpec {
  name: string;
  /** Value placeholder shown in --help; empty for boolean flags. */
  value: string;
  help: string;
  default?: string;
  /** May be given several times; the values are joined with newlines. */
  repeatable?: boolean;
}

export interface Command {
  summary: string;
  options: OptionSpec[];
  /** Extra text after the options in --help. */
  notes?: string;
  run(opts: Record<string, string>, host: RuntimeHost): Promise<number>;
}

export const BACKEND_OPTION: OptionSpec = { name: 'backend', value: BACKEND_CHOICES.join('|'), help: 'compute backend', default: 'auto' };
export const MATH_OPTION: OptionSpec = {
  name: 'math',
  value: MATH_CHOICES.join('|'),
  default: 'strict',
  help:
    'kernel arithmetic: strict is bit-identical on every runtime and machine; relaxed fuses multiply-adds where the runtime has relaxed SIMD (cpu backend; faster, results differ between machines)',
};

/** This runtime's ways to start backends, with the command's --math. */
export function backendOptions(host: RuntimeHost, opts: Record<string, string>): SelectOptions {
  return { ...host.backends, math: parseMath(opts.math) };
}

export function commandUsage(name: string, c: Command): string {
  const lines = [`usage: ridgeline ${name} [options]`, '', c.summary, '', 'options:'];
  for (const o of c.options) {
    const flag = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
    lines.push(`  ${flag.padEnd(30)} ${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(30)} this text`);
  if (c.notes) lines.push('', c.notes);
  return lines.join('\n');
}

/**
 * Parses `--name value`, `--name=value` and boolean `--flag` against the command's
 * options. Only options given on the command line appear in the result (defaults shown in
 * --help are applied by the command, so that presets can tell what was overridden).
 */
export function parseOptions(name: string, c: Command, args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new RidgelineError('E_SPEC', `${name}: unexpected argument '${arg}'`);
    const [key, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = c.options.find((o) => o.name === key);
    if (!spec) {
      throw new RidgelineError('E_SPEC', `${name}: unknown option --${key}; valid: ${c.options.map((o) => `--${o.name}`).join(', ')}`);
    }
    if (!spec.value) {
      out[key] = inline ?? 'true';
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new RidgelineError('E_SPEC', `${name}: --${key} needs a value (${spec.value})`);
    }
    out[key] = spec.repeatable && out[key] !== undefined ? `${out[key]}\n${value}` : value;
  }
  return out;
}

/** The option's value or its documented default. */
export function optionOr(c: Command, opts: Record<string, string>, name: string): string {
  return opts[name] ?? c.options.find((o) => o.name === name)?.default ?? '';
}

export function requireOption(command: string, opts: Record<string, string>, name: string, what: string): string {
  const v = opts[name];
  if (v === undefined) throw new RidgelineError('E_SPEC', `${command}: --${name} ${what} is required`);
  return v;
}
