/**
 * Checkpoints: the weights as a PyTorch-compatible safetensors file (nn.Sequential names
 * and shapes, nothing else in it, so `model.load_state_dict(load_file(path))` works), and
 * next to it `NAME.optim.safetensors` with the optimizer state and the step, so a resumed
 * or forked run continues exactly.
 *
 * Both files carry `checksum` in their metadata (FNV-1a 64 of every tensor's bytes, in
 * order), verified on every read: a truncated, bit-flipped or partly overwritten file is
 * refused by name (E_DAMAGED), never used. Files without a checksum (PyTorch's) load as they are.
 */
import { RidgelineError } from '../errors.ts';
import { fnv1a64HexOf } from '../hash.ts';
import type { FileStore } from '../io.ts';
import type { ReadLimit } from '../io.ts';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES } from '../io/safetensors.ts';
import type { Model } from '../nn/model.ts';
import type { Backend } from '../backend.ts';
import { fromArray, keep, type Tensor } from '../tensor.ts';
import type { TrainConfig } from './config.ts';
import { readWeights, stateFromWeights, type TrainState } from './state.ts';

export const WEIGHTS_SUFFIX = '.safetensors';
export const OPTIM_SUFFIX = '.optim.safetensors';

/** Writes `base.safetensors` and `base.optim.safetensors` (each atomically). */
export async function saveCheckpoint(
  files: FileStore,
  base: string,
  model: Model,
  state: TrainState,
  meta: Record<string, string> = {},
): Promise<void> {
  const weights = await readWeights(state);
  await saveWeights(files, base + WEIGHTS_SUFFIX, model, weights, { ...meta, step: String(state.step) });
  const names = state.optimizer.stateNames;
  const trainable = model.params.filter((p) => p.trainable);
  const tensors = await Promise.all(
    state.optimizer.state().map(async (t, i) => ({
      name: `${names[i % names.length]}.${trainable[Math.floor(i / names.length)].name}`,
      shape: [...t.shape],
      data: await t.data(),
    })),
  );
  await files.write(
    base + OPTIM_SUFFIX,
    encodeSafetensors(tensors, {
      format: 'ridgeline-optimizer',
      ...meta,
      step: String(state.step),
      optimizerSteps: String(state.optimizer.steps),
      checksum: fnv1a64HexOf(tensors.map((t) => t.data)),
    }),
  );
}

export async function saveWeights(
  files: FileStore,
  path: string,
  model: Model,
  weights: Float32Array[],
  meta: Record<string, string> = {},
): Promise<void> {
  const tensors = model.params.map((p, i) => ({ name: p.name, shape: p.shape, data: weights[i] }));
  await files.write(path, encodeSafetensors(tensors, { format: 'pt', model: model.name, ...meta, checksum: fnv1a64HexOf(weights) }));
}

/** Refuses a file whose tensors do not hash to its recorded checksum (files without one pass). */
function verifyChecksum(path: string, metadata: Record<string, string>, data: readonly ArrayBufferView[]): void {
  if (metadata.checksum === undefined) return;
  const actual = fnv1a64HexOf(data);
  if (actual !== metadata.checksum) {
    throw new RidgelineError('E_DAMAGED', `${path} is damaged: its tensors hash to ${actual}, its metadata records ${metadata.checksum}`);
  }
}

/** The metadata of a checkpoint's two files, after their checksums are verified; throws E_DAMAGED or E_DATA_FORMAT. */
export async function checkpointIdentity(
  files: FileStore,
  base: string,
): Promise<{ weights: Record<string, string>; optim: Record<string, string> }> {
  const read = async (path: string) => {
    const { tensors, order, metadata } = decodeSafetensors(await files.read(path), path);
    verifyChecksum(path, metadata, order.map((n) => tensors.get(n)!.data));
    return metadata;
  };
  return { weights: await read(base + WEIGHTS_SUFFIX), optim: await read(base + OPTIM_SUFFIX) };
}

/**
 * The largest safetensors file that can hold `copies` tensors per state tensor of `model`:
 * the 8-byte length, the largest header the reader accepts, and every value at 8 bytes
 * (F64/I64, the widest dtypes), plus 8 bytes per tensor for PyTorch's batch counters.
 * Anything larger cannot be this model's file, and is refused before it is read (a device
 * such as /dev/zero, refused as not a regular file, would otherwise be read forever).
 */
