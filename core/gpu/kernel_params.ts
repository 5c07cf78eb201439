/**
 * The uniform block of every WGSL kernel, by field name: one `UniformLayout` per
 * `struct …Params` in wgsl/, grouped by kernel family. The WebGPU backend packs every
 * dispatch's parameters through these, and test/kernel_params.test.ts holds each one to the
 * struct it names, so a field reordered or added on either side fails that test instead of
 * shifting the words the kernel reads.
 */
import { UniformLayout } from './uniform_layout.ts';

/** Tiled matmul (wgsl/matmul.wgsl). */
export const MATMUL_PARAMS = new UniformLayout('matmul', 'Params', {
  m: 'u32',
  n: 'u32',
  k: 'u32',
  strideA: 'u32',
  strideB: 'u32',
  tilesN: 'u32',
  tilesPerItem: 'u32',
  tiles: 'u32',
});

/** Direct (register-blocked, optionally split-k) matmul and its split sum (wgsl/matmul_direct.wgsl). */
export const MATMUL_DIRECT_PARAMS = new UniformLayout('matmul_direct', 'Params', {
  m: 'u32',
  n: 'u32',
  k: 'u32',
  strideA: 'u32',
  strideB: 'u32',
  tilesN: 'u32',
  tilesPerItem: 'u32',
  tiles: 'u32',
  kChunk: 'u32',
  splits: 'u32',
  outputs: 'u32',
});

/** Elementwise (wgsl/elementwise.wgsl): unary ops, broadcast binary ops, fill. */
export const UNARY_PARAMS = new UniformLayout('elementwise', 'UnaryParams', { n: 'u32', param: 'f32' });
export const BINARY_PARAMS = new UniformLayout('elementwise', 'BinaryParams', {
  // Up to 8 dimensions each (MAX_RANK is 6): an array of u32 would need a 16-byte stride.
  shape: 'array<vec4<u32>, 2>',
  aStrides: 'array<vec4<u32>, 2>',
  bStrides: 'array<vec4<u32>, 2>',
  rank: 'u32',
  n: 'u32',
  param: 'f32',
});
export const FILL_PARAMS = new UniformLayout('elementwise', 'FillParams', { n: 'u32', value: 'f32' });

/** Middle-axis reductions (wgsl/reduce.wgsl). */
export const REDUCE_PARAMS = new UniformLayout('reduce', 'Params', { outer: 'u32', size: 'u32', inner: 'u32', outputs: 'u32' });

/** Row softmax and softmax cross-entropy (wgsl/softmax.wgsl). */
export const SOFTMAX_PARAMS = new UniformLayout('softmax', 'Params', { rows: 'u32', cols: 'u32' });

/** im2col and col2im (wgsl/window.wgsl). */
export const WINDOW_PARAMS = new UniformLayout('window', 'Params', {
  n: 'u32',
  c: 'u32',
  h: 'u32',
  w: 'u32',
  kh: 'u32',
  kw: 'u32',
  strideH: 'u32',
  strideW: 'u32',
  padH: 'u32',
  padW: 'u32',
  sN: 'u32',
  sC: 'u32',
  sY: 'u32',
  sX: 'u32',
  outH: 'u32',
  outW: 'u32',
  total: 'u32',
  chLast: 'u32',
});

/** SGD and Adam (wgsl/optim.wgsl); the scalars come from core/optim_scalars.ts. */
export const SGD_PARAMS = new UniformLayout('optim', 'SgdParams', {
  n: 'u32',
  lr: 'f32',
  momentum: 'f32',
  oneMinusDampening: 'f32',
  weightDecay: 'f32',
  nesterov: 'u32',
  firstStep: 'u32',
});
export const ADAM_PARAMS = new UniformLayout('optim', 'AdamParams', {
  n: 'u32',
  coupledDecay: 'f32',
  decoupledFactor: 'f32',
  oneMinusBeta1: 'f32',
  beta2: 'f32',
  oneMinusBeta2: 'f32',
  eps: 'f32',
  stepSize: 'f32',
  bias2Sqrt: 'f32',
});

/** Every layout, for the test that holds them to wgsl/. */
export const KERNEL_PARAMS = [
  MATMUL_PARAMS,
  MATMUL_DIRECT_PARAMS,
  UNARY_PARAMS,
  BINARY_PARAMS,
  FILL_PARAMS,
  REDUCE_PARAMS,
  SOFTMAX_PARAMS,
  WINDOW_PARAMS,
  SGD_PARAMS,
  ADAM_PARAMS,
] as const;
