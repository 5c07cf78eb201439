/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: the WGSL kernels of wgsl/ behind the Backend interface.
 *
 * Kernel calls only record work (see recorder.ts); the only readback is `download`, which
 * copies into a staging buffer at call time — so the caller may free the buffer right
 * after calling it — then maps the copy. Buffers come from a pool (buffers.ts). Every
 * binding is checked against `maxStorageBufferBindingSize`: elementwise kernels (unary,
 * fill, SGD, Adam) walk over larger buffers in chunks, the others refuse with E_BACKEND.
 * Calls arrive checked (`CheckedBackend`): extents fit, op codes are valid, and an output
 * is an input only where `IN_PLACE` allows it (unary, binary, softmax). WebGPU forbids
 * binding one buffer both read-only and writable in a dispatch, so such an input is first
 * copied to a temporary buffer.
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
import { CheckedBackend } from '../backend_contract.ts';
import { adamScalars, sgdScalars } from '../optim_scalars.ts';
import { argError, RidgelineError } from '../errors.ts';
import { bufferBytes, BufferPool, GpuBuf, MAP_MODE_READ, USAGE } from './buffers.ts';
import {
  ADAM_PARAMS,
  BINARY_PARAMS,
  FILL_PARAMS,
  MATMUL_DIRECT_PARAMS,
  MATMUL_PARAMS,
  REDUCE_PARAMS,
  SGD_PARAMS,
  SOFTMAX_PARAMS,
  UNARY_PARAMS,
  WINDOW_PARAMS,
} from './kernel_params.ts';
import { type BoundRange, Recorder } from './recorder.ts';
import { type Constants, type KernelFamily, PipelineCache } from './shaders.ts';
import { chooseMatmul, chooseReduce, chooseSoftmax, type TileLimits } from './tiles.ts';

/** The device limits the backend works within. */
export interface WebGpuLimits extends TileLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface WebGpuBackendOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Caps below the device's own limits. Tests use them to reach the chunking, grid
   * splitting and size errors with small data; they also emulate a smaller device.
   */
  limitCaps?: Partial<Pick<WebGpuLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize' | 'maxComputeWorkgroupsPerDimension'>>;
  /** Bytes of freed buffers kept for reuse (default 256 MiB). */
  poolBytes?: number;
}

/** Threads per workgroup of the elementwise, optimizer, reduce and window kernels (wgsl WG). */
const WG = 256;
const DEFAULT_POOL_BYTES = 256 * 2 ** 20;
const STAGING_POOL_BYTES = 64 * 2 ** 20;

type Bind = [binding: number, buffer: GPUBuffer, startElem: number, elems: number];

export class WebGpuBackend extends CheckedBackend {
  readonly kind = 'webgpu' as const;
  /** WGSL has no opt-in relaxed mode here: `--math relaxed` asks for the CPU backend (select_backend.ts). */
  readonly math = 'strict' as const;
  /** The adapter's vendor, architecture and description. */
  readonly description: string;
  readonly limits: WebGpuLimits;
  /** Resolves with the reason when the device is lost (or destroyed). */
  readonly lost: Promise<string>;
  private failure: string | null = null;
  private readonly pipelines: PipelineCache;
  private readonly recorder: Recorder;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  /**
   * Bound where a kernel declares a buffer it will not touch (softmax's labels and loss,
   * SGD's momentum without momentum); two, since one buffer may not be bound both
   * read-only and writable in a dispatch.
   */
  private readonly dummies: [readOnly: GPUBuffer, writable: GPUBuffer];
  /** Elements per chunk of a chunked kernel: the binding limit, on 256-byte offset alignment. */
  private readonly chunkElems: number;

  /**
   * True for a CPU-emulated adapter (SwiftShader, llvmpipe/lavapipe, WARP, or one the
   * runtime flags as a fallback adapter). Measured here, such an adapter runs a 1024² matmul
   * at 1.5 (SwiftShader) or 9 (lavapipe) GFLOP/s against ~20 for the WebAssembly backend on
   * one core, so automatic backend selection should prefer the CPU backend over it.
   */
  readonly software: boolean;

