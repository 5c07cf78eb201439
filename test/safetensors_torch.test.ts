/**
 * PyTorch interop of core/io/safetensors.ts, both ways:
 *  - files written from torch tensors by test/fixtures/torch/make_fixture.py (a hand-written
 *    writer, independent of ours) load with the right names, shapes and dtypes; the MLP's
 *    forward pass computed here in f64 matches torch's logits; every dtype conversion matches
 *    torch's own conversion to f32 bit for bit;
 *  - a file written by our encoder loads into torch tensors (and into the nn.Sequential) through
 *    the script's reader with every bit intact. Needs python3 with torch; skipped, saying so,
 *    when there is none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../core/io/safetensors.ts';
import { findTorchPython, peerEnv } from './torch_python.ts';
import { assertClose, randomF32 } from './util.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'torch');
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as {
  mlp: { order: string[]; shapes: Record<string, number[]>; logits_f32: number[][]; logits_f64: number[][] };
  dtypes: Record<string, { dtype: string; shape: number[]; f32_bits: number[] }>;
};
const MLP_SHAPES: Record<string, number[]> = { '0.weight': [16, 784], '0.bias': [16], '2.weight': [10, 16], '2.bias': [10] };

/** The inputs of make_fixture.py: integer arithmetic and one division, exact in f64, then f32. */
function inputs(): Float32Array[] {
  return [0, 1, 2].map((i) => Float32Array.from({ length: 784 }, (_, j) => (((i * 31 + j * 17) % 23) / 22) - 0.5));
}

/** y = W2·relu(W0·x + b0) + b2 in f64 from f32 parameters: the oracle for torch's logits. */
function mlpForward(p: Map<string, { data: Float32Array }>, x: Float32Array): number[] {
  const affine = (w: Float32Array, b: Float32Array, v: ArrayLike<number>, out: number) =>
    Array.from({ length: out }, (_, o) => {
      let s = b[o];
      for (let k = 0; k < v.length; k++) s += w[o * v.length + k] * v[k];
      return s;
    });
  const h = affine(p.get('0.weight')!.data, p.get('0.bias')!.data, x, 16).map((v) => Math.max(v, 0));
  return affine(p.get('2.weight')!.data, p.get('2.bias')!.data, h, 10);
}

/** Compares logits to `want` within `rel` of the largest |logit|: near-zero logits carry the
 * absolute rounding error of sums whose terms are much larger than the result. */
function assertLogits(got: number[][], want: number[][], rel: number, what: string): void {
  const scale = Math.max(...want.flat().map(Math.abs));
  assertClose(got.flat(), want.flat(), rel * scale, what);
}

const bitsOf = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

test('torch-written MLP state_dict: names, shapes, dtypes, metadata, and the forward pass', () => {
  const file = decodeSafetensors(readFileSync(join(fixtures, 'mlp.safetensors')), 'mlp.safetensors');
  assert.deepEqual(file.order, ['0.weight', '0.bias', '2.weight', '2.bias']);
  assert.deepEqual(file.order, expected.mlp.order);
  assert.deepEqual(file.metadata, { format: 'pt' });
  for (const [name, shape] of Object.entries(MLP_SHAPES)) {
    assert.deepEqual(file.tensors.get(name)!.shape, shape, name);
    assert.equal(file.tensors.get(name)!.dtype, 'F32', name);
  }
  // nn.Linear's default init draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)): a sanity check on the values.
  assert.ok(file.tensors.get('0.weight')!.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(784)));
  assert.ok(file.tensors.get('2.bias')!.data.every((v) => Math.abs(v) <= 1 / 4));
  const logits = inputs().map((x) => mlpForward(file.tensors, x));
  assertLogits(logits, expected.mlp.logits_f32, 1e-5, 'f64 forward vs torch f32 logits');
  assertLogits(logits, expected.mlp.logits_f64, 1e-12, 'f64 forward vs torch f64 logits');
});

test('torch-written F64 / BF16 / F16 / I64 / I32 / empty tensors convert as torch converts them to f32', () => {
  const file = decodeSafetensors(readFileSync(join(fixtures, 'dtypes.safetensors')), 'dtypes.safetensors');
  assert.deepEqual(file.order, Object.keys(expected.dtypes));
  assert.deepEqual(file.metadata, { format: 'pt', what: 'dtype conversions' });
  for (const [name, want] of Object.entries(expected.dtypes)) {
    const t = file.tensors.get(name)!;
    assert.equal(t.dtype, want.dtype, name);
    assert.deepEqual(t.shape, want.shape, name);
    assert.deepEqual(bitsOf(t.data), want.f32_bits, `${name}: f32 bits`);
  }
  assert.equal(file.tensors.get('num_batches_tracked')!.data[0], 937);
});

const torchPython = findTorchPython();

test('a file written by our encoder loads in PyTorch bit for bit and runs in nn.Sequential', {
  skip: torchPython.python ? false : torchPython.reason,
}, () => {
  const special = Int32Array.from([
    0x7fa00001,
    0xffc00123 | 0,
    0x00000000,
    0x80000000 | 0,
    0x7f800000,
    0xff800000 | 0,
    0x00000001,
    0x807fffff | 0,
    0x7f7fffff,
    0x3eaaaaab,
  ]);
  const tensors: NamedTensor[] = [
    ...Object.entries(MLP_SHAPES).map(([name, shape], i) => ({
      name,
      shape,
      data: randomF32(100 + i, shape.reduce((a, b) => a * b, 1), -0.2, 0.2),
    })),
    { name: 'special', shape: [2, 5], data: new Float32Array(special.buffer) },
    { name: 'scalar', shape: [], data: Float32Array.from([42.5]) },
    { name: 'empty', shape: [3, 0, 2], data: new Float32Array(0) },
  ];
  const metadata = { format: 'pt', note: 'ünïcödé ✓ "quoted"' };
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-safetensors-'));
  try {
    const path = join(dir, 'ours.safetensors');
    writeFileSync(path, encodeSafetensors(tensors, metadata));
    const r = spawnSync(torchPython.python!, [join(fixtures, 'make_fixture.py'), '--check', path], {
      encoding: 'utf8',
      timeout: 120_000,
      env: peerEnv(),
    });
    assert.equal(r.status, 0, `make_fixture.py --check failed: ${r.error?.message ?? r.stderr}`);
    const got = JSON.parse(r.stdout) as {
      metadata: Record<string, string>;
      order: string[];
      logits_f32: number[][];
      logits_f64: number[][];
      tensors: Record<string, { dtype: string; shape: number[]; f32_bits: number[] }>;
    };
    assert.deepEqual(got.metadata, metadata);
    assert.deepEqual(got.order, tensors.map((t) => t.name));
    for (const t of tensors) {
      assert.equal(got.tensors[t.name].dtype, 'F32', t.name);
      assert.deepEqual(got.tensors[t.name].shape, t.shape, t.name);
      assert.deepEqual(got.tensors[t.name].f32_bits, bitsOf(t.data), `${t.name}: bits in torch`);
    }
    const params = new Map(tensors.map((t) => [t.name, t]));
    const logits = inputs().map((x) => mlpForward(params, x));
    assertLogits(logits, got.logits_f32, 1e-5, 'our f64 forward vs torch f32 forward on our file');
    assertLogits(logits, got.logits_f64, 1e-12, 'our f64 forward vs torch f64 forward on our file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
