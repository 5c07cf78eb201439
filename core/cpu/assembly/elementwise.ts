// Elementwise kernels: unary ops on contiguous data, binary ops with broadcasting.
// Op codes are the positions of the names in UNARY_OPS / BINARY_OPS of core/backend.ts;
// the oracle-agreement tests run every op, so a mismatch fails loudly.
// Determinism: no relaxed SIMD, no FMA; transcendental functions come from the
// AssemblyScript standard library compiled into this module, so every runtime gives the
// same bits.

@inline function unaryScalar(op: i32, x: f32, p: f32): f32 {
  switch (op) {
    case 0: return -x;
    case 1: return Mathf.abs(x);
    case 2: return x > 0 ? 1 : (x < 0 ? -1 : x);
    case 3: return x * x;
    case 4: return Mathf.sqrt(x);
    case 5: return <f32>1 / x;
    case 6: return Mathf.exp(x);
    case 7: return Mathf.log(x);
    case 8: return Mathf.sin(x);
    case 9: return Mathf.cos(x);
    case 10: return Mathf.tanh(x);
    case 11: {
      // Two branches keep exp's argument ≤ 0, so neither overflows for large |x|.
      if (x >= 0) return <f32>1 / (<f32>1 + Mathf.exp(-x));
      const e = Mathf.exp(x);
      return e / (<f32>1 + e);
    }
    case 12: return x > 0 ? x : p * x;
    case 13: return x > 0 ? <f32>1 : <f32>0;
    case 14: return p * x;
    case 15: return x + p;
    case 16: return Mathf.pow(x, p);
    default: return NaN;
  }
}

// The ops that map to one or two SIMD instructions; the others go through unaryScalar.
@inline function unaryVector(op: i32, x: v128, p: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(x);
    case 1: return f32x4.abs(x);
    case 3: return f32x4.mul(x, x);
    case 4: return f32x4.sqrt(x);
    case 5: return f32x4.div(f32x4.splat(1), x);
    case 12: return v128.bitselect(x, f32x4.mul(p, x), f32x4.gt(x, f32x4.splat(0)));
    case 13: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    case 14: return f32x4.mul(p, x);
    case 15: return f32x4.add(x, p);
    default: return x;
  }
}

@inline function hasVector(op: i32): bool {
  return op == 0 || op == 1 || op == 3 || op == 4 || op == 5 || op >= 12 && op <= 15;
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
    case 0: unaryLoop(0, x, out, n, p); break;
    case 1: unaryLoop(1, x, out, n, p); break;
    case 2: unaryLoop(2, x, out, n, p); break;
    case 3: unaryLoop(3, x, out, n, p); break;
    case 4: unaryLoop(4, x, out, n, p); break;
    case 5: unaryLoop(5, x, out, n, p); break;
    case 6: unaryLoop(6, x, out, n, p); break;
    case 7: unaryLoop(7, x, out, n, p); break;
    case 8: unaryLoop(8, x, out, n, p); break;
    case 9: unaryLoop(9, x, out, n, p); break;
    case 10: unaryLoop(10, x, out, n, p); break;
    case 11: unaryLoop(11, x, out, n, p); break;
    case 12: unaryLoop(12, x, out, n, p); break;
    case 13: unaryLoop(13, x, out, n, p); break;
    case 14: unaryLoop(14, x, out, n, p); break;
    case 15: unaryLoop(15, x, out, n, p); break;
    case 16: unaryLoop(16, x, out, n, p); break;
    default: unaryLoop(-1, x, out, n, p);
  }
}

@inline function binaryScalar(op: i32, a: f32, b: f32, p: f32): f32 {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a > 0 ? b : p * b;
    default: return NaN;
  }
}

@inline function binaryVector(op: i32, a: v128, b: v128, p: v128): v128 {
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return v128.bitselect(b, f32x4.mul(p, b), f32x4.gt(a, f32x4.splat(0)));
    default: return a;
  }
}

// The innermost dimension of a broadcast: strides (1,1), (1,0) and (0,1) vectorise; any
// other stride pair takes the scalar path.
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
  }
  for (; i < n; i++) {
    const av = load<f32>(a + ((<usize>(i * sa)) << 2));
    const bv = load<f32>(b + ((<usize>(i * sb)) << 2));
    store<f32>(out + (<usize>i << 2), binaryScalar(op, av, bv, p));
  }
}

// Walks the outer dimensions of a broadcast with an odometer over `rank - 1` counters
// (stored after the strides in the params block) and calls binaryRow for each row.
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
  let offA = 0;
  let offB = 0;
  for (let r = 0; r < rows; r++) {
    binaryRow(op, a + (<usize>offA << 2), sa, b + (<usize>offB << 2), sb, out + (<usize>(r * n) << 2), n, p);
    // Advance the odometer from the second-innermost dimension outwards.
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

export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize, p: f32): void {
  switch (op) {
    case 0: binaryLoop(0, a, b, out, rank, meta, p); break;
    case 1: binaryLoop(1, a, b, out, rank, meta, p); break;
    case 2: binaryLoop(2, a, b, out, rank, meta, p); break;
    case 3: binaryLoop(3, a, b, out, rank, meta, p); break;
    case 4: binaryLoop(4, a, b, out, rank, meta, p); break;
    default: binaryLoop(-1, a, b, out, rank, meta, p);
  }
}

export function fill(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}
