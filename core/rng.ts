/**
 * Portable counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11; reference code: Random123).
 *
 * Every draw is a pure function of (seed, stream, position), computed with exact 32-bit
 * integer arithmetic and the portable f64 functions of `portable_math.ts` (never Math.log,
 * sin, cos, exp, pow or random), so the same numbers come out in Node, Deno, Bun and the
 * browser. A WGSL kernel can reproduce the integer and f32-uniform draws bit for bit (u32
 * ops only); normals, gamma and Dirichlet draws depend on f64 log/sin/cos, so a GPU backend
 * must take them from the host (or port portable_math.ts) to stay identical.
 *
 * How draws map to Philox counters (the contract another implementation must follow):
 * - key = [seed mod 2^32, floor(seed / 2^32)] for an integer seed in [0, 2^53).
 * - stream tag = FNV-1a 64-bit over the UTF-8 bytes of the stream name (a numeric stream
 *   id is first written in decimal, so stream 7 is stream "7"); the tag's low 32 bits go
 *   to counter word 2 and its high 32 bits to counter word 3.
 * - `position` counts 32-bit words from the start of the stream. Word i is lane i mod 4 of
 *   philox4x32([b mod 2^32, floor(b / 2^32), tag_lo, tag_hi], key) with b = floor(i / 4).
 * - Scalar draws read the next words in order, without alignment:
 *   nextUint32 1 word; uniform 2 words; normal 4 words; intBelow ≥ 1 word (rejection);
 *   permutation(n) = n-1 intBelow calls; gamma/dirichlet = their normals and uniforms in
 *   the order the algorithm draws them (documented on each method).
 * - Bulk draws (uniforms, normals) first skip to the next multiple of 4 (a block
 *   boundary), so element j of a bulk draw depends on one block only: uniforms use one
 *   word per value, normals one block per pair. A GPU thread per block can do the same.
 */
import { argError } from './errors.ts';
import { fnv1a64Words } from './hash.ts';
import { exp, log, sincos } from './portable_math.ts';

const M0 = 0xd2511f53; // Philox4x32 round multipliers (Random123 PHILOX_M4x32_0/1)
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9; // Weyl key increments (golden ratio, √3 - 1)
const W1 = 0xbb67ae85;
const TWO32 = 4294967296;

/** High 32 bits of the 64-bit product a·m, exact: four 16×16-bit partial products. */
function mulhi(a: number, m: number): number {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const mHi = m >>> 16;
  const mLo = m & 0xffff;
  const lh = aLo * mHi;
  const hl = aHi * mLo;
  const mid = ((aLo * mLo) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aHi * mHi + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** The 10-round block function on unpacked words, written into out[0..4). */
function philoxBlock(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(c0, M0);
    const lo0 = Math.imul(c0, M0) >>> 0;
    const hi1 = mulhi(c2, M1);
    const lo1 = Math.imul(c2, M1) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

type Words = ArrayLike<number>;

function checkWords(op: string, name: string, w: Words, n: number): void {
  if (w.length !== n) argError(op, `${name} must have ${n} words, got ${w.length}`);
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= TWO32) {
      argError(op, `${name}[${i}] must be a uint32, got ${v}`);
    }
  }
}

/**
 * Philox4x32-10 block function: 4 output words from a 128-bit counter and 64-bit key.
 * Matches Random123's `philox4x32(ctr, key)` (see the known-answer tests).
 */
export function philox4x32(
  counter: readonly [number, number, number, number] | Uint32Array,
  key: readonly [number, number] | Uint32Array,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  checkWords('rng.philox4x32', 'counter', counter, 4);
  checkWords('rng.philox4x32', 'key', key, 2);
  if (out.length < 4) argError('rng.philox4x32', `out must hold 4 words, got ${out.length}`);
  philoxBlock(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, out);
  return out;
}

/** Philox key of a seed: [seed mod 2^32, floor(seed / 2^32)]. Seed: integer in [0, 2^53). */
export function seedKey(seed: number): Uint32Array {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    argError('rng.seedKey', `seed must be an integer in [0, 2^53), got ${seed}`);
  }
  return Uint32Array.of(seed >>> 0, Math.floor(seed / TWO32));
}

