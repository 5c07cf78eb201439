/** The autograd's public surface: ops, losses, gradients and Hessian-vector products. */
export * from './ops.ts';
export * from './matmul.ts';
export * from './losses.ts';
export { maxLast } from './max.ts';
export { grad, type GradOptions } from './grad.ts';
export { hvp, valueAndGrad } from './hvp.ts';
export { type GradNode, isRecording, layer, noGrad, param } from './record.ts';
export * from './layout.ts';
export * from './window.ts';
export { avgPool } from './pool.ts';
