/**
 * A sweep's spec: a base experiment (a preset and/or fork options) and a grid of option
 * values; its points are the Cartesian product of the grid, each a fully resolved fork
 * spec. Every key and value goes through the fork spec's own validation, so a sweep
 * accepts exactly what `ridgeline fork` accepts — and refuses, before any work, unknown
 * keys, empty grids and values out of range, naming the key.
 *
 *   {"name": "lr-seeds", "base": {"preset": "fashion-mlp2", "epochs": 4},
 *    "grid": {"seedInit": [0, 1, 2, 3, 4], "lr": [0.05, 0.1]}}
 *
 * Keys are the fork spec's (camelCase, as in result.json) or the CLI's (kebab-case);
 * `epochs` / `steps` set the total length in that unit, as the CLI flags do.
 */
import { RidgelineError } from '../errors.ts';
import { applyOptions, FORK_DEFAULTS, type ForkSpec } from '../experiments/fork_spec.ts';
import { presetSpec } from '../experiments/presets.ts';
import type { GridValue } from './sweep_result.ts';

export interface SweepSpec {
  name: string | null;
  base: Record<string, GridValue>;
  grid: Record<string, GridValue[]>;
}

export interface SweepPoint {
  point: Record<string, GridValue>;
  spec: ForkSpec;
}

/** The most points one sweep may expand to (a typo like seed-init=0..100000 is refused, not run). */
export const MAX_POINTS = 10_000;

const bad = (message: string): never => {
  throw new RidgelineError('E_SPEC', message);
};

const toKebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const toCamel = (k: string) => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Spec keys a sweep may set (camelCase), plus the CLI's length shorthands. */
const SETTABLE = new Set([...Object.keys(FORK_DEFAULTS).filter((k) => k !== 'preset' && k !== 'total'), 'epochs', 'steps']);

function checkKey(where: string, key: string): string {
  const camel = toCamel(key);
  if (!SETTABLE.has(camel)) bad(`${where}: unknown key '${key}'; valid: ${[...SETTABLE].sort().join(', ')}`);
  return camel;
}

/** A JSON value as the CLI option text the fork spec parser takes. */
function asOption(where: string, key: string, v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0 || !v.every((x) => typeof x === 'number')) {
      bad(`${where} '${key}': a list value must be a non-empty list of numbers, got ${JSON.stringify(v)}`);
    }
    return v.join(',');
  }
  if (v === null) return key === 'clip' ? 'none' : bad(`${where} '${key}': null is not a value of this key`);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return String(v);
  return bad(`${where} '${key}': expected a number, string, boolean or list of numbers, got ${JSON.stringify(v)}`);
}

/** Checks the shape of a parsed sweep spec (JSON from a file) and normalises its keys. */
export function parseSweepSpec(json: unknown, source: string): SweepSpec {
  if (!json || typeof json !== 'object' || Array.isArray(json)) bad(`${source}: a sweep spec is a JSON object with "base" and "grid"`);
  const o = json as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['name', 'base', 'grid'].includes(k));
  if (extra.length > 0) bad(`${source}: unknown key '${extra[0]}'; a sweep spec has name, base and grid`);
  if (o.name !== undefined && typeof o.name !== 'string') bad(`${source}: "name" must be a string`);
  const base = (o.base ?? {}) as Record<string, unknown>;
  if (typeof base !== 'object' || Array.isArray(base)) bad(`${source}: "base" must be an object of fork options (and "preset")`);
  if (!o.grid || typeof o.grid !== 'object' || Array.isArray(o.grid)) {
    bad(`${source}: "grid" must be an object mapping keys to lists of values`);
  }
  const grid = o.grid as Record<string, unknown>;
  if (Object.keys(grid).length === 0) bad(`${source}: the grid is empty; give at least one key with a list of values`);
  const spec: SweepSpec = { name: (o.name as string | undefined) ?? null, base: {}, grid: {} };
  for (const [k, v] of Object.entries(base)) {
    if (k === 'preset') {
      if (typeof v !== 'string') bad(`${source}: base "preset" must be a preset name`);
      spec.base.preset = v as string;
    } else spec.base[checkKey(`${source}: base`, k)] = v as GridValue;
  }
  for (const [k, v] of Object.entries(grid)) {
    const key = checkKey(`${source}: grid`, k);
    if (!Array.isArray(v) || v.length === 0) {
      bad(`${source}: grid '${k}' is ${Array.isArray(v) ? 'an empty list' : 'not a list'}; give a non-empty list of values`);
    }
    if (key in spec.grid) bad(`${source}: grid key '${k}' is given twice`);
    spec.grid[key] = v as GridValue[];
  }
  return spec;
}

