/**
 * A second thread for the CPU backend's large matrix products.
 *
 * Both threads instantiate the same kernel module on one shared WebAssembly memory. The
 * calling thread posts a row range through a small control block in that memory, computes
 * the other rows itself, then blocks on `Atomics.wait` until the helper is done — so the
 * Backend stays synchronous and no message passing happens per call. Row ranges are
 * disjoint and each thread has its own packing scratch, so results are bit-identical to a
 * single-threaded product. Starting the helper thread is runtime-specific and injected
 * (`KernelWorkerSpawner`); this file only holds the protocol, shared by both sides.
 */

/** What a helper thread needs: the compiled kernels, the shared memory, its control block. */
export interface KernelWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block (CONTROL_INTS i32 values) in the shared memory. */
  control: number;
}

/** Starts a helper thread running `runKernelWorker(init)`; resolves when it is ready. */
export type KernelWorkerSpawner = (init: KernelWorkerInit) => Promise<{ terminate(): void }>;

export const CONTROL_INTS = 20;

/** Control word 0: what the block holds. */
export const ThreadState = { Idle: 0, Work: 1, Done: 2, Failed: 3 } as const;

/** Matmul arguments in control words 1..MATMUL_ARGS, in the order of the kernel's parameters. */
export type MatmulArgs = [
  a: number, b: number, c: number, batch: number, m: number, n: number, k: number,
  transA: number, transB: number, strideA: number, strideB: number, rowStart: number, rowEnd: number,
  colStart: number, colEnd: number, scratch: number,
];
export const MATMUL_ARGS = 16;
/** Positions in {@link MatmulArgs} of the ranges a thread computes, and of its scratch. */
export const MATMUL_ARG = { rowStart: 11, rowEnd: 12, colStart: 13, colEnd: 14, scratch: 15 } as const;

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
  const matmul = instance.exports.matmul as (...args: MatmulArgs) => void;
  const ctl = new Int32Array(init.memory.buffer, init.control, CONTROL_INTS);
  for (;;) {
    let s = Atomics.load(ctl, 0);
    while (s !== ThreadState.Work) {
      Atomics.wait(ctl, 0, s);
      s = Atomics.load(ctl, 0);
    }
    try {
      // Pointers above 2 GiB come back negative from an Int32Array: `>>> 0` restores them.
      const args = Array.from(ctl.subarray(1, 1 + MATMUL_ARGS), (v) => v >>> 0) as MatmulArgs;
      matmul(...args);
      Atomics.store(ctl, 0, ThreadState.Done);
    } catch {
      Atomics.store(ctl, 0, ThreadState.Failed);
    }
    Atomics.notify(ctl, 0);
  }
}
