/**
 * Seeded mini-batches with no hidden state: the batch at global step s is a pure function
 * of (orderSeed, s, batchSize, n). A run resumed from a checkpoint at step s therefore sees
 * exactly the batches it would have seen, and a forked child (docs/fork.md) only needs its own
 * order seed: no sampler state is saved or copied.
 *
 * - Epoch e visits the examples in the order `batchOrder(n, orderSeed, e)`, a Philox
 *   permutation from stream `order/epoch-<e>` of the order seed (independent across epochs,
 *   computable for any e without the earlier ones).
 * - drop_last semantics (PyTorch `DataLoader(drop_last=True)`): an epoch has
 *   floor(n / batchSize) steps, every batch is full, and the n mod batchSize examples at
 *   the end of each epoch's permutation are skipped for that epoch (a different subset
 *   each epoch). Full batches keep the gradient noise scale constant from step to step.
 * - Step s lies in epoch floor(s / stepsPerEpoch) at position s mod stepsPerEpoch, and
 *   takes permutation entries [pos·batchSize, (pos + 1)·batchSize).
 * - Optional augmentation (`augment`, off by default): each gathered batch is transformed
 *   by augment.ts with its own seed, position i of step s by a pure function of
 *   (augSeed, s, i), so batches stay a pure function of the step. Without it the batch is
 *   the split's rows, bit for bit.
 */
import { argError, RidgelineError } from '../errors.ts';
import { rngStream } from '../rng.ts';
import { augmentBatch, type AugmentOptions, checkAugmentOptions } from './augment.ts';
import { featureCount, type Split } from './dataset.ts';

/** The visiting order of epoch `epoch`: a permutation of 0..n-1 (see the module comment). */
export function batchOrder(n: number, orderSeed: number, epoch: number): Uint32Array {
  if (!Number.isSafeInteger(epoch) || epoch < 0) argError('batchOrder', `epoch must be an integer ≥ 0, got ${epoch}`);
  return rngStream(orderSeed, `order/epoch-${epoch}`).permutation(n);
}

export interface Batch {
  /** batchSize × features, row-major (a fresh array: the caller may keep or transfer it). */
  x: Float32Array;
  y: Float32Array;
  size: number;
  step: number;
  epoch: number;
  /** Example indices into the split, in batch order. */
  indices: Uint32Array;
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Seed of the data order (docs/fork.md's order seed), an integer in [0, 2^53). */
  orderSeed: number;
  /** Random translate + flip of [C, H, W] images with its own seed (augment.ts); default off. */
  augment?: AugmentOptions;
}

export class BatchLoader {
  readonly n: number;
  readonly batchSize: number;
  readonly orderSeed: number;
  readonly features: number;
  /** floor(n / batchSize): full batches per epoch (drop_last). */
  readonly stepsPerEpoch: number;
  /** The augmentation applied to every batch, or null (the default). */
  readonly augment: AugmentOptions | null;
  readonly #split: Split;
  readonly #inputShape: readonly number[];
  #cachedEpoch = -1; // the permutation is cached for one epoch: sequential steps reuse it
  #cachedOrder: Uint32Array = new Uint32Array(0);

  constructor(split: Split, inputShape: readonly number[], options: BatchLoaderOptions) {
    const { batchSize, orderSeed } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > split.n) {
      throw new RidgelineError('E_SPEC', `batch size must be an integer in [1, ${split.n}] (the split's example count), got ${batchSize}`);
    }
    if (!Number.isSafeInteger(orderSeed) || orderSeed < 0) {
      throw new RidgelineError('E_SPEC', `order seed must be an integer in [0, 2^53), got ${orderSeed}`);
    }
    this.features = featureCount(inputShape);
    if (split.x.length !== split.n * this.features || split.y.length !== split.n) {
      argError(
        'BatchLoader',
        `split holds ${split.x.length} inputs and ${split.y.length} targets, expected ${split.n}×${this.features} and ${split.n}`,
      );
    }
    if (options.augment !== undefined) checkAugmentOptions(options.augment, inputShape);
    this.augment = options.augment === undefined ? null : { ...options.augment };
    this.#inputShape = [...inputShape];
    this.#split = split;
    this.n = split.n;
    this.batchSize = batchSize;
    this.orderSeed = orderSeed;
    this.stepsPerEpoch = Math.floor(split.n / batchSize);
  }

  /** The epoch that global step `step` belongs to. */
  epochOf(step: number): number {
    if (!Number.isSafeInteger(step) || step < 0) argError('BatchLoader', `step must be an integer ≥ 0, got ${step}`);
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** The example indices of step `step` (a copy). */
  indicesAt(step: number): Uint32Array {
    return this.#orderAt(step).slice();
  }

  /** The epoch's order from step `step`'s first entry, a view of the cached permutation. */
  #orderAt(step: number): Uint32Array {
    const epoch = this.epochOf(step);
    if (epoch !== this.#cachedEpoch) {
      this.#cachedOrder = batchOrder(this.n, this.orderSeed, epoch);
      this.#cachedEpoch = epoch;
    }
    const start = (step - epoch * this.stepsPerEpoch) * this.batchSize;
    return this.#cachedOrder.subarray(start, start + this.batchSize);
  }

  /** The batch of global step `step` (0-based), gathered from the split. */
  batchAt(step: number): Batch {
    const x = new Float32Array(this.batchSize * this.features);
    const y = new Float32Array(this.batchSize);
    this.batchInto(step, { x, y });
    return { x, y, size: this.batchSize, step, epoch: this.epochOf(step), indices: this.indicesAt(step) };
  }

  /**
   * `batchAt`'s inputs and targets written into arrays the caller reuses (batchSize ×
   * features and batchSize floats): a trainer that uploads each batch at once allocates
   * nothing per step. A fresh 400 KB array per step was a third of mlp-2's JavaScript time
   * per step with its garbage collections (2026-12-04).
   */
  batchInto(step: number, out: { x: Float32Array; y: Float32Array }): void {
    const f = this.features;
    if (out.x.length !== this.batchSize * f || out.y.length !== this.batchSize) {
      argError(
        'BatchLoader',
        `batchInto needs ${this.batchSize}×${f} inputs and ${this.batchSize} targets, got ${out.x.length} and ${out.y.length}`,
      );
    }
    const order = this.#orderAt(step);
    const src = this.#split;
    for (let i = 0; i < order.length; i++) {
      const k = order[i]!;
      out.x.set(src.x.subarray(k * f, (k + 1) * f), i * f);
      out.y[i] = src.y[k]!;
    }
    if (this.augment !== null) augmentBatch(out.x, this.batchSize, this.#inputShape, this.augment, step);
  }
}
