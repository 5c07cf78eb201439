/**
 * Every WGSL kernel's uniform block is packed by name (core/gpu/kernel_params.ts), and each
 * packer must be the struct it names: this test parses every `struct …Params` of wgsl/ and
 * compares field names, types, order and byte offsets (by WGSL's alignment rules) with the
 * packer's fields, so a field reordered, renamed, retyped or added on one side only fails
 * here, naming the struct and the first field that differs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BINARY_PARAMS, KERNEL_PARAMS, SGD_PARAMS, WINDOW_PARAMS } from '../core/gpu/kernel_params.ts';
import { wgslStructLayout, wgslTypeLayout } from '../core/gpu/uniform_layout.ts';
import { WGSL } from '../core/gpu/wgsl.gen.ts';

interface ParsedStruct {
  family: string;
  name: string;
  members: [name: string, type: string][];
}

/** Splits `s` at the commas outside `<…>`, so `array<vec4<u32>, 2>` stays one type. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '<') depth++;
    else if (s[i] === '>') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Every `struct …Params { name: type, … }` of the WGSL sources, comments removed. */
function paramStructs(): ParsedStruct[] {
  const structs: ParsedStruct[] = [];
  for (const [family, source] of Object.entries(WGSL)) {
    const code = source.replace(/\/\/[^\n]*/g, '');
    for (const [, name, body] of code.matchAll(/struct\s+(\w*Params)\s*\{([^}]*)\}/g)) {
      const members = splitTopLevel(body).map((member): [string, string] => {
        // @align / @size change offsets; the layouts do not model them, so refuse them here.
        assert.doesNotMatch(member, /@/, `wgsl/${family}.wgsl ${name}: attribute in '${member}' is not supported by UniformLayout`);
        const m = /^(\w+)\s*:\s*(.+)$/s.exec(member);
        assert.ok(m, `wgsl/${family}.wgsl ${name}: cannot read member '${member}'`);
        return [m[1], m[2].replace(/\s+/g, ' ')];
      });
      structs.push({ family, name, members });
    }
  }
  return structs;
}

/** One line per field, so a mismatch shows as a readable diff. */
const describe = (fields: readonly { name: string; type: string; offset: number }[]) =>
  fields.map((f) => `@${f.offset} ${f.name}: ${f.type.replace(/\s+/g, ' ')}`);

test('the layout rules: WGSL alignment and sizes in the uniform address space', () => {
  assert.deepEqual(wgslTypeLayout('f32'), { align: 4, size: 4 });
  assert.deepEqual(wgslTypeLayout('vec2<u32>'), { align: 8, size: 8 });
  assert.deepEqual(wgslTypeLayout('vec3<f32>'), { align: 16, size: 12 });
  assert.deepEqual(wgslTypeLayout('array<vec4<u32>, 2>'), { align: 16, size: 32 });
  assert.deepEqual(wgslTypeLayout('array<vec3<f32>, 3>'), { align: 16, size: 48 });
  // A uniform array of scalars would have a 4-byte stride, which WGSL forbids.
  assert.throws(() => wgslTypeLayout('array<u32, 8>'), /multiple of 16/);
  assert.throws(() => wgslTypeLayout('bool'), /not a type/);
  // A vec3 takes 12 bytes, so a scalar after it fills its fourth lane; a vec4 after a
  // scalar starts at the next multiple of 16; the size rounds up to the largest alignment.
  assert.deepEqual(wgslStructLayout([['a', 'vec3<f32>'], ['b', 'u32'], ['c', 'f32']]), { offsets: [0, 12, 16], size: 32 });
  assert.deepEqual(wgslStructLayout([['a', 'u32'], ['b', 'vec4<f32>'], ['c', 'vec2<u32>']]), { offsets: [0, 16, 32], size: 48 });
  assert.deepEqual(wgslStructLayout([['a', 'u32'], ['b', 'f32']]), { offsets: [0, 4], size: 8 });
});

