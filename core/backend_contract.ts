/**
 * `CheckedBackend`: the Backend contract enforced once for every implementation. Each
 * public method resolves op names to op codes, checks extents (`backend_checks.ts`) and the
 * aliasing rule (`IN_PLACE` in `backend.ts`), and only then calls the implementation's
 * protected `run…` method, so a backend cannot skip or vary a check, and a kernel never
 * sees out-of-bounds extents, an unknown op or a buffer aliasing it cannot handle.
 *
 * A base class rather than a wrapping object: the concrete backends keep their own
 * members (`liveBytes`, `destroy`, `read`…) and their types, and a call costs one extra
 * method call — no allocation, and checks in O(rank).
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
} from './backend.ts';
import { BINARY_OPS, IN_PLACE, REDUCE_OPS, UNARY_OPS } from './backend.ts';
import { checkBroadcast, checkCount, checkFits, checkMatmul, checkReduce, checkRows, checkWindow } from './backend_checks.ts';
import { argError } from './errors.ts';

type Method = keyof typeof IN_PLACE;

/** Whether `IN_PLACE` lets `output` of `method` be the buffer `input` is. */
function mayAlias(method: Method, output: string, input: string): boolean {
  const allowed = (IN_PLACE[method] as Readonly<Record<string, readonly string[]>>)[output];
  return allowed !== undefined && allowed.includes(input);
}

/** `method`, or `method(op)` for the methods that take an op name. */
const label = (method: Method, op?: string): string => (op === undefined ? method : `${method}(${op})`);

/**
 * Throws E_ARG when `output` is `input`'s buffer and `IN_PLACE` does not allow it. The
 * message is built only when it throws: a passing check allocates nothing.
 */
function checkAlias(method: Method, output: string, out: Buf, input: string, buf: Buf, op?: string): void {
  if (out === buf && !mayAlias(method, output, input)) {
    argError(label(method, op), `${output} must not be the same buffer as ${input} (see IN_PLACE in core/backend.ts)`);
  }
}

/**
 * Whether a broadcast operand is read at the output's own index: its strides are the
 * contiguous strides of `shape` on every axis longer than 1 (size-1 axes never move).
 */
function readsOwnIndex(shape: readonly number[], strides: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expect) return false;
    expect *= shape[d];
  }
  return true;
}

function checkBinaryAlias(op: BinaryOp, name: 'a' | 'b', input: Buf, out: Buf, p: BroadcastParams): void {
  checkAlias('binary', 'out', out, name, input, op);
  if (out === input && !readsOwnIndex(p.shape, name === 'a' ? p.aStrides : p.bStrides)) {
    argError(
      label('binary', op),
      `out may be ${name}'s buffer only when ${name} is read at the output's own index (contiguous strides, no broadcast)`,
    );
  }
}

/**
 * The base of every backend. Its public methods are the `Backend` interface with the
 * contract enforced; a subclass implements only the protected `run…` methods (plus `free`
 * and `download`), which receive op codes (positions in UNARY_OPS, BINARY_OPS, REDUCE_OPS,
 * which the kernels name by the constants the build generates from core/op_tables.ts)
 * and extents and buffers that already passed every check.
 */
export abstract class CheckedBackend implements Backend {
  abstract readonly kind: Backend['kind'];
  abstract readonly description: string;
  abstract readonly math: Backend['math'];
  abstract free(buf: Buf): void;
  abstract download(buf: Buf): Promise<Float32Array>;

