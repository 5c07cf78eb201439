/**
 * core/io/safetensors.ts: known-answer bytes from the reference implementation's tests,
 * bit-exact round trips, conversions of every 16-bit pattern, one test per validation rule,
 * and fuzzing (every truncation, random corruptions, random bytes) that must end in either
 * a consistent result or an E_DATA_FORMAT error, never anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RidgelineError } from '../core/errors.ts';
import {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  halfToFloatBits,
  type NamedTensor,
} from '../core/io/safetensors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const f32FromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/** A file with the given header text (unpadded unless the text is) and data section. */
function rawFile(header: string, data: Uint8Array | number = 0): Uint8Array {
  const json = utf8(header);
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** Asserts that decoding throws E_DATA_FORMAT whose message names the file and matches `fault`. */
function assertRejects(bytes: Uint8Array, fault: RegExp, file = 'bad.safetensors'): void {
  assert.throws(() => decodeSafetensors(bytes, file), (e: unknown) => {
    assert.ok(e instanceof RidgelineError, `not a RidgelineError: ${String(e)}`);
    assert.equal(e.code, 'E_DATA_FORMAT');
    assert.ok(e.message.includes(file), `message does not name the file: ${e.message}`);
    assert.match(e.message, fault);
    return true;
  });
}

test("encoder reproduces the reference implementation's bytes", () => {
  // Known answers from huggingface/safetensors safetensors/src/tensor.rs tests
  // (test_serialization, test_serialization_forced_alignement, test_empty).
  const data = Float32Array.from([0, 1, 2, 3, 4, 5]);
  const withData = (headerLen: number, header: string) => [
    headerLen,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...utf8(header.padEnd(headerLen, ' ')),
    0,
    0,
    0,
    0,
    0,
    0,
    128,
    63,
    0,
    0,
    0,
    64,
    0,
    0,
    64,
    64,
    0,
    0,
    128,
    64,
    0,
    0,
    160,
    64,
  ];
  assert.deepEqual(
    Array.from(encodeSafetensors([{ name: 'attn.0', shape: [1, 2, 3], data }])),
    withData(64, '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'),
  );
  assert.deepEqual(
    Array.from(encodeSafetensors([{ name: 'attn0', shape: [1, 1, 2, 3], data }])),
    withData(72, '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'),
  );
  assert.deepEqual(Array.from(encodeSafetensors([])), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.deepEqual(
    Array.from(encodeSafetensors([], { framework: 'pt' })),
    [40, 0, 0, 0, 0, 0, 0, 0, ...utf8('{"__metadata__":{"framework":"pt"}}     ')],
  );
});

// Bit patterns that stress the copy: NaNs with payloads (quiet and signalling), ±0, ±Inf,
// the smallest and largest subnormals, the largest finite value.
const SPECIAL_BITS = [
  0x7fc00000,
  0xffc00001,
  0x7fa00001,
  0x7f800001,
  0x00000000,
  0x80000000,
  0x7f800000,
  0xff800000,
  0x00000001,
  0x807fffff,
  0x7f7fffff,
  0x3f800000,
];
const bitsArb = fc.oneof(fc.constantFrom(...SPECIAL_BITS), fc.integer({ min: 0, max: 0xffffffff }));
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
const tensorArb = (name: string) =>
  shapeArb.chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.array(bitsArb, { minLength: n, maxLength: n }).map((bits): NamedTensor => ({ name, shape, data: f32FromBits(bits) }));
  });
const fileArb = fc
  .tuple(
    fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s !== '__metadata__'), { maxLength: 5 }),
    fc.option(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 12 }), { maxKeys: 3, noNullPrototype: true }),
      { nil: undefined },
    ),
  )
  .chain(([names, metadata]) => fc.tuple(fc.tuple(...names.map(tensorArb)), fc.constant(metadata)));

