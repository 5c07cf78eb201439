/**
 * The fork experiment's spec: every option with its final value, validated. A spec comes
 * from a preset, overridden by command-line options; the resolved spec is what result.json
 * records and what a resumed run must match.
 */
import { ALIGN_METHODS, type AlignMethod } from '../align/match.ts';
import { RidgelineError } from '../errors.ts';
import { OPTIMIZERS, type TrainConfig } from '../train/config.ts';
import { type ScheduleKind, SCHEDULES } from '../train/schedule.ts';

export const FORK_MODES = ['pairs', 'main-branch'] as const;
export const UNITS = ['steps', 'epochs'] as const;
export const NORMALIZATIONS = ['standard', 'none'] as const;

/** The optimizer settings a spec shares verbatim with TrainConfig. */
type OptimizerFields = Required<
  Pick<TrainConfig, 'optimizer' | 'momentum' | 'dampening' | 'nesterov' | 'weightDecay' | 'beta1' | 'beta2' | 'eps' | 'clip' | 'batch'>
>;

export interface ForkSpec extends OptimizerFields {
  preset: string | null;
  model: string;
  /** Hidden width (mlp-L, linear-L: 512; vgg-reduced: 95; vit-lite: 648; siren: 256); null = the model's default. */
  width: number | null;
  slope: number;
  data: string;
  limit: number | null;
  normalize: (typeof NORMALIZATIONS)[number];
  mode: (typeof FORK_MODES)[number];
  unit: (typeof UNITS)[number];
  k1: number[];
  /** Explicit k2 list, or null: k2 = total − k1 for each k1 (the k1/k2 paper's design). */
  k2: number[] | null;
  /** Total training length in `unit` when k2 is null. */
  total: number | null;
  /** How many times the whole procedure runs, each repeat with its own seeds (repeat_seeds.ts). */
  repeats: number;
  alphas: number;
  lr: number;
  /** Linear warm-up length in epochs (may be fractional). */
  warmup: number;
  schedule: ScheduleKind;
  /** Epochs at which the step schedule multiplies the rate by 0.1. */
  milestones: number[];
  seedInit: number;
  seedOrder: number;
  /** Parent initialisation from a safetensors file instead of seedInit. */
  from: string | null;
  /** Test error barrier below which a pair counts as linearly connected. */
  threshold: number;
  evalBatch: number;
  /** Random translate ±4 px (black fill) and horizontal flips of training images. */
  augment: boolean;
  /** Augmentation seed; a line with order seed s uses seedAugment + s, so children differ. */
  seedAugment: number;
  /** Recompute batch-norm statistics on training data at every evaluated point instead of interpolating them. */
  resetBn: boolean;
  /** Also measure each cell's pair after aligning B to A by this matching (git re-basin), or null. */
  align: AlignMethod | null;
  /** Seed of the matching (weight matching's visiting order). */
  alignSeed: number;
  /** With align: also the aligned path after REPAIR (align/repair.ts). */
  repair: boolean;
}

export const FORK_DEFAULTS: ForkSpec = {
  preset: null,
  model: 'mlp-2',
  width: null,
  slope: 0,
  data: 'mnist',
  limit: null,
  normalize: 'standard',
  mode: 'pairs',
  unit: 'epochs',
  k1: [0, 1, 2, 4],
  k2: null,
  total: 8,
  repeats: 1,
  alphas: 11,
  optimizer: 'sgd',
  lr: 0.05,
  momentum: 0.9,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  warmup: 0,
  schedule: 'constant',
  milestones: [],
  clip: null,
  batch: 64,
  seedInit: 0,
  seedOrder: 0,
  from: null,
  threshold: 0.02,
  evalBatch: 1000,
  augment: false,
  seedAugment: 0,
  resetBn: false,
  align: null,
  alignSeed: 0,
  repair: false,
};

function bad(option: string, message: string): never {
  throw new RidgelineError('E_SPEC', `--${option}: ${message}`);
}

function parseNumber(option: string, text: string, o: { integer?: boolean; min?: number; max?: number } = {}): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) bad(option, `expected a number, got '${text}'`);
  if (o.integer && !Number.isSafeInteger(v)) bad(option, `expected an integer, got '${text}'`);
  if (o.min !== undefined && v < o.min) bad(option, `must be ≥ ${o.min}, got ${v}`);
  if (o.max !== undefined && v > o.max) bad(option, `must be ≤ ${o.max}, got ${v}`);
  return v;
}

function parseList(option: string, text: string, integer: boolean): number[] {
  const values = text.split(',').filter((s) => s.trim() !== '').map((s) => parseNumber(option, s, { integer, min: 0 }));
  if (values.length === 0) bad(option, `expected a comma-separated list, got '${text}'`);
  return [...new Set(values)].sort((a, b) => a - b);
}

function parseChoice<T extends string>(option: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) bad(option, `unknown value '${text}'; valid: ${choices.join(', ')}`);
  return text as T;
}

function parseBool(option: string, text: string): boolean {
  if (text === 'true' || text === '') return true;
  if (text === 'false') return false;
  return bad(option, `expected true or false, got '${text}'`);
}

