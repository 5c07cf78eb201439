/**
 * The WebGPU backend's shape choices and WGSL specialisation, as plain functions: no
 * device needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RidgelineError } from '../core/errors.ts';
import { kernelSource, specialize } from '../core/gpu/shaders.ts';
import { chooseReduce, chooseSoftmax, chooseTiles, DEFAULT_TILE_LIMITS, grid, tileBytes, type TileLimits } from '../core/gpu/tiles.ts';
import { WGSL } from '../core/gpu/wgsl.gen.ts';

const dims = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 1 << 20 }));
const limits = fc.record({
  maxComputeInvocationsPerWorkgroup: fc.constantFrom(1, 16, 64, 128, 256, 1024),
  maxComputeWorkgroupSizeX: fc.constantFrom(1, 8, 64, 256, 1024),
  maxComputeWorkgroupSizeY: fc.constantFrom(1, 8, 64, 256, 1024),
  maxComputeWorkgroupStorageSize: fc.constantFrom(1024, 4096, 16384, 32768),
});

test("chooseTiles: every choice fits the limits and the kernel's constraints (TM 4 or 8, BK a multiple of 4)", () => {
  fc.assert(
    fc.property(dims, dims, dims, limits, (m, n, k, lim: TileLimits) => {
      const t = chooseTiles(m, n, k, lim);
      assert.ok(t.wgX * t.wgY <= lim.maxComputeInvocationsPerWorkgroup, `${JSON.stringify(t)} invocations`);
      assert.ok(t.wgX <= lim.maxComputeWorkgroupSizeX && t.wgY <= lim.maxComputeWorkgroupSizeY, `${JSON.stringify(t)} sizes`);
      assert.ok(tileBytes(t) <= lim.maxComputeWorkgroupStorageSize, `${JSON.stringify(t)} uses ${tileBytes(t)} bytes`);
      assert.ok(t.tm === 4 || t.tm === 8);
      assert.equal(t.bk % 4, 0);
      assert.equal(t.bm, t.wgY * t.tm);
      assert.equal(t.bn, 4 * t.wgX);
      assert.deepEqual(chooseTiles(m, n, k, lim), t, 'a pure function of its arguments');
    }),
    { numRuns: 500 },
  );
});

test('chooseTiles: square products get 128×64 tiles; a 10-column output layer gets a 16-wide tile', () => {
  assert.deepEqual(chooseTiles(1024, 1024, 1024), { wgX: 16, wgY: 16, tm: 8, bk: 16, bm: 128, bn: 64 });
  assert.equal(chooseTiles(512, 10, 784).bn, 16);
  assert.equal(chooseTiles(10, 512, 784).bm, 16);
  assert.ok(tileBytes(chooseTiles(1024, 1024, 1024)) <= DEFAULT_TILE_LIMITS.maxComputeWorkgroupStorageSize);
});

test('grid: covers every workgroup within the per-dimension limit, overshooting by less than one x·y plane', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 65535 }), (groups, max) => {
      fc.pre(groups <= max ** 3);
      const [x, y, z] = grid(groups, max);
      assert.ok(x <= max && y <= max && z <= max && x >= 1 && y >= 1 && z >= 1, `${[x, y, z]} within ${max}`);
      assert.ok(x * y * z >= groups, `${[x, y, z]} covers ${groups}`);
      assert.ok(x * y * (z - 1) < groups, `${[x, y, z]} has no empty plane`);
      if (groups <= max) assert.deepEqual([x, y, z], [groups, 1, 1]);
    }),
    { numRuns: 2000 },
  );
  assert.throws(() => grid(9, 2), RangeError);
});

test('chooseReduce and chooseSoftmax depend on the shape only', () => {
  assert.equal(chooseReduce(1, 60000, 1), 'tree');
  assert.equal(chooseReduce(1, 128, 100), 'serial');
  assert.equal(chooseReduce(10000, 3000, 1), 'serial');
  assert.deepEqual(chooseSoftmax(10), { mode: 'thread', wg: 64 });
  assert.deepEqual(chooseSoftmax(1030), { mode: 'group', wg: 64 });
});

test('specialize substitutes declared constants and refuses unknown names or wrong types', () => {
  const src = 'const A: u32 = 1u;\nconst B: bool = false;\nconst C: u32 = A * 2u;\n';
  assert.equal(specialize(src, { A: 7, B: true }), 'const A: u32 = 7u;\nconst B: bool = true;\nconst C: u32 = A * 2u;\n');
  assert.throws(
    () => specialize(src, { D: 1 }),
    (e: unknown) => e instanceof RidgelineError && /constant D is not declared/.test(e.message),
  );
  assert.throws(() => specialize(src, { B: 1 }), /constant B is bool/);
});

test('every kernel family embeds, declares its constants, and pulls in math.wgsl where needed', () => {
  assert.deepEqual(Object.keys(WGSL).sort(), ['elementwise', 'math', 'matmul', 'matmul_direct', 'optim', 'reduce', 'softmax', 'window']);
  const matmul = kernelSource('matmul', { TRANS_A: true, TRANS_B: false, VEC_A: true, VEC_B: false, WG_X: 4, WG_Y: 32, TM: 8, BK: 16 });
  assert.match(matmul, /^const TRANS_A: bool = true;$/m);
  assert.match(matmul, /^const TM: u32 = 8u;/m);
  assert.doesNotMatch(matmul, /fn expF/);
  assert.match(kernelSource('elementwise', { UNARY_OP: 6 }), /fn expF[\s\S]*const UNARY_OP: u32 = 6u;/);
  assert.match(kernelSource('softmax', { XENT: true, WG: 64 }), /fn logF[\s\S]*const XENT: bool = true;/);
  // One max for every kernel: math.wgsl's maxF (wasm f32.max semantics), defined nowhere else.
  assert.match(kernelSource('reduce', { REDUCE_OP: 1 }), /fn maxF/);
  for (const [family, src] of Object.entries(WGSL)) if (family !== 'math') assert.doesNotMatch(src, /fn max/i, family);
  kernelSource('optim', {});
  assert.doesNotMatch(kernelSource('window', {}), /fn expF/);
});
