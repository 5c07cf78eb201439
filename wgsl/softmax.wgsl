// Row-wise softmax and fused softmax cross-entropy of a rows × cols matrix. math.wgsl is
// prepended.
//
// Semantics of core/cpu/assembly/reduce.ts: shift by the row max (exp's argument ≤ 0, so
// no overflow for finite input), out = exp(x − max) · (1 / Σ), loss = max + log Σ − x[label],
// grad = softmax − onehot(label). A label that is not an integer in [0, cols) gives a NaN
// loss and a gradient without the one-hot term.
//
// XENT selects cross-entropy; for plain softmax the labels and loss bindings are small
// dummies that are never touched. Two layouts, picked by chooseSoftmax:
// - softmaxThread: one thread per row, columns in order (short rows, e.g. 10 classes);
// - softmaxGroup: one workgroup per row; thread t takes columns t, t + WG, … in order,
//   then a fixed tree combines the WG partials (long rows).
// Deterministic: fixed order for the max and the sum; no atomics.

const XENT: bool = false;
const WG: u32 = 64u;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

var<workgroup> red: array<f32, WG>;

// The label's column if valid, else cols (matches no column).
fn labelColumn(r: u32, cols: u32) -> u32 {
  if (!XENT) { return cols; }
  let l = labels[r];
  if (l >= 0.0 && l < f32(cols) && floor(l) == l) { return u32(l); }
  return cols;
}

// Scales the exponentials already in out[base + c] (c = start, start + step, …) by 1/s,
// subtracting the one-hot term for cross-entropy.
fn finishColumns(base: u32, cols: u32, start: u32, step: u32, s: f32, label: u32) {
  let inv = 1.0 / s;
  for (var c = start; c < cols; c += step) {
    var v = out[base + c] * inv;
    if (c == label) { v = v - 1.0; }
    out[base + c] = v;
  }
}

fn writeLoss(r: u32, base: u32, cols: u32, m: f32, s: f32, label: u32) {
  if (!XENT) { return; }
  if (label < cols) {
    loss[r] = (m + logF(s)) - x[base + label];
  } else {
    loss[r] = nanF();
  }
}

@compute @workgroup_size(WG)
fn softmaxThread(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (r >= u.rows) { return; }
  let cols = u.cols;
  let base = r * cols;
  var m = x[base];
  for (var c = 1u; c < cols; c++) { m = maxF(m, x[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < cols; c++) {
    let e = expF(x[base + c] - m);
    out[base + c] = e;
    s += e;
  }
  let label = labelColumn(r, cols);
  finishColumns(base, cols, 0u, 1u, s, label);
  writeLoss(r, base, cols, m, s, label);
}

@compute @workgroup_size(WG)
fn softmaxGroup(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (r >= u.rows) { return; } // uniform across the workgroup
  let cols = u.cols;
  let base = r * cols;
  // Every thread starts from column 0, so each partial max exists without an identity.
  var m = x[base];
  for (var c = lid; c < cols; c += WG) { m = maxF(m, x[base + c]); }
  red[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { red[lid] = maxF(red[lid], red[lid + stride]); }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();
  var s = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let e = expF(x[base + c] - m);
    out[base + c] = e;
    s += e;
  }
  red[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { red[lid] = red[lid] + red[lid + stride]; }
    workgroupBarrier();
  }
  s = red[0];
  let label = labelColumn(r, cols);
  finishColumns(base, cols, lid, WG, s, label);
  if (lid == 0u) { writeLoss(r, base, cols, m, s, label); }
}
