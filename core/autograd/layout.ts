/**
 * Differentiable data movement: axis permutations, and slices, placements and
 * concatenations along an axis. Permutations read through strides with the broadcasting kernel (adding a broadcast
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

/** The extents before and after `axis` (a copy moves `outer` runs of `axis`-slices of `inner` floats). */
function around(x: Tensor, axis: number, op: string): { outer: number; inner: number } {
  if (!(Number.isInteger(axis) && axis >= 0 && axis < x.shape.length)) {
    argError(op, `axis ${axis} outside the ${x.shape.length} axes of [${x.shape}]`);
  }
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return { outer: product(x.shape.slice(0, axis)), inner: product(x.shape.slice(axis + 1)) };
}

/**
 * Indices `start … start + count − 1` of `axis` (a copy): one buffer copy per index of the
 * axes before it, so slicing the first axis is one copy and slicing a middle axis (a
 * token of [batch, tokens, width]) moves only the slice, not a permuted whole.
 */
export function takeAlong(x: Tensor, axis: number, start: number, count: number): Tensor {
  const { outer, inner } = around(x, axis, 'takeAlong');
  const size = x.shape[axis];
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= size)) {
    argError('takeAlong', `indices ${start}..${start + count} of axis ${axis} outside [0, ${size})`);
  }
  const out = empty(x.backend, x.shape.map((d, i) => (i === axis ? count : d)));
  if (out.size > 0) {
    for (let o = 0; o < outer; o++) x.backend.copy(x.buf, out.buf, count * inner, (o * size + start) * inner, o * count * inner);
  }
  return record(out, 'takeAlong', [x], (g) => [placeAlong(g, axis, start, size)]);
}

/** `x` placed at indices `start…` of `axis` in a zero tensor where that axis has `size` indices (takeAlong's adjoint). */
export function placeAlong(x: Tensor, axis: number, start: number, size: number): Tensor {
  const { outer, inner } = around(x, axis, 'placeAlong');
  const count = x.shape[axis];
  if (!(Number.isInteger(start) && Number.isInteger(size) && start >= 0 && start + count <= size)) {
    argError('placeAlong', `indices ${start}..${start + count} of axis ${axis} outside [0, ${size})`);
  }
  const out = empty(x.backend, x.shape.map((d, i) => (i === axis ? size : d)));
  if (out.size > 0) {
    x.backend.fill(out.buf, 0, out.size);
    if (x.size > 0) {
      for (let o = 0; o < outer; o++) x.backend.copy(x.buf, out.buf, count * inner, o * count * inner, (o * size + start) * inner);
    }
  }
  return record(out, 'placeAlong', [x], (g) => [takeAlong(g, axis, start, count)]);
}

/** Concatenation along `axis` (the other axes must agree). */
export function concatAlong(parts: readonly Tensor[], axis: number): Tensor {
  if (parts.length === 0) argError('concatAlong', 'needs at least one tensor');
  const { outer, inner } = around(parts[0], axis, 'concatAlong');
  const first = parts[0].shape;
  for (const p of parts) {
    if (p.shape.length !== first.length || p.shape.some((d, i) => i !== axis && d !== first[i])) {
      shapeError('concatAlong', `dimensions other than axis ${axis} differ`, first, p.shape);
    }
  }
  const size = parts.reduce((n, p) => n + p.shape[axis], 0);
  const out = empty(parts[0].backend, first.map((d, i) => (i === axis ? size : d)));
  let at = 0;
  const starts = parts.map((p) => {
    const s = at;
    const count = p.shape[axis];
    if (p.size > 0) {
      for (let o = 0; o < outer; o++) p.backend.copy(p.buf, out.buf, count * inner, o * count * inner, (o * size + s) * inner);
    }
    at += count;
    return s;
  });
  return record(
    out,
    'concatAlong',
    parts,
    (g, needed) => parts.map((p, i) => (needed[i] ? takeAlong(g, axis, starts[i], p.shape[axis]) : null)),
  );
}

/** Rows `start … start + count − 1` of the first axis (a copy). */
export function takeRows(x: Tensor, start: number, count: number): Tensor {
  return takeAlong(x, 0, start, count);
}

/** `x` placed at rows `start…` of a zero tensor with `rows` rows (the adjoint of takeRows). */
export function placeRows(x: Tensor, start: number, rows: number): Tensor {
  return placeAlong(x, 0, start, rows);
}

/** Concatenation along the first axis. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  return concatAlong(parts, 0);
}
