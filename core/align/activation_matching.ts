/**
 * Activation matching (Ainsworth et al., git re-basin §3.1): run both networks on the same
 * examples, correlate each hidden unit of A with each unit of B in the same group (over
 * examples, and over positions for convolutional maps), and pair them by an exact linear
 * assignment maximising the total correlation. One assignment per group, no iteration: a
 * group's activations do not depend on the other groups' labels.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import { RidgelineError } from '../errors.ts';
import type { Model } from '../nn/model.ts';
import { fromArray, keep, type Tensor, tidy } from '../tensor.ts';
import { linearAssignment } from './assignment.ts';
import { type Permutations, permutationsOf, permuteState } from './permute.ts';
import { backendGram, type MatchResult, objectiveOf } from './weight_matching.ts';

/** Running sums of one group: Σa, Σb, Σa², Σb², Σ a_i b_j over rows. */
interface Moments {
  units: number;
  rows: number;
  sa: Float64Array;
  sb: Float64Array;
  saa: Float64Array;
  sbb: Float64Array;
  sab: Float64Array;
}

/**
 * Every group's activations for a batch, as [rows, units] (NHWC maps: rows = N·H·W): after
 * the nonlinearity (`capture`, matching) or before it (`capturePre`, REPAIR).
 */
export async function activations(
  backend: Backend,
  model: Model,
  weights: readonly Float32Array[],
  x: Float32Array,
  n: number,
  hook: 'capture' | 'capturePre' = 'capture',
): Promise<Map<string, Float32Array>> {
  const captured: [string, Tensor][] = [];
  tidy(() => {
    const ps = model.params.map((p, i) => fromArray(backend, weights[i], p.shape));
    ag.noGrad(() =>
      model.forward(ps, fromArray(backend, x, [n, model.inputSize]), {
        [hook]: (perm: string, t: Tensor) => void captured.push([perm, keep(t)]),
      })
    );
  });
  const out = new Map<string, Float32Array>();
  for (const [perm, t] of captured) {
    try {
      out.set(perm, await t.data());
    } finally {
      t.dispose();
    }
  }
  return out;
}

/** A rows × cols row-major matrix as cols × rows. */
function transposed(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

function correlation(m: Moments): Float64Array {
  const { units, rows } = m;
  const c = new Float64Array(units * units);
  const sd = (s: number, ss: number) => Math.sqrt(Math.max(ss / rows - (s / rows) ** 2, 0));
  for (let i = 0; i < units; i++) {
    const ma = m.sa[i] / rows;
    const da = sd(m.sa[i], m.saa[i]);
    for (let j = 0; j < units; j++) {
      const mb = m.sb[j] / rows;
      const db = sd(m.sb[j], m.sbb[j]);
      const cov = m.sab[i * units + j] / rows - ma * mb;
      // A dead unit (no variance) correlates with nothing: 0, so it is paired last.
      c[i * units + j] = da > 0 && db > 0 ? cov / (da * db) : 0;
    }
  }
  return c;
}

export async function activationMatching(
  backend: Backend,
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  split: Split,
  o: { limit?: number; batch?: number; seed?: number } = {},
): Promise<MatchResult & { examples: number; meanCorrelation: Record<string, number> }> {
  const groups = permutationsOf(model);
  const examples = Math.min(split.n, o.limit ?? 2000);
  if (examples < 2) throw new RidgelineError('E_SPEC', `activation matching needs at least 2 examples, the data has ${split.n}`);
  const batch = o.batch ?? 500;
  const gram = backendGram(backend);
  const moments = new Map<string, Moments>(groups.map((g) => [g.name, {
    units: g.size,
    rows: 0,
    sa: new Float64Array(g.size),
    sb: new Float64Array(g.size),
    saa: new Float64Array(g.size),
    sbb: new Float64Array(g.size),
    sab: new Float64Array(g.size * g.size),
  }]));
  for (let start = 0; start < examples; start += batch) {
    const n = Math.min(batch, examples - start);
    const x = split.x.subarray(start * model.inputSize, (start + n) * model.inputSize);
    const [actsA, actsB] = [await activations(backend, model, a, x, n), await activations(backend, model, b, x, n)];
    for (const g of groups) {
      const m = moments.get(g.name)!;
      const [xa, xb] = [actsA.get(g.name), actsB.get(g.name)];
      if (!xa || !xb) {
        throw new RidgelineError(
          'E_SPEC',
          `${model.name}: the forward pass does not report the activations of ${g.name}; activation matching needs them`,
        );
      }
      const rows = xa.length / g.size;
      for (let r = 0; r < rows; r++) {
        const o2 = r * g.size;
        for (let i = 0; i < g.size; i++) {
          const va = xa[o2 + i];
          const vb = xb[o2 + i];
          m.sa[i] += va;
          m.sb[i] += vb;
          m.saa[i] += va * va;
          m.sbb[i] += vb * vb;
        }
      }
      // Σ_rows a_i b_j is a units × units product over N·H·W rows: on the backend (f32 within
      // a batch, batches summed in f64). In JavaScript it was most of the matching's time on
      // conv maps (52 s for a reduced VGG on 1 500 images).
      const cross = await gram(transposed(xa, rows, g.size), transposed(xb, rows, g.size), g.size, rows);
      for (let k = 0; k < cross.length; k++) m.sab[k] += cross[k];
      m.rows += rows;
    }
  }
  const perms: Permutations = {};
  const meanCorrelation: Record<string, number> = {};
  for (const g of groups) {
    const c = correlation(moments.get(g.name)!);
    const { rowToCol, total } = linearAssignment(c, g.size, g.size, { maximize: true });
    perms[g.name] = Int32Array.from(rowToCol);
    meanCorrelation[g.name] = total / g.size;
  }
  return {
    perms,
    objectiveBefore: objectiveOf(a, b),
    objective: objectiveOf(a, permuteState(model, b, perms)),
    passes: 1,
    order: groups.map((_, k) => k),
    seed: o.seed ?? 0,
    examples,
    meanCorrelation,
  };
}
