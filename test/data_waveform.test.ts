/**
 * Waveform data for SIREN: WAV files built byte by byte from the RIFF/WAVE definition round
 * trip (8/16/24/32-bit PCM, float, extensible, several channels → the first), malformed
 * files are E_DATA_FORMAT naming the file and the fault, and the generated signal is
 * deterministic and documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { DATASET_HELP, DATASET_NAMES, loadDataset, parseDatasetName } from '../core/data/registry.ts';
import { generateWaveform, parseWav, WAVEFORM_COMPONENTS, WAVEFORM_RATE } from '../core/data/waveform.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { ridgelineError, withTempDir, writeFiles } from './fixtures/data/idx_bytes.ts';
import { RUNS } from './util.ts';

const files = nodeFileStore();

function u32(v: number): number[] {
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
}
function u16(v: number): number[] {
  return [v & 255, (v >>> 8) & 255];
}
function tag(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

interface WavSpec {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  data: number[];
  extensible?: boolean;
  extra?: number[][];
}

/** WAV bytes: RIFF header, optional extra chunks, fmt, data. */
function wavBytes(spec: WavSpec): Uint8Array {
  const { format = 1, channels = 1, rate = 8000, bits = 16, data, extensible = false, extra = [] } = spec;
  const align = channels * (bits / 8);
  let fmt = [...u16(extensible ? 0xfffe : format), ...u16(channels), ...u32(rate), ...u32(rate * align), ...u16(align), ...u16(bits)];
  if (extensible) {
    fmt = [...fmt, ...u16(22), ...u16(bits), ...u32(0), ...u16(format), 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71];
  }
  const chunks = [...extra.flat(), ...tag('fmt '), ...u32(fmt.length), ...fmt, ...tag('data'), ...u32(data.length), ...data];
  return Uint8Array.from([...tag('RIFF'), ...u32(4 + chunks.length), ...tag('WAVE'), ...chunks]);
}

function int16Data(values: number[], channels = 1): number[] {
  const out: number[] = [];
  for (const v of values) for (let c = 0; c < channels; c++) out.push(...u16((c === 0 ? v : -v - 1) & 0xffff));
  return out;
}

test('16-bit PCM WAV round-trips (mono and the first of several channels), property', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 3 }),
      (values, channels) => {
        const wav = parseWav(wavBytes({ channels, data: int16Data(values, channels) }), 'm.wav');
        assert.equal(wav.channels, channels);
        assert.equal(wav.sampleRate, 8000);
        assert.deepEqual(wav.samples, Float32Array.from(values, (v) => v / 32768));
      },
    ),
    { numRuns: RUNS.kernel },
  );
});

test('8-bit, 24-bit and 32-bit PCM, float32/64 and WAVE_FORMAT_EXTENSIBLE decode exactly; odd-sized chunks are skipped with padding', () => {
  assert.deepEqual(parseWav(wavBytes({ bits: 8, data: [0, 128, 255] }), 'a.wav').samples, Float32Array.of(-1, 0, 127 / 128));
  assert.deepEqual(
    parseWav(wavBytes({ bits: 24, data: [0, 0, 0x80, 0xff, 0xff, 0x7f, 1, 0, 0] }), 'a.wav').samples,
    Float32Array.of(-1, 8388607 / 8388608, 1 / 8388608),
  );
  assert.deepEqual(
    parseWav(wavBytes({ bits: 32, data: [...u32(0x80000000), ...u32(0x40000000)] }), 'a.wav').samples,
    Float32Array.of(-1, 0.5),
  );
  const f32 = new Uint8Array(Float32Array.of(0.25, -0.75, 1.5).buffer);
  assert.deepEqual(parseWav(wavBytes({ format: 3, bits: 32, data: [...f32] }), 'a.wav').samples, Float32Array.of(0.25, -0.75, 1.5));
  const f64 = new Uint8Array(Float64Array.of(0.125, -0.5).buffer);
  assert.deepEqual(parseWav(wavBytes({ format: 3, bits: 64, data: [...f64] }), 'a.wav').samples, Float32Array.of(0.125, -0.5));
  const ext = parseWav(wavBytes({ extensible: true, channels: 2, data: int16Data([100, -200], 2) }), 'a.wav');
  assert.equal(ext.format, 1);
  assert.deepEqual(ext.samples, Float32Array.of(100 / 32768, -200 / 32768));
  const list = [...tag('LIST'), ...u32(3), 1, 2, 3, 0]; // odd size + pad byte
  assert.deepEqual(parseWav(wavBytes({ data: int16Data([7]), extra: [list] }), 'a.wav').samples, Float32Array.of(7 / 32768));
});

