// Sliding-window kernels: im2col (unfold windows into rows) and its adjoint col2im.
// Geometry follows WindowParams of core/backend.ts; the caller has run checkWindow, so
// every window overlaps the input and every input stride stays inside `x`.
//
// Two loop orders, chosen by measurement on LeNet-5's shapes (2026-12-04, 1 thread):
// - By window: cols is written sequentially, one run per window row (the in-bounds run
//   between two short zero runs, a SIMD copy for a unit w-stride). Each run costs some
//   10 cycles of bookkeeping, so short runs are slow: pooling's 2-element runs moved
//   1.0–1.7 GB/s.
// - By output row (b, oy): that block of cols (outW windows) stays in L1 while, for each
//   window entry (ch, i, j), an inner loop over ox moves one element per window with two
//   pointer increments. A pass costs some 25 cycles, paid c·kh·kw times per block, so it
//   wins when windows have few entries: im2col of LeNet-5's first convolution (25
//   entries) took 0.55× the time, its poolings 0.34× and 0.58×; its second convolution
//   (150 entries) 1.5× (by-row strided stores, short passes), so it stays by window.
//
// With `channelsLast` a window's entries are ordered (i, j, ch) instead of (ch, i, j). On an
// NHWC input (channel stride 1, pixels c apart) each window row is then one run of kw·c
// floats, copied by vectors: im2col of ResNet-20's 16-channel 3×3 maps moved ~0.9 G
// floats/s in the (ch, i, j) order, three floats per run, c apart (2026-12-05).
//
// col2im is the adjoint: each input element sums its cols entries in a fixed order, window
// rows ascending, then columns ascending, starting from 0, which is what wgsl/window.wgsl
// does per thread, so both backends give the same bits. Overlapping windows gather (each
// element walks its own entries; the set of contributing (i, oy) pairs is tracked
// incrementally as y advances, and likewise (j, ox), so the loops have no division).
// Disjoint windows (pooling: stride ≥ kernel) scatter by output row, each element being
// written once as 0 + entry (the gather's sum of one term, −0 becoming +0 alike).

/** Window entries (c·kh·kw) up to which im2col runs by output row; see above. */
const BY_ROW_MAX_ENTRIES = 64;

@inline function zeros(dst: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), f32x4.splat(0));
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}

@inline function zerosStrided(dst: usize, n: i32, step: usize): void {
  for (let k = 0; k < n; k++) {
    store<f32>(dst, 0);
    dst += step;
  }
}

// Output columns [lo, hi) are those whose window column j reads inside the input
// (0 ≤ ox·strideW + j − padW < w). Without padding that is every column (outW was sized
// so); with stride 1 it needs no division. Integer division (some 15 cycles) in the
// general case was a third of the time of LeNet-5's 10-column rows.
@inline function firstInside(j: i32, strideW: i32, padW: i32, outW: i32): i32 {
  const lo = padW - j;
  if (lo <= 0) return 0;
  return min(outW, strideW == 1 ? lo : (lo + strideW - 1) / strideW);
}

@inline function endInside(j: i32, strideW: i32, padW: i32, w: i32, outW: i32): i32 {
  if (padW == 0) return outW;
  const hi = w - 1 + padW - j;
  if (hi < 0) return 0;
  return min(outW, strideW == 1 ? hi + 1 : hi / strideW + 1);
}

// Copies n elements read every `step` bytes from src to consecutive f32 at dst.
@inline function copyRun(src: usize, step: usize, dst: usize, n: i32): void {
  let k = 0;
  if (step == 4) {
    for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
    for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
    return;
  }
  let s = src;
  for (; k < n; k++) {
    store<f32>(dst + (<usize>k << 2), load<f32>(s));
    s += step;
  }
}

/**
 * cols[b, oy, ox, ch, i, j] (cols[b, oy, ox, i, j, ch] when `channelsLast` is not 0) =
 * x(b, ch, oy·strideH + i − padH, ox·strideW + j − padW), or 0 in the padding. sN..sX are
 * the input's element strides of n, c, h, w.
 */