test('encode → decode round-trips names, order, shapes, metadata and every bit; bytes are canonical', () => {
  fc.assert(
    fc.property(fileArb, ([tensors, metadata]) => {
      const bytes = encodeSafetensors(tensors, metadata);
      const headerLength = new DataView(bytes.buffer).getUint32(0, true);
      assert.equal(headerLength % 8, 0, 'header padded to 8 bytes');
      assert.deepEqual(Array.from(encodeSafetensors(tensors, metadata)), Array.from(bytes), 'deterministic');
      const file = decodeSafetensors(bytes, 'roundtrip.safetensors');
      assert.deepEqual(file.order, tensors.map((t) => t.name));
      assert.deepEqual(file.metadata, metadata ?? {});
      for (const t of tensors) {
        const got = file.tensors.get(t.name)!;
        assert.equal(got.dtype, 'F32');
        assert.deepEqual(got.shape, t.shape);
        assert.deepEqual(bitsOf(got.data), bitsOf(t.data));
      }
      // Decoding then re-encoding is a fixed point: the writer has one output per content.
      const again = encodeSafetensors(file.order.map((n) => file.tensors.get(n)!), file.metadata);
      assert.deepEqual(Array.from(again), Array.from(bytes));
    }),
    { numRuns: 200 },
  );
});

test('encoder reads the data of subarray views, not their whole buffer', () => {
  const backing = Float32Array.from([9, 1, 2, 3, 9]);
  const file = decodeSafetensors(encodeSafetensors([{ name: 'v', shape: [3], data: backing.subarray(1, 4) }]));
  assert.deepEqual(Array.from(file.tensors.get('v')!.data), [1, 2, 3]);
});

test('encoder refuses inconsistent input with E_SHAPE / E_ARG', () => {
  const t = (name: string, shape: number[], n: number): NamedTensor => ({ name, shape, data: new Float32Array(n) });
  const code = (f: () => unknown, c: string, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof RidgelineError && e.code === c && pattern.test(e.message));
  code(() => encodeSafetensors([t('w', [2, 3], 5)]), 'E_SHAPE', /"w" has 5 values/);
  code(() => encodeSafetensors([t('w', [-1], 0)]), 'E_SHAPE', /integers >= 0/);
  code(() => encodeSafetensors([t('w', [1.5], 1)]), 'E_SHAPE', /integers >= 0/);
  code(() => encodeSafetensors([t('a', [1], 1), t('a', [1], 1)]), 'E_ARG', /duplicate tensor name "a"/);
  code(() => encodeSafetensors([t('__metadata__', [1], 1)]), 'E_ARG', /reserved/);
  code(() => encodeSafetensors([], { k: 3 as unknown as string }), 'E_ARG', /metadata value of "k"/);
});

test('F16: all 65536 bit patterns convert exactly (checked against the value formula)', () => {
  const bytes = new Uint8Array(2 * 65536);
  for (let h = 0; h < 65536; h++) new DataView(bytes.buffer).setUint16(2 * h, h, true);
  const file = decodeSafetensors(rawFile(`{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,${bytes.length}]}}`, bytes));
  const got = file.tensors.get('h')!.data;
  const gotBits = new Uint32Array(got.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 31;
    const mant = h & 1023;
    if (exp === 31 && mant !== 0) {
      // NaN: same sign, payload moved to the top of the f32 mantissa, as hardware converts.
      assert.equal(gotBits[h], ((h & 0x8000) << 16 | 0x7f800000 | (mant << 13)) >>> 0, `NaN 0x${h.toString(16)}`);
      continue;
    }
    const want = exp === 31 ? sign * Infinity : exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    assert.ok(Object.is(got[h], want), `0x${h.toString(16)}: got ${got[h]}, want ${want}`);
  }
  assert.equal(halfToFloatBits(0x3c00), 0x3f800000);
  assert.equal(halfToFloatBits(0x0001), 0x33800000); // 2^-24, the smallest subnormal half
});

