// Optimizer updates with PyTorch semantics, one thread per parameter, in exactly the
// operation order of core/cpu/assembly/optim.ts (each step rounded to f32), so both
// backends give the same bits wherever the driver does not contract a·b + c into an FMA.
// Every scalar (1 − β, 1 − dampening, bias corrections, AdamW's decay factor) is formed in
// f64 on the host (core/optim_scalars.ts) and only rounded to f32 here.
// Deterministic: elementwise, no reductions.

const WG: u32 = 256u;

struct SgdParams {
  n: u32,
  lr: f32,
  momentum: f32,
  oneMinusDampening: f32,
  weightDecay: f32,
  nesterov: u32,
  firstStep: u32,
}

struct AdamParams {
  n: u32,
  coupledDecay: f32,
  decoupledFactor: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  eps: f32,
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
    if (su.firstStep == 0u) { b = sbuf[i] * su.momentum + su.oneMinusDampening * d; }
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
  // AdamW: p.mul_(1 − lr·wd); Adam: g = g + wd·p.
  if (au.decoupledFactor != 1.0) { w = w * au.decoupledFactor; }
  if (au.coupledDecay != 0.0) { d = d + au.coupledDecay * w; }
  // torch 2: m.lerp_(d, 1 − β1) (the form d − (d − m)(1 − w) for w ≥ 0.5);
  // v.mul_(β2).addcmul_(d, d, value=1 − β2), i.e. v·β2 + ((1 − β2)·d)·d.
  let m0 = am[i];
  var mi: f32;
  if (au.oneMinusBeta1 < 0.5) { mi = m0 + au.oneMinusBeta1 * (d - m0); } else { mi = d - (d - m0) * (1.0 - au.oneMinusBeta1); }
  let vi = av[i] * au.beta2 + (au.oneMinusBeta2 * d) * d;
  am[i] = mi;
  av[i] = vi;
  // torch: denom = sqrt(v) / sqrt(bias_correction2) + eps; p.addcdiv_(m, denom, −step_size).
  let denom = sqrt(vi) / au.bias2Sqrt + au.eps;
  ap[i] = w - au.stepSize * (mi / denom);
}
