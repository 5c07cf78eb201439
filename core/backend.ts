/**
 * The Backend interface: device buffers of f32 plus one method per kernel family.
 *
 * Two implementations exist (AssemblyScript/WASM in `core/cpu`, WGSL on WebGPU in
 * `core/gpu`); the f64 oracle in `test/oracle` is the definition of every op. The
 * interface is shaped by the stricter of the two, WebGPU:
 * - buffers are opaque handles, all f32 (integer labels are stored as exact f32 values,
 *   which is exact below 2^24 classes);
 * - kernel calls only enqueue work and return nothing; the only way to read a result is
 *   the asynchronous `download`, so a training step never synchronises by accident;
 * - every parameter a kernel needs is a plain number in a small params object, which a
 *   GPU backend copies into a uniform buffer.
 *
 * The contract every implementation shares — op names resolved to codes, extents checked
 * against the buffers' lengths (`backend_checks.ts`) so no kernel can read or write out of
 * bounds, and the aliasing rule `IN_PLACE` below — is enforced once, by `CheckedBackend`
 * (`backend_contract.ts`), which every backend extends: a backend only implements kernels.
 */
import type { MathMode } from './math_mode.ts';

import type { BinaryOp, ReduceOp, UnaryOp } from './op_tables.ts';

// The op tables live in their own module, which the build reads to generate the kernels'
// op constants (scripts/build.mjs).
export { BINARY_OPS, type BinaryOp, REDUCE_OPS, type ReduceOp, UNARY_OPS, type UnaryOp } from './op_tables.ts';

/** An opaque device buffer of `length` f32 elements. */
export interface Buf {
  readonly length: number;
}

/** Maximum rank a broadcasting kernel handles; higher ranks are merged by the tensor layer. */
export const MAX_RANK = 6;

/**
 * `out[b] = op(A[b]) · op(B[b])` for `b < batch`, with `op` an optional transpose.
 * A is `m×k` (stored `k×m` when `transA`), B is `k×n` (stored `n×k` when `transB`), out
 * is `m×n`, all row-major. A batch stride of 0 broadcasts that operand over the batch.
 */
export interface MatmulParams {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Elements between consecutive batch items of A (default m·k; 0 to broadcast). */
  strideA?: number;
  /** Elements between consecutive batch items of B (default k·n; 0 to broadcast). */
  strideB?: number;
  /**
   * n floats added to every row of every batch item's C once its sum is complete: bit for
   * bit the product followed by `binary('add')` of the bias broadcast over the rows, which
   * is what a backend without this fused epilogue runs. May not be `out`'s buffer.
   */
  bias?: Buf;
}

/**
 * Broadcast layout: `out` is contiguous with shape `shape`; element `i` of `out` reads
 * `a[Σ idx_d·aStrides_d]` and `b[Σ idx_d·bStrides_d]`. A stride of 0 broadcasts.
 */
export interface BroadcastParams {
  shape: readonly number[];
  aStrides: readonly number[];
  bStrides: readonly number[];
  /** Used by ops that take a parameter (`leakyReluGrad`'s slope). */
  param?: number;
}

/** Reduce the middle axis of an `[outer, size, inner]` view into `[outer, inner]`. */
export interface ReduceParams {
  outer: number;
  size: number;
  inner: number;
}

/**
 * A 2-D sliding window over an input of logical shape [n, c, h, w] (convolution and
 * pooling). The input may sit in memory in any axis order: `inStrides` gives the element
 * strides of its n, c, h, w axes (NCHW contiguous is [c·h·w, h·w, w, 1], NHWC is
 * [h·w·c, 1, w·c, c]). Windows are `kh×kw`, moved by `strideH×strideW` over the input
 * zero-padded by `padH`/`padW` on each side, giving `outH×outW` positions with
 * `outH = ⌊(h + 2·padH − kh) / strideH⌋ + 1` (see `windowOutSize`).
 */
export interface WindowParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  inStrides: readonly [number, number, number, number];
  /**
   * im2col / col2im only: the window's entries in `cols` ordered (i, j, c), channels
   * fastest, instead of PyTorch's weight order (c, i, j). On an NHWC input a window row is
   * then one contiguous run of kw·c floats, copied whole; a convolution multiplies such
   * cols by its weight permuted to [outC, kh, kw, c]. Pooling ignores it.
   */
  channelsLast?: boolean;
}

/** Output extent of a window sweep along one axis: ⌊(size + 2·pad − kernel) / stride⌋ + 1. */
export function windowOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** PyTorch `torch.optim.SGD` semantics (coupled weight decay, dampening, Nesterov). */
export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** The momentum buffer is initialised to the first gradient, as PyTorch does. */
  firstStep: boolean;
}

/** PyTorch `torch.optim.Adam` / `AdamW` semantics; `step` counts from 1. */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (decoupled decay, `p ← p·(1 − lr·wd)`); false: Adam (`g ← g + wd·p`). */
  decoupled: boolean;
  step: number;
}

export interface Backend {
  /** `cpu` or `webgpu`. */
  readonly kind: 'cpu' | 'webgpu';
  /** Human-readable description (WASM features, or the adapter's description). */
  readonly description: string;
  /** The kernels' arithmetic: `strict` (bit-identical everywhere) or opt-in `relaxed` (core/math_mode.ts). */
  readonly math: MathMode;

