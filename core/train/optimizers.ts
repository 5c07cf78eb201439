/**
 * Optimizers with PyTorch semantics over parameter tensors, updated in place by the
 * backend's fused kernels (no readback). Their state (momentum buffers, Adam moments, the
 * step counter) is explicit so that a fork can copy it and a checkpoint can hold it.
 */
import type { AdamParams, SgdParams } from '../backend.ts';
import type { OptimizerStep } from '../call_log.ts';
import { argError } from '../errors.ts';
import { keep, type Tensor, zeros } from '../tensor.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
}

export interface Optimizer {
  /** Updates every parameter from its gradient; `lr` overrides the base rate (schedules). */
  step(params: readonly Tensor[], grads: readonly Tensor[], lr?: number): void;
  /** Number of steps taken so far. */
  readonly steps: number;
  /** State tensors, in a fixed order, for checkpoints and forks (empty before step 1). */
  state(): Tensor[];
  /** Names of the state tensors per parameter, e.g. `momentum_buffer` (PyTorch's keys). */
  readonly stateNames: readonly string[];
  /** Replaces the state (tensors are taken over, not copied) and the step counter. */
  setState(state: Tensor[], steps: number): void;
  /** Counts a step whose kernels were replayed (core/train/step_replay.ts) instead of issued by `step`. */
  advance(): void;
  /**
   * The parameters the next `step(…, lr)` passes to each of its kernels, so that a replayed
   * step can compute its optimizer scalars (core/call_log.ts).
   */
  kernelStep(lr?: number): OptimizerStep;
  dispose(): void;
}

function checkPairs(op: string, params: readonly Tensor[], grads: readonly Tensor[]): void {
  if (params.length !== grads.length) argError(op, `${params.length} parameters but ${grads.length} gradients`);
  params.forEach((p, i) => {
    if (p.size !== grads[i].size) argError(op, `parameter ${i} has ${p.size} elements, its gradient ${grads[i].size}`);
  });
}

function checkRate(op: string, name: string, v: number, lo: number, hi: number): number {
  if (!(v >= lo && v <= hi)) argError(op, `${name} must be in [${lo}, ${hi}], got ${v}`);
  return v;
}

export class Sgd implements Optimizer {
  private readonly p: Omit<SgdParams, 'firstStep' | 'lr'> & { lr: number };
  private buffers: Tensor[] = [];
  steps = 0;

  constructor(options: SgdOptions) {
    this.p = {
      lr: checkRate('sgd', 'lr', options.lr, 0, Infinity),
      momentum: checkRate('sgd', 'momentum', options.momentum ?? 0, 0, 1),
      dampening: checkRate('sgd', 'dampening', options.dampening ?? 0, 0, 1),
      weightDecay: checkRate('sgd', 'weightDecay', options.weightDecay ?? 0, 0, Infinity),
      nesterov: options.nesterov ?? false,
    };
    if (this.p.nesterov && (this.p.momentum === 0 || this.p.dampening !== 0)) {
      argError('sgd', 'Nesterov momentum requires momentum > 0 and dampening = 0 (as in PyTorch)');
    }
  }

  step(params: readonly Tensor[], grads: readonly Tensor[], lr = this.p.lr): void {
    checkPairs('sgd', params, grads);
    if (this.buffers.length === 0 && this.p.momentum !== 0) {
      this.buffers = params.map((x) => keep(zeros(x.backend, x.shape)));
    }
    const { params: p } = this.kernelStep(lr);
    params.forEach((x, i) => {
      const buf = this.buffers[i] ?? x;
      x.backend.sgd(x.buf, grads[i].buf, buf.buf, x.size, p);
    });
    this.steps++;
  }

  advance(): void {
    this.steps++;
  }

  kernelStep(lr = this.p.lr): OptimizerStep & { kind: 'sgd' } {
    return { kind: 'sgd', params: { ...this.p, lr, firstStep: this.steps === 0 } };
  }

  get stateNames(): readonly string[] {
    return this.p.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  state(): Tensor[] {
    return this.buffers;
  }

  setState(state: Tensor[], steps: number): void {
    this.dispose();
    this.buffers = state;
    this.steps = steps;
  }

  dispose(): void {
    this.buffers.forEach((b) => b.dispose());
    this.buffers = [];
  }
}

export class Adam implements Optimizer {
  private readonly p: Omit<AdamParams, 'step'>;
  private moments: Tensor[] = [];
  steps = 0;

  constructor(options: AdamOptions) {
    this.p = {
      lr: checkRate('adam', 'lr', options.lr, 0, Infinity),
      beta1: checkRate('adam', 'beta1', options.beta1 ?? 0.9, 0, 1 - 1e-12),
      beta2: checkRate('adam', 'beta2', options.beta2 ?? 0.999, 0, 1 - 1e-12),
      eps: checkRate('adam', 'eps', options.eps ?? 1e-8, 0, Infinity),
      weightDecay: checkRate('adam', 'weightDecay', options.weightDecay ?? 0, 0, Infinity),
      decoupled: options.decoupled ?? false,
    };
  }

  step(params: readonly Tensor[], grads: readonly Tensor[], lr = this.p.lr): void {
    checkPairs('adam', params, grads);
    if (this.moments.length === 0) {
      this.moments = params.flatMap((x) => [keep(zeros(x.backend, x.shape)), keep(zeros(x.backend, x.shape))]);
    }
    const { params: p } = this.kernelStep(lr);
    this.steps++;
    params.forEach((x, i) => {
      const [m, v] = [this.moments[2 * i], this.moments[2 * i + 1]];
      x.backend.adam(x.buf, grads[i].buf, m.buf, v.buf, x.size, p);
    });
  }

  advance(): void {
    this.steps++;
  }

  kernelStep(lr = this.p.lr): OptimizerStep & { kind: 'adam' } {
    return { kind: 'adam', params: { ...this.p, lr, step: this.steps + 1 } };
  }

  readonly stateNames = ['exp_avg', 'exp_avg_sq'] as const;

  state(): Tensor[] {
    return this.moments;
  }

  setState(state: Tensor[], steps: number): void {
    this.dispose();
    this.moments = state;
    this.steps = steps;
  }

  dispose(): void {
    this.moments.forEach((b) => b.dispose());
    this.moments = [];
  }
}