test('malformed WAV files are E_DATA_FORMAT naming the file and the fault', () => {
  const good = wavBytes({ data: int16Data([1, 2, 3]) });
  const cases: [Uint8Array, string[]][] = [
    [good.subarray(0, 8), ['too short']],
    [Uint8Array.from([...tag('RIFX'), ...good.subarray(4)]), ['not a RIFF file', 'RIFX']],
    [Uint8Array.from([...good.subarray(0, 8), ...tag('AVI '), ...good.subarray(12)]), ['form type', 'AVI ']],
    [good.subarray(0, good.length - 2), ['chunk "data"', 'declares 6 bytes but only 4 remain', 'truncated']],
    [Uint8Array.from([...tag('RIFF'), ...u32(16), ...tag('WAVE'), ...tag('data'), ...u32(2), 0, 0]), [
      'data chunk comes before any fmt chunk',
    ]],
    [Uint8Array.from([...tag('RIFF'), ...u32(4), ...tag('WAVE')]), ['no fmt chunk']],
    [good.subarray(0, 12 + 8 + 16), ['no data chunk']],
    [wavBytes({ format: 2, data: [0, 0] }), ['unsupported audio format 2']],
    [wavBytes({ bits: 12 as number, data: [0, 0] }), []],
    [wavBytes({ format: 3, bits: 16, data: [0, 0] }), ['unsupported float sample size 16']],
    [wavBytes({ data: [1, 2, 3] }), ['not a whole number of 2-byte frames', '1 bytes left over']],
    [wavBytes({ data: [] }), ['no samples']],
    [wavBytes({ channels: 0, data: [0, 0] }), ['0 channels']],
    [wavBytes({ format: 3, bits: 32, data: [0, 0, 0xc0, 0x7f] }), ['sample 0 is not finite']],
  ];
  for (const [bytes, patterns] of cases) {
    assert.throws(() => parseWav(bytes, 'bad.wav'), ridgelineError('E_DATA_FORMAT', 'bad.wav', ...patterns), patterns.join(' '));
  }
  // Block align that disagrees with channels × bytes.
  const wrongAlign = wavBytes({ data: int16Data([1, 2]) });
  wrongAlign[12 + 8 + 12] = 4;
  assert.throws(() => parseWav(wrongAlign, 'bad.wav'), ridgelineError('E_DATA_FORMAT', 'block align 4'));
});

test('waveform:FILE.wav loads as regression: x = time in [-1, 1], y = amplitude, [1] input, test = train', async () => {
  const values = [0, 16384, -16384, 32767, -32768];
  await withTempDir(async (dir) => {
    await writeFiles(dir, { 's.wav': wavBytes({ data: int16Data(values) }), 'bad.wav': Uint8Array.of(1, 2, 3) });
    const ds = await loadDataset(`waveform:${join(dir, 's.wav')}`, files, { normalize: 'none' });
    assert.deepEqual(ds.inputShape, [1]);
    assert.equal(ds.classes, 0);
    assert.deepEqual(ds.train.x, Float32Array.of(-1, -0.5, 0, 0.5, 1));
    assert.deepEqual(ds.train.y, Float32Array.from(values, (v) => v / 32768));
    assert.deepEqual(ds.test, ds.train);
    assert.notEqual(ds.test.x, ds.train.x); // a copy
    await assert.rejects(loadDataset(`waveform:${join(dir, 'bad.wav')}`, files), ridgelineError('E_DATA_FORMAT', join(dir, 'bad.wav')));
  });
});

test('the generated waveform is deterministic, the documented sum of sines, 1 s at WAVEFORM_RATE', async () => {
  const a = await loadDataset('waveform', files, { normalize: 'none' });
  const b = await loadDataset('waveform', files, { normalize: 'none' });
  assert.deepEqual(a.train, b.train);
  assert.equal(a.train.n, WAVEFORM_RATE);
  assert.equal(a.name, 'waveform');
  assert.deepEqual(a.inputShape, [1]);
  assert.equal(a.classes, 0);
  assert.equal(a.train.x[0], -1);
  assert.equal(a.train.x[a.train.n - 1], 1);
  assert.deepEqual(a.test, a.train);
  assert.deepEqual(a.train.y, generateWaveform());
  for (const k of [0, 1, 100, 2047, 4095]) {
    const t = k / WAVEFORM_RATE;
    const want = WAVEFORM_COMPONENTS.reduce((s, c) => s + c.amplitude * Math.sin(2 * Math.PI * c.frequency * t + c.phase), 0);
    assert.ok(Math.abs(a.train.y[k]! - want) < 1e-6, `sample ${k}`);
  }
  let peak = 0;
  for (const v of a.train.y) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak < 1 && peak > 0.3);
});

test('names: waveform and waveform:FILE.wav parse; other files are E_SPEC; help and the full list show them', () => {
  assert.deepEqual(parseDatasetName('waveform'), { kind: 'waveform', path: null });
  assert.deepEqual(parseDatasetName('waveform:/a/b.WAV'), { kind: 'waveform', path: '/a/b.WAV' });
  assert.throws(() => parseDatasetName('waveform:/a/b.mp3'), ridgelineError('E_SPEC', 'needs a .wav file', '/a/b.mp3'));
  assert.throws(() => parseDatasetName('waveform:'), ridgelineError('E_SPEC', "unknown dataset 'waveform:'"));
  for (const form of ['waveform', 'waveform:FILE.wav']) {
    assert.ok(DATASET_NAMES.includes(form), form);
    assert.ok(DATASET_HELP.includes(form), form);
  }
});
