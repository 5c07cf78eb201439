// c + a·b on four f32 lanes: the one multiply-add of the matmul micro-kernels, chosen when
// the module is built. The default module (asc without relaxed-simd) rounds the product and
// then the sum, the same bits on every engine and machine. The relaxed module (build.mjs
// adds `--enable relaxed-simd`, which makes ASC_FEATURE_RELAXED_SIMD true) emits
// f32x4.relaxed_madd: one rounding where the engine's CPU has FMA, two where it has not,
// so its results may differ between machines (the `--math relaxed` mode). The untaken
// branch is not compiled, so the default module holds no relaxed instruction at all.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * Lane 0 of madd(a, b, c) for splatted inputs, so the host can tell whether this engine
 * fuses: relaxed_madd may round twice (JavaScriptCore does), which gives strict's bits.
 * Arguments, not constants, so the optimizer cannot fold the answer at build time.
 */
export function maddProbe(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}
