/**
 * Differentiable window unfolding (im2col) and its adjoint (col2im), the basis of
 * convolutions, locally connected layers and pooling.
 *
 * Feature maps are [N, H, W, C] ("nhwc", what a convolution written as one matrix product
 * produces) except network inputs, which arrive as [N, C, H, W] ("nchw", the order of the
 * data files and of PyTorch). `unfold` reads either layout; its result is always
 * [N, outH, outW, C·kh·kw] with the window's entries in PyTorch's weight order (c, i, j),
 * or (i, j, c) when asked (`channelsLast`: contiguous runs of an NHWC map, see
 * WindowParams).
 * unfold and fold are linear and each other's adjoints, so their VJPs are each other and
 * second derivatives come for free.
 */
import type { WindowParams } from '../backend.ts';
import { windowOutSize } from '../backend.ts';
import { argError, shapeError } from '../errors.ts';
import { empty, type Tensor } from '../tensor.ts';
import { record } from './record.ts';

export type Layout = 'nchw' | 'nhwc';

/** Window size, stride and zero padding (square or per axis). */
export interface Window {
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
}

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** [n, c, h, w] of a feature map in `layout`; `op` names the caller in errors. */
export function dimsOf(x: Tensor, layout: Layout, op = 'unfold'): [number, number, number, number] {
  if (x.shape.length !== 4) shapeError(op, `a feature map must be 4-D (${layout})`, x.shape);
  const [a, b, c, d] = x.shape;
  return layout === 'nchw' ? [a, b, c, d] : [a, d, b, c];
}

/**
 * The kernel parameters of a window over `x` (contiguous in `layout`), refusing windows
 * that do not fit the padded input at least once; `op` names the caller in errors.
 */
export function windowParams(x: Tensor, layout: Layout, win: Window, op = 'unfold'): WindowParams {
  const [n, c, h, w] = dimsOf(x, layout, op);
  const [kh, kw] = pair(win.kernel);
  const [strideH, strideW] = pair(win.stride ?? win.kernel);
  const [padH, padW] = pair(win.padding ?? 0);
  if (![kh, kw, strideH, strideW].every((v) => Number.isInteger(v) && v > 0) || ![padH, padW].every((v) => Number.isInteger(v) && v >= 0)) {
    argError(op, `kernel ${kh}×${kw}, stride ${strideH}×${strideW} must be positive integers and padding ${padH}×${padW} non-negative`);
  }
  // The kernels refuse these too, but under their own name (im2col), not the layer's.
  if (padH >= kh || padW >= kw) argError(op, `padding ${padH}×${padW} must be smaller than the window ${kh}×${kw}`);
  const inStrides: [number, number, number, number] = layout === 'nchw' ? [c * h * w, h * w, w, 1] : [h * w * c, 1, w * c, c];
  const p = { n, c, h, w, kh, kw, strideH, strideW, padH, padW, inStrides };
  // Without this an output extent of 0 would give an empty result with no error (the
  // kernels are skipped for empty outputs) and a negative one a bare "invalid shape".
  const [oh, ow] = outSize(p);
  if (oh < 1 || ow < 1) {
    shapeError(op, `window ${kh}×${kw} does not fit the ${h}×${w} input padded by (${padH}, ${padW})`, x.shape);
  }
  return p;
}

/** Output spatial size [outH, outW] of a window sweep. */
export function outSize(p: WindowParams): [number, number] {
  return [windowOutSize(p.h, p.kh, p.strideH, p.padH), windowOutSize(p.w, p.kw, p.strideW, p.padW)];
}

/** im2col: [N, outH, outW, C·kh·kw] windows of `x`, entries (c, i, j) or, `channelsLast`, (i, j, c). */
export function unfold(x: Tensor, layout: Layout, win: Window, channelsLast = false): Tensor {
  const p = windowParams(x, layout, win, 'unfold');
  return unfoldWith(x, channelsLast ? { ...p, channelsLast } : p);
}

function unfoldWith(x: Tensor, p: WindowParams): Tensor {
  const [oh, ow] = outSize(p);
  const out = empty(x.backend, [p.n, oh, ow, p.c * p.kh * p.kw]);
  if (out.size > 0) x.backend.im2col(x.buf, out.buf, p);
  return record(out, 'unfold', [x], (g) => [foldWith(g, p, x.shape)]);
}

/** col2im: the adjoint of unfold, summing every window entry back into its input place. */
function foldWith(cols: Tensor, p: WindowParams, shape: readonly number[]): Tensor {
  const out = empty(cols.backend, shape);
  if (out.size > 0) cols.backend.col2im(cols.buf, out.buf, p);
  return record(out, 'fold', [cols], (g) => [unfoldWith(g, p)]);
}
