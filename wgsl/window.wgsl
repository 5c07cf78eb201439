// Sliding-window kernels over an [n, c, h, w] input with arbitrary element strides
// (WindowParams of core/backend.ts): im2col and its adjoint col2im.
//
// - im2col: one thread per element of cols [n, outH, outW, c, kh, kw] (or, with chLast,
//   [n, outH, outW, kh, kw, c]), which is read as a copy of its input element or 0 in the
//   padding. Writes are coalesced.
// - col2im: one thread per element of x, indexed in x's memory order (the strides are a
//   permutation of a contiguous layout, so coordinate d of memory index e is
//   (e / stride_d) % size_d), so writes are coalesced whatever the layout. Each thread
//   gathers the cols entries copied from its element, in the fixed order of the CPU
//   kernel (core/cpu/assembly/window.ts): window rows ascending, then columns ascending,
//   starting from 0. No atomics; both backends give the same bits.
// Padding is handled in unsigned arithmetic: a padded coordinate p maps to the input
// coordinate p − pad only when pad ≤ p < pad + size.
// Workgroups beyond 65535 spill into y (and z) of a 3-D grid.

const WG: u32 = 256u;

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  kh: u32,
  kw: u32,
  strideH: u32,
  strideW: u32,
  padH: u32,
  padW: u32,
  // Input element strides of n, c, h, w (for col2im, size-1 axes get stride 1 so that
  // the divisions below are defined).
  sN: u32,
  sC: u32,
  sY: u32,
  sX: u32,
  outH: u32,
  outW: u32,
  // Threads with an element: cols.length for im2col, n·c·h·w for col2im.
  total: u32,
  // 1: a window's entries in cols are ordered (i, j, ch), channels fastest; 0: (ch, i, j).
  chLast: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

fn threadIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + nwg.x * (wid.y + nwg.y * wid.z)) * WG + lid;
}

@compute @workgroup_size(WG)
fn im2col(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let e = threadIndex(wid, nwg, lid);
  if (e >= u.total) { return; }
  // cols[b, oy, ox, ch, i, j], j fastest, or cols[b, oy, ox, i, j, ch].
  var t = e;
  var ch: u32;
  if (u.chLast != 0u) {
    ch = t % u.c;
    t /= u.c;
  }
  let j = t % u.kw;
  t /= u.kw;
  let i = t % u.kh;
  t /= u.kh;
  if (u.chLast == 0u) {
    ch = t % u.c;
    t /= u.c;
  }
  let ox = t % u.outW;
  t /= u.outW;
  let oy = t % u.outH;
  let b = t / u.outH;
  let py = oy * u.strideH + i; // padded coordinates
  let px = ox * u.strideW + j;
  var v = 0.0;
  if (py >= u.padH && py - u.padH < u.h && px >= u.padW && px - u.padW < u.w) {
    v = src[b * u.sN + ch * u.sC + (py - u.padH) * u.sY + (px - u.padW) * u.sX];
  }
  dst[e] = v;
}

@compute @workgroup_size(WG)
fn col2im(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let e = threadIndex(wid, nwg, lid);
  if (e >= u.total) { return; }
  let b = (e / u.sN) % u.n;
  let ch = (e / u.sC) % u.c;
  let y = (e / u.sY) % u.h;
  let x = (e / u.sX) % u.w;
  // The first window row covering padded row y + padH is i = (y + padH) % strideH, of
  // output row (y + padH) / strideH; each later one is strideH further and one output
  // row earlier. Output rows past the end do not exist: start at the last one.
  let ty = y + u.padH;
  var iS = ty % u.strideH;
  var oyS = ty / u.strideH;
  if (oyS >= u.outH) {
    iS += (oyS - u.outH + 1u) * u.strideH;
    oyS = u.outH - 1u;
  }
  let tx = x + u.padW;
  var jS = tx % u.strideW;
  var oxS = tx / u.strideW;
  if (oxS >= u.outW) {
    jS += (oxS - u.outW + 1u) * u.strideW;
    oxS = u.outW - 1u;
  }
  let khkw = u.kh * u.kw;
  let oxDist = u.c * khkw;
  let oyDist = u.outW * oxDist;
  // Distances in cols between consecutive channels, window rows and window columns.
  var eC = khkw;
  var eI = u.kw;
  var eJ = 1u;
  if (u.chLast != 0u) {
    eC = 1u;
    eI = u.kw * u.c;
    eJ = u.c;
  }
  let base = b * u.outH * oyDist + ch * eC;
  var acc = 0.0;
  // Counting oy / ox down to 0 inclusive in u32: loop while the counter has not wrapped.
  var oy = oyS;
  for (var i = iS; i < u.kh && oy <= oyS; i += u.strideH) {
    var ox = oxS;
    for (var j = jS; j < u.kw && ox <= oxS; j += u.strideW) {
      acc += src[base + oy * oyDist + ox * oxDist + i * eI + j * eJ];
      ox -= 1u;
    }
    oy -= 1u;
  }
  dst[e] = acc;
}
