// Partial vectors: the first 1–4 floats at an address, for rows whose length is not a
// multiple of four (matmul's edge tiles, narrow reductions). Neither touches memory past
// the floats it is asked for.

// The first `count` (1–4) floats at ptr, zeros after; never reads past them.
@inline export function loadPartial(ptr: usize, count: i32): v128 {
  if (count == 4) return v128.load(ptr);
  if (count == 1) return v128.load32_zero(ptr);
  const two = v128.load64_zero(ptr);
  return count == 3 ? v128.load32_lane(ptr, two, 2, 8) : two;
}

// Stores the first `count` (1–4) lanes of v at ptr.
@inline export function storePartial(ptr: usize, v: v128, count: i32): void {
  if (count == 4) {
    v128.store(ptr, v);
  } else if (count == 1) {
    v128.store32_lane(ptr, v, 0);
  } else {
    v128.store64_lane(ptr, v, 0);
    if (count == 3) v128.store32_lane(ptr, v, 2, 8);
  }
}
