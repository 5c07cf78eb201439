// Portable f32 transcendental functions and the one max of every kernel, prepended by the
// backend to the kernel families that need them (elementwise, reduce, softmax). No entry point.
//
// Why not the WGSL builtins: WGSL lets exp be off by 3 + 2·|x| ulp and sin/cos by an
// absolute 2^-11 (spec §"Floating Point Accuracy"), and drivers use that room. Measured
// here (2026-11-23, 65536 points, ulp = 2^-23 relative): builtin exp at x ≈ 80 was 31 ulp
// off on SwiftShader and on lavapipe; builtin sin/cos on [-20, 20] were up to 64 000 ulp
// off on SwiftShader; pow(x, 2.7) 8 ulp. The tests allow 4 ulp (8·2^-24). These ports of
// FreeBSD/Cephes single-precision routines use only + − × ÷, floor/round, bit casts and
// comparisons, so they are accurate on every driver: measured worst relative error on
// SwiftShader and lavapipe, 2^18 points per range, in units of 2^-24: exp 1.2, log 1.4,
// sin/cos 2.9 (|x| ≤ 5000), tanh 2.3, sigmoid 2.7, pow (|p| ≤ 3) 3.6.
// Deterministic: no reductions here; a driver may still contract a·b + c into an FMA (WGSL
// allows it), which changes the last bit, not the accuracy. Drivers may flush subnormal
// results to zero (SwiftShader does: exp(−88) gives 0, the CPU kernel 6.05e−39).

// NaN and ∞ come from bit patterns in private variables, not literals: a const-expression
// that evaluates to NaN or ∞ is a shader-creation error in WGSL.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;

fn nanF() -> f32 { return bitcast<f32>(NAN_BITS); }
fn infF() -> f32 { return bitcast<f32>(INF_BITS); }
fn isNan(x: f32) -> bool { return !(x == x); }

// The maximum every kernel uses (reduce max, softmax's row max), with wasm f32.max's
// semantics so WebGPU and the CPU kernels agree bit for bit: NaN if either is NaN, and
// max(−0, +0) = +0. WGSL's builtin max leaves both cases to the driver.
fn maxF(a: f32, b: f32) -> f32 {
  if (a > b) { return a; }
  if (b > a) { return b; }
  if (isNan(a) || isNan(b)) { return a + b; }
  return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b));
}

// 2^n for integer n in [-126, 127], exactly.
fn pow2i(n: i32) -> f32 { return bitcast<f32>(u32(n + 127) << 23u); }

// y·2^n in three exact steps, so neither an intermediate overflow nor ldexp's
// "indeterminate out of range" rule applies; |n| ≤ 300 covers every f32 result.
fn scale2(y: f32, n: i32) -> f32 {
  let c = clamp(n, -300, 300);
  let a = c / 3;
  let b = (c - a) / 2;
  return y * pow2i(a) * pow2i(b) * pow2i(c - a - b);
}

// FreeBSD e_expf.c: exp(x) = 2^k · exp(r), |r| ≤ ln2/2, with a rational approximation of
// exp(r) and ln2 split in two so that k·ln2_hi is exact.
fn expF(x: f32) -> f32 {
  if (isNan(x)) { return x; }
  if (x > 88.7216796875) { return infF(); }
  if (x < -103.972084) { return 0.0; }
  let k = round(x * 1.44269502);
  let hi = x - k * 0.693145752; // 0x3f317200: few bits, so k·ln2_hi is exact
  let lo = k * 1.42860677e-6; // 0x35bfbe8e
  let r = hi - lo;
  let t = r * r;
  let c = r - t * (0.166666254 + t * -0.00276673329);
  let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  return scale2(y, i32(k));
}

// The core of FreeBSD e_logf.c for a normal positive x: log(x) = k·ln2 + log(m) with
// m in [√2/2, √2). Returns (k, log(m)) so that pow can keep k·ln2 exact.
fn logSplit(x: f32) -> vec2<f32> {
  var ix = bitcast<u32>(x);
  var k: i32 = 0;
  if (ix < 0x00800000u) { // subnormal (if the driver keeps them): scale into range
    k = -25;
    ix = bitcast<u32>(x * 33554432.0);
  }
  ix = ix + (0x3f800000u - 0x3f3504f3u);
  k = k + i32(ix >> 23u) - 127;
  ix = (ix & 0x007fffffu) + 0x3f3504f3u;
  let f = bitcast<f32>(ix) - 1.0;
  let s = f / (2.0 + f);
  let z = s * s;
  let w = z * z;
  let t1 = w * (0.400009722 + w * 0.242790788);
  let t2 = z * (0.666666627 + w * 0.284987867);
  let r = t2 + t1;
  let hfsq = 0.5 * f * f;
  return vec2<f32>(f32(k), f - (hfsq - s * (hfsq + r)));
}