  protected abstract runAlloc(length: number): Buf;
  protected abstract runUpload(buf: Buf, data: Float32Array, offset: number): void;
  protected abstract runFill(out: Buf, value: number, length: number): void;
  protected abstract runCopy(src: Buf, dst: Buf, length: number, srcOffset: number, dstOffset: number): void;
  protected abstract runMatmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void;
  protected abstract runUnary(code: number, op: UnaryOp, x: Buf, out: Buf, length: number, param: number): void;
  /** `size` is the number of outputs, at least 1. */
  protected abstract runBinary(code: number, op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams, size: number): void;
  protected abstract runReduce(code: number, op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void;
  protected abstract runSoftmax(x: Buf, out: Buf, rows: number, cols: number): void;
  protected abstract runSoftmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void;
  protected abstract runIm2col(x: Buf, cols: Buf, p: WindowParams, outH: number, outW: number): void;
  protected abstract runCol2im(cols: Buf, x: Buf, p: WindowParams, outH: number, outW: number): void;
  protected abstract runSgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void;
  protected abstract runAdam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void;

  alloc(length: number): Buf {
    checkCount('alloc', 'length', length);
    return this.runAlloc(length);
  }

  upload(buf: Buf, data: Float32Array, offset = 0): void {
    checkFits('upload', 'data', buf, data.length, offset);
    this.runUpload(buf, data, offset);
  }

  fill(out: Buf, value: number, length = out.length): void {
    checkFits('fill', 'out', out, length);
    this.runFill(out, value, length);
  }

  copy(src: Buf, dst: Buf, length: number, srcOffset = 0, dstOffset = 0): void {
    checkFits('copy', 'src', src, length, srcOffset);
    checkFits('copy', 'dst', dst, length, dstOffset);
    checkAlias('copy', 'dst', dst, 'src', src);
    this.runCopy(src, dst, length, srcOffset, dstOffset);
  }

  matmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    checkMatmul(a, b, out, p);
    checkAlias('matmul', 'out', out, 'a', a);
    checkAlias('matmul', 'out', out, 'b', b);
    if (p.bias) {
      checkAlias('matmul', 'out', out, 'bias', p.bias);
      this.runMatmulBias(a, b, out, p as MatmulParams & { bias: Buf });
    } else {
      this.runMatmul(a, b, out, p);
    }
  }

  /**
   * The product with its bias epilogue as the two ops it fuses: the product into a
   * temporary, then an add of the bias broadcast over the rows (what autograd ran before
   * the epilogue existed; not in place, which WebGPU would pay for with a copy). A backend
   * with a fused kernel (the CPU's) overrides this with the same bits.
   */
  protected runMatmulBias(a: Buf, b: Buf, out: Buf, p: MatmulParams & { bias: Buf }): void {
    const { bias, ...product } = p;
    const rows = p.batch * p.m;
    if (rows * p.n === 0) return;
    const prod = this.alloc(rows * p.n);
    try {
      this.runMatmul(a, b, prod, product);
      this.binary('add', prod, bias, out, { shape: [rows, p.n], aStrides: [p.n, 1], bStrides: [0, 1] });
    } finally {
      this.free(prod);
    }
  }

  unary(op: UnaryOp, x: Buf, out: Buf, length: number, param = 0): void {
    const code = UNARY_OPS.indexOf(op);
    if (code < 0) argError('unary', `unknown op '${op}'; valid: ${UNARY_OPS.join(', ')}`);
    const name = `unary(${op})`;
    checkFits(name, 'x', x, length);
    checkFits(name, 'out', out, length);
    checkAlias('unary', 'out', out, 'x', x, op);
    this.runUnary(code, op, x, out, length, param);
  }

  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void {
    const code = BINARY_OPS.indexOf(op);
    if (code < 0) argError('binary', `unknown op '${op}'; valid: ${BINARY_OPS.join(', ')}`);
    const size = checkBroadcast(op, a, b, out, p);
    checkBinaryAlias(op, 'a', a, out, p);
    checkBinaryAlias(op, 'b', b, out, p);
    if (size > 0) this.runBinary(code, op, a, b, out, p, size);
  }

  reduce(op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    const code = REDUCE_OPS.indexOf(op);
    if (code < 0) argError('reduce', `unknown op '${op}'; valid: ${REDUCE_OPS.join(', ')}`);
    checkReduce(op, x, out, p);
    checkAlias('reduce', 'out', out, 'x', x, op);
    this.runReduce(code, op, x, out, p);
  }

  softmax(x: Buf, out: Buf, rows: number, cols: number): void {
    checkRows('softmax', rows, cols, { x: [x, rows * cols], out: [out, rows * cols] });
    checkAlias('softmax', 'out', out, 'x', x);
    this.runSoftmax(x, out, rows, cols);
  }

  softmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    const op = 'softmaxXent';
    checkRows(op, rows, cols, {
      logits: [logits, rows * cols],
      labels: [labels, rows],
      loss: [loss, rows],
      grad: [grad, rows * cols],
    });
    checkAlias(op, 'loss', loss, 'grad', grad);
    checkAlias(op, 'loss', loss, 'logits', logits);
    checkAlias(op, 'loss', loss, 'labels', labels);
    checkAlias(op, 'grad', grad, 'logits', logits);
    checkAlias(op, 'grad', grad, 'labels', labels);
    this.runSoftmaxXent(logits, labels, loss, grad, rows, cols);
  }

  im2col(x: Buf, cols: Buf, p: WindowParams): void {
    const [outH, outW] = checkWindow('im2col', x, p, false, ['cols', cols, p.kh * p.kw]);
    checkAlias('im2col', 'cols', cols, 'x', x);
    this.runIm2col(x, cols, p, outH, outW);
  }

  col2im(cols: Buf, x: Buf, p: WindowParams): void {
    // bijective: x is written whole, once per element, so its strides must tile it exactly.
    const [outH, outW] = checkWindow('col2im', x, p, true, ['cols', cols, p.kh * p.kw]);
    checkAlias('col2im', 'x', x, 'cols', cols);
    this.runCol2im(cols, x, p, outH, outW);
  }

  avgPool(x: Buf, out: Buf, p: WindowParams): void {
    const [outH, outW] = checkWindow('avgPool', x, p, false, ['out', out, 1]);
    checkAlias('avgPool', 'out', out, 'x', x);
    this.runAvgPool(x, out, p, outH, outW);
  }

  avgPoolGrad(g: Buf, dx: Buf, p: WindowParams): void {
    // bijective, as for col2im: dx is written whole.
    const [outH, outW] = checkWindow('avgPoolGrad', dx, p, true, ['g', g, 1]);
    checkAlias('avgPoolGrad', 'dx', dx, 'g', g);
    this.runAvgPoolGrad(g, dx, p, outH, outW);
  }

  /**
   * Average pooling as the ops it fuses: im2col, a sum over each window's entries, a
   * scale. A backend with a fused kernel (the CPU's) overrides this with the same bits.
   */
  protected runAvgPool(x: Buf, out: Buf, p: WindowParams, outH: number, outW: number): void {
    const windows = p.n * outH * outW * p.c;
    const cols = this.alloc(windows * p.kh * p.kw);
    const sums = this.alloc(windows);
    try {
      // Each channel's entries adjacent, whatever the caller's entry order (pooling ignores it).
      this.im2col(x, cols, { ...p, channelsLast: false });
      this.reduce('sum', cols, sums, { outer: windows, size: p.kh * p.kw, inner: 1 });
      this.unary('scale', sums, out, windows, 1 / (p.kh * p.kw));
    } finally {
      this.free(cols);
      this.free(sums);
    }
  }

  /**
   * avgPool's adjoint as the ops autograd would record for the composition: scale g,
   * broadcast it over each window's entries (an add of a broadcast zero, as
   * autograd's broadcastTo copies), col2im.
   */
  protected runAvgPoolGrad(g: Buf, dx: Buf, p: WindowParams, outH: number, outW: number): void {
    const windows = p.n * outH * outW * p.c;
    const entries = p.kh * p.kw;
    const scaled = this.alloc(windows);
    const zero = this.alloc(1);
    const cols = this.alloc(windows * entries);
    try {
      this.unary('scale', g, scaled, windows, 1 / entries);
      this.fill(zero, 0);
      this.binary('add', scaled, zero, cols, { shape: [windows, entries], aStrides: [1, 0], bStrides: [0, 0] });
      this.col2im(cols, dx, { ...p, channelsLast: false });
    } finally {
      this.free(scaled);
      this.free(zero);
      this.free(cols);
    }
  }

  sgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    checkFits('sgd', 'param', param, length);
    checkFits('sgd', 'grad', grad, length);
    checkAlias('sgd', 'param', param, 'grad', grad);
    // Without momentum the momentum buffer is neither read nor written (callers pass any).
    if (p.momentum !== 0) {
      checkFits('sgd', 'momentum', momentum, length);
      checkAlias('sgd', 'momentum', momentum, 'param', param);
      checkAlias('sgd', 'momentum', momentum, 'grad', grad);
    }
    this.runSgd(param, grad, momentum, length, p);
  }

  adam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    checkFits('adam', 'param', param, length);
    checkFits('adam', 'grad', grad, length);
    checkFits('adam', 'm', m, length);
    checkFits('adam', 'v', v, length);
    checkAlias('adam', 'param', param, 'grad', grad);
    checkAlias('adam', 'm', m, 'param', param);
    checkAlias('adam', 'm', m, 'grad', grad);
    checkAlias('adam', 'v', v, 'param', param);
    checkAlias('adam', 'v', v, 'grad', grad);
    checkAlias('adam', 'v', v, 'm', m);
    this.runAdam(param, grad, m, v, length, p);
  }
}
