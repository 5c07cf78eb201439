/**
 * Typed errors. Every failure the toolkit reports carries a stable code so that callers
 * (CLI, tests, other runtimes) can react to the kind of fault without parsing messages,
 * and a message that names the op, file, field or step at fault.
 */
export type ErrorCode =
  | 'E_SHAPE' // operand shapes do not fit the op
  | 'E_ARG' // an argument is outside its valid range
  | 'E_DATA_FORMAT' // a data file is corrupt or truncated
  | 'E_DAMAGED' // a file a run wrote fails its checksum or identity check
  | 'E_SPEC' // an experiment spec or CLI option is invalid
  | 'E_DIVERGED' // training produced NaN/Inf, or a loss or weight norm past its growth bound
  | 'E_IO' // a file or directory could not be written (full, read-only, no permission, not a directory)
  | 'E_NO_ADAPTER' // no usable WebGPU adapter
  | 'E_BACKEND' // the backend failed (out of memory, lost device)
  | 'E_STATE'; // an object was used after it was freed, or in the wrong state

export class RidgelineError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.name = 'RidgelineError';
  }
}

/** Throws an `E_SHAPE` error naming the op and the shapes involved. */
export function shapeError(op: string, detail: string, ...shapes: ReadonlyArray<number>[]): never {
  const shown = shapes.map((s) => `[${s.join(', ')}]`).join(' and ');
  throw new RidgelineError('E_SHAPE', `${op}: ${detail}${shown ? ` (shapes ${shown})` : ''}`);
}

/** Throws an `E_ARG` error naming the op and the argument at fault. */
export function argError(op: string, detail: string): never {
  throw new RidgelineError('E_ARG', `${op}: ${detail}`);
}
