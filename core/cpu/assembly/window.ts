// Sliding-window kernels: im2col (unfold windows into rows) and its adjoint col2im.
// Geometry follows WindowParams of core/backend.ts; the caller has run checkWindow, so
// every window overlaps the input and every input stride stays inside `x`.
//
// im2col is a pure copy: `cols` is written sequentially, and per window row only the
// first/last in-bounds column is computed, so the inner loop is a strided (or, for a unit
// w-stride, SIMD) copy of the in-bounds run between two short zero runs.
//
// col2im is a gather, not a scatter: each input element sums its own cols entries in a
// fixed order (window rows ascending, then columns ascending, starting from 0), which is
// exactly what wgsl/window.wgsl does per thread, so both backends give the same bits.
// The set of contributing (i, oy) pairs is tracked incrementally as y advances (and
// likewise (j, ox) as x advances), so the loops have no division or modulo.

@inline function zeros(dst: usize, n: i32): void {
  for (let k = 0; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
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
 * cols[b, oy, ox, ch, i, j] = x(b, ch, oy·strideH + i − padH, ox·strideW + j − padW), or 0
 * in the padding. sN..sX are the input's element strides of n, c, h, w.
 */
export function im2col(
  x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32,
): void {
  const stepX = <usize>sX << 2;
  const stepY = <usize>sY << 2;
  const stepC = <usize>sC << 2;
  let dst = cols;
  for (let b = 0; b < n; b++) {
    const xb = x + (<usize>(b * sN) << 2);
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      // Window rows [iLo, iHi) fall inside the input; the rest are padding.
      const iLo = max(0, -y0);
      const iHi = max(iLo, min(kh, h - y0));
      const zeroAbove = iLo * kw;
      const zeroBelow = (kh - iHi) * kw;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        const jLo = max(0, -x0);
        const jHi = max(jLo, min(kw, w - x0));
        const run = jHi - jLo;
        const trail = kw - jHi;
        // The first in-bounds element of channel 0 (only dereferenced when a run exists).
        let chPtr = xb + (<usize>((y0 + iLo) * sY + (x0 + jLo) * sX) << 2);
        for (let ch = 0; ch < c; ch++) {
          zeros(dst, zeroAbove);
          dst += <usize>zeroAbove << 2;
          let src = chPtr;
          for (let i = iLo; i < iHi; i++) {
            zeros(dst, jLo);
            dst += <usize>jLo << 2;
            copyRun(src, stepX, dst, run);
            dst += <usize>run << 2;
            zeros(dst, trail);
            dst += <usize>trail << 2;
            src += stepY;
          }
          zeros(dst, zeroBelow);
          dst += <usize>zeroBelow << 2;
          chPtr += stepC;
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

/**
 * x(b, ch, y, xx) = Σ cols[b, oy, ox, ch, i, j] over oy·strideH + i − padH = y and
 * ox·strideW + j − padW = xx. Every element of x is written; the strides must be a
 * permutation of a contiguous layout (checked by the caller).
 */
export function col2im(
  cols: usize, x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32,
): void {
  if (strideH >= kh && strideW >= kw) {
    disjointCol2im(cols, x, n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW);
    return;
  }
  const khkw = kh * kw;
  // Element distances in cols between neighbouring output columns / rows / images.
  const oxDist = c * khkw;
  const oyDist = outW * oxDist;
  const imgDist = outH * oyDist;
  // Next contributing window row: i += strideH and oy −= 1 (likewise for columns).
  const rowStep = <usize>(strideH * kw - oyDist) << 2;
  const colStep = <usize>(strideW - oxDist) << 2;
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
          const at = colsB + (<usize>(oyS * oyDist + oxS * oxDist + chOuter * khkw + iS * kw + jS) << 2);
          if (channelsInner) {
            let d = dst;
            for (let ch = 0; ch < c; ch++) {
              store<f32>(d, gather(at + (<usize>(ch * khkw) << 2), iS, oyS, jS, oxS, kh, kw, strideH, strideW, rowStep, colStep));
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
 * col2im when windows do not overlap (pooling: stride ≥ kernel): each input element has
 * at most one cols entry, so a pass over cols in order writes every covered element as
 * 0 + entry (the gather's sum of one term, −0 becoming +0 alike) and the rest stay 0.
 * The gather spent ~4 ns per element of LeNet-5's first pooling gradient (2026-12-04,
 * 2.5 ms of a 39 ms step).
 */
function disjointCol2im(
  cols: usize, x: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, sN: i32, sC: i32, sY: i32, sX: i32,
  outH: i32, outW: i32,
): void {
  const covered = padH == 0 && padW == 0 && strideH == kh && strideW == kw && outH * kh == h && outW * kw == w;
  // The strides are a permutation of a contiguous layout: x is n·c·h·w floats from x.
  if (!covered) zeros(x, n * c * h * w);
  const zero: f32 = 0;
  const stepX = <usize>sX << 2, stepY = <usize>sY << 2, stepC = <usize>sC << 2;
  let src = cols;
  for (let b = 0; b < n; b++) {
    const xb = x + (<usize>(b * sN) << 2);
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      // Window rows [iLo, iHi) and columns [jLo, jHi) fall inside the input.
      const iLo = max(0, -y0), iHi = max(iLo, min(kh, h - y0));
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        const jLo = max(0, -x0), jHi = max(jLo, min(kw, w - x0));
        // Only dereferenced inside the window's in-bounds part.
        const corner = xb + (<usize>(y0 * sY + x0 * sX) << 2);
        for (let ch = 0; ch < c; ch++) {
          const plane = corner + <usize>ch * stepC;
          for (let i = iLo; i < iHi; i++) {
            const row = plane + <usize>i * stepY;
            const from = src + (<usize>(i * kw) << 2);
            for (let j = jLo; j < jHi; j++) {
              store<f32>(row + <usize>j * stepX, zero + load<f32>(from + (<usize>j << 2)));
            }
          }
          src += <usize>(kh * kw) << 2;
        }
      }
    }
  }
}
