/**
 * The op tables: the names of the elementwise and reduction ops every backend implements.
 *
 * This module is the one source of truth for the ops. The backends' kernels name an op by
 * a constant generated from these tables (`UNARY_LEAKY_RELU`-style names, in
 * core/cpu/assembly/ops.gen.ts and the WGSL prelude of core/gpu/wgsl.gen.ts), so an op's
 * kernel is found by searching for its constant, and reordering a table changes the
 * constants' values without leaving a kernel on the wrong case. scripts/build.mjs loads
 * this file to generate them, which is why it imports nothing: the build reads it before
 * anything is compiled.
 */

/** Elementwise functions of one argument. `param` is used by the ops that say so. */
export const UNARY_OPS = [
  'neg',
  'abs',
  'sign',
  'square',
  'sqrt',
  'reciprocal',
  'exp',
  'log',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'leakyRelu', // x > 0 ? x : param·x  (param = 0 is ReLU)
  'step', // x > 0 ? 1 : 0
  'scale', // param·x
  'addScalar', // x + param
  'powScalar', // x^param (x ≥ 0 or integer param)
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Elementwise functions of two broadcast arguments. */
export const BINARY_OPS = [
  'add',
  'sub',
  'mul',
  'div',
  'leakyReluGrad', // (a > 0 ? 1 : param)·b — the derivative of leakyRelu at a, applied to b
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export const REDUCE_OPS = ['sum', 'max'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Every table under the prefix of its generated constants. */
export const OP_TABLES = { UNARY: UNARY_OPS, BINARY: BINARY_OPS, REDUCE: REDUCE_OPS } as const;

/**
 * The kernels' name for an op: the table's prefix and the op in upper snake case
 * (`UNARY`, `leakyRelu` → `UNARY_LEAKY_RELU`). Its value is the op's position in the table,
 * the code `CheckedBackend` passes to the kernels.
 */
export function opConstantName(prefix: keyof typeof OP_TABLES, op: string): string {
  return `${prefix}_${op.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