export function im2col(
  x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, channelsLast: i32,
): void {
  // With one channel both orders are the same.
  if (channelsLast != 0 && c > 1) {
    im2colByWindow(x, cols, n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW, true);
    return;
  }
  if (c * kh * kw <= BY_ROW_MAX_ENTRIES) {
    im2colByRow(x, cols, n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW);
    return;
  }
  im2colByWindow(x, cols, n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW, false);
}

/**
 * im2col one window at a time. A window's entries are [A][kh][kw][B] with (A, B) = (c, 1),
 * PyTorch's (ch, i, j), or (1, c) with `channelsLast`, (i, j, ch): per window row a run of
 * kw pixels of B floats (the in-bounds run between two short zero runs), one copy when the
 * pixels are adjacent in memory (an NHWC row read channels last, or an x-stride of 1).
 * Inlined at its two calls, so each order compiles to its own loop (one shared copy
 * branching per row took 1.35× the time of (ch, i, j) windows).
 */
@inline function im2colByWindow(
  x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, channelsLast: bool,
): void {
  const outer = channelsLast ? 1 : c;
  const inner = channelsLast ? c : 1;
  const stepX = <usize>sX << 2;
  const stepY = <usize>sY << 2;
  const stepC = <usize>sC << 2;
  const pixel = <usize>inner << 2;
  // A window row's pixels, channels innermost, are adjacent in memory (NHWC).
  const rowIsRun = sC == 1 && sX == c;
  let dst = cols;
  for (let b = 0; b < n; b++) {
    const xb = x + (<usize>(b * sN) << 2);
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      // Window rows [iLo, iHi) fall inside the input; the rest are padding.
      const iLo = max(0, -y0);
      const iHi = max(iLo, min(kh, h - y0));
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        const jLo = max(0, -x0);
        const jHi = max(jLo, min(kw, w - x0));
        const run = jHi - jLo;
        // The first in-bounds pixel of channel 0 (only dereferenced when a run exists).
        let outerPtr = xb + (<usize>((y0 + iLo) * sY + (x0 + jLo) * sX) << 2);
        for (let o = 0; o < outer; o++) {
          zeros(dst, iLo * kw * inner);
          dst += <usize>(iLo * kw) * pixel;
          let src = outerPtr;
          for (let i = iLo; i < iHi; i++) {
            zeros(dst, jLo * inner);
            dst += <usize>jLo * pixel;
            if (inner == 1) {
              copyRun(src, stepX, dst, run);
            } else if (rowIsRun) {
              copyRun(src, 4, dst, run * inner);
            } else {
              for (let j = 0; j < run; j++) copyRun(src + <usize>j * stepX, stepC, dst + <usize>j * pixel, inner);
            }
            dst += <usize>run * pixel;
            zeros(dst, (kw - jHi) * inner);
            dst += <usize>(kw - jHi) * pixel;
            src += stepY;
          }
          zeros(dst, (kh - iHi) * kw * inner);
          dst += <usize>((kh - iHi) * kw) * pixel;
          outerPtr += stepC;
        }
      }
    }
  }
}

/** im2col by output row (see the top of the file). */
function im2colByRow(
  x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32,
): void {
  const entries = c * kh * kw;
  const nextWindow = <usize>entries << 2;
  const nextSource = <usize>(sX * strideW) << 2;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const block = cols + (<usize>((b * outH + oy) * outW * entries) << 2);
      const y0 = oy * strideH - padH;
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < kh; i++) {
          const y = y0 + i;
          let dst = block + (<usize>((ch * kh + i) * kw) << 2);
          if (y < 0 || y >= h) {
            for (let j = 0; j < kw; j++) zerosStrided(dst + (<usize>j << 2), outW, nextWindow);
            continue;
          }
          const row = x + (<usize>(b * sN + ch * sC + y * sY) << 2);
          for (let j = 0; j < kw; j++) {
            const lo = firstInside(j, strideW, padW, outW);
            const hi = max(lo, endInside(j, strideW, padW, w, outW));
            let d = dst + (<usize>j << 2);
            zerosStrided(d, lo, nextWindow);
            d += <usize>lo * nextWindow;
            let s = row + (<usize>((lo * strideW + j - padW) * sX) << 2);
            for (let ox = lo; ox < hi; ox++) {
              store<f32>(d, load<f32>(s));
              d += nextWindow;
              s += nextSource;
            }
            zerosStrided(d, outW - hi, nextWindow);
          }
        }
      }
    }
  }
}

