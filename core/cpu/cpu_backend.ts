/**
 * The CPU backend: the AssemblyScript kernels of `core/cpu/assembly`, compiled to a
 * WebAssembly module with 128-bit SIMD and embedded into the bundle by the build (so no
 * runtime reads a file), driven through the Backend interface. The same sources give a
 * second module with relaxed SIMD (fused multiply-add), used only under `math: 'relaxed'`.
 */
import type {
  AdamParams, BinaryOp, Buf, BroadcastParams, MatmulParams, ReduceOp, ReduceParams, SgdParams, UnaryOp,
  WindowParams,
} from '../backend.ts';
import { MAX_RANK } from '../backend.ts';
import { CheckedBackend } from '../backend_contract.ts';
import { adamScalars, sgdScalars } from '../optim_scalars.ts';
import { RidgelineError, argError } from '../errors.ts';
import type { MathMode } from '../math_mode.ts';
import { KERNELS_WASM_BASE64 } from './kernels_wasm.gen.ts';
import { KERNELS_RELAXED_WASM_BASE64 } from './kernels_relaxed_wasm.gen.ts';
import {
  CONTROL_INTS, type KernelWorkerSpawner, MATMUL_ARG, type MatmulArgs, ThreadState, imports,
} from './kernel_threads.ts';
import { WasmHeap } from './wasm_heap.ts';

/**
 * Products below this many multiply-adds stay on one thread: waking the helper costs tens
 * of microseconds, about what 2^20 multiply-adds take at ~30 GFLOP/s.
 */
const THREADED_MIN_MACS = 2 ** 20;
/** The kernel's register tile: splits on these boundaries keep tiles full. */
const TILE_ROWS = 4;
const TILE_COLS = 8;
/**
 * Products wider than tall (and at least two tiles wide) are split by columns, the others
 * by rows: a row split has both threads pack all of B (k×n), a column split all of A
 * (m×k), so the split along the longer side duplicates the smaller copy. Measured
 * 2026-12-04 (bench/profile.ts): with row splits mlp-2's 128×784·784×512 forward product
 * ran at 73 % of the square rate; LeNet-5's 12800×16·16×150 lost a quarter split by
 * columns. Its first weight gradient (6×100352·100352×25) has too few rows to split by
 * rows and ran on one thread until columns were allowed down to two tiles.
 */
const COLUMN_SPLIT_MIN_N = 2 * TILE_COLS;
/** Initial and maximum shared memory, in 64 KiB pages (the maximum is wasm32's 4 GiB). */
const INITIAL_PAGES = 16;
const MAXIMUM_PAGES = 65536;

/**
 * The window kernels' geometry arguments: n, c, h, w, kh, kw, strideH, strideW, padH,
 * padW, the four input strides, outH, outW.
 */
type WindowArgs = [
  n: number, c: number, h: number, w: number, kh: number, kw: number, strideH: number, strideW: number,
  padH: number, padW: number, sN: number, sC: number, sY: number, sX: number, outH: number, outW: number,
];

function windowArgs(p: WindowParams, outH: number, outW: number): WindowArgs {
  const [sN, sC, sY, sX] = p.inStrides;
  return [p.n, p.c, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, sN, sC, sY, sX, outH, outW];
}