test('BF16: all 65536 bit patterns are the top halves of f32', () => {
  const bytes = new Uint8Array(2 * 65536);
  for (let h = 0; h < 65536; h++) new DataView(bytes.buffer).setUint16(2 * h, h, true);
  const file = decodeSafetensors(rawFile(`{"b":{"dtype":"BF16","shape":[256,256],"data_offsets":[0,${bytes.length}]}}`, bytes));
  const got = new Uint32Array(file.tensors.get('b')!.data.buffer);
  for (let h = 0; h < 65536; h++) assert.equal(got[h], h * 65536, `0x${h.toString(16)}`);
  const values = file.tensors.get('b')!.data;
  assert.equal(values[0x3f80], 1);
  assert.equal(values[0xc000], -2);
  assert.equal(values[0x0001], 2 ** -133);
  assert.equal(values[0xff80], -Infinity);
});

test('F64, I64 and I32 round to the nearest f32', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double(), { minLength: 1, maxLength: 20 }),
      fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 20 }),
      (doubles, ints) => {
        const d = new Uint8Array(8 * doubles.length);
        doubles.forEach((x, i) => new DataView(d.buffer).setFloat64(8 * i, x, true));
        const q = new Uint8Array(8 * ints.length);
        ints.forEach((x, i) => new DataView(q.buffer).setBigInt64(8 * i, x, true));
        const l = new Uint8Array(4 * ints.length);
        ints.forEach((x, i) => new DataView(l.buffer).setInt32(4 * i, Number(BigInt.asIntN(32, x)), true));
        const a = d.length;
        const b = a + q.length;
        const header = `{"d":{"dtype":"F64","shape":[${doubles.length}],"data_offsets":[0,${a}]},` +
          `"q":{"dtype":"I64","shape":[${ints.length}],"data_offsets":[${a},${b}]},` +
          `"l":{"dtype":"I32","shape":[${ints.length}],"data_offsets":[${b},${b + l.length}]}}`;
        const all = new Uint8Array(b + l.length);
        all.set(d, 0);
        all.set(q, a);
        all.set(l, b);
        const file = decodeSafetensors(rawFile(header, all));
        doubles.forEach((x, i) => assert.ok(Object.is(file.tensors.get('d')!.data[i], Math.fround(x))));
        ints.forEach((x, i) => {
          // Number(x) rounds once to f64, as the reader does: exact below 2^53, and the same
          // (double-rounded) f32 beyond, where only counters' precision is at stake anyway.
          assert.equal(file.tensors.get('q')!.data[i], Math.fround(Number(x)));
          assert.equal(file.tensors.get('l')!.data[i], Math.fround(Number(BigInt.asIntN(32, x))));
        });
        assert.deepEqual(file.order, ['d', 'q', 'l']);
      },
    ),
    { numRuns: 100 },
  );
});

test('reader accepts what the format allows: any key order, padding, null metadata, empty tensors', () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
  // Header order differs from layout order; `order` follows the layout.
  const file = decodeSafetensors(rawFile(
    '{"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"__metadata__":null,' +
      '"e":{"dtype":"F16","shape":[0,7],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"z":{"dtype":"F32","shape":[3,0],"data_offsets":[12,12]}}   \n\t ',
    data,
  ));
  assert.deepEqual(file.order, ['a', 'e', 'b', 'z']);
  assert.deepEqual(file.metadata, {});
  assert.deepEqual(Array.from(file.tensors.get('a')!.data), [1]);
  assert.deepEqual(file.tensors.get('a')!.shape, []);
  assert.deepEqual(Array.from(file.tensors.get('b')!.data), [2, 3]);
  assert.equal(file.tensors.get('e')!.data.length, 0);
  assert.equal(file.tensors.get('e')!.dtype, 'F16');
  // Unknown fields inside an entry are ignored, as by the reference reader (serde).
  assert.ok(decodeSafetensors(rawFile('{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"note":1}}', 4)).tensors.has('a'));
  // Input that is a view into a larger buffer.
  const padded = new Uint8Array(100);
  const inner = encodeSafetensors([{ name: 'x', shape: [2], data: Float32Array.from([5, 6]) }]);
  padded.set(inner, 3);
  assert.deepEqual(Array.from(decodeSafetensors(padded.subarray(3, 3 + inner.length)).tensors.get('x')!.data), [5, 6]);
});

