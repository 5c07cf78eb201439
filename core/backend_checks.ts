/**
 * Extent checks of the Backend contract, run by `CheckedBackend` (backend_contract.ts) for
 * every implementation. A kernel call whose extents do not fit its buffers is rejected
 * here, before any kernel runs, so no backend can read or write out of bounds whatever the
 * caller passes.
 */
import type { BroadcastParams, Buf, MatmulParams, ReduceParams, WindowParams } from './backend.ts';
import { MAX_RANK, windowOutSize } from './backend.ts';
import { argError, shapeError } from './errors.ts';

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0x7fffffff;
}

/** Checks that `n` is a non-negative integer element count. */
export function checkCount(op: string, name: string, n: number): void {
  if (!isCount(n)) argError(op, `${name} must be a non-negative integer, got ${n}`);
}

/** Checks that `buf` holds at least `need` elements from `offset` on. */
export function checkFits(op: string, name: string, buf: Buf, need: number, offset = 0): void {
  checkCount(op, `${name} offset`, offset);
  if (offset + need > buf.length) {
    shapeError(op, `${name} needs ${need} elements from offset ${offset} but its buffer holds ${buf.length}`);
  }
}

export function checkMatmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
  const op = 'matmul';
  for (const key of ['batch', 'm', 'n', 'k'] as const) checkCount(op, key, p[key]);
  const strideA = p.strideA ?? p.m * p.k;
  const strideB = p.strideB ?? p.k * p.n;
  checkCount(op, 'strideA', strideA);
  checkCount(op, 'strideB', strideB);
  if (p.batch === 0) return;
  checkFits(op, 'A', a, (p.batch - 1) * strideA + p.m * p.k);
  checkFits(op, 'B', b, (p.batch - 1) * strideB + p.k * p.n);
  checkFits(op, 'out', out, p.batch * p.m * p.n);
  if (p.bias) checkFits(op, 'bias', p.bias, p.n);
}

/** Largest element index (plus one) that a strided view of `shape` touches. */
function extent(shape: readonly number[], strides: readonly number[]): number {
  let last = 0;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 0) return 0;
    last += (shape[d] - 1) * strides[d];
  }
  return last + 1;
}

export function checkBroadcast(opName: string, a: Buf, b: Buf, out: Buf, p: BroadcastParams): number {
  const op = `binary(${opName})`;
  const rank = p.shape.length;
  if (rank < 1 || rank > MAX_RANK) argError(op, `rank must be 1..${MAX_RANK}, got ${rank}`);
  if (p.aStrides.length !== rank || p.bStrides.length !== rank) {
    shapeError(op, 'strides must have one entry per output dimension', p.shape, p.aStrides, p.bStrides);
  }
  for (let d = 0; d < rank; d++) {
    checkCount(op, `shape[${d}]`, p.shape[d]);
    checkCount(op, `aStrides[${d}]`, p.aStrides[d]);
    checkCount(op, `bStrides[${d}]`, p.bStrides[d]);
  }
  const size = p.shape.reduce((x, y) => x * y, 1);
  checkFits(op, 'a', a, extent(p.shape, p.aStrides));
  checkFits(op, 'b', b, extent(p.shape, p.bStrides));
  checkFits(op, 'out', out, size);
  return size;
}

export function checkReduce(opName: string, x: Buf, out: Buf, p: ReduceParams): void {
  const op = `reduce(${opName})`;
  checkCount(op, 'outer', p.outer);
  checkCount(op, 'size', p.size);
  checkCount(op, 'inner', p.inner);
  if (p.size === 0) argError(op, 'cannot reduce an axis of size 0');
  checkFits(op, 'x', x, p.outer * p.size * p.inner);
  checkFits(op, 'out', out, p.outer * p.inner);
}

export function checkRows(op: string, rows: number, cols: number, bufs: Record<string, [Buf, number]>): void {
  checkCount(op, 'rows', rows);
  checkCount(op, 'cols', cols);
  if (cols === 0) argError(op, 'cols must be at least 1');
  for (const [name, [buf, need]] of Object.entries(bufs)) checkFits(op, name, buf, need);
}

/**
 * Checks a window sweep (im2col / col2im, avgPool / avgPoolGrad): positive sizes, a window
 * that fits the padded input, input strides that stay inside `x`, a window-side buffer of
 * `entries` values per window and channel (kh·kw for im2col's copies, 1 for pooling), and
 * for col2im and avgPoolGrad (`bijective`) strides that are a permutation of a contiguous
 * layout, so writing every input element once fills exactly the first n·c·h·w elements.
 * Returns [outH, outW].
 */
export function checkWindow(
  op: string,
  x: Buf,
  p: WindowParams,
  bijective: boolean,
  [name, windows, entries]: readonly [name: string, buf: Buf, entries: number],
): [number, number] {
  for (const key of ['n', 'c', 'h', 'w', 'kh', 'kw', 'strideH', 'strideW'] as const) {
    checkCount(op, key, p[key]);
    if (p[key] === 0) argError(op, `${key} must be positive`);
  }
  checkCount(op, 'padH', p.padH);
  checkCount(op, 'padW', p.padW);
  if (p.padH >= p.kh || p.padW >= p.kw) argError(op, `padding (${p.padH}, ${p.padW}) must be smaller than the window (${p.kh}, ${p.kw})`);
  if (p.inStrides.length !== 4) argError(op, `inStrides needs 4 entries (n, c, h, w), got ${p.inStrides.length}`);
  p.inStrides.forEach((s, d) => checkCount(op, `inStrides[${d}]`, s));
  const outH = windowOutSize(p.h, p.kh, p.strideH, p.padH);
  const outW = windowOutSize(p.w, p.kw, p.strideW, p.padW);
  if (outH < 1 || outW < 1) {
    shapeError(op, `window ${p.kh}×${p.kw} does not fit the input ${p.h}×${p.w} padded by (${p.padH}, ${p.padW})`);
  }
  const dims = [p.n, p.c, p.h, p.w];
  checkFits(op, 'x', x, extent(dims, p.inStrides));
  checkFits(op, name, windows, p.n * outH * outW * p.c * entries);
  if (bijective) {
    // Size-1 axes never move, so their strides do not matter.
    const order = [0, 1, 2, 3].filter((d) => dims[d] > 1).sort((a, b) => p.inStrides[a] - p.inStrides[b]);
    let expect = 1;
    for (const d of order) {
      if (p.inStrides[d] !== expect) {
        argError(op, `inStrides [${p.inStrides.join(', ')}] are not a permutation of a contiguous layout of [${dims.join(', ')}]`);
      }
      expect *= dims[d];
    }
  }
  return [outH, outW];
}
