/**
 * REPAIR (Jordan et al. 2023, "REPAIR: REnormalizing Permuted Activations for Interpolation
 * Repair"; docs/metrics.md#alignment-modulo-permutation) for networks without batch norm. Interpolating two aligned networks
 * shrinks the variance of their hidden units ("variance collapse"), so θ(α) loses accuracy
 * for a reason that has nothing to do with the loss landscape. REPAIR gives every hidden
 * channel of θ(α) the statistics it "should" have: before its nonlinearity, mean
 * (1 − α)·μA + α·μB and standard deviation (1 − α)·σA + α·σB, the endpoints' statistics on
 * the same training examples. The correction z ↦ s·z + t (s = σ_target/σ, t = μ_target − s·μ)
 * is folded into the layer producing the channel: its weight row (or filter) times s, its
 * bias s·b + t — so the repaired network is an ordinary network of the same model.
 *
 * Channels are the model's declared hidden groups (nn/model.ts, symmetry), their
 * pre-activations come from ForwardOptions.capturePre. Groups are corrected in forward
 * order, each measured after the ones before it were corrected (a correction upstream moves
 * the statistics downstream), so every channel ends at its target. Statistics are over the
 * first `examples` training inputs (and every position of a convolutional map), population
 * standard deviation, summed in f64.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { RidgelineError } from '../errors.ts';
import { combine } from '../lmc/combination_eval.ts';
import { hasBuffers, type HiddenPermutation, type Model } from '../nn/model.ts';
import { fromArray, keep, tidy } from '../tensor.ts';
import { activations } from './activation_matching.ts';
import { permutationsOf } from './permute.ts';

/** Training examples whose statistics REPAIR matches (Jordan et al. use a few thousand). */
export const REPAIR_EXAMPLES = 2000;

export interface RepairOptions {
  /** The training data the statistics are measured on. */
  split: Split;
  /** Examples used (default REPAIR_EXAMPLES, at most the split's size). */
  examples?: number;
}

/** Per-channel statistics of one group's pre-activations. */
export interface ChannelStats {
  mean: Float64Array;
  std: Float64Array;
}

/** A hidden group and the layer that produces it: weight (units on axis 0) and bias. */
export interface RepairLayer {
  group: HiddenPermutation;
  weight: number;
  bias: number;
}

/**
 * The layer producing each hidden group, in forward order; E_SPEC when the model has batch
 * norm (its statistics are recomputed instead: --reset-bn) or a group is not produced by
 * exactly one layer with a bias (ResNet's residual streams sum several layers; ViT's
 * layer norm re-normalises anyway).
 */
export function repairLayers(model: Model): RepairLayer[] {
  if (hasBuffers(model)) {
    throw new RidgelineError(
      'E_SPEC',
      `${model.name} has batch norm: REPAIR is for networks without it; use --reset-bn, which recomputes the batch-norm statistics of every interpolated network`,
    );
  }
  return permutationsOf(model).map((group) => {
    const producing = group.axes.filter((a) => a.axis === 0);
    const weights = producing.filter((a) => model.params[a.param].shape.length >= 2);
    const biases = producing.filter((a) => model.params[a.param].shape.length === 1);
    const plain = producing.every((a) => a.block === 1 && a.positions === undefined);
    if (weights.length !== 1 || biases.length !== 1 || !plain) {
      const names = producing.map((a) => model.params[a.param].name).join(', ') || 'no tensor';
      throw new RidgelineError(
        'E_SPEC',
        `${model.name}: REPAIR needs each hidden group produced by one layer with a bias; ${group.name} is produced by ${names}`,
      );
    }
    return { group, weight: weights[0].param, bias: biases[0].param };
  }).sort((p, q) => p.weight - q.weight);
}

/** Mean and standard deviation of every group's pre-activations over the first examples. */
export async function preActivationStats(
  backend: Backend,
  model: Model,
  weights: readonly Float32Array[],
  o: RepairOptions,
): Promise<Map<string, ChannelStats>> {
  const groups = permutationsOf(model);
  const n = Math.min(o.split.n, o.examples ?? REPAIR_EXAMPLES);
  if (n < 2) throw new RidgelineError('E_SPEC', `REPAIR needs at least 2 training examples, the data has ${o.split.n}`);
  const sums = new Map(groups.map((g) => [g.name, { rows: 0, s: new Float64Array(g.size), ss: new Float64Array(g.size) }]));
  const batch = 500;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const acts = await activations(
      backend,
      model,
      weights,
      o.split.x.subarray(start * model.inputSize, (start + rows) * model.inputSize),
      rows,
      'capturePre',
    );
    for (const g of groups) {
      const z = acts.get(g.name);
      if (!z) {
        throw new RidgelineError(
          'E_SPEC',
          `${model.name}: the forward pass does not report the pre-activations of ${g.name}; REPAIR needs them`,
        );
      }
      const acc = sums.get(g.name)!;
      for (let r = 0; r < z.length; r += g.size) {
        for (let c = 0; c < g.size; c++) {
          const v = z[r + c];
          acc.s[c] += v;
          acc.ss[c] += v * v;
        }
      }
      acc.rows += z.length / g.size;
    }
  }
  return new Map([...sums].map(([name, acc]) => {
    const mean = acc.s.map((s) => s / acc.rows);
    return [name, { mean, std: acc.ss.map((ss, c) => Math.sqrt(Math.max(ss / acc.rows - mean[c] ** 2, 0))) }];
  }));
}

