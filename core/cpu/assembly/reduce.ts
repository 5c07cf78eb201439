// Reductions of the middle axis of an [outer, size, inner] view, and row-wise softmax /
// softmax cross-entropy. The summation order is fixed (four SIMD lanes of running sums,
// combined in a fixed order at the end), so results are deterministic.

import { loadPartial, storePartial } from './lanes';
import { REDUCE_MAX, REDUCE_SUM } from './ops.gen';

@inline function sumContiguous(x: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, v128.load(x + (<usize>i << 2)));
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2));
  return s;
}

@inline function maxContiguous(x: usize, n: i32): f32 {
  let acc = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.max(acc, v128.load(x + (<usize>i << 2)));
  let m = max<f32>(max<f32>(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)),
    max<f32>(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  for (; i < n; i++) m = max<f32>(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

// One step of each op, scalar, vector and over a contiguous row. Every op is named, so an
// op added to REDUCE_OPS without a case here gives NaN instead of another op's result.
@inline function combine(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case REDUCE_SUM: return a + b;
    case REDUCE_MAX: return max<f32>(a, b);
    default: return NaN;
  }
}

@inline function combineVector(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case REDUCE_SUM: return f32x4.add(a, b);
    case REDUCE_MAX: return f32x4.max(a, b);
    default: return f32x4.splat(NaN);
  }
}

@inline function reduceContiguous(op: i32, x: usize, n: i32): f32 {
  switch (op) {
    case REDUCE_SUM: return sumContiguous(x, n);
    case REDUCE_MAX: return maxContiguous(x, n);
    default: return NaN;
  }
}

@inline function reduceLoop(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>(o * size) << 2);
      store<f32>(out + (<usize>o << 2), reduceContiguous(op, row, size));
    }
    return;
  }
  // 1 < inner ≤ 16: each row is one block of up to four vectors, kept in registers down
  // all the rows (the last vector partial); through `out` once per row, the bias gradient
  // of LeNet-5's first convolution (100352 rows of 6) took 3–4× as long.
  if (inner <= BLOCK) {
    reduceBlocks(op, x, out, outer, size, inner);
    return;
  }
  reduceWide(op, x, out, outer, size, inner);
}

// Wider rows stream through, accumulated into `out` (in L1) one row at a time: blocks of
// columns running down a wide matrix (6400×648, 16 MB) read it 1.8–3× slower. A function
// of its own: sharing one body with the other loops made this loop 1.3–1.4× slower
// (V8's register allocation, 2026-12-04).
function reduceWide(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  switch (op) {
    case REDUCE_SUM: wideRows(REDUCE_SUM, x, out, outer, size, inner); break;
    case REDUCE_MAX: wideRows(REDUCE_MAX, x, out, outer, size, inner); break;
    default: wideRows(-1, x, out, outer, size, inner);
  }
}

@inline function wideRows(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const dst = out + (<usize>(o * inner) << 2);
    const src = x + (<usize>(o * size * inner) << 2);
    memory.copy(dst, src, <usize>inner << 2);
    for (let s = 1; s < size; s++) {
      const row = src + (<usize>(s * inner) << 2);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const o4 = <usize>i << 2;
        v128.store(dst + o4, combineVector(op, v128.load(dst + o4), v128.load(row + o4)));
      }
      for (; i < inner; i++) {
        const o1 = <usize>i << 2;
        store<f32>(dst + o1, combine(op, load<f32>(dst + o1), load<f32>(row + o1)));
      }
    }
  }
}

/** Outputs per register block: rows up to this wide keep their running results in registers. */
const BLOCK = 16;

// Its own function, so that its loops (one per op and vector count) do not share a body
// with the loops above.
function reduceBlocks(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  switch (op) {
    case REDUCE_SUM: blockLoops(REDUCE_SUM, x, out, outer, size, inner); break;
    case REDUCE_MAX: blockLoops(REDUCE_MAX, x, out, outer, size, inner); break;
    default: blockLoops(-1, x, out, outer, size, inner);
  }
}

// One loop per vector count (1–4), for one op (constant after inlining).
@inline function blockLoops(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  const vectors = (inner + 3) >> 2;
  const last = inner - 4 * (vectors - 1);
  if (vectors == 1) blockRows(op, x, out, outer, size, inner, 1, last);
  else if (vectors == 2) blockRows(op, x, out, outer, size, inner, 2, last);
  else if (vectors == 3) blockRows(op, x, out, outer, size, inner, 3, last);
  else blockRows(op, x, out, outer, size, inner, 4, last);
}