  /**
   * @param adapter the adapter's description and whether it is CPU-emulated
   * @param retained objects the device depends on (the GPU and adapter), kept reachable
   *   for the backend's lifetime: when dawn.node's GPU object was garbage-collected while
   *   its device was in use, Node aborted inside mapAsync ("The futex facility returned
   *   an unexpected error code"), in about one run of three.
   */
  constructor(
    readonly device: GPUDevice,
    adapter: { description: string; software: boolean },
    options: WebGpuBackendOptions = {},
    private readonly retained: readonly object[] = [],
  ) {
    super();
    this.description = adapter.description;
    this.software = adapter.software;
    const caps = options.limitCaps ?? {};
    const cap = (key: keyof WebGpuLimits) => Math.min(device.limits[key], (caps as Partial<WebGpuLimits>)[key] ?? Infinity);
    this.limits = {
      maxStorageBufferBindingSize: cap('maxStorageBufferBindingSize'),
      maxBufferSize: cap('maxBufferSize'),
      maxComputeWorkgroupsPerDimension: cap('maxComputeWorkgroupsPerDimension'),
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: device.limits.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    };
    this.chunkElems = Math.max(64, Math.floor(this.limits.maxStorageBufferBindingSize / 256) * 64);
    const fail = (why: string) => {
      this.failure ??= why;
    };
    this.lost = device.lost.then((info) => {
      const why = `device lost: ${info.message || info.reason || 'no reason given'}`;
      fail(why);
      return why;
    });
    device.addEventListener?.('uncapturederror', (e) => fail(`GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
    this.pipelines = new PipelineCache(device);
    this.recorder = new Recorder(device, this.limits.maxComputeWorkgroupsPerDimension, (m) => fail(`GPU error: ${m}`));
    const retire = (b: GPUBuffer) => this.recorder.retire(b);
    const storage = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
    this.pool = new BufferPool(device, storage, options.poolBytes ?? DEFAULT_POOL_BYTES, retire);
    this.staging = new BufferPool(device, USAGE.MAP_READ | USAGE.COPY_DST, STAGING_POOL_BYTES, retire);
    const dummy = (label: string) => device.createBuffer({ label, size: 16, usage: storage });
    this.dummies = [dummy('ridgeline unused input'), dummy('ridgeline unused output')];
  }

  /** Bytes in live buffers (tests use it to find leaks). */
  get liveBytes(): number {
    return this.pool.liveBytes;
  }

  /** Dispatch and submit counts, for tests of batching. */
  get stats(): Readonly<{ dispatches: number; submits: number; pipelines: number }> {
    return { ...this.recorder.stats, pipelines: this.pipelines.size };
  }

  /** Submits recorded work now (kernels are otherwise submitted at the next microtask). */
  flush(): void {
    this.recorder.flush();
  }

  /** Releases the device; every later call fails with E_BACKEND. */
  destroy(): void {
    this.failure ??= 'device lost: the backend was destroyed';
    this.pool.drain();
    this.staging.drain();
    this.device.destroy();
  }

  private live(op: string): void {
    if (this.failure) throw new RidgelineError('E_BACKEND', `webgpu.${op}: ${this.failure}`);
  }

  private gpu(buf: Buf, op: string): GPUBuffer {
    if (!(buf instanceof GpuBuf) || buf.owner !== this) argError(`webgpu.${op}`, 'buffer does not belong to this WebGPU backend');
    if (buf.freed) throw new RidgelineError('E_STATE', `webgpu.${op}: buffer used after free`);
    return buf.gpu;
  }

  private checkBinding(op: string, name: string, elems: number): void {
    const bytes = 4 * elems;
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new RidgelineError(
        'E_BACKEND',
        `${op}: ${name} spans ${bytes} bytes, over this device's maxStorageBufferBindingSize of ${this.limits.maxStorageBufferBindingSize} bytes; split the call into smaller ones`,
      );
    }
  }

  private kernel(family: KernelFamily, entry: string, constants: Constants) {
    return this.pipelines.get(family, entry, constants);
  }

