// Optimizer updates with PyTorch semantics, in the order PyTorch applies them (each step
// rounds to f32 as a float32 tensor op would). Every scalar (1 − β, 1 − dampening, bias
// corrections, AdamW's decay factor) arrives formed in f64 on the host
// (core/optim_scalars.ts): none is computed here from an f32-rounded hyperparameter.
// PyTorch's vectorised CPU kernels may fuse a multiply-add, so agreement with PyTorch is
// to rounding, not bit for bit.

// Both updates run four parameters at a time: f32x4 add, mul, div and sqrt round each lane
// exactly as the scalar f32 ops do, so the results are the same bits. The scalar loop took
// 1.47 ms of a 9.2 ms mlp-2 step (407k parameters, bench/profile.ts, 2026-12-04). The last
// n mod 4 parameters go through the same vector code with one live lane (lanes.ts's
// partial loads and stores, count 1).

import { loadPartial, storePartial } from './lanes';

@inline function sgdLanes(
  w: v128, g: v128, b0: v128, lr: v128, momentum: v128, oneMinusDampening: v128, wd: v128,
  useWd: bool, useMomentum: bool, nesterov: bool, firstStep: bool, bufOut: usize, lanes: i32,
): v128 {
  let d = g;
  if (useWd) d = f32x4.add(d, f32x4.mul(wd, w));
  if (useMomentum) {
    // torch: buf = clone(d) on the first step, else buf·momentum + (1 − dampening)·d.
    const b = firstStep ? d : f32x4.add(f32x4.mul(b0, momentum), f32x4.mul(oneMinusDampening, d));
    storePartial(bufOut, b, lanes);
    d = nesterov ? f32x4.add(d, f32x4.mul(momentum, b)) : b;
  }
  return f32x4.sub(w, f32x4.mul(lr, d));
}

export function sgd(
  p: usize, g: usize, buf: usize, n: i32,
  lr: f32, momentum: f32, oneMinusDampening: f32, wd: f32, nesterov: i32, firstStep: i32,
): void {
  const vlr = f32x4.splat(lr), vm = f32x4.splat(momentum), vd = f32x4.splat(oneMinusDampening), vwd = f32x4.splat(wd);
  const useWd = wd != 0, useMomentum = momentum != 0, nest = nesterov != 0, first = firstStep != 0;
  // Training's usual case (momentum, no decay, not Nesterov, not the first step) gets its
  // own copy of the loop with those flags constant; the general loop computes both arms of
  // each flag's choice and selects.
  if (useMomentum && !useWd && !nest && !first) sgdRange(p, g, buf, n, vlr, vm, vd, vwd, false, true, false, false);
  else sgdRange(p, g, buf, n, vlr, vm, vd, vwd, useWd, useMomentum, nest, first);
}

// Whole vectors, then the tail one lane at a time: with `lanes` a constant in each loop the
// lane helpers fold to plain loads and stores. One loop choosing per iteration compiled to
// selects that did both loads: 12 cycles per 4 parameters, 19 GB/s even from L2; split, the
// momentum update of mlp-2's 401k weights took 0.60× the time (2026-12-04, 1 thread).
@inline function sgdRange(
  p: usize, g: usize, buf: usize, n: i32, vlr: v128, vm: v128, vd: v128, vwd: v128,
  useWd: bool, useMomentum: bool, nest: bool, first: bool,
): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) sgdAt(p, g, buf, <usize>i << 2, 4, vlr, vm, vd, vwd, useWd, useMomentum, nest, first);
  for (; i < n; i++) sgdAt(p, g, buf, <usize>i << 2, 1, vlr, vm, vd, vwd, useWd, useMomentum, nest, first);
}

@inline function sgdAt(
  p: usize, g: usize, buf: usize, o: usize, lanes: i32, vlr: v128, vm: v128, vd: v128, vwd: v128,
  useWd: bool, useMomentum: bool, nest: bool, first: bool,
): void {
  const b0 = useMomentum && !first ? loadPartial(buf + o, lanes) : f32x4.splat(0);
  const w = sgdLanes(loadPartial(p + o, lanes), loadPartial(g + o, lanes), b0, vlr, vm, vd, vwd, useWd, useMomentum, nest, first, buf + o, lanes);
  storePartial(p + o, w, lanes);
}

