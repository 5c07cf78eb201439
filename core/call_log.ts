/**
 * The kernel calls of one function, recorded by a backend that can (the CPU backend) so that
 * they can be replayed without the JavaScript that issued them (core/train/step_replay.ts:
 * a training step's autograd, checks and tensor handles were ~0.3 ms of mlp-2's ~3.4 ms step).
 *
 * A log holds everything the kernels see: each kernel's arguments and the two threads'
 * shares, the broadcast meta blocks as they were when it ran, every upload (the bytes, or
 * which of the caller's input arrays it was), copies and fills. Pointers are absolute, so a
 * log is valid only while the heap hands out the same blocks, which a steady-state step
 * does (test/steady_state_step.test.ts); two logs are compared entry by entry, bytes
 * included, before one may stand for the other.
 *
 * The one part of a training step that changes from step to step besides its batch is the
 * optimizer's scalars (Adam's bias corrections, a schedule's learning rate). An optimizer
 * kernel whose scalars are exactly those of the step's declared {@link OptimizerStep} is
 * recorded with `stepScalarsFrom`: a replay recomputes those arguments from the replayed
 * step's own parameters, and two logs are compared without them.
 */
import type { AdamParams, SgdParams } from './backend.ts';

/** One recorded call, in the order the function made it. */
export type CallEntry =
  /**
   * A kernel through the backend's thread split: `theirs` is the helper's share, or null for
   * one call. Arguments from `stepScalarsFrom` on (in both shares) are the optimizer step's
   * scalars, replaced at replay (above).
   */
  | {
    kind: 'kernel';
    name: string;
    mine: readonly number[];
    theirs: readonly number[] | null;
    meta: Uint8Array;
    stepScalarsFrom?: number;
  }
  /** `fill(out, n, value)`, which never splits. */
  | { kind: 'fill'; args: readonly number[] }
  /** An upload of the caller's input array `input` (its contents change from call to call). */
  | { kind: 'input'; input: number; ptr: number; length: number }
  /** An upload of anything else: its bytes are part of the log. */
  | { kind: 'upload'; ptr: number; bytes: Uint8Array }
  | { kind: 'copy'; from: number; to: number; bytes: number };

/**
 * The parameters a training step passes to its optimizer kernels (every parameter tensor's
 * update gets the same ones): what `Optimizer.kernelStep` says its next step will pass.
 */
export type OptimizerStep = { kind: 'sgd'; params: SgdParams } | { kind: 'adam'; params: AdamParams };

/** A backend that records and replays kernel calls (the CPU backend). */
export interface CallRecorder {
  /**
   * Runs `fn` and records its calls. Uploads of an array in `inputs` are recorded as that
   * input, to be replaced at replay; optimizer kernels called with exactly `step`'s
   * parameters are recorded with their scalars replaceable. `log` is null, with the reason
   * in `problem`, when the calls cannot stand for `fn`: it read a buffer back, or kept
   * memory allocated.
   */
  recordCalls<T>(
    fn: () => T,
    inputs: readonly Float32Array[],
    step?: OptimizerStep,
  ): { result: T; log: CallLog | null; problem: string | null };
  /**
   * Makes the calls of `log` again, with `inputs` uploaded where the recorded inputs were and
   * the replaceable optimizer scalars computed from `step` (required when the log has any).
   * `observe`, when given, hears each entry's index and wall time in milliseconds once it
   * has run (bench/profile_backend.ts attributes a replayed step's time by it).
   */
  replayCalls(
    log: CallLog,
    inputs: readonly Float32Array[],
    step?: OptimizerStep,
    observe?: (entry: number, ms: number) => void,
  ): void;
  /**
   * Changes whenever a buffer is allocated or freed. The same value before a replay as after
   * the step it stands for means no buffer has moved since, so the logged pointers are still
   * those the step would use.
   */
  readonly layoutVersion: number;
}

export function canRecordCalls(backend: object): backend is CallRecorder {
  const b = backend as Partial<CallRecorder>;
  return typeof b.recordCalls === 'function' && typeof b.replayCalls === 'function';
}

export class CallLog {
  constructor(readonly entries: readonly CallEntry[]) {}

  /** Whether `other` makes the same calls with the same arguments and bytes. */
  sameAs(other: CallLog): boolean {
    return this.firstDifference(other) === null;
  }

  /** The first call that differs, as a short description, or null. */
  firstDifference(other: CallLog): string | null {
    const n = Math.max(this.entries.length, other.entries.length);
    for (let i = 0; i < n; i++) {
      const a = this.entries[i];
      const b = other.entries[i];
      if (a === undefined || b === undefined) return `call ${i}: ${a ? describe(a) : 'none'} vs ${b ? describe(b) : 'none'}`;
      if (!sameEntry(a, b)) return `call ${i}: ${describe(a)} vs ${describe(b)}`;
    }
    return null;
  }
}

function describe(e: CallEntry): string {
  return e.kind === 'kernel' ? `kernel ${e.name}` : e.kind;
}

/** Equal arrays, or (with `upTo`) equal lengths and equal first `upTo` values. */
const sameNumbers = (a: readonly number[] | null, b: readonly number[] | null, upTo = Infinity): boolean =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((v, i) => i >= upTo || Object.is(v, b[i])));

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function sameEntry(a: CallEntry, b: CallEntry): boolean {
  switch (a.kind) {
    case 'kernel':
      return b.kind === 'kernel' && a.name === b.name && a.stepScalarsFrom === b.stepScalarsFrom &&
        sameNumbers(a.mine, b.mine, a.stepScalarsFrom) && sameNumbers(a.theirs, b.theirs, a.stepScalarsFrom) &&
        sameBytes(a.meta, b.meta);
    case 'fill':
      return b.kind === 'fill' && sameNumbers(a.args, b.args);
    case 'input':
      return b.kind === 'input' && a.input === b.input && a.ptr === b.ptr && a.length === b.length;
    case 'upload':
      return b.kind === 'upload' && a.ptr === b.ptr && sameBytes(a.bytes, b.bytes);
    case 'copy':
      return b.kind === 'copy' && a.from === b.from && a.to === b.to && a.bytes === b.bytes;
  }
}