  /** Records a dispatch; `binds` give element ranges (vec4 kernels round their sizes up to 16 bytes). */
  private run(
    family: KernelFamily,
    entry: string,
    constants: Constants,
    binds: Bind[],
    paramsBinding: number,
    params: Uint32Array,
    groups: number,
    vec4 = false,
  ): void {
    const ranges: BoundRange[] = binds.map(([binding, buffer, start, elems]) => {
      const bytes = Math.max(4, 4 * elems);
      const size = vec4 ? Math.min(buffer.size - 4 * start, Math.ceil(bytes / 16) * 16) : bytes;
      return { binding, buffer, offset: 4 * start, size };
    });
    this.recorder.dispatch(this.kernel(family, entry, constants), ranges, paramsBinding, params, groups);
  }

  /**
   * Returns `input`, or a temporary copy of its first `elems` elements when it is `output`
   * (the caller gives temporaries back with `release`).
   */
  private unalias(input: GPUBuffer, elems: number, output: GPUBuffer, temps: GPUBuffer[]): GPUBuffer {
    if (input !== output) return input;
    const temp = this.pool.take(bufferBytes(elems));
    this.recorder.copy(input, 0, temp, 0, 4 * elems);
    temps.push(temp);
    return temp;
  }

  private release(temps: GPUBuffer[]): void {
    for (const t of temps) this.pool.give(t);
  }

  /** Runs `body` over [0, length) in chunks that each fit one binding. */
  private chunked(length: number, body: (start: number, count: number) => void): void {
    for (let start = 0; start < length; start += this.chunkElems) body(start, Math.min(this.chunkElems, length - start));
  }

  protected runAlloc(length: number): Buf {
    this.live('alloc');
    const size = bufferBytes(length);
    if (size > this.limits.maxBufferSize) {
      throw new RidgelineError(
        'E_BACKEND',
        `webgpu.alloc: ${length} f32 values need ${size} bytes, over this device's maxBufferSize of ${this.limits.maxBufferSize} bytes`,
      );
    }
    return new GpuBuf(length, this.pool.take(size), this);
  }

  free(buf: Buf): void {
    const gpu = this.gpu(buf, 'free');
    (buf as GpuBuf).freed = true;
    this.pool.give(gpu);
  }

  protected runUpload(buf: Buf, data: Float32Array, offset: number): void {
    const gpu = this.gpu(buf, 'upload');
    this.live('upload');
    if (data.length === 0) return;
    // writeBuffer runs ahead of unsubmitted commands: submit them first (see recorder.ts).
    this.recorder.flush();
    const src = data.buffer instanceof ArrayBuffer ? data : data.slice();
    this.device.queue.writeBuffer(gpu, 4 * offset, src.buffer, src.byteOffset, src.byteLength);
  }

  async download(buf: Buf): Promise<Float32Array> {
    const gpu = this.gpu(buf, 'download');
    this.live('download');
    const bytes = 4 * buf.length;
    if (bytes === 0) return new Float32Array(0);
    const staging = this.staging.take(bufferBytes(buf.length));
    this.recorder.copy(gpu, 0, staging, 0, bytes);
    const batch = this.recorder.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    } catch (e) {
      await batch;
      this.failure ??= `device lost: mapAsync failed (${e instanceof Error ? e.message : e})`;
      this.live('download');
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.staging.give(staging);
    await batch;
    this.live('download');
    return out;
  }

  protected runFill(out: Buf, value: number, length: number): void {
    const gpu = this.gpu(out, 'fill');
    this.live('fill');
    this.chunked(length, (start, count) => {
      this.run('elementwise', 'fill', {}, [[7, gpu, start, count]], 8, FILL_PARAMS.pack({ n: count, value }), Math.ceil(count / WG));
    });
  }

  protected runCopy(src: Buf, dst: Buf, length: number, srcOffset: number, dstOffset: number): void {
    const [s, d] = [this.gpu(src, 'copy'), this.gpu(dst, 'copy')];
    this.live('copy');
    if (length === 0) return;
    if (s !== d) {
      this.recorder.copy(s, 4 * srcOffset, d, 4 * dstOffset, 4 * length);
      return;
    }
    // copyBufferToBuffer refuses src = dst: go through a temporary (memmove semantics).
    const temp = this.pool.take(bufferBytes(length));
    this.recorder.copy(s, 4 * srcOffset, temp, 0, 4 * length);
    this.recorder.copy(temp, 0, d, 4 * dstOffset, 4 * length);
    this.pool.give(temp);
  }

