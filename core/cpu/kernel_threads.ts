/**
 * A second thread for the CPU backend's large kernels.
 *
 * Both threads instantiate the same kernel module on one shared WebAssembly memory. The
 * calling thread posts a kernel and its share of the work (a row, column, image or element
 * range) through a small control block in that memory, computes the other share itself,
 * then waits until the helper is done (or runs the helper's share too, if the helper has
 * not started it) — so the Backend stays synchronous and no message passing happens per
 * call. Shares are disjoint, each thread has its own scratch, and no
 * element's operations change order, so results are bit-identical to one thread. Starting
 * the helper thread is runtime-specific and injected (`KernelWorkerSpawner`); this file
 * only holds the protocol, shared by both sides.
 */

/** What a helper thread needs: the compiled kernels, the shared memory, its control block. */
export interface KernelWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block (CONTROL_BYTES, 8-byte aligned) in the shared memory. */
  control: number;
}

/** Starts a helper thread running `runKernelWorker(init)`; resolves when it is ready. */
export type KernelWorkerSpawner = (init: KernelWorkerInit) => Promise<{ terminate(): void }>;

/** The kernel exports a helper thread can run; control word 1 holds the position. */
export const SHARED_KERNELS = [
  'matmul',
  'unary',
  'binary',
  'reduce',
  'softmax',
  'softmaxXent',
  'im2col',
  'col2im',
  'avgPool',
  'avgPoolGrad',
  'sgd',
  'adam',
] as const;
export type SharedKernel = (typeof SHARED_KERNELS)[number];

/** Most arguments any shared kernel takes (the window kernels: 19). */
const MAX_KERNEL_ARGS = 20;
/**
 * Control block: i32 words 0 (state), 1 (kernel), 2 (argument count), then from byte 16
 * the arguments as f64 — every pointer, count and f32 parameter is exact in an f64, and a
 * wasm f32 parameter rounds it exactly as a direct call from JavaScript would.
 */
const ARGS_BYTE = 16;
export const CONTROL_BYTES = ARGS_BYTE + 8 * MAX_KERNEL_ARGS;

/**
 * Control word 0: what the block holds. Posted work is claimed by compare-and-swap, by the
 * helper (Work → Running) or, when the helper has not woken yet, by the caller once its own
 * share is done (Work → Idle): on a busy machine a descheduled helper then costs the
 * parallel speedup of one kernel, never a wait for the scheduler to run it.
 */
export const ThreadState = { Idle: 0, Work: 1, Running: 2, Done: 3, Failed: 4 } as const;

/**
 * How long the helper polls for the next kernel before it sleeps in `Atomics.wait`. A
 * sleeping thread's core idles, and on a virtual machine an idle vCPU is descheduled:
 * waking it cost 0.6 ms after a 3 ms pause (2026-12-04, 128×784·784×512 product, 2.3 →
 * 2.9 ms), about what the product itself takes on two threads. In a training step the
 * pauses between shared kernels are tens of microseconds to ~1 ms, so polling for 1 ms
 * keeps the core awake through a step and idles it soon after training stops. The helper
 * runs only when the process is meant to own both cores (runtimes/kernel_threads_host.ts).
 */
const HELPER_SPIN_MS = 1;
/** How long the calling thread polls for the helper to finish before it sleeps. */
const CALLER_SPIN_MS = 1;

/**
 * Polls control word 0 while `keepWaiting(state)` holds, for at most `spinMs`
 * milliseconds, then sleeps on it; returns the first state for which `keepWaiting` fails.
 */
function waitWhile(ctl: Int32Array, keepWaiting: (state: number) => boolean, spinMs: number): number {
  let s = Atomics.load(ctl, 0);
  if (!keepWaiting(s)) return s;
  // The clock is read once per 1024 polls: reading it every poll allocated (57 MB/s of
  // garbage in the helper's isolate during mlp-2 training, a scavenge every 40 ms; each
  // takes V8's GC threads onto the cores the two kernel threads use). With it the helper
  // started its share of a product 0.13–0.18 ms late one time in ten; 0.02–0.06 after.
  const until = performance.now() + spinMs;
  let polls = 0;
  while (keepWaiting(s) && ((++polls & 1023) !== 0 || performance.now() < until)) s = Atomics.load(ctl, 0);
  while (keepWaiting(s)) {
    Atomics.wait(ctl, 0, s);
    s = Atomics.load(ctl, 0);
  }
  return s;
}

/** The calling thread's side of a control block. */
export class KernelThread {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;

  constructor(memory: WebAssembly.Memory, control: number) {
    this.ctl = new Int32Array(memory.buffer, control, ARGS_BYTE / 4);
    this.args = new Float64Array(memory.buffer, control + ARGS_BYTE, MAX_KERNEL_ARGS);
  }

  /** Posts `kernel(...args)` for the helper; `finish` makes sure it ran. */
  post(kernel: SharedKernel, args: readonly number[]): void {
    this.ctl[1] = SHARED_KERNELS.indexOf(kernel);
    this.ctl[2] = args.length;
    this.args.set(args);
    Atomics.store(this.ctl, 0, ThreadState.Work);
    Atomics.notify(this.ctl, 0);
  }

  /**
   * Returns once the posted work has run: 'stolen' when the helper had not claimed it yet
   * (the caller must run it now), 'done' when the helper ran it, 'failed' when its kernel
   * threw.
   */
  finish(): 'stolen' | 'done' | 'failed' {
    if (Atomics.compareExchange(this.ctl, 0, ThreadState.Work, ThreadState.Idle) === ThreadState.Work) return 'stolen';
    const state = waitWhile(this.ctl, (s) => s === ThreadState.Running, CALLER_SPIN_MS);
    Atomics.store(this.ctl, 0, ThreadState.Idle);
    return state === ThreadState.Done ? 'done' : 'failed';
  }
}

export function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`cpu kernel aborted at ${line}:${col}`);
      },
    },
  };
}

/** The helper thread's loop: wait for work, run it, report, forever. */
export function runKernelWorker(init: KernelWorkerInit): void {
  const instance = new WebAssembly.Instance(init.module, imports(init.memory));
  const kernels = SHARED_KERNELS.map((name) => instance.exports[name] as (...args: number[]) => void);
  const ctl = new Int32Array(init.memory.buffer, init.control, ARGS_BYTE / 4);
  const args = new Float64Array(init.memory.buffer, init.control + ARGS_BYTE, MAX_KERNEL_ARGS);
  for (;;) {
    waitWhile(ctl, (s) => s !== ThreadState.Work, HELPER_SPIN_MS);
    // The caller may have taken the work back (KernelThread.finish): then wait again.
    if (Atomics.compareExchange(ctl, 0, ThreadState.Work, ThreadState.Running) !== ThreadState.Work) continue;
    try {
      kernels[ctl[1]](...args.subarray(0, ctl[2]));
      Atomics.store(ctl, 0, ThreadState.Done);
    } catch {
      Atomics.store(ctl, 0, ThreadState.Failed);
    }
    Atomics.notify(ctl, 0);
  }
}
