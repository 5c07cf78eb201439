// Sum / max over the middle axis of an [outer, size, inner] view into [outer, inner].
//
// Two strategies, picked per shape by chooseReduce (core/gpu/tiles.ts):
// - reduceSerial: one thread per output folds s = 0, 1, …, size−1 in order (reads are
//   adjacent across threads when inner > 1). For many outputs or short axes.
// - reduceTree: one workgroup per output; thread t folds s = t, t + WG, t + 2·WG, … in
//   order, then a fixed binary tree over the WG partials. For few outputs with long axes.
// Deterministic: the summation order depends only on the shape (and WG); no atomics.
// max is math.wgsl's maxF (prepended): NaN-propagating, as wasm's f32.max (the CPU kernel's).

const REDUCE_OP: u32 = REDUCE_SUM; // or REDUCE_MAX, substituted by the backend
const WG: u32 = 256u;

struct Params {
  outer: u32,
  size: u32,
  inner: u32,
  outputs: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

var<workgroup> part: array<f32, WG>;

// Every op is named, so one added to REDUCE_OPS without a case here gives NaN instead of
// another op's result.
fn combine(a: f32, b: f32) -> f32 {
  switch REDUCE_OP {
    case REDUCE_SUM: { return a + b; }
    case REDUCE_MAX: { return maxF(a, b); }
    default: { return nanF(); }
  }
}

// Index of element s of output o's axis.
fn at(o: u32, s: u32) -> u32 {
  let oi = o / u.inner;
  let ii = o % u.inner;
  return (oi * u.size + s) * u.inner + ii;
}

@compute @workgroup_size(WG)
fn reduceSerial(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let o = (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
  if (o >= u.outputs) { return; }
  let first = at(o, 0u);
  var acc = x[first];
  for (var s = 1u; s < u.size; s++) {
    acc = combine(acc, x[first + s * u.inner]);
  }
  out[o] = acc;
}

@compute @workgroup_size(WG)
fn reduceTree(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let o = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (o >= u.outputs) { return; } // uniform across the workgroup
  let first = at(o, 0u);
  let size = u.size;
  if (lid < size) {
    var acc = x[first + lid * u.inner];
    for (var s = lid + WG; s < size; s += WG) {
      acc = combine(acc, x[first + s * u.inner]);
    }
    part[lid] = acc;
  }
  workgroupBarrier();
  // Only the first min(size, WG) partials exist; a slot combines its partner if it exists.
  let live = min(size, WG);
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride && lid + stride < live) {
      part[lid] = combine(part[lid], part[lid + stride]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) { out[o] = part[0]; }
}
