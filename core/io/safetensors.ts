/**
 * Reader and writer of the safetensors format (HuggingFace): 8 bytes little-endian u64 N,
 * N bytes of UTF-8 JSON header, then one byte buffer holding every tensor (row-major,
 * little-endian) at the header's `data_offsets`, relative to the buffer's start.
 *
 * The reader validates like the reference implementation (huggingface/safetensors,
 * `safetensors/src/tensor.rs`: `read_metadata`, `Metadata::validate`) plus the rules of its
 * README: the header MUST begin with `{` and MAY be trailing-padded with spaces; duplicate
 * keys are disallowed; `__metadata__` is a string-to-string map; every byte of the buffer
 * belongs to exactly one tensor (tensors sorted by offset are contiguous from 0 to the end
 * of the file), which is what rules out overlaps, holes and polyglot files.
 * The writer produces the reference writer's bytes for F32 tensors in the given order.
 */
import { argError, RidgelineError, shapeError } from '../errors.ts';

/** The dtypes this reader converts to f32; all others are refused with `E_DATA_FORMAT`. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A tensor as read: values converted to f32, `dtype` records what the file stored. */
export interface DecodedTensor extends NamedTensor {
  dtype: SafetensorsDtype;
}

export interface DecodedSafetensors {
  tensors: Map<string, DecodedTensor>;
  /** Names in file layout order (by data offset; ties, i.e. empty tensors, in header order). */
  order: string[];
  /** The `__metadata__` map, `{}` when absent. */
  metadata: Record<string, string>;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };
// Valid in the format (reference `Dtype` enum) but with no lossless or meaningful f32 reading here.
const UNSUPPORTED_DTYPES = new Set([
  'BOOL',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'I16',
  'U16',
  'U32',
  'C64',
  'U64',
]);
/** The reference reader's `MAX_HEADER_SIZE`: bounds the JSON a hostile file can make us parse. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Serialises F32 tensors in the given order, header padded with spaces to a multiple of 8
 * bytes (so every tensor's data is 8-byte aligned in the file). The same input always gives
 * the same bytes: metadata keys are written sorted, values are copied bit for bit.
 */