/** `A..B` (integers, inclusive) or `a,b,c`; list-valued keys (k1, k2, milestones) separate values with `;`. */
function parseGridValues(key: string, text: string): GridValue[] {
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(text.trim());
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) bad(`--grid ${key}=${text}: the range is empty (${b} < ${a})`);
    if (b - a + 1 > MAX_POINTS) bad(`--grid ${key}=${text}: ${b - a + 1} values is more than ${MAX_POINTS}`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const listKey = ['k1', 'k2', 'milestones'].includes(toCamel(key));
  const parts = text.split(listKey ? ';' : ',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) bad(`--grid ${key}=: no values; give a list (a,b,c) or a range (A..B)`);
  const scalar = (
    s: string,
  ): GridValue => (s === 'true' ? true : s === 'false' ? false : s !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
  return parts.map((p) => (listKey ? p.split(',').map((x) => Number(x)) : scalar(p)));
}

/** The spec of `--preset P --OPTION V … --grid key=values …`. */
export function sweepSpecFromCli(name: string | null, baseOptions: Record<string, string>, grids: string[]): SweepSpec {
  if (grids.length === 0) bad('sweep: give a grid (--grid KEY=VALUES, repeatable) or a SPEC.json');
  const spec: SweepSpec = { name, base: {}, grid: {} };
  for (const [k, v] of Object.entries(baseOptions)) spec.base[k === 'preset' ? k : checkKey('sweep option', k)] = v;
  for (const g of grids) {
    const eq = g.indexOf('=');
    if (eq <= 0) bad(`--grid ${g}: expected KEY=VALUES (e.g. seed-init=0..4 or lr=0.05,0.1)`);
    const key = checkKey('--grid', g.slice(0, eq));
    if (key in spec.grid) bad(`--grid: key '${g.slice(0, eq)}' is given twice`);
    spec.grid[key] = parseGridValues(g.slice(0, eq), g.slice(eq + 1));
  }
  return spec;
}

/** The option texts of a base or a point, for applyOptions (which validates each). */
function optionsOf(where: string, values: Record<string, GridValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (k === 'preset') continue;
    // A boolean flag given as false is the default (false): applyOptions parses 'false' too.
    out[toKebab(k)] = asOption(where, k, v);
  }
  return out;
}

/** Fork options as an object: any spec field (defaults fill the rest), a preset, a total length. */
export type ForkOptions = { [K in Exclude<keyof ForkSpec, 'preset' | 'total'>]?: ForkSpec[K] } & {
  /** Start from this preset's spec (see `PRESETS`). */
  preset?: string;
  /** Total training length in epochs (sets `unit`). */
  epochs?: number;
  /** Total training length in steps (sets `unit`). */
  steps?: number;
};

/**
 * One fork spec from options given as an object — the keys a sweep's base takes (camelCase
 * as in result.json, or kebab-case; `preset`; `epochs` / `steps` for the total length) —
 * checked as a sweep's base is: the library's way to describe a fork experiment.
 */
export function forkSpecFrom(options: ForkOptions): ForkSpec {
  const { preset, ...rest } = options as Record<string, GridValue>;
  if (preset !== undefined && typeof preset !== 'string') bad('fork options: "preset" must be a preset name');
  const keys: Record<string, GridValue> = {};
  for (const [k, v] of Object.entries(rest)) keys[checkKey('fork options', k)] = v;
  const base = typeof preset === 'string' ? presetSpec(preset) : FORK_DEFAULTS;
  return { ...applyOptions(base, optionsOf('fork options', keys)), preset: typeof preset === 'string' ? preset : null };
}

/** Every point of the grid (Cartesian product in key order), each a validated fork spec. */
export function expandSweep(s: SweepSpec): { gridKeys: string[]; points: SweepPoint[] } {
  const gridKeys = Object.keys(s.grid);
  const count = gridKeys.reduce((n, k) => n * s.grid[k].length, 1);
  if (count > MAX_POINTS) bad(`sweep: the grid has ${count} points, more than ${MAX_POINTS}; split it into several sweeps`);
  const preset = s.base.preset;
  // The base alone need not be a valid experiment (the grid may complete it: a k1 list
  // that fits only the grid's total length); each point, base and grid together, must be.
  let base: ForkSpec;
  try {
    base = typeof preset === 'string' ? presetSpec(preset) : FORK_DEFAULTS;
  } catch (e) {
    if (e instanceof RidgelineError) bad(`sweep base: ${e.message.replace(/^E_SPEC: /, '')}`);
    throw e;
  }
  let points: Record<string, GridValue>[] = [{}];
  for (const k of gridKeys) points = points.flatMap((p) => s.grid[k].map((v) => ({ ...p, [k]: v })));
  const seen = new Set<string>();
  return {
    gridKeys,
    points: points.map((point) => {
      let spec: ForkSpec;
      try {
        spec = applyOptions(base, { ...optionsOf('sweep base', s.base), ...optionsOf('sweep grid', point) });
      } catch (e) {
        if (!(e instanceof RidgelineError)) throw e;
        const where = Object.entries(point).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ');
        return bad(`sweep grid point (${where}): ${e.message.replace(/^E_SPEC: /, '')}`);
      }
      const key = JSON.stringify(point);
      if (seen.has(key)) bad(`sweep grid: the point ${key} occurs twice (a value is listed twice)`);
      seen.add(key);
      return { point, spec: { ...spec, preset: typeof preset === 'string' ? preset : null } };
    }),
  };
}