  protected runMatmul(a: Buf, b: Buf, out: Buf, p: MatmulParams): void {
    const [ga, gb, gc] = [this.gpu(a, 'matmul'), this.gpu(b, 'matmul'), this.gpu(out, 'matmul')];
    this.live('matmul');
    const { batch, m, n, k } = p;
    if (batch * m * n === 0) return;
    const strideA = p.strideA ?? m * k;
    const strideB = p.strideB ?? k * n;
    const needA = (batch - 1) * strideA + m * k;
    const needB = (batch - 1) * strideB + k * n;
    this.checkBinding('matmul', 'A', needA);
    this.checkBinding('matmul', 'B', needB);
    this.checkBinding('matmul', 'out', batch * m * n);
    const plan = chooseMatmul(batch, m, n, k, Math.max(needA, needB), this.limits);
    const outputs = batch * m * n;
    if (plan.kernel === 'tiled') {
      const t = plan.tiles;
      const tilesN = Math.ceil(n / t.bn);
      const perItem = tilesN * Math.ceil(m / t.bm);
      const constants = {
        TRANS_A: p.transA,
        TRANS_B: p.transB,
        VEC_A: (p.transA ? m : k) % 4 === 0 && strideA % 4 === 0,
        VEC_B: (p.transB ? k : n) % 4 === 0 && strideB % 4 === 0,
        WG_X: t.wgX,
        WG_Y: t.wgY,
        TM: t.tm,
        BK: t.bk,
      };
      const params = MATMUL_PARAMS.pack({ m, n, k, strideA, strideB, tilesN, tilesPerItem: perItem, tiles: perItem * batch });
      this.run(
        'matmul',
        'matmul',
        constants,
        [[0, ga, 0, needA], [1, gb, 0, needB], [2, gc, 0, outputs]],
        3,
        params,
        perItem * batch,
        true,
      );
    } else {
      const { tm, tn, wg, splits, kChunk } = plan;
      const tilesN = Math.ceil(n / tn);
      const perItem = tilesN * Math.ceil(m / tm);
      const constants = { TRANS_A: p.transA, TRANS_B: p.transB, TM: tm, TN: tn, WG: wg };
      const params = MATMUL_DIRECT_PARAMS.pack({
        m,
        n,
        k,
        strideA,
        strideB,
        tilesN,
        tilesPerItem: perItem,
        tiles: perItem * batch,
        kChunk,
        splits,
        outputs,
      });
      const groups = Math.ceil((perItem * batch * splits) / wg);
      if (splits === 1) {
        this.run(
          'matmul_direct',
          'matmulDirect',
          constants,
          [[0, ga, 0, needA], [1, gb, 0, needB], [2, gc, 0, outputs]],
          3,
          params,
          groups,
        );
      } else {
        // Partial products per chunk of k, then their sum in split order (deterministic).
        // chooseMatmul keeps splits·outputs within the larger operand, so the scratch fits a
        // binding. The pool may hand it out again at once: later work is queued behind these.
        const scratch = this.pool.take(bufferBytes(splits * outputs));
        this.run(
          'matmul_direct',
          'matmulDirect',
          constants,
          [[0, ga, 0, needA], [1, gb, 0, needB], [2, scratch, 0, splits * outputs]],
          3,
          params,
          groups,
        );
        this.run(
          'matmul_direct',
          'sumSplits',
          { WG: wg },
          [[0, scratch, 0, splits * outputs], [2, gc, 0, outputs]],
          3,
          params,
          Math.ceil(outputs / wg),
        );
        this.pool.give(scratch);
      }
    }
  }

  protected runUnary(code: number, op: UnaryOp, x: Buf, out: Buf, length: number, param: number): void {
    const [gx, gy] = [this.gpu(x, op), this.gpu(out, op)];
    this.live(`unary(${op})`);
    const temps: GPUBuffer[] = [];
    const src = length > 0 ? this.unalias(gx, length, gy, temps) : gx;
    this.chunked(length, (start, count) => {
      const params = UNARY_PARAMS.pack({ n: count, param });
      this.run(
        'elementwise',
        'unary',
        { UNARY_OP: code },
        [[0, src, start, count], [1, gy, start, count]],
        2,
        params,
        Math.ceil(count / WG),
      );
    });
    this.release(temps);
  }

