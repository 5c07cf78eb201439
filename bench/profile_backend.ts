/**
 * A Backend that times every call of the backend it wraps, by op family and training
 * phase, for the profile bench. The CPU backend's kernels run synchronously inside each
 * call, so a call's wall time is its kernel's time; on WebGPU it would only be the time to
 * enqueue (this wrapper is for the CPU backend).
 *
 * It is a call recorder too when the wrapped backend is (core/call_log.ts), so that it
 * times the replayed steps a trainer runs (core/train/step_replay.ts): while a step is
 * recorded it notes each call's family (and product) in order, one per logged entry; a
 * replay of that log reports each entry's time (the recorder's `observe`), attributed to
 * the family noted for it.
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
import { type CallLog, type CallRecorder, canRecordCalls, type OptimizerStep } from '../core/call_log.ts';

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

/** What one logged call is accounted as: its family, and its product when it is one. */
interface Attribution {
  family: string;
  product?: Omit<ProductStat, 'calls' | 'ms'>;
}

/** The family of the calls that make no kernel call of their own (and no log entry). */
const ALLOCATION = 'allocation (alloc/free)';

export class ProfilingBackend implements Backend, CallRecorder {
  phase: Phase = 'other';
  /** Milliseconds per family key ("matmul forward", "optimizer", …), and call counts. */
  readonly ms = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly products = new Map<string, ProductStat>();
  /** Each recorded log's calls, in order, as they are accounted when it is replayed. */
  private readonly logged = new WeakMap<CallLog, Attribution[]>();
  /** The calls of the step being recorded, or null. */
  private recording: Attribution[] | null = null;

  constructor(readonly inner: Backend) {}

  private get recorder(): CallRecorder | null {
    return canRecordCalls(this.inner) ? this.inner : null;
  }

  get layoutVersion(): number {
    return this.recorder?.layoutVersion ?? 0;
  }

  recordCalls<T>(
    fn: () => T,
    inputs: readonly Float32Array[],
    step?: OptimizerStep,
  ): { result: T; log: CallLog | null; problem: string | null } {
    const recorder = this.recorder;
    if (recorder === null) return { result: fn(), log: null, problem: `the ${this.inner.kind} backend does not record its calls` };
    const calls: Attribution[] = [];
    this.recording = calls;
    try {
      const recorded = recorder.recordCalls(fn, inputs, step);
      if (recorded.log !== null) {
        if (recorded.log.entries.length !== calls.length) {
          throw new Error(
            `profile: ${calls.length} calls made ${recorded.log.entries.length} logged entries; their time cannot be attributed`,
          );
        }
        this.logged.set(recorded.log, calls);
      }
      return recorded;
    } finally {
      this.recording = null;
    }
  }

  replayCalls(log: CallLog, inputs: readonly Float32Array[], step?: OptimizerStep): void {
    const calls = this.logged.get(log);
    if (calls === undefined || this.recorder === null) throw new Error('profile: a log not recorded through this wrapper');
    this.recorder.replayCalls(log, inputs, step, (i, ms) => this.account(calls[i], ms));
  }

  private account(a: Attribution, ms: number): void {
    this.ms.set(a.family, (this.ms.get(a.family) ?? 0) + ms);
    this.calls.set(a.family, (this.calls.get(a.family) ?? 0) + 1);
    if (a.product) {
      const key = `${a.product.phase} ${a.product.shape}`;
      const s = this.products.get(key) ?? { ...a.product, dims: { ...a.product.dims }, calls: 0, ms: 0, flops: 0 };
      s.calls++;
      s.ms += ms;
      s.flops += a.product.flops;
      this.products.set(key, s);
    }
  }

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

  /** Runs one call of `family`, accounting its time (and noting it while a step is recorded). */
  private time<T>(family: string, fn: () => T, product?: Attribution['product']): T {
    const attribution: Attribution = { family, product };
    if (family !== ALLOCATION) this.recording?.push(attribution);
    const t0 = nowMs();
    try {
      return fn();
    } finally {
      this.account(attribution, nowMs() - t0);
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
    return this.time(ALLOCATION, () => this.inner.alloc(length));
  }
  free(buf: Buf): void {
    this.time(ALLOCATION, () => this.inner.free(buf));
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
    const shape = `${p.batch > 1 ? `${p.batch}×` : ''}${p.m}×${p.k}·${p.k}×${p.n}${p.transA ? ' Aᵀ' : ''}${p.transB ? ' Bᵀ' : ''}`;
    const product = {
      phase: this.phase,
      shape,
      dims: { batch: p.batch, m: p.m, n: p.n, k: p.k },
      flops: 2 * p.batch * p.m * p.n * p.k,
    };
    this.time(`matmul ${this.phase}`, () => this.inner.matmul(a, b, out, p), product);
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
