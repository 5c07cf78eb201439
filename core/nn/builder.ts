/**
 * Declaring a model's state tensors module by module, with PyTorch's names, shapes and
 * default initialisations, and assembling the Model description from them.
 */
import { type RngStream, rngStream } from '../rng.ts';
import type { Tensor } from '../tensor.ts';
import { type ForwardOptions, type HiddenPermutation, type LayerSlice, layoutParams, type Model, type Task } from './model.ts';

/** Which hidden permutations act on a layer's input and output units (names from `hidden`). */
export interface LayerPerm {
  in?: string;
  out?: string;
  /** Entries per input unit (a flattened C×H×W map: H·W per channel). */
  inBlock?: number;
}

/** Fills `size` values from a named random stream. */
export type InitFn = (rng: RngStream, size: number) => Float32Array;

/** U(−bound, bound), rounded to f32. */
export const uniformInit = (bound: number): InitFn => (rng, size) => {
  const u = rng.uniforms(size);
  for (let i = 0; i < size; i++) u[i] = Math.fround(bound * (2 * u[i] - 1));
  return u;
};
export const constantInit = (value: number): InitFn => (_rng, size) => new Float32Array(size).fill(value);
/** N(0, std²) (timm initialises ViT tokens with a normal of std 0.02). */
export const normalInit = (std: number): InitFn => (rng, size) => rng.normals(size, 0, std);

interface Entry {
  name: string;
  shape: number[];
  trainable: boolean;
  init: InitFn;
}

export interface ModelSpec {
  name: string;
  description: string;
  inputShape: readonly number[];
  classes: number;
  task?: Task;
  forward(params: readonly Tensor[], x: Tensor, options: ForwardOptions): Tensor;
  firstLayer?: Model['firstLayer'];
  forwardFromFirst?: Model['forwardFromFirst'];
}

export class ModelBuilder {
  readonly #entries: Entry[] = [];
  readonly #modules: { name: string; params: number[] }[] = [];
  readonly #perms = new Map<string, HiddenPermutation>();
  #unsupported: string | null = null;
  #declared = false;

  /** The model has no hidden units to permute (e.g. logistic regression): alignment is the identity. */
  noHiddenUnits(): void {
    this.#declared = true;
  }

  /** Declares a group of `size` interchangeable hidden units; layers name it in their LayerPerm. */
  hidden(name: string, size: number): string {
    if (this.#perms.has(name)) throw new Error(`hidden permutation ${name} declared twice`);
    this.#perms.set(name, { name, size, axes: [] });
    this.#declared = true;
    return name;
  }

  /**
   * Permutation `perm` relabels axis `axis` of tensor `param` (in blocks of `block`), all of
   * it, or only the blocks at `positions` (unit i at block positions[i]).
   */
  acts(perm: string | undefined, param: number | null, axis: number, block = 1, positions?: number[]): void {
    if (perm === undefined || param === null) return;
    const p = this.#perms.get(perm);
    if (!p) throw new Error(`hidden permutation ${perm} is not declared`);
    const length = this.#entries[param].shape[axis];
    if (positions) {
      if (positions.length !== p.size || positions.some((q) => q < 0 || (q + 1) * block > length)) {
        throw new Error(`${this.#entries[param].name} axis ${axis}: ${p.size} positions within ${length / block} blocks expected`);
      }
      p.axes.push({ param, axis, block, positions });
      return;
    }
    if (length !== p.size * block) {
      throw new Error(`${this.#entries[param].name} axis ${axis} has ${length} entries, not ${p.size} units × ${block}`);
    }
    p.axes.push({ param, axis, block });
  }

  /** The model's symmetry is not derived: alignment refuses it with this reason. */
  symmetryUnsupported(reason: string): void {
    this.#unsupported = reason;
  }

  /** Adds one module's tensors (`${module}.${key}`) as one layer; returns their indices. */
  module(name: string, tensors: { key: string; shape: number[]; init: InitFn; trainable?: boolean }[]): number[] {
    const indices = tensors.map((t) => {
      this.#entries.push({ name: name === '' ? t.key : `${name}.${t.key}`, shape: t.shape, trainable: t.trainable ?? true, init: t.init });
      return this.#entries.length - 1;
    });
    this.#modules.push({ name: name === '' ? indices.map((i) => this.#entries[i].name).join('+') : name, params: indices });
    return indices;
  }

  /** nn.Linear(inF, outF): weight and bias U(±1/√inF) (kaiming_uniform with a = √5). */
  linear(name: string, inF: number, outF: number, bias = true, perm: LayerPerm = {}): { w: number; b: number | null } {
    const init = uniformInit(1 / Math.sqrt(inF));
    const [w, b] = this.module(name, [
      { key: 'weight', shape: [outF, inF], init },
      ...(bias ? [{ key: 'bias', shape: [outF], init }] : []),
    ]);
    this.#layerPerm(perm, w, bias ? b : null);
    return { w, b: bias ? b : null };
  }

  /** A weight's output units are axis 0 (with the bias), its input units axis 1. */
  #layerPerm(perm: LayerPerm, w: number, b: number | null): void {
    this.acts(perm.out, w, 0);
    this.acts(perm.out, b, 0);
    this.acts(perm.in, w, 1, perm.inBlock ?? 1);
  }

