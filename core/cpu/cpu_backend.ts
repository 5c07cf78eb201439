/**
 * The CPU backend: the AssemblyScript kernels of `core/cpu/assembly`, compiled to a
 * WebAssembly module with 128-bit SIMD and embedded into the bundle by the build (so no
 * runtime reads a file), driven through the Backend interface. The same sources give a
 * second module with relaxed SIMD (fused multiply-add), used only under `math: 'relaxed'`.
 */
import type {
  AdamParams,
  BinaryOp,
  BroadcastParams,
  Buf,
  MatmulParams,
  ReduceOp,
  ReduceParams,
  SgdParams,
  UnaryOp,
  WindowParams,
} from '../backend.ts';
import { MAX_RANK } from '../backend.ts';
import { CheckedBackend } from '../backend_contract.ts';
import { adamScalars, sgdScalars } from '../optim_scalars.ts';
import { argError, RidgelineError } from '../errors.ts';
import type { MathMode } from '../math_mode.ts';
import { KERNELS_WASM_BASE64 } from './kernels_wasm.gen.ts';
import { KERNELS_RELAXED_WASM_BASE64 } from './kernels_relaxed_wasm.gen.ts';
import { CONTROL_BYTES, imports, KernelThread, type KernelWorkerSpawner, type SharedKernel } from './kernel_threads.ts';
import { WasmHeap } from './wasm_heap.ts';
import { type CallEntry, CallLog, type CallRecorder, type OptimizerStep } from '../call_log.ts';

/**
 * Products below this many multiply-adds stay on one thread: handing the helper its share
 * and waiting for it costs a few microseconds while it polls (kernel_threads.ts), tens
 * when it sleeps. mlp-2's three 10-wide products (655k multiply-adds, ~60 µs on one
 * thread) took 0.60–0.75× the time in training steps on two (2026-12-04, bench/profile.ts,
 * against 2^20 before).
 */
const THREADED_MIN_MACS = 2 ** 18;
/**
 * Memory-bound kernels (elementwise, reductions, window copies, optimizer updates) with
 * fewer output elements than this stay on one thread, for the same reason: 2^15 floats
 * take ~10 µs to stream.
 */
const THREADED_MIN_ELEMENTS = 2 ** 15;
/** The kernel's register tile: splits on these boundaries keep tiles full. */
const TILE_ROWS = 4;
const TILE_COLS = 8;
/** Element ranges split on whole v128 vectors, so both shares keep the SIMD loop. */
const LANES = 4;
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
/**
 * ... unless B is small (k×n floats below this) and there are rows enough to split: both
 * threads copying B then costs little, and a row split leaves each thread's share of C
 * contiguous, as the next elementwise kernel splits it (mlp-2's 128×10·10×512 input
 * gradient).
 */
const COLUMN_SPLIT_MIN_B = 2 ** 16;
/**
 * Batched products of at least this many items are split by items: each thread computes
 * whole items, so neither copies the other's B and no item's rows are cut into an uneven
 * pair of tile rows. vit-lite's attention products (1024 items of 50×48·48×50 and the like)
 * split by rows packed every item's B twice and cut 50 rows into 28 + 22.
 */
const BATCH_SPLIT_MIN_ITEMS = 4;
/** Initial and maximum shared memory, in 64 KiB pages (the maximum is wasm32's 4 GiB). */
const INITIAL_PAGES = 16;
const NO_META = new Uint8Array(0);
/** Bytes of a broadcast meta block: shape, then A's and B's strides, up to MAX_RANK each (4 rows). */
const META_BYTES = 4 * 4 * MAX_RANK;
const MAXIMUM_PAGES = 65536;

/**
 * The window kernels' geometry arguments: n, c, h, w, kh, kw, strideH, strideW, padH,
 * padW, the four input strides, outH, outW.
 */
type WindowArgs = [
  n: number,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  strideH: number,
  strideW: number,
  padH: number,
  padW: number,
  sN: number,
  sC: number,
  sY: number,
  sX: number,
  outH: number,
  outW: number,
];

function windowArgs(p: WindowParams, outH: number, outW: number): WindowArgs {
  const [sN, sC, sY, sX] = p.inStrides;
  return [p.n, p.c, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, sN, sC, sY, sX, outH, outW];
}

