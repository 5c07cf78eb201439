/**
 * Applying hidden-unit permutations to a model's state through its symmetry (nn/model.ts):
 * every axis a permutation acts on is reordered consistently, so the permuted network
 * computes the same function. A permutation is an index map: unit i of the result is unit
 * perm[i] of the input.
 */
import { RidgelineError } from '../errors.ts';
import type { HiddenPermutation, Model } from '../nn/model.ts';

export type Permutations = Record<string, Int32Array>;

/** The model's permutations, or E_SPEC saying why the model has none declared. */
export function permutationsOf(model: Model): HiddenPermutation[] {
  if ('unsupported' in model.symmetry) {
    throw new RidgelineError(
      'E_SPEC',
      `${model.name}: alignment is not supported (${model.symmetry.unsupported}); supported: every model in the registry`,
    );
  }
  return model.symmetry.permutations;
}

export function identityPermutations(model: Model): Permutations {
  return Object.fromEntries(permutationsOf(model).map((p) => [p.name, Int32Array.from({ length: p.size }, (_, i) => i)]));
}

export function invertPermutation(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i]] = i;
  return inv;
}

/** Checks that `perm` is a permutation of 0 … size − 1. */
export function checkPermutation(name: string, perm: Int32Array, size: number): void {
  if (perm.length !== size) {
    throw new RidgelineError('E_SHAPE', `permutation ${name} has ${perm.length} entries, the model's group has ${size} units`);
  }
  const seen = new Uint8Array(size);
  for (const p of perm) {
    if (p < 0 || p >= size || seen[p]) {
      throw new RidgelineError('E_ARG', `permutation ${name} is not a permutation of 0…${size - 1} (entry ${p})`);
    }
    seen[p] = 1;
  }
}

/**
 * Reorders axis `axis` of a tensor of `shape` in blocks of `block`: the block at position
 * pos[i] of the result is the block at pos[perm[i]] of the input (pos = `positions`, or the
 * identity when the group covers the whole axis); other blocks stay where they are.
 */
export function permuteAxis(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  block: number,
  perm: Int32Array,
  positions?: readonly number[],
): Float32Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * block;
  const blocks = shape[axis] / block;
  const at = (i: number) => (positions ? positions[i] : i);
  const out = data.slice();
  for (let o = 0; o < outer; o++) {
    const base = o * blocks * inner;
    if (inner >= 16) {
      for (let i = 0; i < perm.length; i++) {
        out.set(data.subarray(base + at(perm[i]) * inner, base + (at(perm[i]) + 1) * inner), base + at(i) * inner);
      }
      continue;
    }
    // Short runs (a weight's input axis: one entry per unit) are copied in a loop: a
    // subarray view per entry cost more than the copy (half of weight matching's time).
    for (let i = 0; i < perm.length; i++) {
      const [src, dst] = [base + at(perm[i]) * inner, base + at(i) * inner];
      for (let r = 0; r < inner; r++) out[dst + r] = data[src + r];
    }
  }
  return out;
}

/**
 * The state with every permutation applied, group by group in declaration order (new
 * arrays; the input is untouched). Groups may overlap (ViT's heads move whole blocks whose
 * dimensions the per-head groups permute), so the inverse applies the inverse permutations
 * in reverse order: `unpermuteState`.
 */
export function permuteState(model: Model, state: readonly Float32Array[], perms: Permutations, reverse = false): Float32Array[] {
  const out = state.map((t) => t);
  const groups = permutationsOf(model);
  for (const p of reverse ? [...groups].reverse() : groups) {
    const perm = perms[p.name];
    if (!perm) continue;
    checkPermutation(p.name, perm, p.size);
    for (const a of p.axes) out[a.param] = permuteAxis(out[a.param], model.params[a.param].shape, a.axis, a.block, perm, a.positions);
  }
  return out;
}

/**
 * One tensor with the given groups applied in order (or their inverses, when `inverse`, in
 * the order given): what weight matching moves to each side of ⟨A, π(B)⟩ for one group.
 */
export function applyGroups(
  model: Model,
  param: number,
  data: Float32Array,
  groups: readonly HiddenPermutation[],
  perms: Permutations,
  inverse = false,
): Float32Array {
  let out = data;
  for (const p of groups) {
    const perm = perms[p.name];
    if (!perm) continue;
    const used = inverse ? invertPermutation(perm) : perm;
    for (const a of p.axes) if (a.param === param) out = permuteAxis(out, model.params[param].shape, a.axis, a.block, used, a.positions);
  }
  return out;
}

export function invertAll(perms: Permutations): Permutations {
  return Object.fromEntries(Object.entries(perms).map(([k, v]) => [k, invertPermutation(v)]));
}

/** Undoes permuteState(model, ·, perms) exactly. */
export function unpermuteState(model: Model, state: readonly Float32Array[], perms: Permutations): Float32Array[] {
  return permuteState(model, state, invertAll(perms), true);
}
