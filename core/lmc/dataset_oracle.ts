/**
 * A SecondOrderOracle over a data split: gradients and exact HVPs of the mean loss at any
 * flat parameter vector, through DatasetDerivatives. One instance per distinct θ is kept
 * until `dispose`, so the gradient and several HVPs at the same endpoint share uploads.
 */
import type { Backend } from '../backend.ts';
import type { Split } from '../data/dataset.ts';
import type { Model } from '../nn/model.ts';
import { DatasetDerivatives, unflattenWeights } from './dataset_derivatives.ts';
import type { SecondOrderOracle } from './predict.ts';

export class DatasetOracle implements SecondOrderOracle {
  readonly #at = new Map<Float64Array, DatasetDerivatives>();
  readonly #gradients = new Map<Float64Array, Float64Array>();

  constructor(
    private readonly backend: Backend,
    private readonly model: Model,
    private readonly split: Split,
    private readonly batch = 1000,
  ) {}

  #derivatives(theta: Float64Array): DatasetDerivatives {
    let d = this.#at.get(theta);
    if (!d) {
      d = new DatasetDerivatives(this.backend, this.model, unflattenWeights(this.model, theta), this.split, { batch: this.batch });
      this.#at.set(theta, d);
    }
    return d;
  }

  async gradient(theta: Float64Array): Promise<Float64Array> {
    let g = this.#gradients.get(theta);
    if (!g) {
      g = await this.#derivatives(theta).gradient();
      this.#gradients.set(theta, g);
    }
    return g;
  }

  hvp(theta: Float64Array, v: Float64Array): Promise<Float64Array> {
    return this.#derivatives(theta).hvp(v);
  }

  dispose(): void {
    this.#at.forEach((d) => d.dispose());
    this.#at.clear();
    this.#gradients.clear();
  }
}