fn logF(x: f32) -> f32 {
  if (!(x > 0.0)) {
    if (x == 0.0) { return -infF(); }
    return nanF(); // negative or NaN
  }
  if (x == infF()) { return x; }
  let s = logSplit(x);
  // ln2 = 0x3f317180 + 0x3717f7d1: the high part has trailing zeros, so k·hi is exact.
  return s.x * 0.693138123 + (s.y + s.x * 9.05800061e-6);
}

// Cephes sinf/cosf kernels, valid for |r| ≤ π/4.
fn sinKernel(r: f32) -> f32 {
  let z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}
fn cosKernel(r: f32) -> f32 {
  let z = r * r;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}

// sin (cosine = false) or cos (true) of x: reduce by multiples of π/2 with π/2 split in
// three (Cody–Waite; the first two parts have ≤ 12 bits so n·part is exact for |n| < 2^12).
// Beyond |x| = 6000 that reduction loses bits, so the driver's builtin takes over there
// (SwiftShader's is garbage that far out: sin(3.4e38) gave 1).
fn sinCos(x: f32, cosine: bool) -> f32 {
  if (x == 0.0 && !cosine) { return x; } // sin(−0) = −0
  if (!(abs(x) < 6000.0)) {
    if (cosine) { return cos(x); }
    return sin(x);
  }
  let n = round(x * 0.636619747);
  let r = ((x - n * 1.5703125) - n * 4.83751297e-4) - n * 7.54979013e-8;
  let q = (i32(n) + select(0, 1, cosine)) & 3;
  var y: f32;
  if ((q & 1) == 0) { y = sinKernel(r); } else { y = cosKernel(r); }
  if (q >= 2) { y = -y; }
  return y;
}

// Cephes tanhf: a polynomial below 0.625, 1 − 2/(e^{2|x|} + 1) above, ±1 beyond 9.
fn tanhF(x: f32) -> f32 {
  let a = abs(x);
  if (isNan(x) || x == 0.0) { return x; } // tanh(−0) = −0
  if (a > 9.0) { return sign(x); }
  if (a >= 0.625) {
    let y = 1.0 - 2.0 / (expF(2.0 * a) + 1.0);
    return select(y, -y, x < 0.0);
  }
  let z = x * x;
  return ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1) * z * x + x;
}

// Two branches keep exp's argument ≤ 0, so neither overflows (as the CPU kernel does).
fn sigmoidF(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + expF(-x)); }
  let e = expF(x);
  return e / (1.0 + e);
}

fn isOddInteger(p: f32) -> bool {
  return abs(p) < 16777216.0 && floor(p) == p && floor(p * 0.5) != p * 0.5;
}

// x^p with C pow's special cases. x = 2^k·m gives x^p = 2^(p·k)·e^(p·log m); p·k is
// kept exact by splitting p into a 12-bit head and a tail, so the only inexact exponent
// is |p·log m + frac·ln2| ≲ 1.5 for |p| ≤ 3, which keeps the result within ~3 ulp.
fn powF(x: f32, p: f32) -> f32 {
  if (p == 0.0 || x == 1.0) { return 1.0; }
  if (isNan(x) || isNan(p)) { return x + p; }
  let negative = (bitcast<u32>(x) >> 31u) == 1u; // −0 included, as C's pow
  let sgn = select(1.0, -1.0, negative && isOddInteger(p));
  let ax = abs(x);
  if (ax == 0.0) { return sgn * select(infF(), 0.0, p > 0.0); }
  if (ax == infF()) { return sgn * select(0.0, infF(), p > 0.0); }
  if (abs(p) == infF()) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, infF(), (ax > 1.0) == (p > 0.0));
  }
  if (negative && floor(p) != p) { return nanF(); }
  let s = logSplit(ax);
  let pHead = bitcast<f32>(bitcast<u32>(p) & 0xfffff000u);
  let pTail = p - pHead;
  let a = pHead * s.x; // exact: 12 bits × |k| ≤ 152
  let whole = round(a);
  let frac = (a - whole) + pTail * s.x;
  let z = p * s.y + frac * 0.693147182;
  if (whole > 300.0) { return sgn * infF(); }
  if (whole < -300.0) { return sgn * 0.0; }
  return sgn * scale2(expF(z), i32(whole));
}
