// Elementwise kernels: unary ops on contiguous data, binary ops with broadcasting.
// Ops are named by the constants the build generates from core/op_tables.ts (ops.gen.ts),
// so a reordered table cannot leave a case on the wrong op; the oracle-agreement tests run
// every op, and test/kernel_names.test.ts checks that every op has its case here.
// Determinism: no relaxed SIMD, no FMA; transcendental functions come from the
// AssemblyScript standard library compiled into this module, so every runtime gives the
// same bits.

import {
  BINARY_ADD, BINARY_DIV, BINARY_LEAKY_RELU_GRAD, BINARY_MUL, BINARY_SUB, UNARY_ABS, UNARY_ADD_SCALAR, UNARY_COS,
  UNARY_EXP, UNARY_LEAKY_RELU, UNARY_LOG, UNARY_NEG, UNARY_POW_SCALAR, UNARY_RECIPROCAL, UNARY_SCALE, UNARY_SIGMOID,
  UNARY_SIGN, UNARY_SIN, UNARY_SQRT, UNARY_SQUARE, UNARY_STEP, UNARY_TANH,
} from './ops.gen';

@inline function unaryScalar(op: i32, x: f32, p: f32): f32 {
  switch (op) {
    case UNARY_NEG: return -x;
    case UNARY_ABS: return Mathf.abs(x);
    case UNARY_SIGN: return x > 0 ? 1 : (x < 0 ? -1 : x);
    case UNARY_SQUARE: return x * x;
    case UNARY_SQRT: return Mathf.sqrt(x);
    case UNARY_RECIPROCAL: return <f32>1 / x;
    case UNARY_EXP: return Mathf.exp(x);
    case UNARY_LOG: return Mathf.log(x);
    case UNARY_SIN: return Mathf.sin(x);
    case UNARY_COS: return Mathf.cos(x);
    case UNARY_TANH: return Mathf.tanh(x);
    case UNARY_SIGMOID: {
      // Two branches keep exp's argument ≤ 0, so neither overflows for large |x|.
      if (x >= 0) return <f32>1 / (<f32>1 + Mathf.exp(-x));
      const e = Mathf.exp(x);
      return e / (<f32>1 + e);
    }
    case UNARY_LEAKY_RELU: return x > 0 ? x : p * x;
    case UNARY_STEP: return x > 0 ? <f32>1 : <f32>0;
    case UNARY_SCALE: return p * x;
    case UNARY_ADD_SCALAR: return x + p;
    case UNARY_POW_SCALAR: return Mathf.pow(x, p);
    default: return NaN;
  }
}

// The ops that map to one or two SIMD instructions; the others go through unaryScalar.
@inline function unaryVector(op: i32, x: v128, p: v128): v128 {
  switch (op) {
    case UNARY_NEG: return f32x4.neg(x);
    case UNARY_ABS: return f32x4.abs(x);
    case UNARY_SQUARE: return f32x4.mul(x, x);
    case UNARY_SQRT: return f32x4.sqrt(x);
    case UNARY_RECIPROCAL: return f32x4.div(f32x4.splat(1), x);
    case UNARY_LEAKY_RELU: return v128.bitselect(x, f32x4.mul(p, x), f32x4.gt(x, f32x4.splat(0)));
    case UNARY_STEP: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    case UNARY_SCALE: return f32x4.mul(p, x);
    case UNARY_ADD_SCALAR: return f32x4.add(x, p);
    default: return x;
  }
}

@inline function hasVector(op: i32): bool {
  return op == UNARY_NEG || op == UNARY_ABS || op == UNARY_SQUARE || op == UNARY_SQRT || op == UNARY_RECIPROCAL
    || op == UNARY_LEAKY_RELU || op == UNARY_STEP || op == UNARY_SCALE || op == UNARY_ADD_SCALAR;
}

@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32, p: f32): void {
  let i = 0;
  if (hasVector(op)) {
    const pv = f32x4.splat(p);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, unaryVector(op, v128.load(x + o), pv));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, unaryScalar(op, load<f32>(x + o), p));
  }
}

