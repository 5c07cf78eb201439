// Elementwise kernels: unary ops on contiguous data, binary ops with broadcasting (rank
// ≤ 6, shape and strides in the params block), and fill. math.wgsl is prepended.
//
// UNARY_OP / BINARY_OP are op codes; the cases name them by the constants the build
// generates from core/op_tables.ts (UNARY_NEG, …, prepended with math.wgsl). The backend
// substitutes the op's code, so each op is its own pipeline and the switch folds away (a
// switch on a runtime code would make a SIMD CPU driver evaluate every case).
// One thread per element; workgroups beyond 65535 spill into y (and z) of a 3-D grid.
// Entry points use distinct binding numbers so that one module serves all three.
// Deterministic: no reductions; the transcendental functions are math.wgsl's, not the
// driver's. Semantics follow core/cpu/assembly/elementwise.ts (NaN in → NaN out).

const UNARY_OP: u32 = UNARY_NEG;
const BINARY_OP: u32 = BINARY_ADD;
const WG: u32 = 256u;

struct UnaryParams {
  n: u32,
  param: f32,
}

struct BinaryParams {
  shape: array<vec4<u32>, 2>,
  aStrides: array<vec4<u32>, 2>,
  bStrides: array<vec4<u32>, 2>,
  rank: u32,
  n: u32,
  param: f32,
}

struct FillParams {
  n: u32,
  value: f32,
}

@group(0) @binding(0) var<storage, read> ux: array<f32>;
@group(0) @binding(1) var<storage, read_write> uy: array<f32>;
@group(0) @binding(2) var<uniform> up: UnaryParams;

@group(0) @binding(3) var<storage, read> ba: array<f32>;
@group(0) @binding(4) var<storage, read> bb: array<f32>;
@group(0) @binding(5) var<storage, read_write> bout: array<f32>;
@group(0) @binding(6) var<uniform> bp: BinaryParams;

@group(0) @binding(7) var<storage, read_write> fout: array<f32>;
@group(0) @binding(8) var<uniform> fp: FillParams;

fn unaryOp(x: f32, p: f32) -> f32 {
  switch UNARY_OP {
    case UNARY_NEG: { return -x; }
    case UNARY_ABS: { return abs(x); }
    case UNARY_SIGN: { return select(select(x, -1.0, x < 0.0), 1.0, x > 0.0); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_SQRT: { return sqrt(x); }
    case UNARY_RECIPROCAL: { return 1.0 / x; }
    case UNARY_EXP: { return expF(x); }
    case UNARY_LOG: { return logF(x); }
    case UNARY_SIN: { return sinCos(x, false); }
    case UNARY_COS: { return sinCos(x, true); }
    case UNARY_TANH: { return tanhF(x); }
    case UNARY_SIGMOID: { return sigmoidF(x); }
    case UNARY_LEAKY_RELU: { return select(p * x, x, x > 0.0); }
    case UNARY_STEP: { return select(0.0, 1.0, x > 0.0); }
    case UNARY_SCALE: { return p * x; }
    case UNARY_ADD_SCALAR: { return x + p; }
    case UNARY_POW_SCALAR: { return powF(x, p); }
    default: { return nanF(); }
  }
}

fn binaryOp(a: f32, b: f32, p: f32) -> f32 {
  switch BINARY_OP {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_LEAKY_RELU_GRAD: { return select(p * b, b, a > 0.0); }
    default: { return nanF(); }
  }
}

fn linearIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
}

@compute @workgroup_size(WG)
fn unary(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= up.n) { return; }
  uy[i] = unaryOp(ux[i], up.param);
}

fn dimOf(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

@compute @workgroup_size(WG)
fn binary(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= bp.n) { return; }
  // Unravel i over the output shape, innermost dimension last.
  var rest = i;
  var offA = 0u;
  var offB = 0u;
  for (var d = bp.rank; d > 0u; d--) {
    let extent = dimOf(bp.shape, d - 1u);
    let idx = rest % extent;
    rest = rest / extent;
    offA += idx * dimOf(bp.aStrides, d - 1u);
    offB += idx * dimOf(bp.bStrides, d - 1u);
  }
  bout[i] = binaryOp(ba[offA], bb[offB], bp.param);
}

@compute @workgroup_size(WG)
fn fill(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= fp.n) { return; }
  fout[i] = fp.value;
}