// Sum of the cols entries copied from one input element, given its first contributing
// window row iS (at output row oyS) and column jS (at output column oxS): rows i = iS,
// iS + strideH, … while i < kh and oy ≥ 0 (oy drops by one per step), the same for
// columns. `at` points at cols[b, oyS, oxS, ch, iS, jS]; moving to the next row / column
// moves the pointer by rowStep / colStep bytes (negative, as two's complement).
@inline function gather(
  at: usize, iS: i32, oyS: i32, jS: i32, oxS: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, rowStep: usize, colStep: usize,
): f32 {
  let acc: f32 = 0;
  let rowPtr = at;
  for (let i = iS, oy = oyS; i < kh && oy >= 0; i += strideH, oy--) {
    let p = rowPtr;
    for (let j = jS, ox = oxS; j < kw && ox >= 0; j += strideW, ox--) {
      acc += load<f32>(p);
      p += colStep;
    }
    rowPtr += rowStep;
  }
  return acc;
}

// gather() for four channels at once, `chDist` bytes apart in cols, their sums stored
// `stepC` bytes apart from dst. Each sum is a chain of dependent f32 additions in a fixed
// order, so one chain runs at the adder's latency (some 3 cycles an entry); four
// independent chains keep it busy. Each channel's order is gather()'s, so are its bits.
// LeNet-5's second convolution's input gradient (6 channels: one group, then one
// overlapping it) took 0.67–0.72× the time of one chain at a time (2026-12-04).
@inline function gather4(
  at: usize, chDist: usize, iS: i32, oyS: i32, jS: i32, oxS: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, rowStep: usize, colStep: usize, dst: usize, stepC: usize,
): void {
  let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
  const d2 = chDist << 1, d3 = chDist * 3;
  let rowPtr = at;
  for (let i = iS, oy = oyS; i < kh && oy >= 0; i += strideH, oy--) {
    let p = rowPtr;
    for (let j = jS, ox = oxS; j < kw && ox >= 0; j += strideW, ox--) {
      a0 += load<f32>(p);
      a1 += load<f32>(p + chDist);
      a2 += load<f32>(p + d2);
      a3 += load<f32>(p + d3);
      p += colStep;
    }
    rowPtr += rowStep;
  }
  store<f32>(dst, a0);
  store<f32>(dst + stepC, a1);
  store<f32>(dst + 2 * stepC, a2);
  store<f32>(dst + 3 * stepC, a3);
}

// gather() for up to sixteen adjacent channels whose entries are adjacent too (channels-last
// cols into an NHWC map): four vectors of four channels, at byte offsets 0, o1, o2 and o3
// from `at` (and from `dst`), which may overlap (a group then computes the same sums twice).
// Each lane is gather()'s chain of additions in its order, so the same bits. All the
// channels of a pixel in one pass over its entries: a pass per group of four took 1.3–2×
// the time once the groups were more than two (2026-12-05).
@inline function gatherVectors(
  at: usize, iS: i32, oyS: i32, jS: i32, oxS: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, rowStep: usize, colStep: usize, dst: usize, o1: usize, o2: usize, o3: usize,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let rowPtr = at;
  for (let i = iS, oy = oyS; i < kh && oy >= 0; i += strideH, oy--) {
    let p = rowPtr;
    for (let j = jS, ox = oxS; j < kw && ox >= 0; j += strideW, ox--) {
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p + o1));
      a2 = f32x4.add(a2, v128.load(p + o2));
      a3 = f32x4.add(a3, v128.load(p + o3));
      p += colStep;
    }
    rowPtr += rowStep;
  }
  v128.store(dst, a0);
  v128.store(dst + o1, a1);
  v128.store(dst + o2, a2);
  v128.store(dst + o3, a3);
}