function safetensorsLimit(model: Model, copies: number): ReadLimit {
  return {
    bytes: 8 + MAX_HEADER_BYTES + 8 * copies * (model.stateSize + model.params.length),
    what: `a safetensors file of ${model.name}`,
  };
}

/**
 * Reads a weights file (ours or PyTorch's) and checks it against the model: every
 * parameter present with the right shape, nothing missing; extra tensors are an error too.
 */
export async function loadWeights(files: FileStore, path: string, model: Model): Promise<Float32Array[]> {
  const { tensors, order, metadata } = decodeSafetensors(await files.read(path, safetensorsLimit(model, 1)), path);
  verifyChecksum(path, metadata, order.map((n) => tensors.get(n)!.data));
  const expected = new Set(model.params.map((p) => p.name));
  // PyTorch's batch norm also saves an int64 batch counter, which nothing here uses.
  const extra = [...tensors.keys()].filter((k) => !expected.has(k) && !k.endsWith('.num_batches_tracked'));
  const out = model.params.map((p) => {
    const t = tensors.get(p.name);
    if (!t) {
      throw new RidgelineError(
        'E_SHAPE',
        `${path}: tensor '${p.name}' is missing (model ${model.name} has ${model.params.map((q) => q.name).join(', ')})`,
      );
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new RidgelineError(
        'E_SHAPE',
        `${path}: tensor '${p.name}' has shape [${t.shape.join(', ')}] but model ${model.name} (${model.description}) needs [${
          p.shape.join(', ')
        }]`,
      );
    }
    requireFinite(path, p.name, t.data, 'weights');
    return t.data;
  });
  if (extra.length > 0) {
    throw new RidgelineError('E_SHAPE', `${path}: tensors ${extra.join(', ')} do not belong to model ${model.name} (${model.description})`);
  }
  return out;
}

/**
 * Refuses a tensor holding NaN or ±Inf (an F64/F16 value beyond f32's range arrives as
 * ±Inf). Checked here, when the file is read, so the error names the file and the tensor;
 * left in, it would surface later as a "diverged" loss and blame the optimisation.
 */
function requireFinite(path: string, name: string, data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RidgelineError('E_DATA_FORMAT', `${path} holds non-finite ${what} (tensor ${name}, element ${i} is ${data[i]})`);
    }
  }
}

/** Restores a full training state (weights, optimizer state, step) written by saveCheckpoint. */
export async function loadCheckpoint(
  files: FileStore,
  base: string,
  backend: Backend,
  model: Model,
  config: TrainConfig,
): Promise<TrainState> {
  const weights = await loadWeights(files, base + WEIGHTS_SUFFIX, model);
  const optimPath = base + OPTIM_SUFFIX;
  const { tensors, order, metadata } = decodeSafetensors(await files.read(optimPath, safetensorsLimit(model, 2)), optimPath);
  verifyChecksum(optimPath, metadata, order.map((n) => tensors.get(n)!.data));
  const step = Number(metadata.step);
  const optimizerSteps = Number(metadata.optimizerSteps);
  if (!Number.isSafeInteger(step) || !Number.isSafeInteger(optimizerSteps)) {
    throw new RidgelineError('E_DATA_FORMAT', `${optimPath}: metadata lacks an integer step`);
  }
  const state = stateFromWeights(backend, model, weights, config, step);
  const names = state.optimizer.stateNames;
  const wanted = model.params.filter((p) => p.trainable).flatMap((p) => names.map((n) => `${n}.${p.name}`));
  // Before the first update an optimizer has no state yet (a checkpoint at step 0).
  const fresh = order.length === 0 && optimizerSteps === 0;
  if (!fresh && wanted.some((w) => !tensors.has(w))) {
    throw new RidgelineError(
      'E_DATA_FORMAT',
      `${optimPath}: optimizer state does not match ${config.optimizer} (expected ${wanted.join(', ')}; found ${order.join(', ')})`,
    );
  }
  const restored: Tensor[] = fresh ? [] : wanted.map((w) => {
    const t = tensors.get(w)!;
    requireFinite(optimPath, w, t.data, 'optimizer state');
    return keep(fromArray(backend, t.data, t.shape));
  });
  state.optimizer.setState(restored, optimizerSteps);
  return state;
}
