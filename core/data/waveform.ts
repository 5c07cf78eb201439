/**
 * One-signal regression sets for SIREN (docs/models.md, Yunis et al. App. A): the network maps a
 * timestep to the signal's amplitude there.
 *
 *   waveform             a generated signal (below), deterministic in every runtime
 *   waveform:FILE.wav    a PCM WAV file (first channel if it has several)
 *
 * Layout: inputShape [1], classes 0 (regression). Sample k of n has x = −1 + 2k/(n − 1)
 * (x = 0 for a one-sample signal), i.e. time rescaled to [−1, 1] as in the SIREN paper, and
 * y = its amplitude in [−1, 1]. SIREN fits one signal, so train is every sample and test is
 * the same samples again (a copy): "test" measures the fit, not generalization.
 * Note: `loadDataset`'s default standard normalization rescales x as well; use
 * normalize 'none' to keep x in [−1, 1].
 *
 * The generated signal: WAVEFORM_SECONDS = 1 s at WAVEFORM_RATE = 4096 samples/s (4096
 * samples, t = k / rate), y(t) = Σ_j a_j · sin(2π f_j t + φ_j) with the components in
 * WAVEFORM_COMPONENTS (amplitudes sum to 0.95, so |y| < 1), computed with
 * portable_math's sin so every runtime produces the same f32 values.
 *
 * WAV: RIFF/WAVE, chunks in any order with a `fmt ` chunk before `data`. Supported
 * encodings: PCM (format 1) with 8-bit unsigned ((b − 128) / 128), 16-, 24- and 32-bit
 * signed little-endian (v / 2^(bits−1)), IEEE float (format 3) with 32 or 64 bits, and
 * WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose sub-format is one of those. Anything else, or a
 * malformed or truncated file, is E_DATA_FORMAT naming the file and the fault.
 */
import { RidgelineError } from '../errors.ts';
import type { FileStore } from '../io.ts';
import { sin } from '../portable_math.ts';
import type { Dataset } from './dataset.ts';

export const WAVEFORM_RATE = 4096;
export const WAVEFORM_SECONDS = 1;
/** Components of the generated signal: amplitude, frequency (Hz), phase (rad). */
export const WAVEFORM_COMPONENTS: readonly { amplitude: number; frequency: number; phase: number }[] = [
  { amplitude: 0.5, frequency: 3, phase: 0 },
  { amplitude: 0.25, frequency: 17, phase: 0.5 },
  { amplitude: 0.15, frequency: 61, phase: 1.3 },
  { amplitude: 0.05, frequency: 240, phase: 2.1 },
];

/** The generated signal's samples (see the module comment). */
export function generateWaveform(rate = WAVEFORM_RATE, seconds = WAVEFORM_SECONDS): Float32Array {
  const n = Math.round(rate * seconds);
  const y = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const t = k / rate;
    let v = 0;
    for (const c of WAVEFORM_COMPONENTS) v += c.amplitude * sin(2 * Math.PI * c.frequency * t + c.phase);
    y[k] = v;
  }
  return y;
}

/**
 * The largest |sample| a float WAV may hold. Float audio is nominally in [−1, 1] and real
 * files clip over it by a few dB (|v| of 2–4 is +6…+12 dB); a value of 1000 (+60 dB) is no
 * longer audio but a damaged or mislabelled file, and 1e30 would blow the regression loss
 * up and be blamed on the optimiser. Integer PCM is in [−1, 1] by construction.
 */
export const WAV_MAX_FLOAT_SAMPLE = 1000;

/**
 * The largest WAV file accepted: 512 MiB. SIREN fits one signal sample by sample (the
 * generated one has 4096); half a gigabyte is already 134 M f32 samples of 16-bit mono,
 * more than a regression set that trains in reasonable time, and RIFF itself stops at 4 GiB.
 */
export const WAV_MAX_FILE_BYTES = 512 * 1024 ** 2;

/** A decoded WAV file: the first channel's samples in [−1, 1]. */
export interface WavData {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 1 = PCM integer, 3 = IEEE float (an extensible file reports its sub-format). */
  format: 1 | 3;
  samples: Float32Array;
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Parses WAV bytes (`path` only names the file in errors). */
export function parseWav(bytes: Uint8Array, path: string): WavData {
  const bad = (what: string): never => {
    throw new RidgelineError('E_DATA_FORMAT', `${path}: ${what}`);
  };
  if (bytes.length < 12) bad(`${bytes.length} bytes is too short for a RIFF/WAVE header (12 bytes)`);
  if (ascii(bytes, 0) !== 'RIFF') bad(`not a RIFF file (starts with ${JSON.stringify(ascii(bytes, 0))}, expected "RIFF")`);
  if (ascii(bytes, 8) !== 'WAVE') bad(`RIFF form type is ${JSON.stringify(ascii(bytes, 8))}, expected "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (body + size > bytes.length) {
      bad(`chunk ${JSON.stringify(id)} at byte ${at} declares ${size} bytes but only ${bytes.length - body} remain (truncated)`);
    }
    if (id === 'fmt ') {
      if (size < 16) bad(`fmt chunk is ${size} bytes, expected at least 16`);
      let format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (format === 0xfffe) {
        if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`);
        format = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      fmt = { format, channels, rate, blockAlign, bits };
    } else if (id === 'data') {
      if (fmt === null) bad('data chunk comes before any fmt chunk');
      return decode(bytes.subarray(body, body + size), view, body, fmt!, bad);
    }
    at = body + size + (size % 2); // chunks are padded to an even size
  }
  return bad(fmt === null ? 'no fmt chunk' : 'no data chunk');
}