test('reader refuses each kind of fault with E_DATA_FORMAT naming the file and the fault', () => {
  const f32 = (name: string, shape: number[], b: number, e: number) =>
    `"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":[${b},${e}]}`;
  assertRejects(new Uint8Array(5), /5 bytes, shorter than the 8-byte header length/);
  const tooLong = rawFile('{}');
  new DataView(tooLong.buffer).setUint32(0, 1000, true);
  assertRejects(tooLong, /header length 1000 runs past the end of the file \(10 bytes\)/);
  const huge = rawFile('{}');
  new DataView(huge.buffer).setUint32(4, 1, true);
  assertRejects(huge, /exceeds the 100000000-byte limit/);
  assertRejects(rawFile('{"a":"xx"}').map((x, i) => (i === 14 ? 0xff : x)), /not valid UTF-8/);
  assertRejects(rawFile(' {}'), /does not start with '\{'/);
  assertRejects(rawFile('[]'), /does not start with '\{'/);
  assertRejects(rawFile('\ufeff{}'), /does not start with '\{'/);
  assertRejects(rawFile(''), /does not start with '\{'/);
  assertRejects(rawFile('{}\0\0\0\0\0\0'), /not valid JSON/); // NUL padding is not whitespace
  assertRejects(rawFile('{"a":1,}'), /not valid JSON/);
  assertRejects(rawFile(`{${f32('a', [1], 0, 4)},${f32('a', [1], 0, 4)}}`, 4), /duplicate key "a"/);
  assertRejects(rawFile('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), /duplicate key "dtype"/);
  assertRejects(rawFile('{"__metadata__":{"k":1}}'), /'__metadata__' value of "k" is not a string/);
  assertRejects(rawFile('{"__metadata__":["x"]}'), /'__metadata__' must be an object of strings/);
  assertRejects(rawFile('{"a":[1,2]}'), /tensor "a": entry is not an object/);
  assertRejects(rawFile('{"a":{"shape":[1],"data_offsets":[0,4]}}', 4), /dtype missing/);
  assertRejects(rawFile('{"a":{"dtype":"F32","shape":[1]}}', 4), /data_offsets missing is not a pair/);
  assertRejects(rawFile('{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}', 1), /unknown dtype "Q8"/);
  assertRejects(rawFile('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), /dtype U8 is not supported/);
  assertRejects(rawFile(`{${f32('a', [-1], 0, 4)}}`, 4), /shape \[-1\] is not a list of integers >= 0/);
  assertRejects(rawFile(`{${f32('a', [1.5], 0, 4)}}`, 4), /shape \[1.5\] is not a list of integers >= 0/);
  assertRejects(rawFile('{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}', 8), /shape 2 is not a list/);
  assertRejects(rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', 4), /data_offsets \[0\] is not a pair/);
  assertRejects(rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', 4), /is not a pair of integers >= 0/);
  assertRejects(rawFile(`{${f32('a', [0], 4, 0)}}`, 4), /data_offsets \[4, 0\] end before they begin/);
  assertRejects(rawFile(`{${f32('a', [2, 3], 0, 20)}}`, 20), /shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] hold 20/);
  assertRejects(rawFile(`{${f32('a', [2 ** 30, 2 ** 30, 2 ** 30], 0, 4)}}`, 4), /element count .* overflows/);
  assertRejects(rawFile(`{${f32('a', [2], 0, 8)},${f32('b', [2], 4, 12)}}`, 12), /tensor "b" data_offsets \[4, 12\] overlap tensor "a"/);
  assertRejects(rawFile(`{${f32('a', [1], 4, 8)}}`, 8), /4 bytes before tensor "a" .* belong to no tensor/);
  assertRejects(rawFile(`{${f32('a', [1], 0, 4)},${f32('b', [1], 8, 12)}}`, 12), /4 bytes before tensor "b"/);
  assertRejects(rawFile(`{${f32('a', [3], 0, 12)}}`, 8), /data truncated: the tensors need 12 bytes after the header, the file has 8/);
  assertRejects(rawFile(`{${f32('a', [1], 0, 4)}}`, 9), /the last 5 bytes of the file belong to no tensor/);
  assertRejects(rawFile('{}', 3), /the last 3 bytes/);
});

/** What a successful decode must satisfy whatever the input was. */
function assertConsistent(file: DecodedSafetensors, bytes: Uint8Array): void {
  assert.deepEqual([...file.order].sort(), [...file.tensors.keys()].sort());
  let bytesUsed = 0;
  const width = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 } as const;
  for (const [name, t] of file.tensors) {
    assert.equal(t.name, name);
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0));
    assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
    bytesUsed += width[t.dtype] * t.data.length;
  }
  for (const v of Object.values(file.metadata)) assert.equal(typeof v, 'string');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  assert.equal(8 + headerLength + bytesUsed, bytes.length, 'the tensors cover the file exactly');
}

/** Decodes, requiring either a consistent result or E_DATA_FORMAT naming the file. */
function decodeOrReject(bytes: Uint8Array): 'ok' | 'rejected' {
  try {
    assertConsistent(decodeSafetensors(bytes, 'fuzz.safetensors'), bytes);
    return 'ok';
  } catch (e) {
    if (e instanceof RidgelineError && e.code === 'E_DATA_FORMAT' && e.message.includes('fuzz.safetensors')) return 'rejected';
    throw e;
  }
}

test('every truncation of a valid file is rejected', () => {
  fc.assert(
    fc.property(fileArb, ([tensors, metadata]) => {
      const bytes = encodeSafetensors(tensors, metadata);
      for (let cut = 0; cut < bytes.length; cut++) assertRejects(bytes.subarray(0, cut), /./, 'cut.safetensors');
    }),
    { numRuns: 60 },
  );
});

test('corrupted bytes (length field, header, data) decode consistently or throw E_DATA_FORMAT', () => {
  const outcomes = { ok: 0, rejected: 0 };
  fc.assert(
    fc.property(
      fileArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      ([tensors, metadata], edits, inHeader) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const headerEnd = 8 + new DataView(bytes.buffer).getUint32(0, true);
        for (const [at, value] of edits) bytes[inHeader ? at % headerEnd : at % bytes.length] = value;
        outcomes[decodeOrReject(bytes)]++;
      },
    ),
    { numRuns: 3000 },
  );
  // Both branches must actually be exercised for the property to mean something.
  assert.ok(outcomes.ok > 100 && outcomes.rejected > 100, JSON.stringify(outcomes));
});

test('header text mutations (structural characters) decode consistently or throw E_DATA_FORMAT', () => {
  // Byte corruptions rarely yield valid JSON; swapping in JSON's own characters reaches the
  // validation rules behind the parser (offsets, shapes, dtypes, duplicates).
  const chars = [...'{}[],:"0123456789-.e ', 'F32', 'F16', 'BF16', 'I64', '__metadata__', '"a"', 'null', '1e400'];
  fc.assert(
    fc.property(
      fileArb,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...chars), fc.nat({ max: 3 })), { minLength: 1, maxLength: 3 }),
      ([tensors, metadata], edits) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const headerEnd = 8 + new DataView(bytes.buffer).getUint32(0, true);
        let text = new TextDecoder().decode(bytes.subarray(8, headerEnd));
        for (const [at, insert, remove] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + remove);
        }
        decodeOrReject(rawFile(text, bytes.subarray(headerEnd)));
      },
    ),
    { numRuns: 3000 },
  );
});

test('random bytes decode consistently or throw E_DATA_FORMAT', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 70 }), (body, declared) => {
      const bytes = new Uint8Array(8 + body.length);
      new DataView(bytes.buffer).setUint32(0, declared, true);
      bytes.set(body, 8);
      decodeOrReject(bytes);
      decodeOrReject(body);
    }),
    { numRuns: 2000 },
  );
});
