/**
 * Differentiable elementwise, broadcasting, reduction and shape ops.
 *
 * Each op computes its forward result with one backend kernel and records a VJP made of
 * these same ops (see record.ts), so every op is differentiable to any order. The unary
 * rules live in a table typed by `UnaryOp`: adding a kernel op without saying how it
 * differentiates is a compile error.
 */
import type { Backend, BinaryOp, Buf, UnaryOp } from '../backend.ts';
import { MAX_RANK } from '../backend.ts';
import { shapeError } from '../errors.ts';
import { broadcastShapes, broadcastStrides, coalesce, normalizeAxes, sameShape, type Shape, sizeOf } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { record } from './record.ts';

// ---------------------------------------------------------------------------------------
// Binary ops with broadcasting

function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, param = 0): Tensor {
  if (a.backend !== b.backend) shapeError(op, 'operands live on different backends', a.shape, b.shape);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(a.backend, shape);
  if (out.size === 0) return out;
  const view = coalesce(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
  if (view.shape.length > MAX_RANK) shapeError(op, `broadcast needs more than ${MAX_RANK} dimensions`, a.shape, b.shape);
  a.backend.binary(op, a.buf, b.buf, out.buf, { ...view, param });
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('add', a, b), 'add', [a, b], (g, needed) => [
    needed[0] ? sumTo(g, a.shape) : null,
    needed[1] ? sumTo(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('sub', a, b), 'sub', [a, b], (g, needed) => [
    needed[0] ? sumTo(g, a.shape) : null,
    needed[1] ? sumTo(neg(g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('mul', a, b), 'mul', [a, b], (g, needed) => [
    needed[0] ? sumTo(mul(g, b), a.shape) : null,
    needed[1] ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('div', a, b), 'div', [a, b], (g, needed) => [
    needed[0] ? sumTo(div(g, b), a.shape) : null,
    // d(a/b)/db = −a/b²
    needed[1] ? sumTo(neg(div(mul(g, a), mul(b, b))), b.shape) : null,
  ]);
}

/**
 * `g · leakyRelu'(x)` with slope `slope` for x ≤ 0. Linear in g, piecewise constant in x,
 * so its own derivative w.r.t. x is zero almost everywhere (exact for the HVP).
 */
export function leakyReluGrad(x: Tensor, g: Tensor, slope: number): Tensor {
  return record(binaryKernel('leakyReluGrad', x, g, slope), 'leakyReluGrad', [x, g], (u) => [
    null,
    sumTo(leakyReluGrad(x, u, slope), g.shape),
  ]);
}

// ---------------------------------------------------------------------------------------
// Unary ops

function unaryKernel(op: UnaryOp, x: Tensor, param = 0): Tensor {
  const out = empty(x.backend, x.shape);
  if (out.size > 0) x.backend.unary(op, x.buf, out.buf, x.size, param);
  return out;
}

/** VJP of `y = op(x; p)` given the output's cotangent g; null: zero almost everywhere. */
type UnaryVjp = ((x: Tensor, y: Tensor, g: Tensor, p: number) => Tensor) | null;

const UNARY_VJP: { readonly [K in UnaryOp]: UnaryVjp } = {
  neg: (_x, _y, g) => neg(g),
  abs: (x, _y, g) => mul(g, sign(x)),
  sign: null,
  square: (x, _y, g) => mul(g, scale(x, 2)),
  sqrt: (_x, y, g) => div(scale(g, 0.5), y),
  reciprocal: (_x, y, g) => neg(mul(g, square(y))),
  exp: (_x, y, g) => mul(g, y),
  log: (x, _y, g) => div(g, x),
  sin: (x, _y, g) => mul(g, cos(x)),
  cos: (x, _y, g) => neg(mul(g, sin(x))),
  tanh: (_x, y, g) => mul(g, addScalar(neg(square(y)), 1)),
  sigmoid: (_x, y, g) => mul(g, mul(y, addScalar(neg(y), 1))),
  leakyRelu: (x, _y, g, p) => leakyReluGrad(x, g, p),
  step: null,
  scale: (_x, _y, g, p) => scale(g, p),
  addScalar: (_x, _y, g) => g,
  powScalar: (x, _y, g, p) => mul(g, scale(powScalar(x, p - 1), p)),
};

/** Applies a unary kernel op and records its VJP from the table above. */
export function unary(op: UnaryOp, x: Tensor, param = 0): Tensor {
  const y = unaryKernel(op, x, param);
  const rule = UNARY_VJP[op];
  if (rule === null) return y; // piecewise constant: no cotangent flows
  return record(y, op, [x], (g) => [rule(x, y, g, param)]);
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** LeakyReLU with slope `slope` for x ≤ 0 (0 = ReLU, 1 = identity). */
export const leakyRelu = (x: Tensor, slope: number): Tensor => unary('leakyRelu', x, slope);
export const relu = (x: Tensor): Tensor => unary('leakyRelu', x, 0);
export const step = (x: Tensor): Tensor => unary('step', x);
export const scale = (x: Tensor, c: number): Tensor => unary('scale', x, c);
export const addScalar = (x: Tensor, c: number): Tensor => unary('addScalar', x, c);
export const powScalar = (x: Tensor, p: number): Tensor => unary('powScalar', x, p);

// ---------------------------------------------------------------------------------------
// Shapes: reshape, broadcast, reductions

export function reshape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(shape, x.shape)) return x;
  return record(x.withShape(shape), 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

const zeroScalars = new WeakMap<Backend, Buf>();

/** A one-element zero buffer per backend, kept for the backend's lifetime. */
export function zeroScalar(backend: Backend): Buf {
  let buf = zeroScalars.get(backend);
  if (!buf) {
    buf = backend.alloc(1);
    backend.fill(buf, 0);
    zeroScalars.set(backend, buf);
  }
  return buf;
}

/** Broadcasts `x` to `shape` (a copy), by adding a broadcast zero. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(shape, x.shape)) return x;
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(target, shape)) shapeError('broadcastTo', 'cannot broadcast', x.shape, shape);
  const out = empty(x.backend, shape);
  if (out.size > 0) {
    const view = coalesce(shape, broadcastStrides(x.shape, shape), shape.map(() => 0));
    x.backend.binary('add', x.buf, zeroScalar(x.backend), out.buf, view);
  }
  return record(out, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}

/** Sums over `axes` with a kernel; the result keeps the reduced axes as size 1. */
function sumKeepDims(x: Tensor, axes: number[]): Tensor {
  let shape = [...x.shape];
  let cur = x;
  // Reduce runs of adjacent axes in one kernel call each, last run first.
  for (let i = axes.length - 1; i >= 0;) {
    let j = i;
    while (j > 0 && axes[j - 1] === axes[j] - 1) j--;
    const first = axes[j];
    const last = axes[i];
    const outer = sizeOf(shape.slice(0, first));
    const size = sizeOf(shape.slice(first, last + 1));
    const inner = sizeOf(shape.slice(last + 1));
    const nextShape = shape.map((d, k) => (k >= first && k <= last ? 1 : d));
    const out = empty(x.backend, nextShape);
    if (out.size > 0) x.backend.reduce('sum', cur.buf, out.buf, { outer, size, inner });
    if (cur !== x) cur.dispose();
    cur = out;
    shape = nextShape;
    i = j - 1;
  }
  return cur === x ? x.withShape(x.shape) : cur;
}

/** Sum over `axes` (all by default); `keepDims` keeps them as size-1 dimensions. */
export function sum(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  const ax = axes ? normalizeAxes('sum', axes, x.shape.length) : x.shape.map((_, i) => i);
  const kept = ax.length === 0 ? x.withShape(x.shape) : sumKeepDims(x, ax);
  const outShape = keepDims ? kept.shape : x.shape.filter((_, i) => !ax.includes(i));
  const out = sameShape(outShape, kept.shape) ? kept : reshapeOwned(kept, outShape);
  return record(out, 'sum', [x], (g) => [broadcastTo(reshape(g, kept.shape), x.shape)]);
}

// Reshape of a fresh intermediate: the view replaces it.
function reshapeOwned(t: Tensor, shape: Shape): Tensor {
  const v = t.withShape(shape);
  t.dispose();
  return v;
}

export function mean(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  const ax = axes ? normalizeAxes('mean', axes, x.shape.length) : x.shape.map((_, i) => i);
  const count = ax.reduce((n, i) => n * x.shape[i], 1);
  return scale(sum(x, ax, keepDims), 1 / count);
}

/** Sums `g` down to `shape` (the adjoint of broadcasting `shape` up to g's shape). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(sum(g, axes, true), shape);
}
