// Optimizer updates with PyTorch semantics, one thread per parameter, in exactly the
// operation order of core/cpu/assembly/optim.ts (each step rounded to f32), so both
// backends give the same bits wherever the driver does not contract a·b + c into an FMA.
// Adam's step size and √(1 − β2^t) come from core/adam_scalars.ts (f64 on the host).
// Deterministic: elementwise, no reductions.

const WG: u32 = 256u;

struct SgdParams {
  n: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weightDecay: f32,
  nesterov: u32,
  firstStep: u32,
}

struct AdamParams {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  decoupled: u32,
  stepSize: f32,
  bias2Sqrt: f32,
}

@group(0) @binding(0) var<storage, read_write> sp: array<f32>;
@group(0) @binding(1) var<storage, read> sg: array<f32>;
@group(0) @binding(2) var<storage, read_write> sbuf: array<f32>;
@group(0) @binding(3) var<uniform> su: SgdParams;

@group(0) @binding(4) var<storage, read_write> ap: array<f32>;
@group(0) @binding(5) var<storage, read> ag: array<f32>;
@group(0) @binding(6) var<storage, read_write> am: array<f32>;
@group(0) @binding(7) var<storage, read_write> av: array<f32>;
@group(0) @binding(8) var<uniform> au: AdamParams;

@compute @workgroup_size(WG)
fn sgd(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (i >= su.n) { return; }
  let w = sp[i];
  var d = sg[i];
  if (su.weightDecay != 0.0) { d = d + su.weightDecay * w; }
  if (su.momentum != 0.0) {
    // torch: buf = clone(d) on the first step, else buf·momentum + (1 − dampening)·d.
    var b = d;
    if (su.firstStep == 0u) { b = sbuf[i] * su.momentum + (1.0 - su.dampening) * d; }
    sbuf[i] = b;
    if (su.nesterov != 0u) { d = d + su.momentum * b; } else { d = b; }
  }
  sp[i] = w - su.lr * d;
}

@compute @workgroup_size(WG)
fn adam(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (i >= au.n) { return; }
  var w = ap[i];
  var d = ag[i];
  if (au.weightDecay != 0.0) {
    if (au.decoupled != 0u) { w = w * (1.0 - au.lr * au.weightDecay); } else { d = d + au.weightDecay * w; }
  }
  // torch: m.lerp_(d, 1 − β1) is m + (1 − β1)(d − m); v.mul_(β2).addcmul_(d, d, 1 − β2).
  let m0 = am[i];
  let mi = m0 + (1.0 - au.beta1) * (d - m0);
  let vi = av[i] * au.beta2 + (1.0 - au.beta2) * (d * d);
  am[i] = mi;
  av[i] = vi;
  // torch: denom = sqrt(v) / sqrt(bias_correction2) + eps; p.addcdiv_(m, denom, −step_size).
  let denom = sqrt(vi) / au.bias2Sqrt + au.eps;
  ap[i] = w - au.stepSize * (mi / denom);
}