/** UTF-8 bytes of s, lone surrogates as U+FFFD (what TextEncoder does; no global needed). */
function utf8(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
}

/**
 * Counter words 2..3 of a stream: FNV-1a 64-bit over the UTF-8 bytes of the name, as
 * [low 32 bits, high 32 bits]. A numeric id (integer in [0, 2^53)) is hashed as its
 * decimal string. 64 bits, so that hundreds of named streams (one per child, per seed
 * kind) collide with probability ~1e-14 rather than ~1e-5 with a 32-bit hash.
 */
export function streamTag(stream: string | number): Uint32Array {
  if (typeof stream === 'number' && (!Number.isSafeInteger(stream) || stream < 0)) {
    argError('rng.streamTag', `a numeric stream must be an integer in [0, 2^53), got ${stream}`);
  }
  return fnv1a64Words([Uint8Array.from(utf8(String(stream)))]);
}

const INV24 = 1 / 16777216; // 2^-24
const INV53 = 1 / 9007199254740992; // 2^-53
const TWO_PI = 2 * Math.PI; // Math.PI is the correctly rounded π; doubling is exact

/** The 53-bit uniform in [0, 1) made from two words: top 27 bits of a, top 26 bits of b. */
function u53(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) * INV53;
}

/** Box–Muller on one block of words: [r·cos θ, r·sin θ], u1 = 1 - u53(w0, w1) ∈ (0, 1]. */
function boxMuller(w0: number, w1: number, w2: number, w3: number, out: Float64Array): void {
  const r = Math.sqrt(-2 * log(1 - u53(w0, w1)));
  sincos(TWO_PI * u53(w2, w3), out);
  const s = out[0]!;
  out[0] = r * out[1]!;
  out[1] = r * s;
}

function checkCount(op: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) argError(op, `n must be an integer ≥ 0, got ${n}`);
}

/** Checks a count and the caller's output array (or allocates one of length n). */
function checkOut(op: string, n: number, out: Float32Array | undefined): Float32Array {
  checkCount(op, n);
  if (out === undefined) return new Float32Array(n);
  if (out.length < n) argError(op, `out must hold ${n} values, got length ${out.length}`);
  return out;
}

/**
 * A named random stream: a cursor (`position`, in 32-bit words) over the Philox sequence
 * of (seed, stream). Reading is sequential; set `position` to replay or skip ahead.
 */
export class RngStream {
  /** The seed this stream was made from. */
  readonly seed: number;
  /** The stream name (a numeric id as its decimal string). */
  readonly stream: string;
  /** Philox key words [k0, k1] (see `seedKey`); a copy, the stream does not read it. */
  readonly key: Uint32Array;
  /** Counter words 2..3 (see `streamTag`); a copy, the stream does not read it. */
  readonly tag: Uint32Array;

  readonly #k0: number;
  readonly #k1: number;
  readonly #t0: number;
  readonly #t1: number;
  #pos = 0;
  #cachedBlock = -1; // index of the block held in #buf, -1 if none
  readonly #buf = new Uint32Array(4);
  readonly #pair = new Float64Array(2);

  constructor(seed: number, stream: string | number) {
    this.key = seedKey(seed);
    this.tag = streamTag(stream);
    this.#k0 = this.key[0]!;
    this.#k1 = this.key[1]!;
    this.#t0 = this.tag[0]!;
    this.#t1 = this.tag[1]!;
    this.seed = seed;
    this.stream = String(stream);
  }

  /** Index of the next 32-bit word to be read (an integer in [0, 2^53)). */
  get position(): number {
    return this.#pos;
  }

