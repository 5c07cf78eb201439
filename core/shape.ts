/** Shape arithmetic shared by the tensor layer: sizes, strides and broadcasting. */
import { shapeError } from './errors.ts';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides of a contiguous tensor. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** NumPy broadcasting: align trailing dimensions; a dimension of 1 stretches. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) shapeError(op, 'shapes do not broadcast', a, b);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a contiguous `shape` as if broadcast to `target` (0 where stretched). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = contiguousStrides(shape);
  const offset = target.length - shape.length;
  return target.map((_, i) => {
    const d = i - offset;
    return d < 0 || shape[d] === 1 ? 0 : own[d];
  });
}

/**
 * Merges adjacent dimensions that are contiguous in the output and in both inputs, so a
 * broadcast of any rank becomes one of at most a few dimensions (and fits MAX_RANK).
 */
export function coalesce(shape: Shape, aStrides: number[], bStrides: number[]): {
  shape: number[];
  aStrides: number[];
  bStrides: number[];
} {
  const s: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && sa[last] === aStrides[d] * shape[d] && sb[last] === bStrides[d] * shape[d]) {
      s[last] *= shape[d];
      sa[last] = aStrides[d];
      sb[last] = bStrides[d];
    } else {
      s.push(shape[d]);
      sa.push(aStrides[d]);
      sb.push(bStrides[d]);
    }
  }
  if (s.length === 0) return { shape: [1], aStrides: [0], bStrides: [0] };
  return { shape: s, aStrides: sa, bStrides: sb };
}

/** Normalises possibly negative axes to [0, rank), sorted and unique. */
export function normalizeAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = new Set<number>();
  for (const a of axes) {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) shapeError(op, `axis ${a} is out of range for rank ${rank}`);
    out.add(ax);
  }
  return [...out].sort((x, y) => x - y);
}
