/**
 * Every scalar of an optimizer update, formed once on the host in f64 from the exact
 * hyperparameters, as PyTorch forms them in Python floats, and handed to the kernels of
 * both backends, which only round them to f32 (as a float32 tensor op rounds a Python
 * scalar). Forming `1 − β2` in the kernel from the f32-rounded β2 gives 0.000999987
 * instead of 0.001: 1.3e-5 relative, enough to move Adam 0.09 away from PyTorch in 200
 * steps (measured), so no kernel computes a scalar of its own.
 */
import type { AdamParams, SgdParams } from './backend.ts';
import { argError } from './errors.ts';

/** β^t by repeated squaring: exact same bits in every JavaScript engine, unlike `**`. */
function powInteger(base: number, exponent: number): number {
  let result = 1;
  let b = base;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result *= b;
    b *= b;
  }
  return result;
}

/** The scalars of one Adam/AdamW step, in the order the kernels take them. */
export interface AdamScalars {
  /** Adam's coupled decay `g ← g + wd·p` (0 for AdamW). */
  coupledDecay: number;
  /** AdamW's `p ← p·(1 − lr·wd)` factor (1 for Adam, and for AdamW without decay). */
  decoupledFactor: number;
  /** The weight of `m.lerp_(g, 1 − β1)`. */
  oneMinusBeta1: number;
  beta2: number;
  /** The value of `v.mul_(β2).addcmul_(g, g, value=1 − β2)`. */
  oneMinusBeta2: number;
  eps: number;
  /** `lr / (1 − β1^t)`. */
  stepSize: number;
  /** `√(1 − β2^t)`. */
  bias2Sqrt: number;
}

/** Adam's scalars for step t ≥ 1 (torch.optim.Adam / AdamW, single-tensor path). */
export function adamScalars(p: AdamParams): AdamScalars {
  if (!(Number.isInteger(p.step) && p.step >= 1)) argError('adam', `step must be an integer ≥ 1, got ${p.step}`);
  return {
    coupledDecay: p.decoupled ? 0 : p.weightDecay,
    decoupledFactor: p.decoupled && p.weightDecay !== 0 ? 1 - p.lr * p.weightDecay : 1,
    oneMinusBeta1: 1 - p.beta1,
    beta2: p.beta2,
    oneMinusBeta2: 1 - p.beta2,
    eps: p.eps,
    stepSize: p.lr / (1 - powInteger(p.beta1, p.step)),
    bias2Sqrt: Math.sqrt(1 - powInteger(p.beta2, p.step)),
  };
}

/** The scalars of one SGD step, in the order the kernels take them. */
export interface SgdScalars {
  lr: number;
  momentum: number;
  /** The `alpha` of `buf.mul_(momentum).add_(g, alpha=1 − dampening)`. */
  oneMinusDampening: number;
  weightDecay: number;
}

export function sgdScalars(p: SgdParams): SgdScalars {
  return { lr: p.lr, momentum: p.momentum, oneMinusDampening: 1 - p.dampening, weightDecay: p.weightDecay };
}