  set position(p: number) {
    if (!Number.isSafeInteger(p) || p < 0) {
      argError('rng.position', `position must be an integer in [0, 2^53), got ${p}`);
    }
    this.#pos = p;
  }

  /** Sets `position` and returns this stream, for chaining. */
  seek(position: number): this {
    this.position = position;
    return this;
  }

  /** Block b of this stream into `out` (no caching; used by the bulk paths). */
  #block(b: number, out: Uint32Array): void {
    philoxBlock(b >>> 0, Math.floor(b / TWO32), this.#t0, this.#t1, this.#k0, this.#k1, out);
  }

  /** Skips to the next block boundary and returns that block's index. */
  #align(): number {
    const b = Math.ceil(this.#pos / 4);
    this.#pos = b * 4;
    return b;
  }

  /** The next word: a uniform integer in [0, 2^32). */
  nextUint32(): number {
    const p = this.#pos;
    const b = Math.floor(p / 4);
    if (b !== this.#cachedBlock) {
      this.#block(b, this.#buf);
      this.#cachedBlock = b;
    }
    this.#pos = p + 1;
    return this.#buf[p % 4]!;
  }

  /**
   * A uniform double in [0, 1) with 53 random bits (2 words a, b):
   * ((a >>> 5)·2^26 + (b >>> 6)) / 2^53.
   */
  uniform(): number {
    const a = this.nextUint32();
    return u53(a, this.nextUint32());
  }

  /**
   * n uniform floats in [0, 1) with 24 random bits each, (w >>> 8)·2^-24, exact in f32.
   * Starts at a block boundary; value j comes from word j of the bulk draw. Fills `out`
   * (length ≥ n) when given.
   */
  uniforms(n: number, out?: Float32Array): Float32Array {
    const dst = checkOut('rng.uniforms', n, out);
    let b = this.#align();
    const w = this.#buf;
    for (let j = 0; j < n; j += 4, b++) {
      this.#block(b, w);
      for (let lane = 0; lane < 4 && j + lane < n; lane++) dst[j + lane] = (w[lane]! >>> 8) * INV24;
    }
    this.#cachedBlock = -1;
    this.#pos += n;
    return dst;
  }