function decode(
  data: Uint8Array,
  view: DataView,
  start: number,
  fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number },
  bad: (what: string) => never,
): WavData {
  const { format, channels, rate, blockAlign, bits } = fmt;
  const pcmBits = [8, 16, 24, 32];
  const floatBits = [32, 64];
  if (format !== 1 && format !== 3) {
    bad(`unsupported audio format ${format} (supported: 1 = PCM, 3 = IEEE float, or extensible with one of them)`);
  }
  if (format === 1 && !pcmBits.includes(bits)) bad(`unsupported PCM sample size ${bits} bits (supported: ${pcmBits.join(', ')})`);
  if (format === 3 && !floatBits.includes(bits)) bad(`unsupported float sample size ${bits} bits (supported: ${floatBits.join(', ')})`);
  if (channels < 1) bad('fmt chunk declares 0 channels');
  if (rate < 1) bad('fmt chunk declares a sample rate of 0');
  const bytesPer = bits / 8;
  if (blockAlign !== channels * bytesPer) bad(`block align ${blockAlign} does not match ${channels} channel(s) × ${bytesPer} bytes`);
  const n = Math.floor(data.length / blockAlign);
  const left = data.length - n * blockAlign;
  if (left !== 0) bad(`data chunk of ${data.length} bytes is not a whole number of ${blockAlign}-byte frames (${left} bytes left over)`);
  if (n === 0) bad('data chunk holds no samples');
  const samples = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const p = start + k * blockAlign; // first channel of frame k
    let v: number;
    if (format === 3) v = bits === 32 ? view.getFloat32(p, true) : view.getFloat64(p, true);
    else if (bits === 8) v = (view.getUint8(p) - 128) / 128;
    else if (bits === 16) v = view.getInt16(p, true) / 32768;
    else if (bits === 24) v = (((view.getUint8(p + 2) << 24) | (view.getUint8(p + 1) << 16) | (view.getUint8(p) << 8)) >> 8) / 8388608;
    else v = view.getInt32(p, true) / 2147483648;
    if (!Number.isFinite(v)) bad(`sample ${k} is not finite (${v})`);
    if (Math.abs(v) > WAV_MAX_FLOAT_SAMPLE) {
      bad(`sample ${k} is ${v}: not audio (float samples lie near [−1, 1]; the limit is ±${WAV_MAX_FLOAT_SAMPLE})`);
    }
    samples[k] = v; // |v| ≤ WAV_MAX_FLOAT_SAMPLE, so the f32 conversion cannot overflow
  }
  return { sampleRate: rate, channels, bitsPerSample: bits, format: format as 1 | 3, samples };
}

/** The regression set of one signal: x = time in [−1, 1], y = amplitude; test = train. */
export function waveformDataset(name: string, samples: Float32Array, source: string): Dataset {
  const n = samples.length;
  const x = new Float32Array(n);
  for (let k = 0; k < n; k++) x[k] = n === 1 ? 0 : -1 + (2 * k) / (n - 1);
  const y = Float32Array.from(samples);
  return {
    name,
    inputShape: [1],
    classes: 0,
    train: { x, y, n },
    test: { x: x.slice(), y: y.slice(), n },
    source,
  };
}

/** `waveform` (generated) or `waveform:FILE.wav` (`path` given). */
export async function loadWaveform(files: FileStore, path: string | null): Promise<Dataset> {
  if (path === null) {
    const parts = WAVEFORM_COMPONENTS.map((c) => `${c.amplitude}·sin(2π·${c.frequency}t+${c.phase})`).join(' + ');
    return waveformDataset('waveform', generateWaveform(), `generated: ${parts}, ${WAVEFORM_SECONDS} s at ${WAVEFORM_RATE} Hz`);
  }
  const wav = parseWav(await files.read(path, { bytes: WAV_MAX_FILE_BYTES, what: 'a WAV file' }), path);
  return waveformDataset(`waveform:${path}`, wav.samples, path);
}
