/**
 * Allocator for the CPU backend's WebAssembly memory, run from JavaScript.
 *
 * Training allocates the same few sizes every step (activations, gradients of each
 * layer), so freed blocks go to an exact-size free list and are reused as they are (the
 * lowest address first); fresh
 * blocks come from a bump pointer that grows the memory when it runs out. Evaluation is
 * different: batch sizes vary (the last batch of a split, footprint-capped batches,
 * train then test), and exact-size lists alone never give a freed block to another size,
 * so the bump pointer crept up to wasm32's 4 GiB while 120 MB were live (vit-lite on
 * Fashion-MNIST). So before the memory grows, the free blocks are coalesced (adjacent
 * ones merged, a free tail given back to the bump pointer) and the smallest merged block
 * that fits is split. Blocks are 16-byte aligned for v128 loads. Pointers are byte
 * offsets, which stay valid when the memory grows (only JavaScript views of the old
 * ArrayBuffer go stale).
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
  private peakBytes = 0;
  private freshBlocks = 0;
  private changes = 0;

  constructor(private readonly memory: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Returns the byte offset of a block of at least `bytes` bytes. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.changes++;
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    const reuse = this.freeLists.get(size);
    if (reuse && reuse.length > 0) return reuse.pop()!;
    this.freshBlocks++;
    if (this.top + size > this.memory.buffer.byteLength) {
      const fit = this.reclaim(size);
      if (fit !== null) return fit;
    }
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

  /** Allocations and frees so far: equal counts mean no block changed hands in between. */
  get version(): number {
    return this.changes;
  }

  free(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.changes++;
    this.liveBytes -= size;
    this.pushFree(ptr, size);
  }

  /**
   * Each list is kept in descending address order, so `alloc` hands out the lowest free
   * block of a size whatever order the blocks were freed in: a training step that frees
   * what it allocated then leaves the heap as it found it, and the next step gets the same
   * addresses (a last-in-first-out list swapped two same-size activations every step, so
   * no step's kernel calls could stand for the next: core/train/step_replay.ts).
   */
  private pushFree(ptr: number, size: number): void {
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, list = []);
    let i = list.length;
    while (i > 0 && list[i - 1] < ptr) i--;
    list.splice(i, 0, ptr);
  }

  /**
   * Merges adjacent free blocks, lowers the bump pointer over a free tail, and takes the
   * smallest merged block of at least `size` bytes (its remainder stays free); null when
   * none fits, and the caller bumps from the (possibly lowered) top.
   */
  private reclaim(size: number): number | null {
    const blocks: [number, number][] = [];
    for (const [s, ptrs] of this.freeLists) for (const p of ptrs) blocks.push([p, s]);
    this.freeLists.clear();
    blocks.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [p, s] of blocks) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === p) last[1] += s;
      else merged.push([p, s]);
    }
    const tail = merged[merged.length - 1];
    if (tail && tail[0] + tail[1] === this.top) {
      this.top = tail[0];
      merged.pop();
    }
    let best = -1;
    merged.forEach(([, s], i) => {
      if (s >= size && (best < 0 || s < merged[best][1])) best = i;
    });
    merged.forEach(([p, s], i) => {
      if (i !== best) this.pushFree(p, s);
    });
    if (best < 0) return null;
    const [p, s] = merged[best];
    if (s > size) this.pushFree(p + size, s - size);
    return p;
  }

  /** Bytes of memory the heap has reached (its bump pointer), for fragmentation tests. */
  get extent(): number {
    return this.top;
  }

  /**
   * Blocks not served by a freed block of their exact size (bumped, or carved from merged
   * free space). A training loop in steady state reuses every block, so this stops
   * growing after its first steps (test/steady_state_step.test.ts).
   */
  get fresh(): number {
    return this.freshBlocks;
  }

  /** Bytes in blocks currently handed out (for leak checks in tests). */
  get live(): number {
    return this.liveBytes;
  }

  /** The most bytes handed out at once since the last `resetPeak` (for memory-bound tests). */
  get peak(): number {
    return this.peakBytes;
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}
