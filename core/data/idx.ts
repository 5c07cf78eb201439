/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * bytes 0–1 are zero, byte 2 the element type, byte 3 the number of dimensions; then one
 * big-endian u32 per dimension; then the elements, big-endian, row-major. Files may be
 * gzip-compressed (detected by the gzip magic 0x1f 0x8b, not by the file name).
 *
 * Every fault is an E_DATA_FORMAT error naming the file and what is wrong, because a
 * half-downloaded data set must never train silently on a truncated or shifted tensor.
 */
import { RidgelineError } from '../errors.ts';
import type { FileStore } from '../io.ts';
import type { Split } from './dataset.ts';

/** IDX element types (the format's type byte) and their sizes in bytes. */
const IDX_DTYPES = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'sbyte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
} as const;

export type IdxDtype = (typeof IDX_DTYPES)[keyof typeof IDX_DTYPES]['name'];

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  /** The elements in file order, converted from big-endian; ubyte data is a view, not a copy. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

function formatError(file: string, detail: string): never {
  throw new RidgelineError('E_DATA_FORMAT', `${file}: ${detail}`);
}

/** True if the bytes start with the gzip magic number 0x1f 0x8b (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The largest IDX file (inflated) accepted: 1 GiB. Its elements become f32 (×4 for ubyte
 * pixels) and must sit in a backend of at most 4 GiB beside a model; MNIST's largest file
 * is 47 MB. A header declaring more is refused before anything is inflated or read.
 */
export const IDX_MAX_BYTES = 1024 ** 3;

/**
 * The total size (header + data) an IDX header declares, or null while `head` is too short
 * to tell or is not an IDX header (the full parse then names the fault).
 */
export function idxDeclaredSize(head: Uint8Array): number | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return null;
  const type = (IDX_DTYPES as Record<number, { size: number }>)[head[2]!];
  const ndims = head[3]!;
  if (type === undefined || ndims === 0 || head.length < 4 + 4 * ndims) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let size = type.size;
  for (let i = 0; i < ndims; i++) size *= view.getUint32(4 + 4 * i, false);
  return 4 + 4 * ndims + size;
}

/**
 * Decompresses a gzip stream with the web-standard DecompressionStream (Node ≥ 18, Deno,
 * Bun, browsers), so core needs no zlib binding. A corrupt or truncated stream is an
 * E_DATA_FORMAT error naming `file`.
 *
 * The output is bounded: `limitOf` sees the first bytes inflated so far and returns the
 * most the stream may inflate to (or null until it can tell); inflation stops as soon as
 * the output passes it, or passes `maxBytes` in any case, so a small gzip that inflates
 * to gigabytes (a "gzip bomb" or a wrong file) costs at most one chunk past the limit.
 */
export async function gunzip(
  bytes: Uint8Array,
  file: string,
  maxBytes = IDX_MAX_BYTES,
  limitOf: (head: Uint8Array) => number | null = () => null,
): Promise<Uint8Array> {
  const stream = new DecompressionStream('gzip');
  const writer = stream.writable.getWriter();
  // The reader below sees the same failure; this only keeps it from going unhandled.
  const writing = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close());
  writing.catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit: number | null = null;
  const HEAD = 4 + 4 * 255; // the longest IDX header
  const refuse = async (detail: string): Promise<never> => {
    await reader.cancel().catch(() => {});
    return formatError(file, detail);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (limit === null) {
        limit = limitOf(concat(chunks, Math.min(total, HEAD)));
        if (limit !== null && limit > maxBytes) {
          await refuse(`its header declares ${limit} bytes, more than the ${maxBytes}-byte limit`);
        }
      }
      if (limit !== null && total > limit) {
        await refuse(
          `gzip stream inflates past ${limit} bytes, the size its header declares: damaged or not this file (inflation stopped there)`,
        );
      }
      if (total > maxBytes) await refuse(`gzip stream inflates past the ${maxBytes}-byte limit (inflation stopped there)`);
    }
    await writing;
  } catch (e) {
    if (e instanceof RidgelineError) throw e;
    formatError(file, `corrupt gzip stream (${(e as Error).message}); delete the file and fetch it again`);
  }
  return concat(chunks, total);
}