/** im2col(x, cols, …geometry, channelsLast) and col2im(cols, x, …geometry, channelsLast). */
type WindowKernelArgs = [number, number, ...WindowArgs, number];
/** avgPool(x, out, …geometry, scale) and avgPoolGrad(g, dx, …geometry, scale). */
type PoolKernelArgs = [number, number, ...WindowArgs, number];
/** The kernels that sweep windows over whole images, each image on its own. */
type ImageKernel = 'im2col' | 'col2im' | 'avgPool' | 'avgPoolGrad';

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
  matmul(
    a: number,
    b: number,
    c: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    strideA: number,
    strideB: number,
    rowStart: number,
    rowEnd: number,
    colStart: number,
    colEnd: number,
    scratch: number,
    bias: number,
  ): void;
  maddProbe(a: number, b: number, c: number): number;
  im2col(...args: WindowKernelArgs): void;
  col2im(...args: WindowKernelArgs): void;
  avgPool(...args: PoolKernelArgs): void;
  avgPoolGrad(...args: PoolKernelArgs): void;
  sgd(
    p: number,
    g: number,
    buf: number,
    n: number,
    lr: number,
    momentum: number,
    oneMinusDampening: number,
    wd: number,
    nesterov: number,
    firstStep: number,
  ): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    coupledDecay: number,
    decoupledFactor: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    eps: number,
    stepSize: number,
    bias2Sqrt: number,
  ): void;
}

type MatmulArgs = Parameters<KernelExports['matmul']>;
/** Positions in {@link MatmulArgs} of the ranges a thread computes, and of its scratch. */
const MATMUL_ARG = {
  a: 0,
  b: 1,
  c: 2,
  batch: 3,
  strideA: 9,
  strideB: 10,
  rowStart: 11,
  rowEnd: 12,
  colStart: 13,
  colEnd: 14,
  scratch: 15,
} as const;

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
    throw new RidgelineError(
      'E_BACKEND',
      "math 'relaxed': this runtime's WebAssembly has no relaxed SIMD (Node 20 has it only behind a flag): run under Deno or Bun, start node with --experimental-wasm-relaxed-simd (not allowed in NODE_OPTIONS), or use --math strict",
    );
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
    throw new RidgelineError(
      'E_BACKEND',
      `cpu: shared WebAssembly memory is unavailable here (a browser page needs cross-origin isolation): ${e}`,
    );
  }
  const instance = await WebAssembly.instantiate(module, imports(memory));
  const backend = new CpuBackend(instance.exports as unknown as KernelExports, memory, math);
  if (options.spawnWorker) {
    const control = backend.allocControl();
    backend.attachWorker(await options.spawnWorker({ module, memory, control }), control);
  }
  return backend;
}

/** Calls being recorded (`recordCalls`): the log so far, the inputs, and why it cannot be replayed. */
interface Recording {
  entries: CallEntry[];
  inputs: readonly Float32Array[];
  /** The optimizer parameters the recorded step declared (call_log.ts). */
  step: OptimizerStep | undefined;
  problem: string | null;
}

/** The leading arguments of the optimizer kernels (pointers, count) before their scalars. */
const SGD_SCALARS_FROM = 4;
const ADAM_SCALARS_FROM = 5;

/** The sgd kernel's scalar arguments, in its order. */
function sgdScalarArgs(p: SgdParams): number[] {
  const sc = sgdScalars(p);
  return [sc.lr, sc.momentum, sc.oneMinusDampening, sc.weightDecay, p.nesterov ? 1 : 0, p.firstStep ? 1 : 0];
}

/** The adam kernel's scalar arguments, in its order. */
function adamScalarArgs(p: AdamParams): number[] {
  const sc = adamScalars(p);
  return [sc.coupledDecay, sc.decoupledFactor, sc.oneMinusBeta1, sc.beta2, sc.oneMinusBeta2, sc.eps, sc.stepSize, sc.bias2Sqrt];
}

const sameArgs = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Kernel calls arrive checked (`CheckedBackend`): extents fit, op codes valid, aliasing allowed. */
export class CpuBackend extends CheckedBackend implements CallRecorder {
  readonly kind = 'cpu' as const;
  private readonly heap: WasmHeap;
  private readonly meta: number;
  private readonly scratch: number;
  private reservedBytes: number;
  private worker: { terminate(): void } | null = null;
  private helper: KernelThread | null = null;
  /** The helper thread's own matmul scratch and broadcast meta block. */
  private helperScratch = 0;
  private helperMeta = 0;
  /** @internal Calls split in two shares, by kernel (tests check that sharing happens). */
  readonly sharedCalls = new Map<SharedKernel, number>();
  private recording: Recording | null = null;