// Each output combines row 0, then each row in turn; `vectors` (a constant after inlining)
// per row, all but the last whole, the last `last` floats wide.
@inline function blockRows(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32, vectors: i32, last: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    let row = x + <usize>o * <usize>size * rowBytes;
    let a0 = vectors == 1 ? loadPartial(row, last) : v128.load(row);
    let a1 = vectors == 2 ? loadPartial(row + 16, last) : vectors > 2 ? v128.load(row, 16) : f32x4.splat(0);
    let a2 = vectors == 3 ? loadPartial(row + 32, last) : vectors > 3 ? v128.load(row, 32) : f32x4.splat(0);
    let a3 = vectors == 4 ? loadPartial(row + 48, last) : f32x4.splat(0);
    for (let s = 1; s < size; s++) {
      row += rowBytes;
      if (vectors == 1) a0 = combineVector(op, a0, loadPartial(row, last));
      else a0 = combineVector(op, a0, v128.load(row));
      if (vectors == 2) a1 = combineVector(op, a1, loadPartial(row + 16, last));
      else if (vectors > 2) a1 = combineVector(op, a1, v128.load(row, 16));
      if (vectors == 3) a2 = combineVector(op, a2, loadPartial(row + 32, last));
      else if (vectors > 3) a2 = combineVector(op, a2, v128.load(row, 32));
      if (vectors == 4) a3 = combineVector(op, a3, loadPartial(row + 48, last));
    }
    const dst = out + <usize>o * rowBytes;
    storePartial(dst, a0, vectors == 1 ? last : 4);
    if (vectors > 1) storePartial(dst + 16, a1, vectors == 2 ? last : 4);
    if (vectors > 2) storePartial(dst + 32, a2, vectors == 3 ? last : 4);
    if (vectors > 3) storePartial(dst + 48, a3, last);
  }
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, size: i32, inner: i32): void {
  // One specialised loop per op, as for unary: after inlining, the switches fold away.
  switch (op) {
    case REDUCE_SUM: reduceLoop(REDUCE_SUM, x, out, outer, size, inner); break;
    case REDUCE_MAX: reduceLoop(REDUCE_MAX, x, out, outer, size, inner); break;
    default: reduceLoop(-1, x, out, outer, size, inner);
  }
}

// Writes exp(x - shift) for one row into out and returns the sum of what it wrote.
@inline function expShifted(x: usize, out: usize, n: i32, shift: f32): f32 {
  let s: f32 = 0;
  for (let i = 0; i < n; i++) {
    const e = Mathf.exp(load<f32>(x + (<usize>i << 2)) - shift);
    store<f32>(out + (<usize>i << 2), e);
    s += e;
  }
  return s;
}

@inline function scaleRow(out: usize, n: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(out + o), cv));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(out + (<usize>i << 2)) * c);
}

export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    // Shifting by the row max keeps exp's argument ≤ 0: no overflow for any finite input.
    const m = maxContiguous(x + off, cols);
    const s = expShifted(x + off, out + off, cols, m);
    scaleRow(out + off, cols, <f32>1 / s);
  }
}

/**
 * loss[r] = logsumexp(x[r]) − x[r, label[r]]; grad[r] = softmax(x[r]) − onehot(label[r]).
 * A label that is not an integer in [0, cols) gives a NaN loss and a gradient without the
 * one-hot term, rather than a read or write outside the row.
 */
export function softmaxXent(x: usize, labels: usize, loss: usize, grad: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    const m = maxContiguous(x + off, cols);
    const s = expShifted(x + off, grad + off, cols, m);
    scaleRow(grad + off, cols, <f32>1 / s);
    const lse = m + Mathf.log(s);
    const lf = load<f32>(labels + (<usize>r << 2));
    const li = <i32>lf;
    if (<f32>li == lf && li >= 0 && li < cols) {
      const at = grad + off + (<usize>li << 2);
      store<f32>(at, load<f32>(at) - 1);
      store<f32>(loss + (<usize>r << 2), lse - load<f32>(x + off + (<usize>li << 2)));
    } else {
      store<f32>(loss + (<usize>r << 2), NaN);
    }
  }
}
