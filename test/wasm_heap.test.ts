/**
 * The CPU backend's allocator: blocks never overlap and stay aligned whatever the order of
 * allocations and frees, and memory stays near the peak of live bytes when sizes vary
 * from batch to batch (it used to creep to 4 GiB: exact-size free lists only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WasmHeap } from '../core/cpu/wasm_heap.ts';

const BASE = 1000; // not aligned: the heap must align its first block itself

function newHeap(): { heap: WasmHeap; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  return { heap: new WasmHeap(memory, BASE), memory };
}

test('random allocations and frees: blocks are 16-byte aligned, inside the memory, pairwise disjoint; live counts them', () => {
  // An op is an allocation of `bytes`, or (bytes = 0) a free of the live block at `pick`.
  const op = fc.record({ bytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300_000 })), pick: fc.nat() });
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
      const { heap, memory } = newHeap();
      const live: { ptr: number; bytes: number }[] = [];
      for (const { bytes, pick } of ops) {
        if (bytes === 0) {
          if (live.length === 0) continue;
          const [b] = live.splice(pick % live.length, 1);
          heap.free(b.ptr, b.bytes);
        } else {
          live.push({ ptr: heap.alloc(bytes), bytes });
        }
        const sorted = [...live].sort((a, b) => a.ptr - b.ptr);
        sorted.forEach((b, i) => {
          assert.equal(b.ptr % 16, 0, `block at ${b.ptr} is not 16-byte aligned`);
          assert.ok(b.ptr >= BASE && b.ptr + b.bytes <= memory.buffer.byteLength, `block [${b.ptr}, +${b.bytes}) outside the memory`);
          if (i > 0) {
            const prev = sorted[i - 1];
            assert.ok(prev.ptr + prev.bytes <= b.ptr, `blocks [${prev.ptr}, +${prev.bytes}) and [${b.ptr}, +${b.bytes}) overlap`);
          }
        });
        assert.equal(heap.live, live.reduce((s, b) => s + Math.max(16, Math.ceil(b.bytes / 16) * 16), 0));
      }
    }),
    { numRuns: 200 },
  );
});

test('evaluation-like pattern (every batch a different size): memory stays within 2× the peak of live bytes', () => {
  const { heap, memory } = newHeap();
  let peak = 0;
  for (let round = 0; round < 400; round++) {
    // A batch of b rows: its activations, an attention-sized buffer and a small one.
    const b = 1 + ((round * 37) % 250);
    const sizes = [b * 1536, b * 10_000, b * 40];
    const ptrs = sizes.map((s) => heap.alloc(s));
    peak = Math.max(peak, heap.live);
    sizes.forEach((s, i) => heap.free(ptrs[i], s));
  }
  assert.equal(heap.live, 0);
  // Exact-size reuse alone reached ≈ 125× the peak here (every size is new).
  assert.ok(heap.extent <= 2 * peak + BASE, `heap reached ${heap.extent} bytes for a peak of ${peak} live`);
  assert.ok(memory.buffer.byteLength <= 2.5 * peak + 65536, `memory grew to ${memory.buffer.byteLength} bytes for a peak of ${peak} live`);
});

test('training-like pattern (the same sizes every step): blocks are reused as they are and memory does not grow after the first step', () => {
  const { heap } = newHeap();
  const sizes = [4096, 802_816, 25_088, 40, 802_816];
  const step = () => {
    const ptrs = sizes.map((s) => heap.alloc(s));
    sizes.forEach((s, i) => heap.free(ptrs[i], s));
    return ptrs;
  };
  const first = step();
  const extent = heap.extent;
  for (let i = 0; i < 50; i++) assert.deepEqual(new Set(step()), new Set(first));
  assert.equal(heap.extent, extent);
});

test('a freed block of a size is handed out lowest address first, whatever order the blocks were freed in', () => {
  // What lets a training step find the heap as the last one left it (core/train/step_replay.ts).
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 5000 }), fc.nat(), (count, bytes, seed) => {
      const { heap } = newHeap();
      const blocks = Array.from({ length: count }, () => heap.alloc(bytes));
      // Free them in a seeded shuffle of their order.
      let s = seed;
      const order = blocks.map((p) => ({ p, k: s = (Math.imul(s, 1664525) + 1013904223) >>> 0 })).sort((a, b) => a.k - b.k);
      for (const { p } of order) heap.free(p, bytes);
      const again = Array.from({ length: count }, () => heap.alloc(bytes));
      assert.deepEqual(again, [...blocks].sort((a, b) => a - b));
    }),
  );
});