  constructor(private readonly k: KernelExports, private readonly memory: WebAssembly.Memory, readonly math: MathMode = 'strict') {
    super();
    this.heap = new WasmHeap(memory, k.heapBase());
    this.meta = this.heap.alloc(META_BYTES);
    this.scratch = this.heap.alloc(this.scratchBytes);
    this.reservedBytes = this.heap.live;
  }

  private get scratchBytes(): number {
    return 4 * (this.k.MATMUL_SCRATCH_FLOATS.value as number);
  }

  get description(): string {
    const relaxed = this.math !== 'relaxed'
      ? ''
      : this.fusesMultiplyAdd
      ? ', relaxed math (fused multiply-add)'
      : ", relaxed math (not fused by this engine: strict's results)";
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
    this.helperScratch = this.heap.alloc(this.scratchBytes);
    this.helperMeta = this.heap.alloc(META_BYTES);
    const control = this.heap.alloc(CONTROL_BYTES);
    // Zeroed (state Idle) before the helper starts reading it.
    new Uint8Array(this.memory.buffer, control, CONTROL_BYTES).fill(0);
    this.reservedBytes = this.heap.live;
    return control;
  }

  /** @internal */
  attachWorker(worker: { terminate(): void }, control: number): void {
    this.worker = worker;
    this.helper = new KernelThread(this.memory, control);
  }

  /** Stops the helper thread, if any; the backend goes on with one thread. */
  close(): void {
    this.worker?.terminate();
    this.worker = null;
    this.helper = null;
  }

  /**
   * Runs `kernel(...mine)` here while the helper runs `kernel(...theirs)`, when there is a
   * helper and the work is worth sharing; otherwise `kernel(...whole)` here alone.
   */
  private shared<K extends SharedKernel>(
    kernel: K,
    whole: Parameters<KernelExports[K]>,
    split: (() => [Parameters<KernelExports[K]>, Parameters<KernelExports[K]>]) | null,
    stepScalarsFrom?: number,
  ): void {
    const run = this.k[kernel] as (...args: number[]) => void;
    const helper = this.helper;
    if (!helper || !split) {
      this.recording?.entries.push({
        kind: 'kernel',
        name: kernel,
        mine: whole,
        theirs: null,
        meta: this.metaBlocks(kernel),
        stepScalarsFrom,
      });
      run(...whole);
      return;
    }
    const [mine, theirs] = split();
    this.recording?.entries.push({ kind: 'kernel', name: kernel, mine, theirs, meta: this.metaBlocks(kernel), stepScalarsFrom });
    this.sharedCalls.set(kernel, (this.sharedCalls.get(kernel) ?? 0) + 1);
    helper.post(kernel, theirs);
    let outcome: ReturnType<KernelThread['finish']> = 'failed';
    try {
      run(...mine);
    } finally {
      outcome = helper.finish();
    }
    if (outcome === 'stolen') run(...theirs);
    else if (outcome === 'failed') throw new RidgelineError('E_BACKEND', `cpu: the helper thread failed in ${kernel}`);
  }

  /**
   * The broadcast meta blocks (this thread's, then the helper's) as `kernel` is about to read
   * them: only `binary` reads them, so other kernels record none (what an earlier call left
   * there is not part of theirs).
   */
  private metaBlocks(kernel: SharedKernel): Uint8Array {
    if (kernel !== 'binary') return NO_META;
    const bytes = new Uint8Array(this.memory.buffer);
    const n = META_BYTES;
    const out = new Uint8Array(this.helper ? 2 * n : n);
    out.set(bytes.subarray(this.meta, this.meta + n));
    if (this.helper) out.set(bytes.subarray(this.helperMeta, this.helperMeta + n), n);
    return out;
  }

  get layoutVersion(): number {
    return this.heap.version;
  }