export function unary(op: i32, x: usize, out: usize, n: i32, p: f32): void {
  // One specialised loop per op: after inlining, the switch inside the loop folds away.
  switch (op) {
    case UNARY_NEG: unaryLoop(UNARY_NEG, x, out, n, p); break;
    case UNARY_ABS: unaryLoop(UNARY_ABS, x, out, n, p); break;
    case UNARY_SIGN: unaryLoop(UNARY_SIGN, x, out, n, p); break;
    case UNARY_SQUARE: unaryLoop(UNARY_SQUARE, x, out, n, p); break;
    case UNARY_SQRT: unaryLoop(UNARY_SQRT, x, out, n, p); break;
    case UNARY_RECIPROCAL: unaryLoop(UNARY_RECIPROCAL, x, out, n, p); break;
    case UNARY_EXP: unaryLoop(UNARY_EXP, x, out, n, p); break;
    case UNARY_LOG: unaryLoop(UNARY_LOG, x, out, n, p); break;
    case UNARY_SIN: unaryLoop(UNARY_SIN, x, out, n, p); break;
    case UNARY_COS: unaryLoop(UNARY_COS, x, out, n, p); break;
    case UNARY_TANH: unaryLoop(UNARY_TANH, x, out, n, p); break;
    case UNARY_SIGMOID: unaryLoop(UNARY_SIGMOID, x, out, n, p); break;
    case UNARY_LEAKY_RELU: unaryLoop(UNARY_LEAKY_RELU, x, out, n, p); break;
    case UNARY_STEP: unaryLoop(UNARY_STEP, x, out, n, p); break;
    case UNARY_SCALE: unaryLoop(UNARY_SCALE, x, out, n, p); break;
    case UNARY_ADD_SCALAR: unaryLoop(UNARY_ADD_SCALAR, x, out, n, p); break;
    case UNARY_POW_SCALAR: unaryLoop(UNARY_POW_SCALAR, x, out, n, p); break;
    default: unaryLoop(-1, x, out, n, p);
  }
}

@inline function binaryScalar(op: i32, a: f32, b: f32, p: f32): f32 {
  switch (op) {
    case BINARY_ADD: return a + b;
    case BINARY_SUB: return a - b;
    case BINARY_MUL: return a * b;
    case BINARY_DIV: return a / b;
    case BINARY_LEAKY_RELU_GRAD: return a > 0 ? b : p * b;
    default: return NaN;
  }
}

@inline function binaryVector(op: i32, a: v128, b: v128, p: v128): v128 {
  switch (op) {
    case BINARY_ADD: return f32x4.add(a, b);
    case BINARY_SUB: return f32x4.sub(a, b);
    case BINARY_MUL: return f32x4.mul(a, b);
    case BINARY_DIV: return f32x4.div(a, b);
    case BINARY_LEAKY_RELU_GRAD: return v128.bitselect(b, f32x4.mul(p, b), f32x4.gt(a, f32x4.splat(0)));
    default: return a;
  }
}

// The innermost dimension of a broadcast: strides (1,1), (1,0) and (0,1) vectorise, (0,0)
// (both operands constant along the row, e.g. a column broadcast over a matrix's rows by
// adding a zero) stores one value; any other stride pair takes the scalar path. ((0,0) took
// the scalar path before: 1.7 ms for a 6400×648 broadcast in vit-lite's layer norm.)
@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32, p: f32): void {
  let i = 0;
  const pv = f32x4.splat(p);
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVector(op, v128.load(a + o), v128.load(b + o), pv));
    }
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVector(op, v128.load(a + o), bv, pv));
    }
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVector(op, av, v128.load(b + o), pv));
    }
  } else if (sa == 0 && sb == 0) {
    // Every element of the row is the scalar path's value for its first element.
    const v = binaryScalar(op, load<f32>(a), load<f32>(b), p);
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vv);
  }
  for (; i < n; i++) {
    const av = load<f32>(a + ((<usize>(i * sa)) << 2));
    const bv = load<f32>(b + ((<usize>(i * sb)) << 2));
    store<f32>(out + (<usize>i << 2), binaryScalar(op, av, bv, p));
  }
}

