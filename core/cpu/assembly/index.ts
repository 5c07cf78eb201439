// The CPU backend's WebAssembly module: every kernel family, exported for core/cpu.
// Memory above heapBase() belongs to the JavaScript allocator (core/cpu/wasm_heap.ts);
// the kernels themselves never allocate.
export { unary, binary, fill } from './elementwise';
export { reduce, softmax, softmaxXent } from './reduce';
export { matmul, MATMUL_SCRATCH_FLOATS } from './matmul';
export { maddProbe } from './madd';
export { sgd, adam } from './optim';
export { im2col, col2im } from './window';
export { avgPool, avgPoolGrad } from './pool';

export function heapBase(): usize {
  return __heap_base;
}
