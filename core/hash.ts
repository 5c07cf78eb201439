/** FNV-1a 64-bit over raw bytes, as 16 hex digits: a fingerprint for bit-identity checks. */
export function fnv1a64Hex(data: ArrayBufferView): string {
  return fnv1a64HexOf([data]);
}

/**
 * FNV-1a 64-bit over the concatenation of several byte ranges (without copying them): the
 * checksum of a file's tensors, or of a text. Detects truncation, bit flips and swapped
 * contents; it is a checksum, not a cryptographic hash.
 */
export function fnv1a64HexOf(parts: readonly ArrayBufferView[]): string {
  const [lo, hi] = fnv1a64Words(parts);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/**
 * FNV-1a 64-bit as [low 32 bits, high 32 bits]: the checksums above, and the RNG's stream
 * tags (rng.ts), which are part of its cross-runtime contract — one implementation for both.
 */
export function fnv1a64Words(parts: readonly ArrayBufferView[]): Uint32Array {
  // 64-bit arithmetic in two 32-bit halves; prime 2^40 + 2^8 + 0xb3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const data of parts) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      lo = (lo ^ bytes[i]) >>> 0;
      // h ·= 0x100000001b3 (mod 2^64) = h·0x1b3 + (h << 40); lo·0x1b3 < 2^41 is exact.
      const loMul = lo * 0x1b3;
      const carry = Math.floor(loMul / 4294967296);
      const newHi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) >>> 0;
      lo = loMul >>> 0;
      hi = newHi;
    }
  }
  return Uint32Array.of(lo, hi);
}

/** The checksum of a text (its UTF-8 bytes). */
export function textChecksum(text: string): string {
  return fnv1a64Hex(new TextEncoder().encode(text));
}
