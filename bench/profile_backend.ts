/**
 * A Backend that times every call of the backend it wraps, by op family and training
 * phase, for the profile bench. The CPU backend's kernels run synchronously inside each
 * call, so a call's wall time is its kernel's time; on WebGPU it would only be the time to
 * enqueue (this wrapper is for the CPU backend).
 */
import type {
  AdamParams,
  Backend,
  BinaryOp,
  BroadcastParams,
  Buf,
  MatmulParams,
  ReduceOp,
  ReduceParams,
  SgdParams,
  UnaryOp,
  WindowParams,
} from '../core/backend.ts';

/** Where in a training step the calls happen; set by the step loop. */
export type Phase = 'forward' | 'backward' | 'optimizer' | 'other';

/** One product shape seen during profiling, with its time. */
export interface ProductStat {
  phase: Phase;
  shape: string;
  /** The product's dimensions: batch × (m×k · k×n). */
  dims: { batch: number; m: number; n: number; k: number };
  calls: number;
  ms: number;
  flops: number;
}

const nowMs = (): number => performance.now();

export class ProfilingBackend implements Backend {
  phase: Phase = 'other';
  /** Milliseconds per family key ("matmul forward", "optimizer", …), and call counts. */
  readonly ms = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly products = new Map<string, ProductStat>();

  constructor(readonly inner: Backend) {}

  get kind(): Backend['kind'] {
    return this.inner.kind;
  }
  get description(): string {
    return this.inner.description;
  }
  get math(): Backend['math'] {
    return this.inner.math;
  }

  reset(): void {
    this.ms.clear();
    this.calls.clear();
    this.products.clear();
  }

  private time<T>(family: string, fn: () => T): T {
    const t0 = nowMs();
    try {
      return fn();
    } finally {
      this.ms.set(family, (this.ms.get(family) ?? 0) + nowMs() - t0);
      this.calls.set(family, (this.calls.get(family) ?? 0) + 1);
    }
  }

  /** Elementwise work by phase: the forward's bias adds and activations, the backward's masks and sums. */
  private elementwise(): string {
    return this.phase === 'backward'
      ? 'elementwise backward (bias grad, activation mask)'
      : this.phase === 'optimizer'
      ? 'optimizer update'
      : 'elementwise forward (bias, activation)';
  }

  alloc(length: number): Buf {
    return this.time('allocation (alloc/free)', () => this.inner.alloc(length));
  }
  free(buf: Buf): void {
    this.time('allocation (alloc/free)', () => this.inner.free(buf));
  }
  upload(buf: Buf, data: Float32Array, offset?: number): void {
    this.time('upload (batch to memory)', () => this.inner.upload(buf, data, offset));
  }
  download(buf: Buf): Promise<Float32Array> {
    return this.inner.download(buf);
  }
  fill(out: Buf, value: number, length?: number): void {
    this.time('copy/fill', () => this.inner.fill(out, value, length));
  }
  copy(src: Buf, dst: Buf, length: number, srcOffset?: number, dstOffset?: number): void {
    this.time('copy/fill', () => this.inner.copy(src, dst, length, srcOffset, dstOffset));
  }

  matmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    const t0 = nowMs();
    this.time(`matmul ${this.phase}`, () => this.inner.matmul(a, b, out, p));
    const shape = `${p.batch > 1 ? `${p.batch}×` : ''}${p.m}×${p.k}·${p.k}×${p.n}${p.transA ? ' Aᵀ' : ''}${p.transB ? ' Bᵀ' : ''}`;
    const key = `${this.phase} ${shape}`;
    const s = this.products.get(key) ??
      { phase: this.phase, shape, dims: { batch: p.batch, m: p.m, n: p.n, k: p.k }, calls: 0, ms: 0, flops: 0 };
    s.calls++;
    s.ms += nowMs() - t0;
    s.flops += 2 * p.batch * p.m * p.n * p.k;
    this.products.set(key, s);
  }

  unary(op: UnaryOp, x: Buf, out: Buf, length: number, param?: number): void {
    this.time(this.elementwise(), () => this.inner.unary(op, x, out, length, param));
  }

  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void {
    // A broadcast add of a zero scalar (length-1 b with all-zero strides) is how permutes
    // and broadcasts are materialised (autograd/layout.ts): data movement, not arithmetic.
    const movement = op === 'add' && b.length === 1 && p.bStrides.every((s) => s === 0);
    this.time(movement ? 'permute/broadcast copies' : this.elementwise(), () => this.inner.binary(op, a, b, out, p));
  }

  reduce(op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    this.time(this.elementwise(), () => this.inner.reduce(op, x, out, p));
  }

  softmax(x: Buf, out: Buf, rows: number, cols: number): void {
    this.time('loss (softmax cross-entropy)', () => this.inner.softmax(x, out, rows, cols));
  }

  softmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    this.time('loss (softmax cross-entropy)', () => this.inner.softmaxXent(logits, labels, loss, grad, rows, cols));
  }

  im2col(x: Buf, cols: Buf, p: WindowParams): void {
    this.time('im2col (unfold)', () => this.inner.im2col(x, cols, p));
  }
  col2im(cols: Buf, x: Buf, p: WindowParams): void {
    this.time('col2im (fold)', () => this.inner.col2im(cols, x, p));
  }
  avgPool(x: Buf, out: Buf, p: WindowParams): void {
    this.time('pooling (average and its gradient)', () => this.inner.avgPool(x, out, p));
  }
  avgPoolGrad(g: Buf, dx: Buf, p: WindowParams): void {
    this.time('pooling (average and its gradient)', () => this.inner.avgPoolGrad(g, dx, p));
  }

  sgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    this.time('optimizer update', () => this.inner.sgd(param, grad, momentum, length, p));
  }

  adam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    this.time('optimizer update', () => this.inner.adam(param, grad, m, v, length, p));
  }
}