// gatherVectors() for 32 adjacent channels, eight groups, no overlap.
@inline function gatherVector32(
  at: usize, iS: i32, oyS: i32, jS: i32, oxS: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, rowStep: usize, colStep: usize, dst: usize,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  let rowPtr = at;
  for (let i = iS, oy = oyS; i < kh && oy >= 0; i += strideH, oy--) {
    let p = rowPtr;
    for (let j = jS, ox = oxS; j < kw && ox >= 0; j += strideW, ox--) {
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
      a4 = f32x4.add(a4, v128.load(p, 64));
      a5 = f32x4.add(a5, v128.load(p, 80));
      a6 = f32x4.add(a6, v128.load(p, 96));
      a7 = f32x4.add(a7, v128.load(p, 112));
      p += colStep;
    }
    rowPtr += rowStep;
  }
  v128.store(dst, a0);
  v128.store(dst, a1, 16);
  v128.store(dst, a2, 32);
  v128.store(dst, a3, 48);
  v128.store(dst, a4, 64);
  v128.store(dst, a5, 80);
  v128.store(dst, a6, 96);
  v128.store(dst, a7, 112);
}

/**
 * x(b, ch, y, xx) = Σ cols[b, oy, ox, ch, i, j] (cols[b, oy, ox, i, j, ch] when
 * `channelsLast` is not 0) over oy·strideH + i − padH = y and ox·strideW + j − padW = xx.
 * Every element of x is written; the strides must be a permutation of a contiguous layout
 * (checked by the caller).
 */
export function col2im(
  cols: usize, x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, channelsLast: i32,
): void {
  const khkw = kh * kw;
  // Element distances in cols between consecutive channels, window rows and window columns.
  const eC = channelsLast != 0 ? 1 : khkw;
  const eI = channelsLast != 0 ? kw * c : kw;
  const eJ = channelsLast != 0 ? c : 1;
  if (strideH >= kh && strideW >= kw) {
    disjointCol2im(cols, x, n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW, eC, eI, eJ);
    return;
  }
  // Element distances in cols between neighbouring output columns / rows / images.
  const oxDist = c * khkw;
  const oyDist = outW * oxDist;
  const imgDist = outH * oyDist;
  // Next contributing window row: i += strideH and oy −= 1 (likewise for columns).
  const rowStep = <usize>(strideH * eI - oyDist) << 2;
  const colStep = <usize>(strideW * eJ - oxDist) << 2;
  // Input column 0 sits at padded column padW: window column padW % strideW of output
  // column padW / strideW is the first (smallest j) that covers it. Computed once; as xx
  // grows the pair advances without division.
  const jFirst0 = padW % strideW;
  const oxFirst0 = padW / strideW;
  const iFirst0 = padH % strideH;
  const oyFirst0 = padH / strideH;
  // Write x in memory order for the two common layouts: channels innermost when the
  // c-stride is 1 (NHWC), else channels outermost after the batch (NCHW). The sums do not
  // depend on the loop order.
  const channelsInner = sC == 1 && c > 1;
  const stepC = <usize>sC << 2;
  // Bytes between one channel's cols entries and the next's, within a window.
  const chDist = <usize>eC << 2;
  for (let b = 0; b < n; b++) {
    const colsB = cols + (<usize>(b * imgDist) << 2);
    const xb = x + (<usize>(b * sN) << 2);
    const chCount = channelsInner ? 1 : c;
    for (let chOuter = 0; chOuter < chCount; chOuter++) {
      let iF = iFirst0;
      let oyF = oyFirst0;
      for (let y = 0; y < h; y++) {
        // Output rows past the end do not exist: skip to the last one, later window rows.
        let iS = iF;
        let oyS = oyF;
        if (oyS >= outH) {
          iS += (oyS - outH + 1) * strideH;
          oyS = outH - 1;
        }
        let jF = jFirst0;
        let oxF = oxFirst0;
        let dst = xb + (<usize>(chOuter * sC + y * sY) << 2);
        for (let xx = 0; xx < w; xx++) {
          let jS = jF;
          let oxS = oxF;
          if (oxS >= outW) {
            jS += (oxS - outW + 1) * strideW;
            oxS = outW - 1;
          }
          const at = colsB + (<usize>(oyS * oyDist + oxS * oxDist + chOuter * eC + iS * eI + jS * eJ) << 2);
          if (channelsInner && c >= 4 && eC == 1) {
            // Channels-last cols into an NHWC map: adjacent channels' entries and outputs
            // are both adjacent, so four channels per vector (the last group overlapping
            // the one before when 4 does not divide c, as below).
            let ch = 0;
            for (; ch + 32 <= c; ch += 32) {
              gatherVector32(
                at + (<usize>ch << 2), iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep, dst + (<usize>ch << 2),
              );
            }
            // The rest in chunks of up to 16: groups at 0, 4, 8, 12 within the chunk, the
            // last ones pulled back to end at its last channel (a chunk of fewer than 4
            // channels starts at c − 4).
            while (ch < c) {
              const from = min(ch, c - 4);
              const last = min(16, c - from) - 4;
              gatherVectors(
                at + (<usize>from << 2), iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep, dst + (<usize>from << 2),
                <usize>min(4, last) << 2, <usize>min(8, last) << 2, <usize>last << 2,
              );
              ch = from + 16;
            }
          } else if (channelsInner && c >= 4) {
            // Groups of four; the last group ends at channel c − 1, overlapping the one
            // before when 4 does not divide c (those channels get the same sums twice).
            for (let ch = 0; ch < c; ch += 4) {
              const from = min(ch, c - 4);
              gather4(
                at + <usize>from * chDist, chDist, iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep,
                dst + <usize>from * stepC, stepC,
              );
            }
          } else if (channelsInner) {
            let d = dst;
            for (let ch = 0; ch < c; ch++) {
              store<f32>(d, gather(at + (<usize>(ch * eC) << 2), iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep));
              d += stepC;
            }
          } else {
            store<f32>(dst, gather(at, iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep));
          }
          dst += <usize>sX << 2;
          if (++jF == strideW) {
            jF = 0;
            oxF++;
          }
        }
        if (++iF == strideH) {
          iF = 0;
          oyF++;
        }
      }
    }
  }
}

