/**
 * The seeds of repeat r of a fork experiment (docs/fork.md): repeat 0 uses the spec's seeds as
 * given (init s_i, parent order s0, children s0 + 1 and s0 + 2, or s0 + 1 in main-branch
 * mode, augmentation s_a); repeat r ≥ 1 draws every one of them from the portable
 * generator keyed by (base seed, r), so the spread over repeats holds init, data-order and
 * augmentation noise alike. (Repeats that varied only the init seed reused the children's
 * order seeds, and omitted data-order noise from the spread.)
 */
import { rngStream } from '../rng.ts';
import type { ForkSpec } from './fork_spec.ts';

export interface RepeatSeeds {
  repeat: number;
  /** Initial weights (unused with --from). */
  init: number;
  /** The parent's (main run's) data order. */
  order: number;
  /** Augmentation: a line with order seed s uses augment + s. */
  augment: number;
  /** The children's order seeds: two in pairs mode, one in main-branch mode. */
  children: number[];
}

type SeedSpec = Pick<ForkSpec, 'seedInit' | 'seedOrder' | 'seedAugment' | 'mode'>;

/** A uint32 seed drawn from (base, r, what): a pure function, the same in every runtime. */
function derived(base: number, repeat: number, what: string): number {
  return rngStream(base, `repeat-${repeat}/${what}`).nextUint32();
}

export function repeatSeeds(spec: SeedSpec, repeat: number): RepeatSeeds {
  const childCount = spec.mode === 'pairs' ? 2 : 1;
  if (repeat === 0) {
    const children = Array.from({ length: childCount }, (_, c) => spec.seedOrder + 1 + c);
    return { repeat, init: spec.seedInit, order: spec.seedOrder, augment: spec.seedAugment, children };
  }
  const order = derived(spec.seedOrder, repeat, 'order');
  // Children's seeds differ from the parent's and from each other (equal seeds, equal batches).
  const children: number[] = [];
  const rng = rngStream(spec.seedOrder, `repeat-${repeat}/children`);
  while (children.length < childCount) {
    const s = rng.nextUint32();
    if (s !== order && !children.includes(s)) children.push(s);
  }
  return { repeat, init: derived(spec.seedInit, repeat, 'init'), order, augment: derived(spec.seedAugment, repeat, 'augment'), children };
}
