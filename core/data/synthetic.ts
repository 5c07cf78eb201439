/**
 * Generated data sets for fast tests and small experiments, drawn from the portable Philox
 * streams of rng.ts, so a given spec gives the same bits in every runtime:
 *
 * - `synthetic:gauss[:classes=K,dim=D,n=N,test=M,spread=S,seed=X]`: a Gaussian mixture.
 *   Class means have N(0, 1) coordinates; an example is mean[label] + N(0, S²·I) with a
 *   uniform label. With the defaults (D = 16, S = 1) two means are ≈ √(2D) ≈ 5.7 noise
 *   std apart: learnable, but not separable at a glance.
 * - `synthetic:teacher[:dim=D,hidden=H,classes=K,n=N,test=M,seed=X]`: teacher–student. x ~
 *   N(0, I); the label is the argmax of a random ReLU MLP D → H → K with weights
 *   N(0, 1/fan_in) and zero hidden biases. The output biases are set to minus each logit's
 *   mean over the train inputs: ReLU features are non-negative, so raw logits share a
 *   random offset per class and one class can take most labels. Centering reduces, not
 *   removes, the imbalance (defaults, seed 0: class frequencies 2.9 % … 19 %).
 *
 * Train and test come from the same distribution through separate streams
 * (`synthetic/<kind>/<split>/...`), so changing `test` does not change the train split.
 * Defaults are sized to build in milliseconds: 4 000 train and n/4 (rounded) test examples.
 */
import { RidgelineError } from '../errors.ts';
import { rngStream } from '../rng.ts';
import type { Dataset, Split } from './dataset.ts';

type Kind = 'gauss' | 'teacher';

interface ParamRule {
  /** Default value; `test` defaults to round(n / 4), filled in after parsing. */
  def: number;
  integer: boolean;
  min: number;
  max: number;
  help: string;
}

const INT_MAX = Number.MAX_SAFE_INTEGER;
const RULE = {
  classes: { def: 10, integer: true, min: 2, max: 65536, help: 'number of classes' },
  dim: { def: 16, integer: true, min: 1, max: 1 << 20, help: 'input dimension' },
  hidden: { def: 32, integer: true, min: 1, max: 1 << 16, help: 'teacher hidden units' },
  n: { def: 4000, integer: true, min: 1, max: 1e7, help: 'train examples' },
  test: { def: 0, integer: true, min: 1, max: 1e7, help: 'test examples (default n/4)' },
  spread: { def: 1, integer: false, min: 1e-12, max: 1e12, help: 'noise std' },
  seed: { def: 0, integer: true, min: 0, max: INT_MAX, help: 'generator seed' },
} satisfies Record<string, ParamRule>;
// Key order is the order of the canonical name.
const RULES: Record<Kind, Record<string, ParamRule>> = {
  gauss: { classes: RULE.classes, dim: RULE.dim, n: RULE.n, test: RULE.test, spread: RULE.spread, seed: RULE.seed },
  teacher: { dim: RULE.dim, hidden: RULE.hidden, classes: RULE.classes, n: RULE.n, test: RULE.test, seed: RULE.seed },
};
/** Largest n·dim generated (floats per split); a typo such as n=40000000 fails fast. */
const MAX_VALUES = 1 << 27;

export const SYNTHETIC_KINDS: readonly Kind[] = ['gauss', 'teacher'];

/** Usage of one kind with its keys and defaults, e.g. for `--help` and error messages. */
export function syntheticUsage(kind: Kind): string {
  const keys = Object.entries(RULES[kind]).map(([k, r]) => (k === 'test' ? 'test=n/4' : `${k}=${r.def}`));
  return `synthetic:${kind}[:${keys.join(',')}]`;
}

function specError(detail: string): never {
  throw new RidgelineError('E_SPEC', detail);
}

export interface SyntheticSpec {
  kind: Kind;
  params: Record<string, number>;
}

