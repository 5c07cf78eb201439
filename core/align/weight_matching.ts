/**
 * Weight matching (Ainsworth et al., git re-basin, Algorithm 1): find permutations π of
 * B's hidden units maximising Σ_tensors ⟨W_A, π(W_B)⟩. Coordinate descent: visit the
 * permutations in a seeded random order; for each, with every other permutation held
 * fixed, the best one is an exact linear assignment on
 *   C[i, j] = Σ_{axes it acts on} ⟨unit i of A, unit j of B (other permutations applied)⟩;
 * repeat until a whole pass improves nothing. Sums in f64.
 */
import * as ag from '../autograd/mod.ts';
import type { Backend } from '../backend.ts';
import type { Model } from '../nn/model.ts';
import { rngStream } from '../rng.ts';
import { fromArray, keep, tidy } from '../tensor.ts';
import { linearAssignment } from './assignment.ts';
import { applyGroups, identityPermutations, type Permutations, permutationsOf, permuteState } from './permute.ts';

export interface MatchResult {
  perms: Permutations;
  /** Σ ⟨W_A, π(W_B)⟩ over every state tensor, before and after. */
  objectiveBefore: number;
  objective: number;
  /** Coordinate-descent passes until no permutation improved. */
  passes: number;
  /** The groups visited, in order, as indices into the model's permutations (for reproduction). */
  order: number[];
  seed: number;
}

/**
 * The group's units along axis `axis` (in blocks of `block`, at `positions` or all of the
 * axis) as a units × rest matrix: row i = unit i's entries.
 */
export function unitRows(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  block: number,
  units: number,
  positions?: readonly number[],
): Float32Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * block;
  const blocks = shape[axis] / block;
  const rowLen = outer * inner;
  const out = new Float32Array(units * rowLen);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < units; i++) {
      const src = (o * blocks + (positions ? positions[i] : i)) * inner;
      const dst = i * rowLen + o * inner;
      for (let r = 0; r < inner; r++) out[dst + r] = data[src + r];
    }
  }
  return out;
}

/** X·Yᵀ for X, Y of `units` rows of `len` entries (row-major). */
export type Gram = (x: Float32Array, y: Float32Array, units: number, len: number) => Promise<ArrayLike<number>>;

/** X·Yᵀ summed in f64 in plain JavaScript: exact to f64 rounding, slow for wide layers. */
export const f64Gram: Gram = async (x, y, units, len) => {
  const c = new Float64Array(units * units);
  for (let i = 0; i < units; i++) {
    const xi = i * len;
    for (let j = 0; j < units; j++) {
      const yj = j * len;
      let s = 0;
      for (let r = 0; r < len; r++) s += x[xi + r] * y[yj + r];
      c[i * units + j] = s;
    }
  }
  return c;
};

/** X·Yᵀ as one matrix product on a backend (f32, the kernels' fixed summation order): 10–30× faster. */
export function backendGram(backend: Backend): Gram {
  return async (x, y, units, len) => {
    const out = tidy(() => keep(ag.matmul(fromArray(backend, x, [units, len]), fromArray(backend, y, [units, len]), { transB: true })));
    try {
      return await out.data();
    } finally {
      out.dispose();
    }
  };
}

/** Σ over every state tensor of ⟨A, B⟩ in f64 (untouched tensors add a constant). */
export function objectiveOf(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) for (let i = 0; i < a[t].length; i++) s += a[t][i] * b[t][i];
  return s;
}

/**
 * c += part, in a function of its own: inside the async matching loop V8 ran this in its
 * interpreter on a first call (0.7 s of a 1.8 s match of two mlp-3 of width 512).
 */
function addInto(c: Float64Array, part: ArrayLike<number>): void {
  for (let i = 0; i < c.length; i++) c[i] += part[i];
}

export async function weightMatching(
  model: Model,
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  o: { seed?: number; maxPasses?: number; gram?: Gram } = {},
): Promise<MatchResult> {
  const gram = o.gram ?? f64Gram;
  const seed = o.seed ?? 0;
  const groups = permutationsOf(model);
  const perms = identityPermutations(model);
  const objectiveBefore = objectiveOf(a, b);
  let objective = objectiveBefore;
  const rng = rngStream(seed, 'weight-matching');
  let passes = 0;
  const order: number[] = [];
  // A group's cost is a sum of one product per axis it acts on, and each product depends only
  // on the permutations of the other groups acting on that tensor. Products whose
  // permutations are unchanged since they were computed are reused (exactly the same
  // numbers): an MLP's first layer, whose input is never permuted, is multiplied once.
  const cache = new Map<string, { deps: Int32Array[]; part: ArrayLike<number> }>();
  for (let pass = 0; pass < (o.maxPasses ?? 100); pass++) {
    passes++;
    let improved = false;
    for (const k of rng.permutation(groups.length)) {
      order.push(k);
      const g = groups[k];
      // π(B) applies the groups in declaration order, and permutations keep inner products:
      // ⟨A, P_n⋯P_1 B⟩ = ⟨P_{k+1}⁻¹⋯P_n⁻¹ A, P_k (P_{k−1}⋯P_1 B)⟩. So group k's cost pairs
      // A with the later groups undone and B with the earlier ones applied — exact even
      // where groups overlap (ViT's heads and the dimensions within them).
      const before = groups.slice(0, k);
      const after = groups.slice(k + 1).reverse();
      const c = new Float64Array(g.size * g.size);
      for (const [axisIndex, ax] of g.axes.entries()) {
        const key = `${k}/${axisIndex}`;
        const deps = [...after, ...before].filter((h) => h.axes.some((x) => x.param === ax.param)).map((h) => perms[h.name]);
        const hit = cache.get(key);
        let part = hit && hit.deps.length === deps.length && hit.deps.every((d, i) => d === deps[i]) ? hit.part : null;
        if (!part) {
          const shape = model.params[ax.param].shape;
          const rowsA = unitRows(
            applyGroups(model, ax.param, a[ax.param], after, perms, true),
            shape,
            ax.axis,
            ax.block,
            g.size,
            ax.positions,
          );
          const rowsB = unitRows(applyGroups(model, ax.param, b[ax.param], before, perms), shape, ax.axis, ax.block, g.size, ax.positions);
          part = await gram(rowsA, rowsB, g.size, rowsA.length / g.size);
          cache.set(key, { deps, part });
        }
        addInto(c, part);
      }
      const { rowToCol } = linearAssignment(c, g.size, g.size, { maximize: true });
      let oldScore = 0;
      let newScore = 0;
      for (let i = 0; i < g.size; i++) {
        oldScore += c[i * g.size + perms[g.name][i]];
        newScore += c[i * g.size + rowToCol[i]];
      }
      if (newScore > oldScore + 1e-12 * Math.max(1, Math.abs(oldScore))) {
        perms[g.name] = Int32Array.from(rowToCol);
        improved = true;
      }
    }
    if (!improved) break;
  }
  objective = objectiveOf(a, permuteState(model, b, perms));
  return { perms, objectiveBefore, objective, passes, seed, order };
}
