/// <reference types="@webgpu/types" />
/**
 * Device buffers of the WebGPU backend: the `Buf` handle and a pool that reuses freed
 * buffers of the same size.
 *
 * Why reuse is safe while queued work still reads a freed buffer: every use of a pooled
 * buffer is recorded after that work on the same queue (the recorder flushes before any
 * `queue.writeBuffer`), and WebGPU executes a queue's commands in order. Buffers dropped
 * from a full pool are destroyed only once no unsubmitted command refers to them.
 */
import type { Buf } from '../backend.ts';

/** GPUBufferUsage / GPUMapMode bits (spec values), so core needs no runtime globals. */
export const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 } as const;
export const MAP_MODE_READ = 1;

/** Buffer sizes are multiples of 16 bytes (and at least 16) so kernels can read vec4s. */
export function bufferBytes(length: number): number {
  return Math.max(16, Math.ceil((4 * length) / 16) * 16);
}

/** A device buffer of `length` f32 values. */
export class GpuBuf implements Buf {
  freed = false;
  constructor(readonly length: number, readonly gpu: GPUBuffer, readonly owner: object) {}
}

export class BufferPool {
  private readonly idle = new Map<number, GPUBuffer[]>();
  /** Bytes in idle buffers kept for reuse. */
  idleBytes = 0;
  /** Bytes in buffers handed out and not yet returned. */
  liveBytes = 0;

  /**
   * @param retire destroys a buffer that does not fit in the pool (the recorder defers it
   *   until the commands that use it are submitted)
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly limitBytes: number,
    private readonly retire: (buffer: GPUBuffer) => void,
  ) {}

  take(size: number): GPUBuffer {
    this.liveBytes += size;
    const reuse = this.idle.get(size)?.pop();
    if (reuse) {
      this.idleBytes -= size;
      return reuse;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  give(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveBytes -= size;
    if (this.idleBytes + size > this.limitBytes) {
      this.retire(buffer);
      return;
    }
    let list = this.idle.get(size);
    if (!list) this.idle.set(size, list = []);
    list.push(buffer);
    this.idleBytes += size;
  }

  /** Retires every idle buffer (when memory is needed elsewhere, or on shutdown). */
  drain(): void {
    for (const list of this.idle.values()) for (const b of list) this.retire(b);
    this.idle.clear();
    this.idleBytes = 0;
  }
}