  recordCalls<T>(
    fn: () => T,
    inputs: readonly Float32Array[],
    step?: OptimizerStep,
  ): { result: T; log: CallLog | null; problem: string | null } {
    if (this.recording) throw new RidgelineError('E_STATE', 'cpu.recordCalls: already recording');
    const live = this.heap.live;
    const recording: Recording = { entries: [], inputs, step, problem: null };
    this.recording = recording;
    let result: T;
    try {
      result = fn();
    } finally {
      this.recording = null;
    }
    // A block the function keeps would be handed out again at another address next time.
    const kept = this.heap.live - live;
    const problem = recording.problem ?? (kept !== 0 ? `it keeps ${kept} bytes allocated` : null);
    return { result, log: problem === null ? new CallLog(recording.entries) : null, problem };
  }

  replayCalls(
    log: CallLog,
    inputs: readonly Float32Array[],
    step?: OptimizerStep,
    observe?: (entry: number, ms: number) => void,
  ): void {
    // The replaced scalars of this step's optimizer kernels (one sgd or adam kind per step).
    const scalars = step === undefined ? null : step.kind === 'sgd' ? sgdScalarArgs(step.params) : adamScalarArgs(step.params);
    const entries = log.entries;
    if (!observe) {
      for (const e of entries) this.replayEntry(e, inputs, step, scalars);
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const t0 = performance.now();
      this.replayEntry(entries[i], inputs, step, scalars);
      observe(i, performance.now() - t0);
    }
  }

  private replayEntry(e: CallEntry, inputs: readonly Float32Array[], step: OptimizerStep | undefined, scalars: number[] | null): void {
    switch (e.kind) {
      case 'kernel': {
        if (e.theirs !== null && !this.helper) {
          throw new RidgelineError('E_STATE', 'cpu.replayCalls: the calls were recorded with the helper thread, which has stopped');
        }
        const bytes = new Uint8Array(this.memory.buffer);
        bytes.set(e.meta.subarray(0, META_BYTES), this.meta);
        if (e.meta.length > META_BYTES) bytes.set(e.meta.subarray(META_BYTES), this.helperMeta);
        let [mine, theirs] = [e.mine, e.theirs];
        if (e.stepScalarsFrom !== undefined) {
          if (scalars === null || step?.kind !== e.name) {
            throw new RidgelineError('E_STATE', `cpu.replayCalls: the recorded ${e.name} call needs the step's ${e.name} parameters`);
          }
          const at = e.stepScalarsFrom;
          mine = [...mine.slice(0, at), ...scalars];
          theirs = theirs === null ? null : [...theirs.slice(0, at), ...scalars];
        }
        this.shared(e.name as SharedKernel, mine as never, theirs === null ? null : () => [mine, theirs] as never);
        break;
      }
      case 'fill':
        this.k.fill(...(e.args as [number, number, number]));
        break;
      case 'input': {
        const data = inputs[e.input];
        if (data?.length !== e.length) {
          argError('cpu.replayCalls', `input ${e.input} has ${data?.length ?? 0} values; the recorded calls uploaded ${e.length}`);
        }
        new Float32Array(this.memory.buffer, e.ptr, e.length).set(data);
        break;
      }
      case 'upload':
        new Uint8Array(this.memory.buffer).set(e.bytes, e.ptr);
        break;
      case 'copy':
        new Uint8Array(this.memory.buffer).copyWithin(e.to, e.from, e.from + e.bytes);
        break;
    }
  }

  /** Splits [0, n) at a multiple of `unit` near its middle. */
  private static half(n: number, unit: number): number {
    return Math.ceil(n / 2 / unit) * unit;
  }

  /** Bytes currently allocated to live buffers (tests use it to find leaks). */
  get liveBytes(): number {
    return this.heap.live - this.reservedBytes;
  }

  /** Allocations not served by a freed buffer of the same size, since the backend was made. */
  get freshAllocations(): number {
    return this.heap.fresh;
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
    if (this.recording) {
      const ptr = this.ptr(buf, 'upload') + 4 * offset;
      const input = this.recording.inputs.indexOf(data);
      this.recording.entries.push(
        input >= 0
          ? { kind: 'input', input, ptr, length: data.length }
          : { kind: 'upload', ptr, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() },
      );
    }
    this.view(buf).set(data, offset);
  }

  /** Synchronous read; the CPU backend has no queue to wait for. */
  read(buf: Buf): Float32Array {
    // What the function does next may depend on the value: its calls cannot stand for it.
    if (this.recording) this.recording.problem ??= 'it reads a buffer back';
    return this.view(buf).slice();
  }

  download(buf: Buf): Promise<Float32Array> {
    return Promise.resolve(this.read(buf));
  }