  protected runBinary(code: number, op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastParams, size: number): void {
    const [ga, gb, gc] = [this.gpu(a, op), this.gpu(b, op), this.gpu(out, op)];
    this.live(`binary(${op})`);
    const extent = (strides: readonly number[]) => p.shape.reduce((e, d, i) => e + (d - 1) * strides[i], 1);
    const [needA, needB] = [extent(p.aStrides), extent(p.bStrides)];
    this.checkBinding(`binary(${op})`, 'a', needA);
    this.checkBinding(`binary(${op})`, 'b', needB);
    this.checkBinding(`binary(${op})`, 'out', size);
    const params = BINARY_PARAMS.pack({
      shape: p.shape,
      aStrides: p.aStrides,
      bStrides: p.bStrides,
      rank: p.shape.length,
      n: size,
      param: p.param ?? 0,
    });
    const temps: GPUBuffer[] = [];
    const srcA = this.unalias(ga, needA, gc, temps);
    const srcB = this.unalias(gb, needB, gc, temps);
    this.run(
      'elementwise',
      'binary',
      { BINARY_OP: code },
      [[3, srcA, 0, needA], [4, srcB, 0, needB], [5, gc, 0, size]],
      6,
      params,
      Math.ceil(size / WG),
    );
    this.release(temps);
  }

  protected runReduce(code: number, op: ReduceOp, x: Buf, out: Buf, p: ReduceParams): void {
    const [gx, gy] = [this.gpu(x, 'reduce'), this.gpu(out, 'reduce')];
    this.live(`reduce(${op})`);
    const outputs = p.outer * p.inner;
    if (outputs === 0) return;
    const elems = outputs * p.size;
    this.checkBinding(`reduce(${op})`, 'x', elems);
    const strategy = chooseReduce(p.outer, p.size, p.inner);
    const params = REDUCE_PARAMS.pack({ outer: p.outer, size: p.size, inner: p.inner, outputs });
    const groups = strategy === 'tree' ? outputs : Math.ceil(outputs / WG);
    const entry = strategy === 'tree' ? 'reduceTree' : 'reduceSerial';
    this.run('reduce', entry, { REDUCE_OP: code }, [[0, gx, 0, elems], [1, gy, 0, outputs]], 2, params, groups);
  }

  protected runSoftmax(x: Buf, out: Buf, rows: number, cols: number): void {
    const [gx, gy] = [this.gpu(x, 'softmax'), this.gpu(out, 'softmax')];
    this.live('softmax');
    this.rowKernel(false, gx, this.dummies[0], gy, this.dummies[1], rows, cols);
  }

  protected runSoftmaxXent(logits: Buf, labels: Buf, loss: Buf, grad: Buf, rows: number, cols: number): void {
    const op = 'softmaxXent';
    const [gx, gl, gloss, gg] = [this.gpu(logits, op), this.gpu(labels, op), this.gpu(loss, op), this.gpu(grad, op)];
    this.live(op);
    this.rowKernel(true, gx, gl, gg, gloss, rows, cols);
  }

  private rowKernel(xent: boolean, x: GPUBuffer, labels: GPUBuffer, out: GPUBuffer, loss: GPUBuffer, rows: number, cols: number): void {
    if (rows === 0) return;
    const op = xent ? 'softmaxXent' : 'softmax';
    const elems = rows * cols;
    this.checkBinding(op, 'x', elems);
    const layout = chooseSoftmax(cols);
    // Only softmax may write its input (IN_PLACE); softmaxXent's buffers arrive distinct.
    const temps: GPUBuffer[] = [];
    const src = xent ? x : this.unalias(x, elems, out, temps);
    const lossElems = xent ? rows : 1;
    const binds: Bind[] = [[0, src, 0, elems], [1, labels, 0, lossElems], [2, out, 0, elems], [3, loss, 0, lossElems]];
    const groups = layout.mode === 'thread' ? Math.ceil(rows / layout.wg) : rows;
    const entry = layout.mode === 'thread' ? 'softmaxThread' : 'softmaxGroup';
    this.run('softmax', entry, { XENT: xent, WG: layout.wg }, binds, 4, SOFTMAX_PARAMS.pack({ rows, cols }), groups);
    this.release(temps);
  }