  alloc(length: number): Buf;
  free(buf: Buf): void;
  /** Copies host data into `buf` starting at element `offset` (default 0). */
  upload(buf: Buf, data: Float32Array, offset?: number): void;
  /** Reads the whole buffer back once every queued kernel has finished. */
  download(buf: Buf): Promise<Float32Array>;
  fill(out: Buf, value: number, length?: number): void;
  /** `dst[dstOffset + i] = src[srcOffset + i]` for `i < length`. */
  copy(src: Buf, dst: Buf, length: number, srcOffset?: number, dstOffset?: number): void;

  matmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void;
  unary(op: UnaryOp, x: Buf, out: Buf, length: number, param?: number): void;
  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void;
  reduce(op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void;
  /** Row-wise softmax of a `rows×cols` matrix, stable for any finite input. */
  softmax(x: Buf, out: Buf, rows: number, cols: number): void;
  /**
   * Fused, numerically stable softmax cross-entropy of `rows×cols` logits against integer
   * labels (stored as f32): `loss[r] = logsumexp(x[r]) − x[r, label[r]]` and
   * `grad[r, c] = softmax(x[r])[c] − 1[c = label[r]]` (unscaled: the caller applies the
   * upstream gradient and the 1/rows of a mean).
   */
  softmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void;
  /**
   * Unfolds windows into rows ("im2col"): `cols` is contiguous with shape
   * [n, outH, outW, c, kh, kw] ([n, outH, outW, kh, kw, c] with `channelsLast`), and
   * `cols[b, oy, ox, ch, i, j]` is the input at
   * (b, ch, oy·strideH + i − padH, ox·strideW + j − padW), or 0 where that falls in the
   * padding. A convolution is then one matrix product of `cols` (as rows of c·kh·kw) with
   * the weight [outC, c·kh·kw], whose result is the output in NHWC order.
   */
  im2col(x: Buf, cols: Buf, p: WindowParams): void;
  /**
   * The adjoint of `im2col` ("col2im"): every input element receives the sum of the
   * `cols` entries that were copied from it. `x` is written completely (elements no window
   * covers get 0) in the layout `p.inStrides`, which must be a permutation of a contiguous
   * layout. Computed as a gather per input element, so no atomics and a fixed summation
   * order (window rows, then columns, ascending).
   */
  col2im(cols: Buf, x: Buf, p: WindowParams): void;
  /**
   * Average pooling: `out` is contiguous [n, outH, outW, c] and `out[b, oy, ox, ch]` is the
   * mean of the kh·kw window entries of channel ch, padding counting as zeros. Bit-identical
   * to `im2col`, `reduce('sum')` over each window's entries and `unary('scale', 1/(kh·kw))`,
   * which is what a backend without a fused kernel runs.
   */
  avgPool(x: Buf, out: Buf, p: WindowParams): void;
  /**
   * The adjoint of `avgPool`: every input element receives the sum, in `col2im`'s order, of
   * f32(g · 1/(kh·kw)) over the windows covering it. `dx` is written completely in the layout
   * `p.inStrides` (a permutation of a contiguous layout); `g` is contiguous
   * [n, outH, outW, c]. Bit-identical to `unary('scale')`, a broadcast over the window's
   * entries and `col2im`.
   */
  avgPoolGrad(g: Buf, dx: Buf, p: WindowParams): void;
  /** One SGD update of `length` parameters, in place on `param` and `momentum`. */
  sgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void;
  /** One Adam update of `length` parameters, in place on `param`, `m` and `v`. */
  adam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void;
}

/**
 * The aliasing rule: which output of a method may be the very buffer one of its inputs is.
 * Any pair of buffer arguments not listed here must be distinct buffers when one of them is
 * written (two inputs may always share a buffer); `CheckedBackend` refuses the call with
 * E_ARG otherwise. A pair is listed only where every backend's kernel reads that input
 * at exactly the index it writes (or, for `copy`, moves through a temporary), so computing
 * in place gives the out-of-place result bit for bit:
 * - `unary`, `softmax`: elementwise or row-local, each element read before it is written
 *   (WebGPU, which may not bind one buffer twice in a dispatch, copies the input first);
 * - `binary`: only when that operand is read at the output's own index, i.e. its strides are
 *   the output's contiguous strides on every axis longer than 1 — a broadcast or transposed
 *   operand would be overwritten before other outputs read it;
 * - `copy`: overlapping ranges behave as `copyWithin` (memmove).
 * Not listed, because a kernel reads other elements after writing some (or in parallel):
 * matmul and the window sweeps (pooling included) read whole rows and columns, reduce reads a span per
 * output, softmaxXent reads the label's logit after writing the gradient row, and the
 * optimizers update several state buffers per element (no caller passes one twice).
 */
export const IN_PLACE = {
  copy: { dst: ['src'] },
  unary: { out: ['x'] },
  binary: { out: ['a', 'b'] },
  softmax: { out: ['x'] },
  matmul: {},
  reduce: {},
  softmaxXent: {},
  im2col: {},
  col2im: {},
  avgPool: {},
  avgPoolGrad: {},
  sgd: {},
  adam: {},
} as const satisfies Record<string, Readonly<Record<string, readonly string[]>>>;
