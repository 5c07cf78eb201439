/**
 * Training steps replayed from their kernel calls instead of run through autograd.
 *
 * In steady state a training step makes the same kernel calls with the same arguments every
 * time: the heap hands every buffer back at the same address, and only the batch's contents
 * change. On the CPU backend the JavaScript that issues those calls (autograd, checks, tensor
 * handles) was ~0.3 ms of mlp-2's ~3.4 ms step on two threads; replaying a recorded step
 * skips it and gives the same bits (test/step_replay.test.ts).
 *
 * A log may stand for a step only when everything the step depends on besides the batch and
 * the optimizer's parameters is known to be unchanged:
 * - the caller's key (anything it passes that may vary) is the one the log was recorded under;
 * - two consecutive steps run normally under that key made exactly the same calls (their
 *   arguments, meta blocks and uploaded bytes, the batch aside), so nothing else the step
 *   reads varies from step to step (dropout's seeds do, and are never replayed). The
 *   optimizer kernels' scalars are the exception: the caller declares each step's optimizer
 *   parameters (`Optimizer.kernelStep`), kernels called with exactly those are recorded with
 *   their scalars replaceable, and a replay computes them from the replayed step's own
 *   parameters (call_log.ts), so Adam's bias corrections and a schedule's learning rate
 *   replay too;
 * - no buffer was allocated or freed since the step the log stands for ended;
 * - every CHECK_EVERY replays, a step is run normally again and must make the same calls,
 *   or the run stops with an error: the steps replayed since cannot be trusted.
 */
import type { Backend } from '../backend.ts';
import { type CallLog, type CallRecorder, canRecordCalls, type OptimizerStep } from '../call_log.ts';
import { RidgelineError } from '../errors.ts';

/** Replayed steps between two steps run normally and compared with the log. */
export const CHECK_EVERY = 50;
/** Mismatches of consecutive steps under one key before recording stops for that key. */
const ATTEMPTS_PER_KEY = 3;

export class StepReplay {
  private log: CallLog | null = null;
  private logKey: string | null = null;
  /** The last step run normally, recorded: the candidate a next step may confirm. */
  private candidate: { key: string; log: CallLog } | null = null;
  private sinceCheck = 0;
  /** The recorder's layout version when the last step ended. */
  private endedAt = -1;
  private misses = 0;
  private givenUpKey: string | null = null;
  /** Steps replayed and steps run normally (tests and benchmarks read them). */
  readonly counts = { replayed: 0, normal: 0 };

  private constructor(private readonly recorder: CallRecorder | null) {}

  /** Replays on a backend that can record its calls (the CPU backend); elsewhere every step runs normally. */
  static for(backend: Backend): StepReplay {
    return new StepReplay(canRecordCalls(backend) ? backend : null);
  }

  /** Runs every step normally. */
  static off(): StepReplay {
    return new StepReplay(null);
  }

  /**
   * Runs one step: replays its calls when allowed (above), otherwise runs `step` (recording
   * it when a log may come of it). `optimizer` is what the step passes its optimizer
   * kernels. Returns true when it replayed: the caller then accounts for what `step` would
   * have done outside the backend (the optimizer's step count).
   */
  run(key: string, inputs: readonly Float32Array[], step: () => void, optimizer?: OptimizerStep): boolean {
    const r = this.recorder;
    if (r === null || key === this.givenUpKey) {
      this.counts.normal++;
      step();
      return false;
    }
    const undisturbed = r.layoutVersion === this.endedAt;
    if (this.log !== null && key === this.logKey && undisturbed && this.sinceCheck < CHECK_EVERY) {
      r.replayCalls(this.log, inputs, optimizer);
      this.sinceCheck++;
      this.counts.replayed++;
      this.endedAt = r.layoutVersion;
      return true;
    }
    this.counts.normal++;
    const { log } = r.recordCalls(step, inputs, optimizer);
    this.endedAt = r.layoutVersion;
    if (this.log !== null && key === this.logKey) {
      if (log !== null && log.sameAs(this.log)) {
        this.sinceCheck = 0;
        return false;
      }
      if (undisturbed && this.sinceCheck > 0) {
        throw new RidgelineError(
          'E_STATE',
          `step replay: a training step run normally no longer makes the calls replayed for the ${this.sinceCheck} steps before it (${
            log === null ? 'it cannot be recorded' : this.log.firstDifference(log)
          }), though nothing it is known to depend on changed; those steps cannot be trusted`,
        );
      }
    }
    // No log for this key, or buffers moved since: learn one from two consecutive steps.
    this.log = null;
    this.logKey = null;
    this.sinceCheck = 0;
    if (log !== null && this.candidate !== null && this.candidate.key === key && this.candidate.log.sameAs(log)) {
      this.log = log;
      this.logKey = key;
      this.candidate = null;
      this.misses = 0;
      return false;
    }
    if (this.candidate !== null && this.candidate.key === key && ++this.misses >= ATTEMPTS_PER_KEY) {
      // Its steps differ every time (dropout): recording them only costs time.
      this.givenUpKey = key;
      this.candidate = null;
      return false;
    }
    if (this.candidate === null || this.candidate.key !== key) this.misses = 0;
    this.candidate = log === null ? null : { key, log };
    return false;
  }
}
