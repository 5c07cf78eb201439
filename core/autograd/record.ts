/**
 * The recorded graph: which op made a tensor, from what, and how to pull cotangents back.
 *
 * Every op that produces a tensor from inputs needing gradients attaches a `GradNode`: its
 * inputs and a VJP closure that maps the output's cotangent to the inputs' cotangents.
 * VJP closures are written with the same differentiable ops as forward code, never with
 * raw kernels. So when `grad` runs them with recording on (`createGraph`), the gradient
 * is itself a differentiable function of the parameters, and a second `grad` through it
 * gives exact Hessian-vector products (double backward; see grad.ts and hvp.ts). Forward-over-reverse
 * would need a JVP rule for every op as well; double backward needs only the VJPs we have.
 */
import { type Tensor, tidy } from '../tensor.ts';

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /**
   * Cotangents of the inputs given the output's cotangent `g`; null where none flows.
   * `needed[i]` is false for inputs that take no part in differentiation (the network's
   * data, constants): a rule may skip their cotangent, which `grad` would discard anyway.
   * For a first layer's product that is a third of its backward work.
   */
  readonly vjp: (g: Tensor, needed: readonly boolean[]) => readonly (Tensor | null)[];
}

let recording = true;

/** Whether ops currently record graph nodes. */
export function isRecording(): boolean {
  return recording;
}

/** Runs `fn` without recording graph nodes (cheaper, and results are constants). */
export function noGrad<T>(fn: () => T): T {
  return withRecording(false, fn);
}

/** Runs `fn` with recording switched on or off. */
export function withRecording<T>(on: boolean, fn: () => T): T {
  const saved = recording;
  recording = on;
  try {
    return fn();
  } finally {
    recording = saved;
  }
}

/** True when `t` takes part in differentiation (a marked leaf or a recorded result). */
export function tracks(t: Tensor): boolean {
  return t.requiresGrad || t.node !== null;
}

/**
 * Attaches a node to `out` when recording and any input is tracked; returns `out`.
 * Ops call this after computing their forward result.
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], vjp: GradNode['vjp']): Tensor {
  if (recording && inputs.some(tracks)) out.node = { op, inputs, vjp };
  return out;
}

/** Marks `t` as a leaf whose gradient `grad` can be asked for; returns it. */
export function param(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

/**
 * Runs one layer. Without recording, its intermediates (im2col buffers, normalization
 * temporaries) are freed as soon as it returns, instead of living until the enclosing
 * scope ends: evaluating a deep CNN on a large batch would otherwise hold every
 * intermediate of the whole forward pass at once. With recording they must stay, as
 * the graph refers to them.
 */
export function layer<T extends Tensor>(fn: () => T): T {
  return recording ? fn() : tidy(fn);
}
