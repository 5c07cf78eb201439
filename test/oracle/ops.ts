/**
 * The f64 oracle: the definition of every Backend kernel, in plain TypeScript with f64
 * arithmetic and no cleverness. Test-only; backends are checked against it.
 */
import type { AdamParams, BinaryOp, SgdParams, UnaryOp } from '../../core/backend.ts';

export type Vec = Float64Array;

/** Batched `op(A)·op(B)` with the Backend's layout conventions. */
export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  p: { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean },
): Vec {
  const { batch, m, n, k, transA, transB } = p;
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = t * m * k;
    const bo = t * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[ao + q * m + i] : a[ao + i * k + q];
          const bv = transB ? b[bo + j * k + q] : b[bo + q * n + j];
          s += av * bv;
        }
        out[t * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

export function unaryScalar(op: UnaryOp, x: number, p = 0): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      return x > 0 ? 1 : x < 0 ? -1 : x;
    case 'square':
      return x * x;
    case 'sqrt':
      return Math.sqrt(x);
    case 'reciprocal':
      return 1 / x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'leakyRelu':
      return x > 0 ? x : p * x;
    case 'step':
      return x > 0 ? 1 : 0;
    case 'scale':
      return p * x;
    case 'addScalar':
      return x + p;
    case 'powScalar':
      return Math.pow(x, p);
  }
}

export function binaryScalar(op: BinaryOp, a: number, b: number, p = 0): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'leakyReluGrad':
      return a > 0 ? b : p * b;
  }
}

/** NumPy-broadcast binary op of two row-major arrays; returns the output and its shape. */
export function binary(
  op: BinaryOp,
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  p = 0,
): { out: Vec; shape: number[] } {
  const rank = Math.max(aShape.length, bShape.length);
  const pa = [...Array(rank - aShape.length).fill(1), ...aShape];
  const pb = [...Array(rank - bShape.length).fill(1), ...bShape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const size = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(size);
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < size; i++) {
    let rem = i;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d]);
    }
    out[i] = binaryScalar(op, a[ia], b[ib], p);
  }
  return { out, shape };
}

export function reduce(op: 'sum' | 'max', x: ArrayLike<number>, outer: number, size: number, inner: number): Vec {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : -Infinity;
      for (let s = 0; s < size; s++) {
        const v = x[(o * size + s) * inner + i];
        acc = op === 'sum' ? acc + v : Math.max(acc, v);
      }
      out[o * inner + i] = acc;
    }
  }
  return out;
}

export function softmax(x: ArrayLike<number>, rows: number, cols: number): Vec {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(x[r * cols + c] - m) / s;
  }
  return out;
}

/** Per-row loss and (softmax − onehot) of softmax cross-entropy. */
export function softmaxXent(x: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number): {
  loss: Vec;
  grad: Vec;
} {
  const grad = softmax(x, rows, cols);
  const loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    loss[r] = m + Math.log(s) - x[r * cols + labels[r]];
    grad[r * cols + labels[r]] -= 1;
  }
  return { loss, grad };
}

/** torch.optim.SGD's update of one parameter tensor, in f64. */
export function sgd(param: Vec, grad: ArrayLike<number>, buf: Vec, p: SgdParams): void {
  for (let i = 0; i < param.length; i++) {
    let d = grad[i] + p.weightDecay * param[i];
    if (p.momentum !== 0) {
      buf[i] = p.firstStep ? d : p.momentum * buf[i] + (1 - p.dampening) * d;
      d = p.nesterov ? d + p.momentum * buf[i] : buf[i];
    }
    param[i] -= p.lr * d;
  }
}

/** torch.optim.Adam / AdamW update of one parameter tensor, in f64 (textbook form). */
export function adam(param: Vec, grad: ArrayLike<number>, m: Vec, v: Vec, p: AdamParams): void {
  for (let i = 0; i < param.length; i++) {
    let g = grad[i];
    if (p.decoupled) param[i] *= 1 - p.lr * p.weightDecay;
    else g += p.weightDecay * param[i];
    m[i] = p.beta1 * m[i] + (1 - p.beta1) * g;
    v[i] = p.beta2 * v[i] + (1 - p.beta2) * g * g;
    const mHat = m[i] / (1 - Math.pow(p.beta1, p.step));
    const vHat = v[i] / (1 - Math.pow(p.beta2, p.step));
    param[i] -= (p.lr * mHat) / (Math.sqrt(vHat) + p.eps);
  }
}

/** Window geometry of the oracle (the Backend's WindowParams without the import cycle). */
export interface Window {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  inStrides: readonly [number, number, number, number];
  /** A window's entries in cols ordered (i, j, ch) instead of (ch, i, j). */
  channelsLast?: boolean;
}

function windowOut(p: Window): [number, number] {
  return [Math.floor((p.h + 2 * p.padH - p.kh) / p.strideH) + 1, Math.floor((p.w + 2 * p.padW - p.kw) / p.strideW) + 1];
}

/**
 * Visits every window entry (b, oy, ox, ch, i, j) with its cols index (j fastest, or ch
 * fastest with `channelsLast`) and the input index it reads, or null in the padding.
 */
function eachWindowEntry(p: Window, visit: (col: number, input: number | null) => void): void {
  const [oh, ow] = windowOut(p);
  const [sn, sc, sh, sw] = p.inStrides;
  const entries = p.c * p.kh * p.kw;
  let window = 0;
  for (let b = 0; b < p.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, window++) {
        for (let ch = 0; ch < p.c; ch++) {
          for (let i = 0; i < p.kh; i++) {
            for (let j = 0; j < p.kw; j++) {
              const y = oy * p.strideH + i - p.padH;
              const xx = ox * p.strideW + j - p.padW;
              const entry = p.channelsLast ? (i * p.kw + j) * p.c + ch : (ch * p.kh + i) * p.kw + j;
              visit(window * entries + entry, y >= 0 && y < p.h && xx >= 0 && xx < p.w ? b * sn + ch * sc + y * sh + xx * sw : null);
            }
          }
        }
      }
    }
  }
}

/** im2col: cols[b, oy, ox, ch, i, j] = x(b, ch, oy·sh + i − ph, ox·sw + j − pw), 0 in the padding. */
export function im2col(x: ArrayLike<number>, p: Window): Vec {
  const [oh, ow] = windowOut(p);
  const out = new Float64Array(p.n * oh * ow * p.c * p.kh * p.kw);
  eachWindowEntry(p, (col, input) => (out[col] = input === null ? 0 : x[input]));
  return out;
}

/** col2im, the adjoint of im2col, by scattering (a different algorithm from the kernels' gather). */
export function col2im(cols: ArrayLike<number>, p: Window): Vec {
  const out = new Float64Array(p.n * p.c * p.h * p.w);
  eachWindowEntry(p, (col, input) => {
    if (input !== null) out[input] += cols[col];
  });
  return out;
}
