/**
 * Differentiable data movement: axis permutations and slices/placements along the first
 * axis. Permutations read through strides with the broadcasting kernel (adding a broadcast
 * zero, exact in f32), slices and placements are buffer copies with offsets; each op's VJP
 * is the inverse movement, so all of them are linear and differentiable to any order.
 */
import { MAX_RANK } from '../backend.ts';
import { argError, shapeError } from '../errors.ts';
import { coalesce, contiguousStrides, type Shape } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { zeroScalar } from './ops.ts';
import { record } from './record.ts';

/** `out` (contiguous, `shape`) ← x read through `strides`. */
function stridedCopy(x: Tensor, shape: Shape, strides: number[]): Tensor {
  const out = empty(x.backend, shape);
  if (out.size === 0) return out;
  const view = coalesce(shape, strides, shape.map(() => 0));
  if (view.shape.length > MAX_RANK) shapeError('permute', `needs more than ${MAX_RANK} dimensions after merging`, x.shape);
  x.backend.binary('add', x.buf, zeroScalar(x.backend), out.buf, view);
  return out;
}

/** Reorders axes: `out.shape[i] = x.shape[axes[i]]` (numpy's transpose). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (axes.length !== rank || [...axes].sort((a, b) => a - b).some((a, i) => a !== i)) {
    argError('permute', `axes [${axes.join(', ')}] are not a permutation of 0..${rank - 1}`);
  }
  if (axes.every((a, i) => a === i)) return x;
  const inStrides = contiguousStrides(x.shape);
  const out = stridedCopy(x, axes.map((a) => x.shape[a]), axes.map((a) => inStrides[a]));
  const inverse = axes.map((_, i) => axes.indexOf(i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

function rowSize(x: Tensor): number {
  return x.shape[0] === 0 ? 0 : x.size / x.shape[0];
}

/** Rows `start … start + count − 1` of the first axis (a copy). */
export function takeRows(x: Tensor, start: number, count: number): Tensor {
  const rows = x.shape[0];
  if (x.shape.length < 1 || !(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= rows)) {
    argError('takeRows', `rows ${start}..${start + count} outside [0, ${rows})`);
  }
  const inner = rowSize(x);
  const out = empty(x.backend, [count, ...x.shape.slice(1)]);
  if (out.size > 0) x.backend.copy(x.buf, out.buf, count * inner, start * inner, 0);
  return record(out, 'takeRows', [x], (g) => [placeRows(g, start, rows)]);
}

/** `x` placed at rows `start…` of a zero tensor with `rows` rows (the adjoint of takeRows). */
export function placeRows(x: Tensor, start: number, rows: number): Tensor {
  const count = x.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(rows) && start >= 0 && start + count <= rows)) {
    argError('placeRows', `rows ${start}..${start + count} outside [0, ${rows})`);
  }
  const inner = rowSize(x);
  const out = empty(x.backend, [rows, ...x.shape.slice(1)]);
  if (out.size > 0) {
    x.backend.fill(out.buf, 0, out.size);
    if (x.size > 0) x.backend.copy(x.buf, out.buf, count * inner, 0, start * inner);
  }
  return record(out, 'placeRows', [x], (g) => [takeRows(g, start, count)]);
}

/** Concatenation along the first axis. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) argError('concatRows', 'needs at least one tensor');
  const tail = parts[0].shape.slice(1);
  for (const p of parts) {
    if (p.shape.length !== tail.length + 1 || p.shape.slice(1).some((d, i) => d !== tail[i])) {
      shapeError('concatRows', 'trailing dimensions differ', parts[0].shape, p.shape);
    }
  }
  const rows = parts.reduce((n, p) => n + p.shape[0], 0);
  const inner = tail.reduce((a, b) => a * b, 1);
  const out = empty(parts[0].backend, [rows, ...tail]);
  let at = 0;
  const starts = parts.map((p) => {
    const s = at;
    if (p.size > 0) p.backend.copy(p.buf, out.buf, p.size, 0, s * inner);
    at += p.shape[0];
    return s;
  });
  return record(out, 'concatRows', parts, (g, needed) => parts.map((p, i) => (needed[i] ? takeRows(g, starts[i], p.shape[0]) : null)));
}