/** The targets at α: each channel's mean and standard deviation interpolated between the endpoints'. */
export function targetStats(a: ChannelStats, b: ChannelStats, alpha: number): ChannelStats {
  return { mean: a.mean.map((m, c) => (1 - alpha) * m + alpha * b.mean[c]), std: a.std.map((s, c) => (1 - alpha) * s + alpha * b.std[c]) };
}

/**
 * `weights` with every group's channels corrected to `targets` (new arrays for the layers
 * changed). A channel without spread (a dead unit) is only shifted: there is nothing to scale.
 */
export async function repairNetwork(
  backend: Backend,
  model: Model,
  weights: readonly Float32Array[],
  targets: (group: string) => ChannelStats,
  o: RepairOptions,
): Promise<Float32Array[]> {
  const out = [...weights];
  for (const layer of repairLayers(model)) {
    const now = (await preActivationStats(backend, model, out, o)).get(layer.group.name)!;
    const want = targets(layer.group.name);
    const w = out[layer.weight].slice();
    const b = out[layer.bias].slice();
    const row = w.length / layer.group.size;
    for (let c = 0; c < layer.group.size; c++) {
      const s = now.std[c] > 0 ? want.std[c] / now.std[c] : 1;
      const t = want.mean[c] - s * now.mean[c];
      for (let i = c * row; i < (c + 1) * row; i++) w[i] *= s;
      b[c] = s * b[c] + t;
    }
    out[layer.weight] = w;
    out[layer.bias] = b;
  }
  return out;
}

/** θ(α) = (1 − α)·θA + α·θB exactly as the path evaluator forms it (combine), read back. */
async function interpolate(
  backend: Backend,
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  alpha: number,
): Promise<Float32Array[]> {
  const mixed = tidy(() =>
    ag.noGrad(() =>
      model.params.map((p, i) => keep(combine([fromArray(backend, a[i], p.shape), fromArray(backend, b[i], p.shape)], [1 - alpha, alpha])))
    )
  );
  try {
    return await Promise.all(mixed.map((t) => t.data()));
  } finally {
    mixed.forEach((t) => t.dispose());
  }
}

/**
 * The last path repaired from each A: a pair's train and test evaluations (barrier, align,
 * rebasin) ask for the same repaired networks, which cost a forward pass per group and α.
 */
const lastRepaired = new WeakMap<
  readonly Float32Array[],
  { b: readonly Float32Array[]; model: Model; alphas: string; split: Split; examples: number | undefined; nets: Float32Array[][] }
>();

/** The repaired network at every α of the path from A to B (the ends are A and B themselves). */
export async function repairedPath(
  backend: Backend,
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  alphas: readonly number[],
  o: RepairOptions,
): Promise<Float32Array[][]> {
  const memo = lastRepaired.get(a);
  if (
    memo && memo.b === b && memo.model === model && memo.alphas === alphas.join() && memo.split === o.split && memo.examples === o.examples
  ) return memo.nets;
  const nets = await computeRepairedPath(backend, model, a, b, alphas, o);
  lastRepaired.set(a, { b, model, alphas: alphas.join(), split: o.split, examples: o.examples, nets });
  return nets;
}

async function computeRepairedPath(
  backend: Backend,
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  alphas: readonly number[],
  o: RepairOptions,
): Promise<Float32Array[][]> {
  repairLayers(model);
  const [statsA, statsB] = [await preActivationStats(backend, model, a, o), await preActivationStats(backend, model, b, o)];
  const out: Float32Array[][] = [];
  for (const alpha of alphas) {
    const mixed = await interpolate(backend, model, a, b, alpha);
    out.push(await repairNetwork(backend, model, mixed, (g) => targetStats(statsA.get(g)!, statsB.get(g)!, alpha), o));
  }
  return out;
}