/** Applies command-line style string options on top of a base spec. */
export function applyOptions(base: ForkSpec, o: Record<string, string>): ForkSpec {
  const s: ForkSpec = { ...base };
  const has = (k: string) => o[k] !== undefined;
  if (has('model')) s.model = o.model;
  if (has('width')) s.width = parseNumber('width', o.width, { integer: true, min: 1 });
  if (has('slope')) s.slope = parseNumber('slope', o.slope, { min: 0, max: 1 });
  if (has('data')) s.data = o.data;
  if (has('limit')) s.limit = parseNumber('limit', o.limit, { integer: true, min: 1 });
  if (has('normalize')) s.normalize = parseChoice('normalize', o.normalize, NORMALIZATIONS);
  if (has('mode')) s.mode = parseChoice('mode', o.mode, FORK_MODES);
  if (has('unit')) s.unit = parseChoice('unit', o.unit, UNITS);
  const integerUnits = s.unit === 'steps';
  if (has('k1')) s.k1 = parseList('k1', o.k1, integerUnits);
  if (has('k2')) {
    s.k2 = parseList('k2', o.k2, integerUnits);
    s.total = null;
  }
  for (const [flag, unit] of [['epochs', 'epochs'], ['steps', 'steps']] as const) {
    if (!has(flag)) continue;
    if (has('unit') && s.unit !== unit) bad(flag, `conflicts with --unit ${s.unit}`);
    s.unit = unit;
    s.total = parseNumber(flag, o[flag], { integer: true, min: 1 });
    if (!has('k2')) s.k2 = null;
  }
  if (has('repeats')) s.repeats = parseNumber('repeats', o.repeats, { integer: true, min: 1 });
  if (has('alphas')) s.alphas = parseNumber('alphas', o.alphas, { integer: true, min: 3, max: 1001 });
  if (has('optimizer')) s.optimizer = parseChoice('optimizer', o.optimizer, OPTIMIZERS);
  if (has('lr')) s.lr = parseNumber('lr', o.lr, { min: 0 });
  if (has('momentum')) s.momentum = parseNumber('momentum', o.momentum, { min: 0, max: 1 });
  if (has('dampening')) s.dampening = parseNumber('dampening', o.dampening, { min: 0, max: 1 });
  if (has('nesterov')) s.nesterov = parseBool('nesterov', o.nesterov);
  if (has('weight-decay')) s.weightDecay = parseNumber('weight-decay', o['weight-decay'], { min: 0 });
  if (has('beta1')) s.beta1 = parseNumber('beta1', o.beta1, { min: 0, max: 0.999999 });
  if (has('beta2')) s.beta2 = parseNumber('beta2', o.beta2, { min: 0, max: 0.999999 });
  if (has('eps')) s.eps = parseNumber('eps', o.eps, { min: 0 });
  if (has('warmup')) s.warmup = parseNumber('warmup', o.warmup, { min: 0 });
  if (has('schedule')) s.schedule = parseChoice('schedule', o.schedule, SCHEDULES);
  if (has('milestones')) s.milestones = parseList('milestones', o.milestones, false);
  if (has('clip')) s.clip = o.clip === 'none' ? null : parseNumber('clip', o.clip, { min: 0 });
  if (has('batch')) s.batch = parseNumber('batch', o.batch, { integer: true, min: 1 });
  if (has('seed-init')) s.seedInit = parseNumber('seed-init', o['seed-init'], { integer: true, min: 0 });
  if (has('seed-order')) s.seedOrder = parseNumber('seed-order', o['seed-order'], { integer: true, min: 0 });
  if (has('from')) s.from = o.from;
  if (has('threshold')) s.threshold = parseNumber('threshold', o.threshold, { min: 0, max: 1 });
  if (has('eval-batch')) s.evalBatch = parseNumber('eval-batch', o['eval-batch'], { integer: true, min: 1 });
  if (has('augment')) s.augment = parseBool('augment', o.augment);
  if (has('seed-augment')) s.seedAugment = parseNumber('seed-augment', o['seed-augment'], { integer: true, min: 0 });
  if (has('reset-bn')) s.resetBn = parseBool('reset-bn', o['reset-bn']);
  if (has('align')) s.align = o.align === 'none' ? null : parseChoice('align', o.align, ALIGN_METHODS);
  if (has('align-seed')) s.alignSeed = parseNumber('align-seed', o['align-seed'], { integer: true, min: 0 });
  if (has('repair')) s.repair = parseBool('repair', o.repair);
  return validate(s);
}

/** Cross-field checks that single options cannot make. */
export function validate(s: ForkSpec): ForkSpec {
  if (s.k2 === null && s.total === null) bad('k2', 'give --k2 LIST or a total length (--epochs N / --steps N)');
  if (s.k2 === null && s.total !== null) {
    const over = s.k1.filter((k) => k >= s.total!);
    if (over.length > 0) bad('k1', `values ${over.join(', ')} leave no training after the fork (total ${s.total} ${s.unit})`);
  }
  if (s.k2 !== null && s.k2.includes(0) && s.mode === 'pairs') bad('k2', 'k2 = 0 would compare a network with itself');
  if (s.nesterov && (s.optimizer !== 'sgd' || s.momentum === 0)) bad('nesterov', 'needs --optimizer sgd with --momentum > 0');
  if (s.nesterov && s.dampening !== 0) bad('nesterov', 'needs --dampening 0 (as in PyTorch)');
  if (s.repair && s.align === null) bad('repair', 'needs --align weight|activation: REPAIR corrects the path between aligned networks');
  return s;
}

/** The cells of the grid: (k1, k2) pairs in `unit`. */
export function forkCells(s: ForkSpec): { k1: number; k2: number }[] {
  return s.k1.flatMap((k1) => (s.k2 ?? [s.total! - k1]).map((k2) => ({ k1, k2 })));
}