  /**
   * A standard normal (f64) by Box–Muller from the next 4 words (w0..w3):
   * sqrt(-2·log(1 - u53(w0, w1))) · cos(2π·u53(w2, w3)). The sine partner is discarded.
   */
  normal(): number {
    const w0 = this.nextUint32();
    const w1 = this.nextUint32();
    const w2 = this.nextUint32();
    boxMuller(w0, w1, w2, this.nextUint32(), this.#pair);
    return this.#pair[0]!;
  }

  /**
   * n normals N(mean, std²) as f32 (computed in f64, rounded once). Starts at a block
   * boundary; block j gives values 2j (cosine branch) and 2j+1 (sine branch), so
   * ceil(n/2) blocks are used and the position advances by 4·ceil(n/2) words. Fills
   * `out` (length ≥ n) when given.
   */
  normals(n: number, mean = 0, std = 1, out?: Float32Array): Float32Array {
    const dst = checkOut('rng.normals', n, out);
    if (!Number.isFinite(mean)) argError('rng.normals', `mean must be finite, got ${mean}`);
    if (!Number.isFinite(std) || std < 0) argError('rng.normals', `std must be finite and ≥ 0, got ${std}`);
    let b = this.#align();
    const w = this.#buf;
    const pair = this.#pair;
    for (let j = 0; j < n; j += 2, b++) {
      this.#block(b, w);
      boxMuller(w[0]!, w[1]!, w[2]!, w[3]!, pair);
      dst[j] = mean + std * pair[0]!;
      if (j + 1 < n) dst[j + 1] = mean + std * pair[1]!;
    }
    this.#cachedBlock = -1;
    this.#pos += 4 * Math.ceil(n / 2);
    return dst;
  }

  /**
   * A uniform integer in [0, n) for an integer n in [1, 2^32], without modulo bias:
   * words w ≥ 2^32 - (2^32 mod n) are rejected and the next word is tried; then w mod n.
   */
  intBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) {
      argError('rng.intBelow', `n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO32 - (TWO32 % n);
    for (;;) {
      const w = this.nextUint32();
      if (w < limit) return w % n;
    }
  }

  /**
   * A uniformly random permutation of 0..n-1 (Fisher–Yates): for i = n-1 down to 1,
   * swap entries i and intBelow(i + 1).
   */
  permutation(n: number): Uint32Array {
    checkCount('rng.permutation', n);
    if (n > TWO32) argError('rng.permutation', `n must be ≤ 2^32, got ${n}`);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.intBelow(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** log of a Gamma(shape, 1) draw; the log form keeps tiny shapes from underflowing. */
  #logGamma(shape: number): number {
    if (shape < 1) {
      // Boost: G(a) = G(a+1)·U^(1/a), with the G(a+1) draw first, then U = 1 - uniform().
      const g = this.#marsagliaTsang(shape + 1);
      return log(g) + log(1 - this.uniform()) / shape;
    }
    return log(this.#marsagliaTsang(shape));
  }

  /**
   * Marsaglia & Tsang (2000), shape ≥ 1: d = shape - 1/3, c = 1/sqrt(9d); repeat
   * { x = normal(); v = (1 + c·x)^3, retry if 1 + c·x ≤ 0; u = uniform() } until
   * u < 1 - 0.0331·x⁴ or log(u) < x²/2 + d·(1 - v + log v); return d·v.
   */
  #marsagliaTsang(shape: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      let v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (log(u) < 0.5 * x2 + d * (1 - v + log(v))) return d * v;
    }
  }

  /**
   * A Gamma(shape, scale 1) draw for a finite shape > 0 (Marsaglia–Tsang; for shape < 1
   * the boost G(shape+1)·U^(1/shape), computed as exp of the log).
   */
  gamma(shape: number): number {
    if (!Number.isFinite(shape) || shape <= 0) {
      argError('rng.gamma', `shape must be finite and > 0, got ${shape}`);
    }
    return shape < 1 ? exp(this.#logGamma(shape)) : this.#marsagliaTsang(shape);
  }

  /**
   * A point on the simplex from Dirichlet(alphas), or Dirichlet(alpha, …, alpha) of
   * dimension n. Draws one gamma per entry in order, normalised in log space
   * (a_i = exp(L_i - max L) / Σ), so tiny alphas cannot all underflow to 0.
   */
  dirichlet(alphas: ArrayLike<number>): Float64Array;
  dirichlet(n: number, alpha?: number): Float64Array;
  dirichlet(arg: ArrayLike<number> | number, alpha = 1): Float64Array {
    let alphas: ArrayLike<number>;
    if (typeof arg === 'number') {
      if (!Number.isSafeInteger(arg) || arg < 1) {
        argError('rng.dirichlet', `n must be an integer ≥ 1, got ${arg}`);
      }
      alphas = new Float64Array(arg).fill(alpha);
    } else {
      alphas = arg;
      if (alphas.length < 1) argError('rng.dirichlet', 'alphas must not be empty');
    }
    for (let i = 0; i < alphas.length; i++) {
      const a = alphas[i]!;
      if (!Number.isFinite(a) || a <= 0) {
        argError('rng.dirichlet', `alpha[${i}] must be finite and > 0, got ${a}`);
      }
    }
    const out = new Float64Array(alphas.length);
    let max = -Infinity;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.#logGamma(alphas[i]!);
      if (out[i]! > max) max = out[i]!;
    }
    let sum = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = exp(out[i]! - max);
      sum += out[i]!;
    }
    for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
    return out;
  }
}

/**
 * The random stream `stream` of `seed`, at position 0. Different names give independent
 * streams; the same (seed, stream, position) always gives the same draws.
 */
export function rngStream(seed: number, stream: string | number): RngStream {
  return new RngStream(seed, stream);
}