// Four output rows of a transposing broadcast: `a` is read `sa` floats apart along a row and
// its next row starts 1 float later (a transpose of its last two axes), `b` is the same
// value for the whole block. Each 4×4 block is four vector loads of `a` (one per output
// column, covering the four rows), a register transpose, and four vector stores; the
// operation is per lane, so every element has the bits of binaryRow's. A permute, which
// is an add of a zero, moved 1.9 G floats/s by binaryRow's scalar path: 1.26 ms of the
// cnn model's 5.3 ms step flattening its [N, 7, 7, 128] maps (2026-12-05, 1 thread).
@inline function binaryRows4Transposed(op: i32, a: usize, sa: i32, b: usize, out: usize, n: i32, p: f32): void {
  const pv = f32x4.splat(p);
  const bv = v128.load32_splat(b);
  const rowBytes = <usize>n << 2;
  const colStep = <usize>sa << 2;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const src = a + <usize>i * colStep;
    const v0 = v128.load(src), v1 = v128.load(src + colStep);
    const v2 = v128.load(src + 2 * colStep), v3 = v128.load(src + 3 * colStep);
    const t0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = f32x4.shuffle(v2, v3, 0, 4, 1, 5);
    const t2 = f32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
    const dst = out + (<usize>i << 2);
    v128.store(dst, binaryVector(op, f32x4.shuffle(t0, t1, 0, 1, 4, 5), bv, pv));
    v128.store(dst + rowBytes, binaryVector(op, f32x4.shuffle(t0, t1, 2, 3, 6, 7), bv, pv));
    v128.store(dst + 2 * rowBytes, binaryVector(op, f32x4.shuffle(t2, t3, 0, 1, 4, 5), bv, pv));
    v128.store(dst + 3 * rowBytes, binaryVector(op, f32x4.shuffle(t2, t3, 2, 3, 6, 7), bv, pv));
  }
  const bs = load<f32>(b);
  for (; i < n; i++) {
    for (let q = 0; q < 4; q++) {
      const av = load<f32>(a + <usize>i * colStep + (<usize>q << 2));
      store<f32>(out + <usize>q * rowBytes + (<usize>i << 2), binaryScalar(op, av, bs, p));
    }
  }
}

// Walks the outer dimensions of a broadcast with an odometer over `rank - 1` counters
// (stored after the strides in the params block) and calls binaryRow for each row, or
// binaryRows4Transposed for four rows at a time where it applies.
@inline function binaryLoop(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize, p: f32): void {
  // meta holds i32 arrays: shape[rank], aStrides[rank], bStrides[rank], counters[rank].
  const shape = meta;
  const aStr = meta + (<usize>rank << 2);
  const bStr = meta + (<usize>(2 * rank) << 2);
  const ctr = meta + (<usize>(3 * rank) << 2);
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shape + last);
  const sa = load<i32>(aStr + last);
  const sb = load<i32>(bStr + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(shape + (<usize>d << 2));
    store<i32>(ctr + (<usize>d << 2), 0);
  }
  // a transposed between the last two axes (strided along a row, the next row 1 float
  // on) and b constant over both: then four rows at once.
  const inner = last - 4;
  const transposed = rank >= 2 && n >= 4 && sa != 1 && sb == 0 && load<i32>(aStr + inner) == 1 && load<i32>(bStr + inner) == 0;
  const innerRows = transposed ? load<i32>(shape + inner) : 0;
  let offA = 0;
  let offB = 0;
  for (let r = 0; r < rows;) {
    let step = 1;
    if (transposed && load<i32>(ctr + inner) + 4 <= innerRows) {
      binaryRows4Transposed(op, a + (<usize>offA << 2), sa, b + (<usize>offB << 2), out + (<usize>(r * n) << 2), n, p);
      step = 4;
    } else {
      binaryRow(op, a + (<usize>offA << 2), sa, b + (<usize>offB << 2), sb, out + (<usize>(r * n) << 2), n, p);
    }
    r += step;
    // Advance the odometer `step` rows, from the second-innermost dimension outwards.
    for (let s = 0; s < step; s++) {
      for (let d = rank - 2; d >= 0; d--) {
        const dd = <usize>d << 2;
        const c = load<i32>(ctr + dd) + 1;
        if (c < load<i32>(shape + dd)) {
          store<i32>(ctr + dd, c);
          offA += load<i32>(aStr + dd);
          offB += load<i32>(bStr + dd);
          break;
        }
        store<i32>(ctr + dd, 0);
        offA -= (c - 1) * load<i32>(aStr + dd);
        offB -= (c - 1) * load<i32>(bStr + dd);
      }
    }
  }
}

export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize, p: f32): void {
  switch (op) {
    case BINARY_ADD: binaryLoop(BINARY_ADD, a, b, out, rank, meta, p); break;
    case BINARY_SUB: binaryLoop(BINARY_SUB, a, b, out, rank, meta, p); break;
    case BINARY_MUL: binaryLoop(BINARY_MUL, a, b, out, rank, meta, p); break;
    case BINARY_DIV: binaryLoop(BINARY_DIV, a, b, out, rank, meta, p); break;
    case BINARY_LEAKY_RELU_GRAD: binaryLoop(BINARY_LEAKY_RELU_GRAD, a, b, out, rank, meta, p); break;
    default: binaryLoop(-1, a, b, out, rank, meta, p);
  }
}

export function fill(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}