/** Parses the part after `synthetic:` (e.g. `gauss:classes=3,dim=2`), defaults filled in. */
export function parseSyntheticSpec(text: string): SyntheticSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  if (kind !== 'gauss' && kind !== 'teacher') {
    specError(`unknown synthetic data set 'synthetic:${kind}'; valid: ${SYNTHETIC_KINDS.map(syntheticUsage).join(', ')}`);
  }
  const rules = RULES[kind];
  const params: Record<string, number> = {};
  const body = colon < 0 ? '' : text.slice(colon + 1);
  for (const item of body.length === 0 ? [] : body.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const rule = rules[key];
    if (rule === undefined) {
      specError(
        `synthetic:${kind}: unknown parameter '${key}'; valid keys: ${Object.keys(rules).join(', ')} (usage ${syntheticUsage(kind)})`,
      );
    }
    if (key in params) specError(`synthetic:${kind}: parameter '${key}' given twice`);
    const raw = eq < 0 ? '' : item.slice(eq + 1);
    const pattern = rule.integer ? /^\d+$/ : /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
    const value = Number(raw);
    if (!pattern.test(raw) || !(value >= rule.min && value <= rule.max) || (rule.integer && !Number.isSafeInteger(value))) {
      const range = rule.integer ? `an integer in [${rule.min}, ${rule.max}]` : `a number in (0, ${rule.max}]`;
      specError(`synthetic:${kind}: ${key}=${raw} is invalid; ${key} (${rule.help}) must be ${range}`);
    }
    params[key] = value;
  }
  for (const [key, rule] of Object.entries(rules)) params[key] ??= rule.def;
  if (params.test === 0) params.test = Math.max(1, Math.round(params.n! / 4));
  for (const split of ['n', 'test']) {
    if (params[split]! * params.dim! > MAX_VALUES) {
      specError(`synthetic:${kind}: ${split}·dim = ${params[split]! * params.dim!} values exceeds the limit ${MAX_VALUES}`);
    }
  }
  return { kind, params };
}

/** The canonical name: every parameter spelled out, in the rule table's order. */
export function syntheticName(spec: SyntheticSpec): string {
  return `synthetic:${spec.kind}:${Object.keys(RULES[spec.kind]).map((k) => `${k}=${spec.params[k]}`).join(',')}`;
}

function gaussSplit(means: Float32Array, p: Record<string, number>, which: string, n: number): Split {
  const dim = p.dim!;
  const labels = rngStream(p.seed!, `synthetic/gauss/${which}/labels`);
  const x = rngStream(p.seed!, `synthetic/gauss/${which}/noise`).normals(n * dim, 0, p.spread!);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels.intBelow(p.classes!);
    y[i] = c;
    for (let j = 0; j < dim; j++) x[i * dim + j] = x[i * dim + j]! + means[c * dim + j]!;
  }
  return { x, y, n };
}

/** Teacher logits (f64, fixed summation order) of every row of x, without output bias. */
function teacherLogits(x: Float32Array, n: number, w1: Float32Array, w2: Float32Array, p: Record<string, number>): Float64Array {
  const { dim, hidden, classes } = p as Record<'dim' | 'hidden' | 'classes', number>;
  const logits = new Float64Array(n * classes);
  const h = new Float64Array(hidden);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < hidden; u++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += w1[u * dim + j]! * x[i * dim + j]!;
      h[u] = s > 0 ? s : 0;
    }
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let u = 0; u < hidden; u++) s += w2[c * hidden + u]! * h[u]!;
      logits[i * classes + c] = s;
    }
  }
  return logits;
}

/** Labels = argmax(logits + bias), ties to the lowest class. */
function argmaxLabels(logits: Float64Array, bias: Float64Array, n: number): Float32Array {
  const k = bias.length;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) {
      if (logits[i * k + c]! + bias[c]! > logits[i * k + best]! + bias[best]!) best = c;
    }
    y[i] = best;
  }
  return y;
}

/** Generates the data set a spec describes (deterministic in the spec). */
export function generateSynthetic(spec: SyntheticSpec): Dataset {
  const p = spec.params;
  const dim = p.dim!;
  const classes = p.classes!;
  let train: Split;
  let test: Split;
  if (spec.kind === 'gauss') {
    const means = rngStream(p.seed!, 'synthetic/gauss/means').normals(classes * dim);
    train = gaussSplit(means, p, 'train', p.n!);
    test = gaussSplit(means, p, 'test', p.test!);
  } else {
    const hidden = p.hidden!;
    const weights = rngStream(p.seed!, 'synthetic/teacher/weights');
    const w1 = weights.normals(hidden * dim, 0, 1 / Math.sqrt(dim));
    const w2 = weights.normals(classes * hidden, 0, 1 / Math.sqrt(hidden));
    const trainX = rngStream(p.seed!, 'synthetic/teacher/train/inputs').normals(p.n! * dim);
    const testX = rngStream(p.seed!, 'synthetic/teacher/test/inputs').normals(p.test! * dim);
    const trainLogits = teacherLogits(trainX, p.n!, w1, w2, p);
    const bias = new Float64Array(classes);
    for (let i = 0; i < p.n!; i++) for (let c = 0; c < classes; c++) bias[c] = bias[c]! - trainLogits[i * classes + c]!;
    for (let c = 0; c < classes; c++) bias[c] = bias[c]! / p.n!;
    train = { x: trainX, y: argmaxLabels(trainLogits, bias, p.n!), n: p.n! };
    test = { x: testX, y: argmaxLabels(teacherLogits(testX, p.test!, w1, w2, p), bias, p.test!), n: p.test! };
  }
  const name = syntheticName(spec);
  return { name, inputShape: [dim], classes, train, test, source: `generated (${name})` };
}
