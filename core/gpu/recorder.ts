/// <reference types="@webgpu/types" />
/**
 * Command batching: kernels are recorded into one command encoder (one compute pass
 * between copies) and submitted together, on `flush()` or at the next microtask, so a
 * burst of synchronous kernel calls costs one `queue.submit`.
 *
 * Ordering. `queue.writeBuffer` executes at its place in the queue, i.e. before anything
 * recorded but not yet submitted. So:
 * - per-dispatch parameters are staged on the host, one 256-byte slot per dispatch, and
 *   written to the parameter buffer right before the submit of the batch that reads them
 *   (the previous batch's reads are already queued ahead of that write);
 * - the backend flushes before every `upload`.
 * Errors: each batch runs inside validation and out-of-memory error scopes; a captured
 * error is reported through `onError` (the backend then refuses further work).
 */
import type { Kernel } from './shaders.ts';
import { grid } from './tiles.ts';
import { USAGE } from './buffers.ts';

/** `minUniformBufferOffsetAlignment` is at most 256 on every device: one slot each. */
const SLOT_BYTES = 256;
/** Dispatches per batch; the parameter buffer is 64 KiB (the uniform binding maximum). */
const SLOTS = 256;

export interface BoundRange {
  binding: number;
  buffer: GPUBuffer;
  /** Bytes. */
  offset: number;
  size: number;
}

export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private slots = 0;
  private flushQueued = false;
  private readonly host = new ArrayBuffer(SLOT_BYTES * SLOTS);
  private readonly params: GPUBuffer;
  private retired: GPUBuffer[] = [];
  /** Settles when the last submitted batch's error scopes have been read. */
  private lastBatch: Promise<void> = Promise.resolve();
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly maxWorkgroupsPerDimension: number,
    private readonly onError: (message: string) => void,
  ) {
    this.params = device.createBuffer({ label: 'ridgeline params', size: this.host.byteLength, usage: USAGE.UNIFORM | USAGE.COPY_DST });
  }

  private open(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
    }
    return this.encoder;
  }

  /**
   * Records one dispatch of `workgroups` workgroups (split into a 3-D grid past the
   * per-dimension limit) with `params` as its uniform block at `paramsBinding`.
   */
  dispatch(kernel: Kernel, ranges: readonly BoundRange[], paramsBinding: number, params: Uint32Array, workgroups: number): void {
    if (workgroups === 0) return;
    if (this.slots === SLOTS) this.flush();
    const encoder = this.open();
    const slot = this.slots++;
    new Uint32Array(this.host, slot * SLOT_BYTES, params.length).set(params);
    const entries: GPUBindGroupEntry[] = ranges.map((r) => ({
      binding: r.binding,
      resource: { buffer: r.buffer, offset: r.offset, size: r.size },
    }));
    entries.push({ binding: paramsBinding, resource: { buffer: this.params, offset: slot * SLOT_BYTES, size: SLOT_BYTES } });
    const group = this.device.createBindGroup({ layout: kernel.layout, entries });
    this.pass ??= encoder.beginComputePass();
    this.pass.setPipeline(kernel.pipeline);
    this.pass.setBindGroup(0, group);
    const [x, y, z] = grid(workgroups, this.maxWorkgroupsPerDimension);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
  }

  /** Records a buffer-to-buffer copy (bytes, multiples of 4) after the work recorded so far. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    const encoder = this.open();
    this.pass?.end();
    this.pass = null;
    encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Destroys `buffer` once the commands recorded so far that may use it are submitted. */
  retire(buffer: GPUBuffer): void {
    if (this.encoder) this.retired.push(buffer);
    else buffer.destroy();
  }

  get pending(): boolean {
    return this.encoder !== null;
  }

  /** Submits the recorded batch, if any; resolves once its error scopes have been read. */
  flush(): Promise<void> {
    const encoder = this.encoder;
    if (!encoder) return this.lastBatch;
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
    if (this.slots > 0) this.device.queue.writeBuffer(this.params, 0, this.host, 0, this.slots * SLOT_BYTES);
    this.slots = 0;
    this.device.queue.submit([encoder.finish()]);
    this.stats.submits++;
    for (const b of this.retired) b.destroy();
    this.retired = [];
    const scopes = [this.device.popErrorScope(), this.device.popErrorScope()].map((p) => p.catch(() => null));
    this.lastBatch = Promise.all(scopes).then((errors) => {
      const error = errors.find((e) => e);
      if (error) this.onError(error.message);
    });
    return this.lastBatch;
  }
}