test('every struct …Params of wgsl/ has a packer, and every packer a struct', () => {
  const key = (family: string, name: string) => `wgsl/${family}.wgsl ${name}`;
  const structs = paramStructs().map((s) => key(s.family, s.name)).sort();
  const packers = KERNEL_PARAMS.map((p) => key(p.family, p.struct)).sort();
  assert.ok(structs.length >= 10, `only ${structs.length} structs parsed: ${structs.join(', ')}`);
  assert.deepEqual(packers, structs, 'core/gpu/kernel_params.ts and the structs of wgsl/ name different blocks');
});

test("each packer has its struct's fields: names, types, order and offsets", async (t) => {
  const layouts = new Map<string, (typeof KERNEL_PARAMS)[number]>(KERNEL_PARAMS.map((p) => [`${p.family}.${p.struct}`, p]));
  // One subtest per struct, so every mismatch is reported, not just the first.
  for (const struct of paramStructs()) {
    const packer = layouts.get(`${struct.family}.${struct.name}`);
    if (!packer) continue; // reported by the test above
    await t.test(`wgsl/${struct.family}.wgsl ${struct.name}`, () => {
      const { offsets, size } = wgslStructLayout(struct.members);
      const wgsl = describe(struct.members.map(([name, type], i) => ({ name, type, offset: offsets[i] })));
      assert.deepEqual(
        describe(packer.fields),
        wgsl,
        `core/gpu/kernel_params.ts packs wgsl/${struct.family}.wgsl ${struct.name} differently from the struct (actual: the packer, expected: the WGSL)`,
      );
      assert.equal(packer.bytes, size, `${struct.name}: size`);
      // The recorder gives each dispatch's block a 256-byte slot (core/gpu/recorder.ts).
      assert.ok(size <= 256, `${struct.name} is ${size} bytes, over a params slot`);
    });
  }
});

test("pack writes each value as its field's type at its offset, and zero elsewhere", () => {
  // BinaryParams: three array<vec4<u32>, 2> (32 bytes each), then rank, n and the f32 param.
  const words = BINARY_PARAMS.pack({ shape: [2, 3, 4], aStrides: [12, 4, 1], bStrides: [0, 1, 0], rank: 3, n: 24, param: 0.5 });
  assert.equal(words.length, 112 / 4);
  assert.deepEqual([...words.subarray(0, 8)], [2, 3, 4, 0, 0, 0, 0, 0]);
  assert.deepEqual([...words.subarray(8, 16)], [12, 4, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...words.subarray(16, 24)], [0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([words[24], words[25]], [3, 24]);
  assert.equal(new Float32Array(words.buffer)[26], 0.5);
  assert.equal(words[27], 0);
  // Flags are u32 0/1; f32 fields round as a Float32Array does.
  const sgd = SGD_PARAMS.pack({ n: 5, lr: 0.1, momentum: 0.9, oneMinusDampening: 1, weightDecay: 0, nesterov: true, firstStep: false });
  assert.deepEqual([sgd[0], sgd[5], sgd[6]], [5, 1, 0]);
  assert.equal(new Float32Array(sgd.buffer)[1], Math.fround(0.1));
  const window = WINDOW_PARAMS.pack({
    n: 1,
    c: 2,
    h: 3,
    w: 4,
    kh: 5,
    kw: 6,
    strideH: 7,
    strideW: 8,
    padH: 9,
    padW: 10,
    sN: 11,
    sC: 12,
    sY: 13,
    sX: 14,
    outH: 15,
    outW: 16,
    total: 17,
    chLast: 18,
  });
  assert.deepEqual([...window], Array.from({ length: 18 }, (_, i) => i + 1));
  assert.throws(
    () => BINARY_PARAMS.pack({ shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], aStrides: [], bStrides: [], rank: 9, n: 1, param: 0 }),
    /9 values for a array<vec4<u32>, 2>/,
  );
});
