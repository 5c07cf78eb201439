/**
 * The CPU backend: the AssemblyScript kernels of `core/cpu/assembly`, compiled to one
 * WebAssembly module with 128-bit SIMD and embedded into the bundle by the build (so no
 * runtime reads a file), driven through the Backend interface.
 */
import type {
  AdamParams, Backend, BinaryOp, Buf, BroadcastParams, MatmulParams, ReduceOp, ReduceParams,
  SgdParams, UnaryOp,
} from '../backend.ts';
import { BINARY_OPS, MAX_RANK, REDUCE_OPS, UNARY_OPS } from '../backend.ts';
import {
  checkBroadcast, checkCount, checkFits, checkMatmul, checkReduce, checkRows,
} from '../backend_checks.ts';
import { adamScalars } from '../adam_scalars.ts';
import { RidgelineError, argError } from '../errors.ts';
import { KERNELS_WASM_BASE64 } from './kernels_wasm.gen.ts';
import { WasmHeap } from './wasm_heap.ts';

/** The exports of the kernel module (see core/cpu/assembly/index.ts). */
interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  MATMUL_SCRATCH_FLOATS: WebAssembly.Global;
  unary(op: number, x: number, out: number, n: number, p: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, meta: number, p: number): void;
  fill(out: number, n: number, value: number): void;
  reduce(op: number, x: number, out: number, outer: number, size: number, inner: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  softmaxXent(x: number, labels: number, loss: number, grad: number, rows: number, cols: number): void;
  matmul(
    a: number, b: number, c: number, batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number, scratch: number,
  ): void;
  sgd(
    p: number, g: number, buf: number, n: number, lr: number, momentum: number,
    dampening: number, wd: number, nesterov: number, firstStep: number,
  ): void;
  adam(
    p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, wd: number, decoupled: number, stepSize: number, bias2Sqrt: number,
  ): void;
}

/** A block of WebAssembly memory holding `length` f32 values. */
export class CpuBuf implements Buf {
  freed = false;
  constructor(readonly ptr: number, readonly length: number) {}
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Instantiates the kernel module; async because browsers refuse large synchronous compiles. */
export async function createCpuBackend(): Promise<CpuBackend> {
  const module = await WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64));
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new RidgelineError('E_BACKEND', `cpu kernel aborted at ${line}:${col}`);
      },
    },
  });
  return new CpuBackend(instance.exports as unknown as KernelExports);
}