  protected runFill(out: Buf, value: number, length: number): void {
    const args = [this.ptr(out, 'fill'), length, value] as const;
    this.recording?.entries.push({ kind: 'fill', args });
    this.k.fill(...args);
  }

  protected runCopy(src: Buf, dst: Buf, length: number, srcOffset: number, dstOffset: number): void {
    const bytes = new Uint8Array(this.memory.buffer);
    const from = this.ptr(src, 'copy') + 4 * srcOffset;
    const to = this.ptr(dst, 'copy') + 4 * dstOffset;
    this.recording?.entries.push({ kind: 'copy', from, to, bytes: 4 * length });
    bytes.copyWithin(to, from, from + 4 * length);
  }

  protected runMatmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    const whole: MatmulArgs = [
      this.ptr(a, 'matmul'),
      this.ptr(b, 'matmul'),
      this.ptr(out, 'matmul'),
      p.batch,
      p.m,
      p.n,
      p.k,
      p.transA ? 1 : 0,
      p.transB ? 1 : 0,
      p.strideA ?? p.m * p.k,
      p.strideB ?? p.k * p.n,
      0,
      p.m,
      0,
      p.n,
      this.scratch,
      p.bias ? this.ptr(p.bias, 'matmul') : 0,
    ];
    const byItems = p.batch >= BATCH_SPLIT_MIN_ITEMS;
    const byColumns = p.n >= COLUMN_SPLIT_MIN_N && p.n > p.m && (p.k * p.n >= COLUMN_SPLIT_MIN_B || p.m < 2 * TILE_ROWS);
    const worth = (byItems || byColumns || p.m >= 2 * TILE_ROWS) && p.batch * p.m * p.n * p.k >= THREADED_MIN_MACS;
    this.shared(
      'matmul',
      whole,
      worth
        ? () => {
          const mine = whole.slice() as MatmulArgs;
          const theirs = whole.slice() as MatmulArgs;
          theirs[MATMUL_ARG.scratch] = this.helperScratch;
          if (byItems) {
            // The helper takes items [split, batch), this thread [0, split).
            const split = p.batch >> 1;
            mine[MATMUL_ARG.batch] = split;
            theirs[MATMUL_ARG.batch] = p.batch - split;
            theirs[MATMUL_ARG.a] += 4 * split * whole[MATMUL_ARG.strideA];
            theirs[MATMUL_ARG.b] += 4 * split * whole[MATMUL_ARG.strideB];
            theirs[MATMUL_ARG.c] += 4 * split * p.m * p.n;
            return [mine, theirs];
          }
          // The helper takes rows (or columns) [split, end), this thread [0, split).
          const [lo, hi, tile] = byColumns
            ? [MATMUL_ARG.colStart, MATMUL_ARG.colEnd, TILE_COLS]
            : [MATMUL_ARG.rowStart, MATMUL_ARG.rowEnd, TILE_ROWS];
          const split = CpuBackend.half(whole[hi], tile);
          mine[hi] = split;
          theirs[lo] = split;
          return [mine, theirs];
        }
        : null,
    );
  }

  /** The kernel adds the bias in its last store (core/cpu/assembly/matmul.ts). */
  protected override runMatmulBias(a: Buf, b: Buf, out: Buf, p: MatmulParams & { bias: Buf }): void {
    this.runMatmul(a, b, out, p);
  }

  protected runUnary(code: number, op: UnaryOp, x: Buf, out: Buf, length: number, param: number): void {
    const [xp, outp] = [this.ptr(x, op), this.ptr(out, op)];
    const args = (at: number, n: number): Parameters<KernelExports['unary']> => [code, xp + at, outp + at, n, param];
    this.shared('unary', args(0, length), this.elementSplit(length, args));
  }

  protected runBinary(code: number, op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams): void {
    const rank = p.shape.length;
    const [ap, bp, outp, param] = [this.ptr(a, op), this.ptr(b, op), this.ptr(out, op), p.param ?? 0];
    const writeMeta = (at: number, shape: readonly number[]) => {
      const meta = new Int32Array(this.memory.buffer, at, 4 * MAX_RANK);
      meta.set(shape, 0);
      meta.set(p.aStrides, rank);
      meta.set(p.bStrides, 2 * rank);
    };
    writeMeta(this.meta, p.shape);
    // The output is dense: split its outermost dimension longer than 1 (those before it
    // have extent 1); each share is a broadcast of its own, with its own meta block.
    const d = p.shape.findIndex((e) => e > 1);
    const size = p.shape.reduce((x, e) => x * e, 1);
    this.shared(
      'binary',
      [code, ap, bp, outp, rank, this.meta, param],
      d < 0 || size < THREADED_MIN_ELEMENTS ? null : () => {
        const s = CpuBackend.half(p.shape[d], d === rank - 1 ? LANES : 1);
        const inner = size / p.shape[d];
        const mine = p.shape.slice();
        const theirs = p.shape.slice();
        mine[d] = s;
        theirs[d] -= s;
        writeMeta(this.meta, mine);
        writeMeta(this.helperMeta, theirs);
        return [
          [code, ap, bp, outp, rank, this.meta, param],
          [code, ap + 4 * s * p.aStrides[d], bp + 4 * s * p.bStrides[d], outp + 4 * s * inner, rank, this.helperMeta, param],
        ];
      },
    );
  }

  protected runReduce(code: number, _op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    const [xp, outp, { outer, size, inner }] = [this.ptr(x, 'reduce'), this.ptr(out, 'reduce'), p];
    const worth = outer > 1 && outer * size * inner >= THREADED_MIN_ELEMENTS;
    this.shared(
      'reduce',
      [code, xp, outp, outer, size, inner],
      worth
        ? () => {
          const s = CpuBackend.half(outer, 1);
          return [[code, xp, outp, s, size, inner], [code, xp + 4 * s * size * inner, outp + 4 * s * inner, outer - s, size, inner]];
        }
        : null,
    );
  }

  protected runSoftmax(x: Buf, out: Buf, rows: number, cols: number): void {
    const [xp, outp] = [this.ptr(x, 'softmax'), this.ptr(out, 'softmax')];
    this.shared(
      'softmax',
      [xp, outp, rows, cols],
      !this.rowsWorthSharing(rows, cols) ? null : () => {
        const s = CpuBackend.half(rows, 1);
        return [[xp, outp, s, cols], [xp + 4 * s * cols, outp + 4 * s * cols, rows - s, cols]];
      },
    );
  }

  protected runSoftmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    const ptrs = [logits, labels, loss, grad].map((buf) => this.ptr(buf, 'softmaxXent'));
    const [xp, lp, lossp, gp] = ptrs;
    this.shared(
      'softmaxXent',
      [xp, lp, lossp, gp, rows, cols],
      !this.rowsWorthSharing(rows, cols) ? null : () => {
        const s = CpuBackend.half(rows, 1);
        return [
          [xp, lp, lossp, gp, s, cols],
          [xp + 4 * s * cols, lp + 4 * s, lossp + 4 * s, gp + 4 * s * cols, rows - s, cols],
        ];
      },
    );
  }

  /** Row-wise kernels (softmax) cost an exp per element: shared from fewer elements. */
  private rowsWorthSharing(rows: number, cols: number): boolean {
    return rows > 1 && rows * cols >= THREADED_MIN_ELEMENTS / 4;
  }

  protected runIm2col(x: Buf, cols: Buf, p: WindowParams, outH: number, outW: number): void {
    const colsPerImage = outH * outW * p.c * p.kh * p.kw;
    this.imageKernel('im2col', this.ptr(x, 'im2col'), this.ptr(cols, 'im2col'), colsPerImage, colsPerImage, p, outH, outW);
  }

  protected runCol2im(cols: Buf, x: Buf, p: WindowParams, outH: number, outW: number): void {
    const colsPerImage = outH * outW * p.c * p.kh * p.kw;
    this.imageKernel('col2im', this.ptr(x, 'col2im'), this.ptr(cols, 'col2im'), colsPerImage, colsPerImage, p, outH, outW);
  }

  // The fused kernels (core/cpu/assembly/pool.ts) give the bits of CheckedBackend's
  // composition, which the WebGPU backend runs.
  // Pooling moves each image whole, one value per window and channel on the other side:
  // the image's size decides whether sharing is worth it.
  protected override runAvgPool(x: Buf, out: Buf, p: WindowParams, outH: number, outW: number): void {
    const pooledPerImage = outH * outW * p.c;
    this.imageKernel('avgPool', this.ptr(x, 'avgPool'), this.ptr(out, 'avgPool'), pooledPerImage, p.c * p.h * p.w, p, outH, outW);
  }

  protected override runAvgPoolGrad(g: Buf, dx: Buf, p: WindowParams, outH: number, outW: number): void {
    const pooledPerImage = outH * outW * p.c;
    this.imageKernel(
      'avgPoolGrad',
      this.ptr(dx, 'avgPoolGrad'),
      this.ptr(g, 'avgPoolGrad'),
      pooledPerImage,
      p.c * p.h * p.w,
      p,
      outH,
      outW,
    );
  }

  /**
   * The window kernels treat each image on its own, so the helper takes the images
   * [split, n). `image` points at the input side (x, or the dx / x being written), `windows`
   * at the window side (cols, out or g), which holds `windowsPerImage` values per image;
   * `workPerImage`, the elements moved per image, decides whether sharing is worth it. im2col and avgPool
   * take (image, windows, …), col2im and avgPoolGrad (windows, image, …); the pooling
   * kernels add the scale f32(1/(kh·kw)), rounded from the same double as unary('scale')'s.
   */
  private imageKernel(
    kernel: ImageKernel,
    image: number,
    windows: number,
    windowsPerImage: number,
    workPerImage: number,
    p: WindowParams,
    outH: number,
    outW: number,
  ): void {
    const readsImage = kernel === 'im2col' || kernel === 'avgPool';
    const pooling = kernel === 'avgPool' || kernel === 'avgPoolGrad';
    const args = (imageAt: number, windowsAt: number, images: number): WindowKernelArgs | PoolKernelArgs => {
      const geometry = windowArgs(p, outH, outW);
      geometry[0] = images;
      const [first, second] = readsImage ? [imageAt, windowsAt] : [windowsAt, imageAt];
      return [first, second, ...geometry, pooling ? 1 / (p.kh * p.kw) : p.channelsLast ? 1 : 0];
    };
    const worth = p.n > 1 && p.n * workPerImage >= THREADED_MIN_ELEMENTS;
    this.shared(
      kernel,
      args(image, windows, p.n),
      worth
        ? () => {
          const s = CpuBackend.half(p.n, 1);
          return [args(image, windows, s), args(image + 4 * s * p.inStrides[0], windows + 4 * s * windowsPerImage, p.n - s)];
        }
        : null,
    );
  }

  protected runSgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    const scalars = sgdScalarArgs(p);
    const [pp, gp, bp] = [this.ptr(param, 'sgd'), this.ptr(grad, 'sgd'), this.ptr(momentum, 'sgd')];
    const args = (at: number, n: number) => [pp + at, gp + at, bp + at, n, ...scalars] as Parameters<KernelExports['sgd']>;
    this.shared('sgd', args(0, length), this.elementSplit(length, args), this.stepScalarsFrom('sgd', scalars, SGD_SCALARS_FROM));
  }

  protected runAdam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    const scalars = adamScalarArgs(p);
    const [pp, gp, mp, vp] = [this.ptr(param, 'adam'), this.ptr(grad, 'adam'), this.ptr(m, 'adam'), this.ptr(v, 'adam')];
    const args = (at: number, n: number) => [pp + at, gp + at, mp + at, vp + at, n, ...scalars] as Parameters<KernelExports['adam']>;
    this.shared('adam', args(0, length), this.elementSplit(length, args), this.stepScalarsFrom('adam', scalars, ADAM_SCALARS_FROM));
  }

  /**
   * While recording, where an optimizer kernel's replaceable scalars start: only when they
   * are exactly those of the step's declared parameters, so that recomputing them from the
   * next step's parameters gives what that step would pass (call_log.ts).
   */
  private stepScalarsFrom(kernel: OptimizerStep['kind'], scalars: readonly number[], from: number): number | undefined {
    const step = this.recording?.step;
    if (step?.kind !== kernel) return undefined;
    const declared = step.kind === 'sgd' ? sgdScalarArgs(step.params) : adamScalarArgs(step.params);
    return sameArgs(declared, scalars) ? from : undefined;
  }

  /** For elementwise kernels given (byte offset, count): halves on a vector boundary. */
  private elementSplit<A>(length: number, args: (at: number, n: number) => A): (() => [A, A]) | null {
    if (length < THREADED_MIN_ELEMENTS) return null;
    const s = CpuBackend.half(length, LANES);
    return () => [args(0, s), args(4 * s, length - s)];
  }
}