/**
 * col2im when windows do not overlap (stride ≥ kernel), by output row: the image is
 * zeroed, then every cols entry is added to its input element, which has at most one.
 * Written for any geometry: the order would also be the gather's for overlapping windows
 * (output rows from the last to the first meet an element's window rows ascending), but
 * there its read-modify-write of x took 1.25–1.5× the gather's time.
 */
function disjointCol2im(
  cols: usize, x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32, eC: i32, eI: i32, eJ: i32,
): void {
  const entries = c * kh * kw;
  const nextWindow = <usize>entries << 2;
  const nextTarget = <usize>(sX * strideW) << 2;
  const stepX = <usize>sX << 2;
  for (let b = 0; b < n; b++) {
    const image = x + (<usize>(b * sN) << 2);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) zerosStrided(image + (<usize>(ch * sC + y * sY) << 2), w, stepX);
    }
    for (let oy = outH - 1; oy >= 0; oy--) {
      const block = cols + (<usize>((b * outH + oy) * outW * entries) << 2);
      const y0 = oy * strideH - padH;
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < kh; i++) {
          const y = y0 + i;
          if (y < 0 || y >= h) continue;
          const row = image + (<usize>(ch * sC + y * sY) << 2);
          const src = block + (<usize>(ch * eC + i * eI) << 2);
          for (let j = 0; j < kw; j++) {
            const lo = firstInside(j, strideW, padW, outW);
            const hi = endInside(j, strideW, padW, w, outW);
            let s = src + (<usize>(lo * entries + j * eJ) << 2);
            let d = row + (<usize>((lo * strideW + j - padW) * sX) << 2);
            for (let ox = lo; ox < hi; ox++) {
              store<f32>(d, load<f32>(d) + load<f32>(s));
              s += nextWindow;
              d += nextTarget;
            }
          }
        }
      }
    }
  }
}