export function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  coupledDecay: f32, decoupledFactor: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32,
  stepSize: f32, bias2Sqrt: f32,
): void {
  // torch's lerp(m, d, w) takes the other form for w ≥ 0.5: d − (d − m)(1 − w).
  const lowWeight = oneMinusBeta1 < <f32>0.5;
  const beta1f = f32x4.splat(<f32>1 - oneMinusBeta1);
  const decay = decoupledFactor != 1, coupled = coupledDecay != 0;
  const vDecoupled = f32x4.splat(decoupledFactor), vCoupled = f32x4.splat(coupledDecay);
  const vb1 = f32x4.splat(oneMinusBeta1), vb2 = f32x4.splat(beta2), vob2 = f32x4.splat(oneMinusBeta2);
  const veps = f32x4.splat(eps), vstep = f32x4.splat(stepSize), vbias2 = f32x4.splat(bias2Sqrt);
  // Adam and AdamW as usually configured (β1 > 0.5, no coupled decay) get loops with their
  // flags constant, as sgd's usual case does.
  if (lowWeight && !coupled && decay) {
    adamRange(p, g, m, v, n, true, beta1f, true, false, vDecoupled, vCoupled, vb1, vb2, vob2, veps, vstep, vbias2);
  } else if (lowWeight && !coupled) {
    adamRange(p, g, m, v, n, true, beta1f, false, false, vDecoupled, vCoupled, vb1, vb2, vob2, veps, vstep, vbias2);
  } else {
    adamRange(p, g, m, v, n, lowWeight, beta1f, decay, coupled, vDecoupled, vCoupled, vb1, vb2, vob2, veps, vstep, vbias2);
  }
}

// Whole vectors, then the tail one lane at a time (see sgdRange).
@inline function adamRange(
  p: usize, g: usize, m: usize, v: usize, n: i32, lowWeight: bool, beta1f: v128, decay: bool, coupled: bool,
  vDecoupled: v128, vCoupled: v128, vb1: v128, vb2: v128, vob2: v128, veps: v128, vstep: v128, vbias2: v128,
): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    adamAt(p, g, m, v, <usize>i << 2, 4, lowWeight, beta1f, decay, coupled, vDecoupled, vCoupled, vb1, vb2, vob2, veps, vstep, vbias2);
  }
  for (; i < n; i++) {
    adamAt(p, g, m, v, <usize>i << 2, 1, lowWeight, beta1f, decay, coupled, vDecoupled, vCoupled, vb1, vb2, vob2, veps, vstep, vbias2);
  }
}

@inline function adamAt(
  p: usize, g: usize, m: usize, v: usize, o: usize, lanes: i32, lowWeight: bool, beta1f: v128, decay: bool, coupled: bool,
  vDecoupled: v128, vCoupled: v128, vb1: v128, vb2: v128, vob2: v128, veps: v128, vstep: v128, vbias2: v128,
): void {
  let w = loadPartial(p + o, lanes);
  let d = loadPartial(g + o, lanes);
  // AdamW: p.mul_(1 − lr·wd); Adam: g = g + wd·p.
  if (decay) w = f32x4.mul(w, vDecoupled);
  if (coupled) d = f32x4.add(d, f32x4.mul(vCoupled, w));
  // torch 2: m.lerp_(d, 1 − β1); v.mul_(β2).addcmul_(d, d, value=1 − β2), i.e. v·β2 + ((1 − β2)·d)·d.
  const m0 = loadPartial(m + o, lanes);
  const mi = lowWeight ? f32x4.add(m0, f32x4.mul(vb1, f32x4.sub(d, m0))) : f32x4.sub(d, f32x4.mul(f32x4.sub(d, m0), beta1f));
  const vi = f32x4.add(f32x4.mul(loadPartial(v + o, lanes), vb2), f32x4.mul(f32x4.mul(vob2, d), d));
  storePartial(m + o, mi, lanes);
  storePartial(v + o, vi, lanes);
  // torch: denom = sqrt(v) / sqrt(bias_correction2) + eps; p.addcdiv_(m, denom, −step_size).
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vbias2), veps);
  storePartial(p + o, f32x4.sub(w, f32x4.mul(vstep, f32x4.div(mi, denom))), lanes);
}