/** The exports of the kernel module (see core/cpu/assembly/index.ts). */
interface KernelExports {
  heapBase(): number;
  MATMUL_SCRATCH_FLOATS: WebAssembly.Global;
  unary(op: number, x: number, out: number, n: number, p: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, meta: number, p: number): void;
  fill(out: number, n: number, value: number): void;
  reduce(op: number, x: number, out: number, outer: number, size: number, inner: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  softmaxXent(x: number, labels: number, loss: number, grad: number, rows: number, cols: number): void;
  matmul(...args: MatmulArgs): void;
  maddProbe(a: number, b: number, c: number): number;
  im2col(x: number, cols: number, ...geometry: WindowArgs): void;
  col2im(cols: number, x: number, ...geometry: WindowArgs): void;
  sgd(
    p: number, g: number, buf: number, n: number, lr: number, momentum: number,
    oneMinusDampening: number, wd: number, nesterov: number, firstStep: number,
  ): void;
  adam(
    p: number, g: number, m: number, v: number, n: number, coupledDecay: number, decoupledFactor: number,
    oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, stepSize: number, bias2Sqrt: number,
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

export interface CpuBackendOptions {
  /** Starts the helper thread for large products; without it the backend uses one thread. */
  spawnWorker?: KernelWorkerSpawner;
  /** `relaxed`: the kernels built with relaxed SIMD (FMA), on both threads; default `strict`. */
  math?: MathMode;
}

/**
 * The relaxed kernels' bytes, or one line saying why this runtime cannot run them: an
 * engine without relaxed SIMD rejects the whole module, so validating it is the check.
 */
function relaxedKernels(): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(KERNELS_RELAXED_WASM_BASE64);
  if (!WebAssembly.validate(bytes)) {
    throw new RidgelineError('E_BACKEND', "math 'relaxed': this runtime's WebAssembly has no relaxed SIMD (Node 20 has it only behind a flag): run under Deno or Bun, start node with --experimental-wasm-relaxed-simd (not allowed in NODE_OPTIONS), or use --math strict");
  }
  return bytes;
}

/**
 * Instantiates the kernel module on a fresh shared memory (async: browsers refuse large
 * synchronous compiles) and, when a spawner is given, starts the helper thread.
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<CpuBackend> {
  const math = options.math ?? 'strict';
  // The helper thread gets this same module, so both threads compute with the same arithmetic.
  const module = await WebAssembly.compile(math === 'relaxed' ? relaxedKernels() : decodeBase64(KERNELS_WASM_BASE64));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  } catch (e) {
    throw new RidgelineError('E_BACKEND', `cpu: shared WebAssembly memory is unavailable here (a browser page needs cross-origin isolation): ${e}`);
  }
  const instance = await WebAssembly.instantiate(module, imports(memory));
  const backend = new CpuBackend(instance.exports as unknown as KernelExports, memory, math);
  if (options.spawnWorker) {
    const control = backend.allocControl();
    backend.attachWorker(await options.spawnWorker({ module, memory, control }), control);
  }
  return backend;
}

/** Kernel calls arrive checked (`CheckedBackend`): extents fit, op codes valid, aliasing allowed. */
export class CpuBackend extends CheckedBackend {
  readonly kind = 'cpu' as const;
  private readonly heap: WasmHeap;
  private readonly meta: number;
  private readonly scratch: number;
  private reservedBytes: number;
  private worker: { terminate(): void } | null = null;
  private control: Int32Array | null = null;
  private workerScratch = 0;

  constructor(private readonly k: KernelExports, private readonly memory: WebAssembly.Memory, readonly math: MathMode = 'strict') {
    super();
    this.heap = new WasmHeap(memory, k.heapBase());
    this.meta = this.heap.alloc(4 * 4 * MAX_RANK);
    this.scratch = this.heap.alloc(this.scratchBytes);
    this.reservedBytes = this.heap.live;
  }

  private get scratchBytes(): number {
    return 4 * (this.k.MATMUL_SCRATCH_FLOATS.value as number);
  }

  get description(): string {
    const relaxed = this.math !== 'relaxed' ? ''
      : this.fusesMultiplyAdd ? ', relaxed math (fused multiply-add)' : ', relaxed math (not fused by this engine: strict\'s results)';
    return `WebAssembly SIMD128 (AssemblyScript), ${this.threads} thread${this.threads > 1 ? 's' : ''}${relaxed}`;
  }

  /**
   * Whether the kernels' multiply-add rounds once. Only a relaxed module can, and only on an
   * engine and machine with FMA: (1 + 2⁻²³)(1 − 2⁻²³) − 1 is −2⁻⁴⁶ fused, 0 rounded twice.
   */
  get fusesMultiplyAdd(): boolean {
    return this.k.maddProbe(1 + 2 ** -23, 1 - 2 ** -23, -1) !== 0;
  }

  /** Threads used for large matrix products. */
  get threads(): number {
    return this.worker ? 2 : 1;
  }

  /** @internal The control block and scratch of a helper thread, before it starts. */
  allocControl(): number {
    this.workerScratch = this.heap.alloc(this.scratchBytes);
    const control = this.heap.alloc(4 * CONTROL_INTS);
    new Int32Array(this.memory.buffer, control, CONTROL_INTS).fill(0);
    this.reservedBytes = this.heap.live;
    return control;
  }

  /** @internal */
  attachWorker(worker: { terminate(): void }, control: number): void {
    this.worker = worker;
    this.control = new Int32Array(this.memory.buffer, control, CONTROL_INTS);
  }

  /** Stops the helper thread, if any; the backend goes on with one thread. */
  close(): void {
    this.worker?.terminate();
    this.worker = null;
    this.control = null;
  }

  /** Bytes currently allocated to live buffers (tests use it to find leaks). */
  get liveBytes(): number {
    return this.heap.live - this.reservedBytes;
  }

  /** The most bytes live buffers held at once since the last `resetPeak()`. */
  get peakLiveBytes(): number {
    return this.heap.peak - this.reservedBytes;
  }

  resetPeak(): void {
    this.heap.resetPeak();
  }

  private ptr(buf: Buf, role: string): number {
    if (!(buf instanceof CpuBuf)) argError(`cpu.${role}`, 'buffer does not belong to the CPU backend');
    if (buf.freed) throw new RidgelineError('E_STATE', `cpu.${role}: buffer used after free`);
    return buf.ptr;
  }

  override alloc(length: number): CpuBuf {
    return super.alloc(length) as CpuBuf;
  }

  protected runAlloc(length: number): CpuBuf {
    return new CpuBuf(this.heap.alloc(4 * length), length);
  }

  free(buf: Buf): void {
    const ptr = this.ptr(buf, 'free');
    (buf as CpuBuf).freed = true;
    this.heap.free(ptr, 4 * buf.length);
  }

  /** A live view of the buffer (invalid after the next allocation may grow memory). */
  view(buf: Buf): Float32Array {
    return new Float32Array(this.memory.buffer, this.ptr(buf, 'view'), buf.length);
  }

  protected runUpload(buf: Buf, data: Float32Array, offset: number): void {
    this.view(buf).set(data, offset);
  }

  /** Synchronous read; the CPU backend has no queue to wait for. */
  read(buf: Buf): Float32Array {
    return this.view(buf).slice();
  }

  download(buf: Buf): Promise<Float32Array> {
    return Promise.resolve(this.read(buf));
  }

  protected runFill(out: Buf, value: number, length: number): void {
    this.k.fill(this.ptr(out, 'fill'), length, value);
  }

  protected runCopy(src: Buf, dst: Buf, length: number, srcOffset: number, dstOffset: number): void {
    const bytes = new Uint8Array(this.memory.buffer);
    const from = this.ptr(src, 'copy') + 4 * srcOffset;
    bytes.copyWithin(this.ptr(dst, 'copy') + 4 * dstOffset, from, from + 4 * length);
  }

  protected runMatmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    const args: MatmulArgs = [
      this.ptr(a, 'matmul'), this.ptr(b, 'matmul'), this.ptr(out, 'matmul'), p.batch, p.m, p.n, p.k,
      p.transA ? 1 : 0, p.transB ? 1 : 0, p.strideA ?? p.m * p.k, p.strideB ?? p.k * p.n, 0, p.m, 0, p.n, this.scratch,
    ];
    const ctl = this.control;
    const byColumns = p.n >= COLUMN_SPLIT_MIN_N && p.n > p.m;
    if (!ctl || (!byColumns && p.m < 2 * TILE_ROWS) || p.batch * p.m * p.n * p.k < THREADED_MIN_MACS) {
      this.k.matmul(...args);
      return;
    }
    // The helper takes rows (or columns) [split, end), this thread [0, split).
    const [lo, hi, tile] = byColumns
      ? [MATMUL_ARG.colStart, MATMUL_ARG.colEnd, TILE_COLS] : [MATMUL_ARG.rowStart, MATMUL_ARG.rowEnd, TILE_ROWS];
    const split = Math.ceil(args[hi] / 2 / tile) * tile;
    const helper = args.slice() as MatmulArgs;
    helper[lo] = split;
    helper[MATMUL_ARG.scratch] = this.workerScratch;
    ctl.set(helper, 1);
    Atomics.store(ctl, 0, ThreadState.Work);
    Atomics.notify(ctl, 0);
    args[hi] = split;
    this.k.matmul(...args);
    while (Atomics.load(ctl, 0) === ThreadState.Work) Atomics.wait(ctl, 0, ThreadState.Work);
    const state = Atomics.load(ctl, 0);
    Atomics.store(ctl, 0, ThreadState.Idle);
    if (state !== ThreadState.Done) throw new RidgelineError('E_BACKEND', 'cpu: the helper thread failed in matmul');
  }

  protected runUnary(code: number, op: UnaryOp, x: Buf, out: Buf, length: number, param: number): void {
    this.k.unary(code, this.ptr(x, op), this.ptr(out, op), length, param);
  }

  protected runBinary(code: number, op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void {
    const rank = p.shape.length;
    const meta = new Int32Array(this.memory.buffer, this.meta, 4 * MAX_RANK);
    meta.set(p.shape, 0);
    meta.set(p.aStrides, rank);
    meta.set(p.bStrides, 2 * rank);
    this.k.binary(code, this.ptr(a, op), this.ptr(b, op), this.ptr(out, op), rank, this.meta, p.param ?? 0);
  }

  protected runReduce(code: number, _op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    this.k.reduce(code, this.ptr(x, 'reduce'), this.ptr(out, 'reduce'), p.outer, p.size, p.inner);
  }

  protected runSoftmax(x: Buf, out: Buf, rows: number, cols: number): void {
    this.k.softmax(this.ptr(x, 'softmax'), this.ptr(out, 'softmax'), rows, cols);
  }

  protected runSoftmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    this.k.softmaxXent(
      this.ptr(logits, 'softmaxXent'), this.ptr(labels, 'softmaxXent'), this.ptr(loss, 'softmaxXent'),
      this.ptr(grad, 'softmaxXent'), rows, cols,
    );
  }

  protected runIm2col(x: Buf, cols: Buf, p: WindowParams, outH: number, outW: number): void {
    this.k.im2col(this.ptr(x, 'im2col'), this.ptr(cols, 'im2col'), ...windowArgs(p, outH, outW));
  }

  protected runCol2im(cols: Buf, x: Buf, p: WindowParams, outH: number, outW: number): void {
    this.k.col2im(this.ptr(cols, 'col2im'), this.ptr(x, 'col2im'), ...windowArgs(p, outH, outW));
  }

  protected runSgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    const s = sgdScalars(p);
    this.k.sgd(
      this.ptr(param, 'sgd'), this.ptr(grad, 'sgd'), this.ptr(momentum, 'sgd'), length, s.lr, s.momentum,
      s.oneMinusDampening, s.weightDecay, p.nesterov ? 1 : 0, p.firstStep ? 1 : 0,
    );
  }

  protected runAdam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    const s = adamScalars(p);
    this.k.adam(
      this.ptr(param, 'adam'), this.ptr(grad, 'adam'), this.ptr(m, 'adam'), this.ptr(v, 'adam'), length,
      s.coupledDecay, s.decoupledFactor, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.stepSize, s.bias2Sqrt,
    );
  }
}