  protected runIm2col(x: Buf, cols: Buf, p: WindowParams, outH: number, outW: number): void {
    const [gx, gc] = [this.gpu(x, 'im2col'), this.gpu(cols, 'im2col')];
    this.live('im2col');
    const total = p.n * outH * outW * p.c * p.kh * p.kw;
    const needX = [p.n, p.c, p.h, p.w].reduce((e, d, i) => e + (d - 1) * p.inStrides[i], 1);
    this.checkBinding('im2col', 'x', needX);
    this.checkBinding('im2col', 'cols', total);
    const params = this.windowParams(p, p.inStrides, outH, outW, total);
    this.run('window', 'im2col', {}, [[0, gx, 0, needX], [1, gc, 0, total]], 2, params, Math.ceil(total / WG));
  }

  protected runCol2im(cols: Buf, x: Buf, p: WindowParams, outH: number, outW: number): void {
    const [gc, gx] = [this.gpu(cols, 'col2im'), this.gpu(x, 'col2im')];
    this.live('col2im');
    const colsLength = p.n * outH * outW * p.c * p.kh * p.kw;
    const total = p.n * p.c * p.h * p.w;
    this.checkBinding('col2im', 'cols', colsLength);
    this.checkBinding('col2im', 'x', total);
    // The kernel recovers coordinates as (index / stride) % size; a size-1 axis may carry
    // any stride (even 0), and stride 1 gives its only coordinate, 0, without dividing by 0.
    const dims = [p.n, p.c, p.h, p.w];
    const strides = p.inStrides.map((s, d) => (dims[d] === 1 ? 1 : s));
    const params = this.windowParams(p, strides, outH, outW, total);
    this.run('window', 'col2im', {}, [[0, gc, 0, colsLength], [1, gx, 0, total]], 2, params, Math.ceil(total / WG));
  }

  /** The window kernels' uniform block. */
  private windowParams(p: WindowParams, strides: readonly number[], outH: number, outW: number, total: number): Uint32Array {
    const [sN, sC, sY, sX] = strides;
    const { n, c, h, w, kh, kw, strideH, strideW, padH, padW } = p;
    const chLast = p.channelsLast ? 1 : 0;
    return WINDOW_PARAMS.pack({ n, c, h, w, kh, kw, strideH, strideW, padH, padW, sN, sC, sY, sX, outH, outW, total, chLast });
  }

  protected runSgd(param: Buf, grad: Buf, momentum: Buf, length: number, p: SgdParams): void {
    const [gp, gg, gm] = [this.gpu(param, 'sgd'), this.gpu(grad, 'sgd'), this.gpu(momentum, 'sgd')];
    this.live('sgd');
    if (length === 0) return;
    const useMomentum = p.momentum !== 0;
    const buf = useMomentum ? gm : this.dummies[1];
    const s = sgdScalars(p);
    this.chunked(length, (start, count) => {
      const params = SGD_PARAMS.pack({
        n: count,
        lr: s.lr,
        momentum: s.momentum,
        oneMinusDampening: s.oneMinusDampening,
        weightDecay: s.weightDecay,
        nesterov: p.nesterov,
        firstStep: p.firstStep,
      });
      const mom: Bind = useMomentum ? [2, buf, start, count] : [2, buf, 0, 1];
      this.run('optim', 'sgd', {}, [[0, gp, start, count], [1, gg, start, count], mom], 3, params, Math.ceil(count / WG));
    });
  }

  protected runAdam(param: Buf, grad: Buf, m: Buf, v: Buf, length: number, p: AdamParams): void {
    const [gp, gg, gm, gv] = [this.gpu(param, 'adam'), this.gpu(grad, 'adam'), this.gpu(m, 'adam'), this.gpu(v, 'adam')];
    this.live('adam');
    const s = adamScalars(p);
    if (length === 0) return;
    this.chunked(length, (start, count) => {
      const params = ADAM_PARAMS.pack({ n: count, ...s });
      const binds: Bind[] = [[4, gp, start, count], [5, gg, start, count], [6, gm, start, count], [7, gv, start, count]];
      this.run('optim', 'adam', {}, binds, 8, params, Math.ceil(count / WG));
    });
  }
}
