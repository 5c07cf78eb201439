/**
 * f64 oracle of a fully connected network's mean softmax cross-entropy, as a function of
 * one flat parameter vector in the canonical order (per layer: weight [in, out] row-major,
 * then bias). Used to finite-difference gradients and Hessians.
 */
import { matmul, softmaxXent, unaryScalar } from './ops.ts';

export interface MlpLayout {
  sizes: number[]; // [in, hidden…, classes]
  activation: 'tanh' | 'leakyRelu';
  slope: number;
}

export function parameterCount(sizes: number[]): number {
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l] * sizes[l + 1] + sizes[l + 1];
  return n;
}

export function mlpLoss(
  theta: ArrayLike<number>,
  layout: MlpLayout,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  rows: number,
): number {
  let h: ArrayLike<number> = x;
  let off = 0;
  const { sizes } = layout;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [din, dout] = [sizes[l], sizes[l + 1]];
    const w = Array.prototype.slice.call(theta, off, off + din * dout);
    off += din * dout;
    const z = matmul(h, w, { batch: 1, m: rows, n: dout, k: din, transA: false, transB: false });
    for (let r = 0; r < rows; r++) for (let j = 0; j < dout; j++) z[r * dout + j] += theta[off + j];
    off += dout;
    if (l + 2 < sizes.length) {
      for (let i = 0; i < z.length; i++) {
        z[i] = layout.activation === 'tanh' ? Math.tanh(z[i]) : unaryScalar('leakyRelu', z[i], layout.slope);
      }
    }
    h = z;
  }
  const { loss } = softmaxXent(h, labels, rows, sizes[sizes.length - 1]);
  return loss.reduce((a, b) => a + b, 0) / rows;
}
