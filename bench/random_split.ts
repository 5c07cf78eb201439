/** A random classification split for timing (values do not change the work done). */
import type { Split } from '../core/data/dataset.ts';
import { rngStream } from '../core/rng.ts';

export function randomSplit(n: number, d: number, classes: number): Split {
  const rng = rngStream(0, 'bench/data');
  return { x: rng.normals(n * d), y: Float32Array.from({ length: n }, () => rng.intBelow(classes)), n };
}