/** The first `n` bytes of the concatenated chunks. */
function concat(chunks: readonly Uint8Array[], n: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === n) return chunks[0]!;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    if (at >= n) break;
    const part = c.subarray(0, n - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Parses IDX bytes (gzip or plain). `file` names the source in error messages. */
export async function parseIdx(raw: Uint8Array, file: string): Promise<IdxArray> {
  const bytes = isGzip(raw) ? await gunzip(raw, file, IDX_MAX_BYTES, idxDeclaredSize) : raw;
  if (bytes.length < 4) formatError(file, `too short for an IDX header (${bytes.length} bytes, need at least 4)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    formatError(file, `bad IDX magic ${hex}: expected 00 00 <type> <ndims> (not an IDX file?)`);
  }
  const code = bytes[2]!;
  const type = (IDX_DTYPES as Record<number, { name: IdxDtype; size: number }>)[code];
  if (type === undefined) {
    const valid = Object.entries(IDX_DTYPES).map(([c, t]) => `0x${Number(c).toString(16).padStart(2, '0')} ${t.name}`);
    formatError(file, `unsupported IDX element type 0x${code.toString(16).padStart(2, '0')}; valid: ${valid.join(', ')}`);
  }
  const ndims = bytes[3]!;
  if (ndims === 0) formatError(file, 'IDX header declares 0 dimensions');
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    formatError(file, `truncated IDX header: ${ndims} dimensions need ${headerSize} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    dims.push(view.getUint32(4 + 4 * i, false));
    count *= dims[i]!;
  }
  const expected = count * type.size;
  const found = bytes.length - headerSize;
  if (found !== expected) {
    const what = found < expected ? 'truncated data' : 'trailing bytes after the data';
    formatError(
      file,
      `${what}: dims [${dims.join(', ')}] of ${type.name} need ${expected} data bytes after the ${headerSize}-byte header, found ${found}`,
    );
  }
  return { dtype: type.name, dims, data: decodeElements(view, headerSize, count, type.name) };
}

/** Converts big-endian elements to a native typed array (ubyte: a zero-copy view). */
function decodeElements(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxArray['data'] {
  const at = view.byteOffset + offset;
  switch (dtype) {
    case 'ubyte':
      return new Uint8Array(view.buffer, at, count);
    case 'sbyte':
      return new Int8Array(view.buffer, at, count);
    case 'short': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'double': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses one IDX file through the injected FileStore. */
export async function readIdx(files: FileStore, path: string): Promise<IdxArray> {
  return parseIdx(await files.read(path, { bytes: IDX_MAX_BYTES, what: 'an IDX file' }), path);
}

/**
 * Pairs an images file (ubyte, dims [n, H, W] or [n, d]) with a labels file (ubyte, dims
 * [n]) into a Split with pixels scaled to [0, 1] (p / 255) and the per-example shape
 * ([1, H, W] or [d]). Labels must lie in [0, classes).
 */
export function idxSplit(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
  classes: number,
): { split: Split; inputShape: number[] } {
  if (images.dtype !== 'ubyte') formatError(files.images, `images must be ubyte (0x08) pixels, got ${images.dtype}`);
  if (labels.dtype !== 'ubyte') formatError(files.labels, `labels must be ubyte (0x08), got ${labels.dtype}`);
  if (images.dims.length !== 3 && images.dims.length !== 2) {
    formatError(files.images, `images must have dims [n, H, W] or [n, d], got [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1) formatError(files.labels, `labels must have dims [n], got [${labels.dims.join(', ')}]`);
  const n = images.dims[0]!;
  if (labels.dims[0] !== n) {
    formatError(files.labels, `has ${labels.dims[0]} labels but ${files.images} has ${n} images`);
  }
  const inputShape = images.dims.length === 3 ? [1, images.dims[1]!, images.dims[2]!] : [images.dims[1]!];
  const pixels = images.data as Uint8Array;
  // A 256-entry table: one load per pixel instead of a division (60 000 images in ~0.1 s).
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = v / 255;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = scale[pixels[i]!]!;
  const y = new Float32Array(n);
  const raw = labels.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (raw[i]! >= classes) formatError(files.labels, `label ${raw[i]} at index ${i} is outside [0, ${classes})`);
    y[i] = raw[i]!;
  }
  return { split: { x, y, n }, inputShape };
}
