/**
 * Allocator for the CPU backend's WebAssembly memory, run from JavaScript.
 *
 * Training allocates the same few sizes every step (activations, gradients of each
 * layer), so freed blocks go to an exact-size free list and are reused as they are; fresh
 * blocks come from a bump pointer that grows the memory when it runs out. Blocks are
 * 16-byte aligned for v128 loads. Pointers are byte offsets, which stay valid when the
 * memory grows (only JavaScript views of the old ArrayBuffer go stale).
 */
import { RidgelineError } from '../errors.ts';

const ALIGN = 16;
const PAGE = 65536;
/** wasm32 addresses 4 GiB; engines commonly cap memory at 4 GiB too. */
const MAX_BYTES = 4 * 1024 * 1024 * 1024;

export class WasmHeap {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private liveBytes = 0;

  constructor(private readonly memory: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Returns the byte offset of a block of at least `bytes` bytes. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes += size;
    const reuse = this.freeLists.get(size);
    if (reuse && reuse.length > 0) return reuse.pop()!;
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memory.buffer.byteLength) {
      if (end > MAX_BYTES) {
        throw new RidgelineError('E_BACKEND', `cpu: out of memory allocating ${bytes} bytes (${this.liveBytes} live)`);
      }
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      // Grow by at least a quarter of the current size so growth is amortised.
      const extra = Math.max(pages, Math.ceil(this.memory.buffer.byteLength / PAGE / 4));
      try {
        this.memory.grow(extra);
      } catch {
        this.memory.grow(pages);
      }
    }
    this.top = end;
    return ptr;
  }

  free(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes -= size;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /** Bytes in blocks currently handed out (for leak checks in tests). */
  get live(): number {
    return this.liveBytes;
  }
}
