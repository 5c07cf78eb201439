/**
 * CIFAR-10 and CIFAR-100 in their "binary version" (Krizhevsky,
 * https://www.cs.toronto.edu/~kriz/cifar.html), read record by record:
 *
 *   CIFAR-10   data_batch_1.bin … data_batch_5.bin (train, in that order) and test_batch.bin;
 *              each record is <1 × label 0..9><3072 × pixel> (3073 bytes).
 *   CIFAR-100  train.bin and test.bin; each record is
 *              <1 × coarse label 0..19><1 × fine label 0..99><3072 × pixel> (3074 bytes).
 *              The fine label (100 classes) is the one used.
 *
 * The 3072 pixel bytes are channel-major (1024 red, then 1024 green, then 1024 blue), each
 * channel a 32 × 32 image in row-major order: exactly the (C, H, W) layout of a Split row,
 * so a record's pixels are copied in order and scaled by 1/255. Input shape [3, 32, 32].
 * The official files hold 10 000 records each; smaller files in the same format are
 * accepted (tests and subsets), a size that is not a whole number of records is not.
 */
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import type { Dataset, Split } from './dataset.ts';

export const CIFAR_PIXELS = 3 * 32 * 32;
export const CIFAR_INPUT_SHAPE: readonly number[] = [3, 32, 32];

export type CifarVariant = 'cifar10' | 'cifar100';

interface CifarLayout {
  classes: number;
  /** Label bytes before the pixels; the label used is the last of them. */
  labelBytes: number;
  train: readonly string[];
  test: readonly string[];
}

const LAYOUTS: Record<CifarVariant, CifarLayout> = {
  cifar10: {
    classes: 10,
    labelBytes: 1,
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: ['test_batch.bin'],
  },
  cifar100: { classes: 100, labelBytes: 2, train: ['train.bin'], test: ['test.bin'] },
};

/**
 * The largest CIFAR binary file accepted: 1 GiB. The official files are 30.7 MB (CIFAR-10)
 * and 154 MB (CIFAR-100 train.bin); pixels become f32 (×4) and must fit in a backend of at
 * most 4 GiB beside a model, so a larger file is a wrong path, not a data set.
 */
export const CIFAR_MAX_FILE_BYTES = 1024 ** 3;

/** Bytes per record of a variant (3073 for CIFAR-10, 3074 for CIFAR-100). */
export function cifarRecordSize(variant: CifarVariant): number {
  return LAYOUTS[variant].labelBytes + CIFAR_PIXELS;
}

/** The file names a CIFAR directory must hold, train files first. */
export function cifarFiles(variant: CifarVariant): readonly string[] {
  return [...LAYOUTS[variant].train, ...LAYOUTS[variant].test];
}

/** Where the binary archives are obtained, for the missing-files error. */
const HINT: Record<CifarVariant, string> = {
  cifar10: 'Download and unpack cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html (directory cifar-10-batches-bin).',
  cifar100: 'Download and unpack cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html (directory cifar-100-binary).',
};

/**
 * Parses the records of one binary file (`path` only names it in errors). Throws
 * E_DATA_FORMAT if the size is not a whole number of records or a label is out of range.
 */
export function parseCifarRecords(bytes: Uint8Array, path: string, variant: CifarVariant): Split {
  const { classes, labelBytes } = LAYOUTS[variant];
  const record = labelBytes + CIFAR_PIXELS;
  const n = Math.floor(bytes.length / record);
  const left = bytes.length - n * record;
  if (left !== 0) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${path}: truncated or not a ${variant} binary file: ${bytes.length} bytes is ${n} whole records of ${record} bytes with ${left} bytes left over`,
    );
  }
  const x = new Float32Array(n * CIFAR_PIXELS);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    if (variant === 'cifar100' && bytes[at]! >= 20) {
      throw new RidgelineError('E_DATA_FORMAT', `${path}: record ${i} (byte offset ${at}) has coarse label ${bytes[at]}, outside [0, 19]`);
    }
    const label = bytes[at + labelBytes - 1]!;
    if (label >= classes) {
      throw new RidgelineError(
        'E_DATA_FORMAT',
        `${path}: record ${i} (byte offset ${at + labelBytes - 1}) has ${
          variant === 'cifar100' ? 'fine ' : ''
        }label ${label}, outside [0, ${classes - 1}]`,
      );
    }
    y[i] = label;
    const px = at + labelBytes;
    const out = i * CIFAR_PIXELS;
    for (let j = 0; j < CIFAR_PIXELS; j++) x[out + j] = bytes[px + j]! / 255;
  }
  return { x, y, n };
}

function concatSplits(parts: readonly Split[]): Split {
  let n = 0;
  for (const p of parts) n += p.n;
  const x = new Float32Array(n * CIFAR_PIXELS);
  const y = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * CIFAR_PIXELS);
    y.set(p.y, at);
    at += p.n;
  }
  return { x, y, n };
}

/** Loads `cifar10:DIR` or `cifar100:DIR` (pixels scaled to [0, 1], not yet normalized). */
export async function loadCifar(files: FileStore, dir: string, variant: CifarVariant): Promise<Dataset> {
  const layout = LAYOUTS[variant];
  const entries = await files.list(dir);
  const expected = cifarFiles(variant);
  const missing = expected.filter((f) => !entries.includes(f));
  if (missing.length > 0) {
    const state = entries.length === 0 ? 'is missing or empty' : `lacks ${missing.join(', ')}`;
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${variant}: directory ${dir} ${state}; expected the binary files ${expected.join(', ')}. ${HINT[variant]}`,
    );
  }
  const read = async (name: string): Promise<Split> => {
    const path = joinPath(dir, name);
    return parseCifarRecords(await files.read(path, { bytes: CIFAR_MAX_FILE_BYTES, what: `a ${variant} binary file` }), path, variant);
  };
  const train: Split[] = [];
  for (const name of layout.train) train.push(await read(name)); // sequential: the official set is 150 MB as f32
  const test = await read(layout.test[0]!);
  // Zero-byte files parse as zero records; refused here, naming the files, rather than
  // later as an impossible batch size or a NaN loss over no examples.
  if (train.every((t) => t.n === 0)) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${variant}: the train split is empty: ${layout.train.map((f) => joinPath(dir, f)).join(', ')} hold no records`,
    );
  }
  if (test.n === 0) {
    throw new RidgelineError('E_DATA_FORMAT', `${variant}: the test split is empty: ${joinPath(dir, layout.test[0]!)} holds no records`);
  }
  return {
    name: `${variant}:${dir}`,
    inputShape: [...CIFAR_INPUT_SHAPE],
    classes: layout.classes,
    train: concatSplits(train),
    test,
    source: dir,
  };
}
