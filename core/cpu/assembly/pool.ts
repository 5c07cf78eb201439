// Average pooling, fused: the window sums and their adjoint without materialising the
// windows. Geometry follows WindowParams of core/backend.ts (checked by the caller, as for
// window.ts); `out` / `g` are contiguous [n, outH, outW, c].
//
// Each result is bit-identical to the composition it replaces, im2col + reduce('sum') +
// unary('scale', 1/(kh·kw)) forward and unary('scale') + broadcast + col2im backward, so
// both backends (WebGPU still composes those ops) and both paths agree bit for bit:
// - forward: reduce.ts sumContiguous's order over the window's kh·kw entries (t = i·kw + j,
//   padding entries +0): four lane sums from 0, lane k taking t ≡ k (mod 4) below the last
//   multiple of 4, combined (L0 + L1) + (L2 + L3), then the remaining entries in order;
//   then scale · sum as UNARY_SCALE computes it;
// - backward: t = scale · g per output, then each input element sums from 0 the t of the
//   windows covering it, window rows ascending then columns (col2im's order). Output rows
//   visited from the last to the first, and within a row the columns likewise, meet an
//   element's windows in exactly that order (a later output row covers it with an earlier
//   window row), so the image is zeroed and the t are added in that visit order.
//
// Channels are innermost in NHWC (c-stride 1): four channels share one v128, each lane
// doing exactly the scalar operations. Other layouts, and the channels left over, go one
// channel at a time through the same code, the value splatted over a v128 and lane 0
// kept, so there is one formulation to trust.
//
// Why fused: the composition copies every window (im2col), reads the copy back to sum it,
// and backward writes the broadcast copy that col2im then reads. LeNet-5's two poolings
// (2×2, stride 2, NHWC, batch 64, 1 thread; 2026-12-04; medians of alternated runs),
// forward and backward together: [64, 28, 28, 6] 0.46–0.49× the composition's time (its
// 6 channels: a group of four and one overlapping it forward, a group and two single
// channels backward), [64, 10, 10, 16] 0.20–0.21×; a LeNet-5 training step about 0.95×.

// Four channels (`vector`) read at p, or one channel splatted.
@inline function get(p: usize, vector: bool): v128 {
  return vector ? v128.load(p) : f32x4.splat(load<f32>(p));
}

@inline function put(p: usize, v: v128, vector: bool): void {
  if (vector) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

// Window entry (i, j) of the window whose top-left corner is (y0, x0), or +0 in the padding
// (im2col's zero entries, which the reduction adds like any other). `inside`: the whole
// window is in the input, so no entry needs its bounds checked (without the flag LeNet-5's
// first pooling, whose windows are all inside, took some 1.1× the time).
@inline function entry(
  src: usize, y0: i32, x0: i32, i: i32, j: i32, h: i32, w: i32, sY: i32, sX: i32, inside: bool, vector: bool,
): v128 {
  const y = y0 + i;
  const x = x0 + j;
  if (!inside && (y < 0 || y >= h || x < 0 || x >= w)) return f32x4.splat(0);
  return get(src + (<usize>(y * sY + x * sX) << 2), vector);
}

// scale · (sum of the window's entries in sumContiguous's order); `src` points at the
// channel (group) in image b.
@inline function windowMean(
  src: usize, y0: i32, x0: i32, h: i32, w: i32, kh: i32, kw: i32, sY: i32, sX: i32, scale: v128, vector: bool,
): v128 {
  const entries = kh * kw;
  const inside = y0 >= 0 && x0 >= 0 && y0 + kh <= h && x0 + kw <= w;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  // (i, j) of entry t, advanced without division.
  let i = 0, j = 0;
  let t = 0;
  for (; t + 4 <= entries; t += 4) {
    a0 = f32x4.add(a0, entry(src, y0, x0, i, j, h, w, sY, sX, inside, vector));
    if (++j == kw) { j = 0; i++; }
    a1 = f32x4.add(a1, entry(src, y0, x0, i, j, h, w, sY, sX, inside, vector));
    if (++j == kw) { j = 0; i++; }
    a2 = f32x4.add(a2, entry(src, y0, x0, i, j, h, w, sY, sX, inside, vector));
    if (++j == kw) { j = 0; i++; }
    a3 = f32x4.add(a3, entry(src, y0, x0, i, j, h, w, sY, sX, inside, vector));
    if (++j == kw) { j = 0; i++; }
  }
  let s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  for (; t < entries; t++) {
    s = f32x4.add(s, entry(src, y0, x0, i, j, h, w, sY, sX, inside, vector));
    if (++j == kw) { j = 0; i++; }
  }
  return f32x4.mul(scale, s);
}

/**
 * out[b, oy, ox, ch] = scale · Σ window entries (see the top of the file); scale is
 * f32(1/(kh·kw)), passed by the caller as the unary scale's parameter would be.
 */
export function avgPool(
  x: usize, out: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, scale: f32,
): void {
  const sv = f32x4.splat(scale);
  // Groups of four channels; the last group ends at channel c − 1, overlapping the one
  // before when 4 does not divide c (those channels get the same bits twice).
  const grouped = sC == 1 && c >= 4;
  let dst = out;
  for (let b = 0; b < n; b++) {
    const image = x + (<usize>(b * sN) << 2);
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        if (grouped) {
          for (let ch = 0; ch < c; ch += 4) {
            const from = min(ch, c - 4);
            const v = windowMean(image + (<usize>from << 2), y0, x0, h, w, kh, kw, sY, sX, sv, true);
            put(dst + (<usize>from << 2), v, true);
          }
        } else {
          for (let ch = 0; ch < c; ch++) {
            const v = windowMean(image + (<usize>(ch * sC) << 2), y0, x0, h, w, kh, kw, sY, sX, sv, false);
            put(dst + (<usize>ch << 2), v, false);
          }
        }
        dst += <usize>c << 2;
      }
    }
  }
}