  /** nn.Conv2d(inC, outC, k): weight [outC, inC, k, k], U(±1/√(inC·k²)) like the bias. */
  conv(name: string, inC: number, outC: number, k: number, bias = true, perm: LayerPerm = {}): { w: number; b: number | null } {
    const init = uniformInit(1 / Math.sqrt(inC * k * k));
    const [w, b] = this.module(name, [
      { key: 'weight', shape: [outC, inC, k, k], init },
      ...(bias ? [{ key: 'bias', shape: [outC], init }] : []),
    ]);
    this.#layerPerm(perm, w, bias ? b : null);
    return { w, b: bias ? b : null };
  }

  /** nn.BatchNorm2d(c): weight 1, bias 0, running_mean 0, running_var 1. */
  batchNorm(name: string, c: number, perm?: string): { w: number; b: number; mean: number; var: number } {
    const [w, b, mean, variance] = this.module(name, [
      { key: 'weight', shape: [c], init: constantInit(1) },
      { key: 'bias', shape: [c], init: constantInit(0) },
      { key: 'running_mean', shape: [c], init: constantInit(0), trainable: false },
      { key: 'running_var', shape: [c], init: constantInit(1), trainable: false },
    ]);
    // Scale, shift and both running statistics move with their channel.
    for (const t of [w, b, mean, variance]) this.acts(perm, t, 0);
    return { w, b, mean, var: variance };
  }

  /** nn.LayerNorm(d): weight 1, bias 0. */
  layerNorm(name: string, d: number, perm?: string): { w: number; b: number } {
    const [w, b] = this.module(name, [
      { key: 'weight', shape: [d], init: constantInit(1) },
      { key: 'bias', shape: [d], init: constantInit(0) },
    ]);
    for (const t of [w, b]) this.acts(perm, t, 0);
    return { w, b };
  }

  build(spec: ModelSpec): Model {
    const params = layoutParams(this.#entries);
    const entries = this.#entries;
    const layers: LayerSlice[] = this.#modules.map((m) => ({
      name: m.name,
      offset: params[m.params[0]].offset,
      length: m.params.reduce((n, i) => n + params[i].size, 0),
      params: m.params,
    }));
    const inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
    return {
      name: spec.name,
      description: spec.description,
      inputShape: [...spec.inputShape],
      inputSize,
      classes: spec.classes,
      task: spec.task ?? 'classification',
      params,
      layers,
      parameterCount: params.reduce((n, p) => n + (p.trainable ? p.size : 0), 0),
      stateSize: params.reduce((n, p) => n + p.size, 0),
      forward: (ps, x, options = {}) => spec.forward(ps, x, options),
      firstLayer: spec.firstLayer ?? null,
      forwardFromFirst: spec.forwardFromFirst ?? (() => {
        throw new Error(`${spec.name} does not share its first layer`);
      }),
      init: (seed) => entries.map((e, i) => e.init(rngStream(seed, `init/${e.name}`), params[i].size)),
      symmetry: this.#unsupported !== null
        ? { unsupported: this.#unsupported }
        : this.#declared
        ? { permutations: [...this.#perms.values()] }
        : { unsupported: `${spec.name} declares no permutation symmetry yet` },
    };
  }
}
