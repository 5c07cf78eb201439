/** Weight distances of docs/metrics.md#distances-and-geometry, in f64 on the host. */
import type { Model } from '../nn/model.ts';

/** ‖θA − θB‖₂ over the given parameter indices (all by default). */
export function weightDistance(a: Float32Array[], b: Float32Array[], indices?: readonly number[]): number {
  let s = 0;
  for (const i of indices ?? a.map((_, k) => k)) {
    const x = a[i];
    const y = b[i];
    for (let j = 0; j < x.length; j++) {
      const d = x[j] - y[j];
      s += d * d;
    }
  }
  return Math.sqrt(s);
}

/** ‖θA[ℓ] − θB[ℓ]‖₂ for every layer ℓ of the model. */
export function layerDistances(model: Model, a: Float32Array[], b: Float32Array[]): { name: string; distance: number }[] {
  return model.layers.map((l) => ({ name: l.name, distance: weightDistance(a, b, l.params) }));
}