export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly description = 'WebAssembly SIMD128 (AssemblyScript), 1 thread';
  private readonly heap: WasmHeap;
  private readonly meta: number;
  private readonly scratch: number;

  constructor(private readonly k: KernelExports) {
    this.heap = new WasmHeap(k.memory, k.heapBase());
    this.meta = this.heap.alloc(4 * 4 * MAX_RANK);
    this.scratch = this.heap.alloc(4 * (k.MATMUL_SCRATCH_FLOATS.value as number));
  }

  /** Bytes currently allocated to live buffers (tests use it to find leaks). */
  get liveBytes(): number {
    return this.heap.live - 4 * 4 * MAX_RANK - 4 * (this.k.MATMUL_SCRATCH_FLOATS.value as number);
  }

  private ptr(buf: Buf, role: string): number {
    if (!(buf instanceof CpuBuf)) argError(`cpu.${role}`, 'buffer does not belong to the CPU backend');
    if (buf.freed) throw new RidgelineError('E_STATE', `cpu.${role}: buffer used after free`);
    return buf.ptr;
  }

  alloc(length: number): CpuBuf {
    checkCount('alloc', 'length', length);
    return new CpuBuf(this.heap.alloc(4 * length), length);
  }

  free(buf: Buf): void {
    const ptr = this.ptr(buf, 'free');
    (buf as CpuBuf).freed = true;
    this.heap.free(ptr, 4 * buf.length);
  }

  /** A live view of the buffer (invalid after the next allocation may grow memory). */
  view(buf: Buf): Float32Array {
    return new Float32Array(this.k.memory.buffer, this.ptr(buf, 'view'), buf.length);
  }

  upload(buf: Buf, data: Float32Array, offset = 0): void {
    checkFits('upload', 'data', buf, data.length, offset);
    this.view(buf).set(data, offset);
  }

  /** Synchronous read; the CPU backend has no queue to wait for. */
  read(buf: Buf): Float32Array {
    return this.view(buf).slice();
  }

  download(buf: Buf): Promise<Float32Array> {
    return Promise.resolve(this.read(buf));
  }

  fill(out: Buf, value: number, length = out.length): void {
    checkFits('fill', 'out', out, length);
    this.k.fill(this.ptr(out, 'fill'), length, value);
  }

  copy(src: Buf, dst: Buf, length: number, srcOffset = 0, dstOffset = 0): void {
    checkFits('copy', 'src', src, length, srcOffset);
    checkFits('copy', 'dst', dst, length, dstOffset);
    const bytes = new Uint8Array(this.k.memory.buffer);
    const from = this.ptr(src, 'copy') + 4 * srcOffset;
    bytes.copyWithin(this.ptr(dst, 'copy') + 4 * dstOffset, from, from + 4 * length);
  }

  matmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    checkMatmul(a, b, out, p);
    this.k.matmul(
      this.ptr(a, 'matmul'), this.ptr(b, 'matmul'), this.ptr(out, 'matmul'), p.batch, p.m, p.n, p.k,
      p.transA ? 1 : 0, p.transB ? 1 : 0, p.strideA ?? p.m * p.k, p.strideB ?? p.k * p.n, this.scratch,
    );
  }

  unary(op: UnaryOp, x: Buf, out: Buf, length: number, param = 0): void {
    const code = UNARY_OPS.indexOf(op);
    if (code < 0) argError('unary', `unknown op '${op}'; valid: ${UNARY_OPS.join(', ')}`);
    checkFits(`unary(${op})`, 'x', x, length);
    checkFits(`unary(${op})`, 'out', out, length);
    this.k.unary(code, this.ptr(x, op), this.ptr(out, op), length, param);
  }

  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void {
    const code = BINARY_OPS.indexOf(op);
    if (code < 0) argError('binary', `unknown op '${op}'; valid: ${BINARY_OPS.join(', ')}`);
    const size = checkBroadcast(op, a, b, out, p);
    if (size === 0) return;
    const rank = p.shape.length;
    const meta = new Int32Array(this.k.memory.buffer, this.meta, 4 * MAX_RANK);
    meta.set(p.shape, 0);
    meta.set(p.aStrides, rank);
    meta.set(p.bStrides, 2 * rank);
    this.k.binary(code, this.ptr(a, op), this.ptr(b, op), this.ptr(out, op), rank, this.meta, p.param ?? 0);
  }

  reduce(op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    const code = REDUCE_OPS.indexOf(op);
    if (code < 0) argError('reduce', `unknown op '${op}'; valid: ${REDUCE_OPS.join(', ')}`);
    checkReduce(op, x, out, p);
    this.k.reduce(code, this.ptr(x, 'reduce'), this.ptr(out, 'reduce'), p.outer, p.size, p.inner);
  }

  softmax(x: Buf, out: Buf, rows: number, cols: number): void {
    checkRows('softmax', rows, cols, { x: [x, rows * cols], out: [out, rows * cols] });
    this.k.softmax(this.ptr(x, 'softmax'), this.ptr(out, 'softmax'), rows, cols);
  }

  softmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    checkRows('softmaxXent', rows, cols, {
      logits: [logits, rows * cols], labels: [labels, rows], loss: [loss, rows], grad: [grad, rows * cols],
    });
    this.k.softmaxXent(
      this.ptr(logits, 'softmaxXent'), this.ptr(labels, 'softmaxXent'), this.ptr(loss, 'softmaxXent'),
      this.ptr(grad, 'softmaxXent'), rows, cols,
    );
  }

  sgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    checkFits('sgd', 'param', param, length);
    checkFits('sgd', 'grad', grad, length);
    if (p.momentum !== 0) checkFits('sgd', 'momentum', momentum, length);
    this.k.sgd(
      this.ptr(param, 'sgd'), this.ptr(grad, 'sgd'), this.ptr(momentum, 'sgd'), length, p.lr, p.momentum,
      p.dampening, p.weightDecay, p.nesterov ? 1 : 0, p.firstStep ? 1 : 0,
    );
  }

  adam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    for (const [name, buf] of [['param', param], ['grad', grad], ['m', m], ['v', v]] as const) {
      checkFits('adam', name, buf, length);
    }
    const { stepSize, bias2Sqrt } = adamScalars(p);
    this.k.adam(
      this.ptr(param, 'adam'), this.ptr(grad, 'adam'), this.ptr(m, 'adam'), this.ptr(v, 'adam'), length,
      p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.decoupled ? 1 : 0, stepSize, bias2Sqrt,
    );
  }
}