// Zeroes image b's c·h·w elements: one fill when they are a contiguous block (the strides
// are a permutation of a contiguous layout, so the largest offset tells), else by rows.
@inline function zeroImage(image: usize, c: i32, h: i32, w: i32, sC: i32, sY: i32, sX: i32): void {
  const count = c * h * w;
  if ((c - 1) * sC + (h - 1) * sY + (w - 1) * sX == count - 1) {
    memory.fill(image, 0, <usize>count << 2);
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      let p = image + (<usize>(ch * sC + y * sY) << 2);
      for (let x = 0; x < w; x++) {
        store<f32>(p, 0);
        p += <usize>sX << 2;
      }
    }
  }
}

// Adds t to every input element window (y0, x0) covers; `dst` points at the channel
// (group) in the image.
@inline function spread(
  dst: usize, t: v128, y0: i32, x0: i32, h: i32, w: i32, kh: i32, kw: i32, sY: i32, sX: i32, vector: bool,
): void {
  for (let i = 0; i < kh; i++) {
    const y = y0 + i;
    if (y < 0 || y >= h) continue;
    for (let j = 0; j < kw; j++) {
      const x = x0 + j;
      if (x < 0 || x >= w) continue;
      const p = dst + (<usize>(y * sY + x * sX) << 2);
      put(p, f32x4.add(get(p, vector), t), vector);
    }
  }
}

/**
 * The adjoint of avgPool: dx(b, ch, y, x) = Σ scale · g[b, oy, ox, ch] over the windows
 * covering (y, x), in col2im's order (see the top of the file). Every element of dx is
 * written; its strides must be a permutation of a contiguous layout (checked by the
 * caller). No overlapping channel groups here: an element would get its t twice.
 */
export function avgPoolGrad(
  g: usize, dx: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, scale: f32,
): void {
  const sv = f32x4.splat(scale);
  // Channels [0, grouped) go four at a time, the rest one at a time.
  const grouped = sC == 1 ? c & ~3 : 0;
  for (let b = 0; b < n; b++) {
    const image = dx + (<usize>(b * sN) << 2);
    zeroImage(image, c, h, w, sC, sY, sX);
    for (let oy = outH - 1; oy >= 0; oy--) {
      const y0 = oy * strideH - padH;
      for (let ox = outW - 1; ox >= 0; ox--) {
        const x0 = ox * strideW - padW;
        const src = g + (<usize>(((b * outH + oy) * outW + ox) * c) << 2);
        let ch = 0;
        for (; ch < grouped; ch += 4) {
          const t = f32x4.mul(sv, get(src + (<usize>ch << 2), true));
          spread(image + (<usize>ch << 2), t, y0, x0, h, w, kh, kw, sY, sX, true);
        }
        for (; ch < c; ch++) {
          const t = f32x4.mul(sv, get(src + (<usize>ch << 2), false));
          spread(image + (<usize>(ch * sC) << 2), t, y0, x0, h, w, kh, kw, sY, sX, false);
        }
      }
    }
  }
}