export function encodeSafetensors(tensors: NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const op = 'encodeSafetensors';
  const seen = new Set<string>();
  const entries: string[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) argError(op, `'${METADATA_KEY}' is reserved for the metadata map, not a tensor name`);
    if (seen.has(t.name)) argError(op, `duplicate tensor name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!(t.data instanceof Float32Array)) argError(op, `tensor ${JSON.stringify(t.name)}: data must be a Float32Array`);
    let count = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) shapeError(op, `tensor ${JSON.stringify(t.name)}: dimensions must be integers >= 0`, t.shape);
      count *= d;
    }
    if (count !== t.data.length) shapeError(op, `tensor ${JSON.stringify(t.name)} has ${t.data.length} values`, t.shape);
    const end = offset + 4 * count;
    entries.push(
      `${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.map((d) => d + 0).join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const metaKeys = metadata ? Object.keys(metadata).sort() : [];
  if (metaKeys.length > 0) {
    const pairs = metaKeys.map((k) => {
      const v = metadata![k];
      if (typeof v !== 'string') argError(op, `metadata value of ${JSON.stringify(k)} must be a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    entries.unshift(`"${METADATA_KEY}":{${pairs.join(',')}}`); // first, as the reference writer does
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    if (!HOST_LITTLE_ENDIAN) swapBytes(out.subarray(at, at + bytes.length), 4);
    at += bytes.length;
  }
  return out;
}

interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
  headerIndex: number;
}

/**
 * Parses and validates a whole safetensors file, converting every tensor to f32 (F16/BF16
 * exactly, F64 rounded to nearest, I64/I32 rounded above 2^24, which is harmless for the
 * counters such as BatchNorm's `num_batches_tracked` that use them).
 * @param source the file name, used in error messages.
 * @throws RidgelineError `E_DATA_FORMAT` naming the file and the fault, for any input that
 * is not a valid safetensors file of supported dtypes.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): DecodedSafetensors {
  // Explicitly typed, so that TypeScript treats calls as ending the control flow.
  const fail: (detail: string) => never = (detail) => {
    throw new RidgelineError('E_DATA_FORMAT', `${source}: ${detail}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Read as a BigInt so that the message shows the exact u64 (2^60 is 1152921504606846976;
  // as a double it would print as 1152921504606847000).
  const headerLength64 = view.getBigUint64(0, true);
  if (headerLength64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(headerLength64);
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes): file truncated or not safetensors`);
  }
  let text = '';
  try {
    // ignoreBOM keeps a leading BOM in the text, so that the `{` check below refuses it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (${JSON.stringify(text.slice(0, 16))})`);
  let header: Record<string, unknown> = {};
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    fail(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const keys = objectKeysChecked(text, fail);

  const metadata = readMetadata(header[METADATA_KEY], fail);
  const entries: TensorEntry[] = [];
  for (const name of keys) {
    if (name !== METADATA_KEY) entries.push(readEntry(name, header[name], entries.length, fail));
  }
  // Sorted by offset, the tensors must tile the buffer exactly: each starts where the last
  // ended, the first at 0, the last at the end of the file.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || a.headerIndex - b.headerIndex);
  let covered = 0;
  let previous = '';
  for (const e of entries) {
    if (e.begin < covered) {
      fail(`tensor ${JSON.stringify(e.name)} data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(previous)}`);
    }
    if (e.begin > covered) {
      fail(`${e.begin - covered} bytes before tensor ${JSON.stringify(e.name)} (data_offsets [${e.begin}, ${e.end}]) belong to no tensor`);
    }
    covered = e.end;
    previous = e.name;
  }
  const dataLength = bytes.length - 8 - headerLength;
  if (covered > dataLength) fail(`data truncated: the tensors need ${covered} bytes after the header, the file has ${dataLength}`);
  if (covered < dataLength) fail(`the last ${dataLength - covered} bytes of the file belong to no tensor`);

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const data = convert(e.dtype, view, 8 + headerLength + e.begin, (e.end - e.begin) / DTYPE_BYTES[e.dtype]);
    tensors.set(e.name, { name: e.name, shape: e.shape, data, dtype: e.dtype });
  }
  return { tensors, order: entries.map((e) => e.name), metadata };
}

/**
 * The top-level keys of a header already known to be valid JSON, in text order, refusing
 * duplicate keys in any object: JSON.parse would silently keep the last, and two readers
 * that disagree on which duplicate wins would see different tensors in the same file.
 */
function objectKeysChecked(text: string, fail: (detail: string) => never): string[] {
  const top: string[] = [];
  const stack: (Set<string> | null)[] = []; // one entry per open object (its keys) or array (null)
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) fail(`duplicate key ${JSON.stringify(key)} in the header`);
        keys.add(key);
        if (stack.length === 1) top.push(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return top;
}

function readMetadata(value: unknown, fail: (detail: string) => never): Record<string, string> {
  if (value === undefined || value === null) return {}; // the reference reads `null` as absent
  if (typeof value !== 'object' || Array.isArray(value)) fail(`'${METADATA_KEY}' must be an object of strings`);
  const map = value as Record<string, unknown>;
  for (const k of Object.keys(map)) {
    if (typeof map[k] !== 'string') fail(`'${METADATA_KEY}' value of ${JSON.stringify(k)} is not a string`);
  }
  return map as Record<string, string>;
}

function readEntry(name: string, value: unknown, headerIndex: number, fail: (detail: string) => never): TensorEntry {
  const what = `tensor ${JSON.stringify(name)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`${what}: dtype missing or not a string`);
  const type = dtype as string;
  if (UNSUPPORTED_DTYPES.has(type)) fail(`${what}: dtype ${type} is not supported (only F32, F64, F16, BF16, I64, I32)`);
  if (!Object.hasOwn(DTYPE_BYTES, type)) fail(`${what}: unknown dtype ${JSON.stringify(type)}`);
  const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(`${what}: shape ${JSON.stringify(shape) ?? 'missing'} is not a list of integers >= 0`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${what}: data_offsets ${JSON.stringify(offsets) ?? 'missing'} is not a pair of integers >= 0`);
  }
  const dims = (shape as number[]).map((d) => d + 0); // JSON "-0" parses as -0
  const [begin, end] = offsets as number[];
  if (end < begin) fail(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) fail(`${what}: element count of shape [${dims.join(', ')}] overflows`);
  }
  const size = DTYPE_BYTES[type as SafetensorsDtype];
  if (count * size !== end - begin) {
    fail(
      `${what}: shape [${dims.join(', ')}] of ${type} needs ${count * size} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: type as SafetensorsDtype, shape: dims, begin, end, headerIndex };
}

function convert(dtype: SafetensorsDtype, view: DataView, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32': {
      // A byte copy, not a number round trip, so that NaN payloads survive bit for bit.
      const outBytes = new Uint8Array(out.buffer);
      outBytes.set(new Uint8Array(view.buffer, view.byteOffset + at, 4 * count));
      if (!HOST_LITTLE_ENDIAN) swapBytes(outBytes, 4);
      break;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, true);
      break;
    case 'I64':
      // hi·2^32 is exact and the sum is rounded once to f64: exact for |v| < 2^53.
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 8 * i + 4, true) * 2 ** 32 + view.getUint32(at + 8 * i, true);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, true);
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer); // bf16 is the top half of an f32
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      break;
    }
    case 'F16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = halfToFloatBits(view.getUint16(at + 2 * i, true));
      break;
    }
  }
  return out;
}

/** IEEE binary16 → binary32 bit pattern; exact for every input, NaN payloads included. */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalise, since every such value is a normal f32.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}
