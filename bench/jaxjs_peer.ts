/**
 * The jax-js peer of issue 14: mlp-2 (784-512-10, ReLU, softmax cross-entropy) trained on
 * Fashion-MNIST with SGD momentum in jax-js (npm @jax-js/jax, a bench-only dependency) on
 * its WebAssembly backend under Node, written as a jax-js user would write it at their
 * best: the whole step (loss, gradients and the momentum update) is one jit-compiled
 * function, so jax-js fuses the elementwise work around its products and dispatches once.
 *
 * It trains from our mlp-2's initial weights (model.init(0), transposed to the x·W layout
 * jax-js code uses) on our loader's batches (bench/fashion_batches.ts), with our bench's
 * lr and momentum: the same run as our side of bench/throughput.ts, so its losses must
 * follow ours — the check that the peer really trains. `warmup` untimed steps (jit
 * compilation, Wasm instantiation) come first, then `steps` timed ones, batch gathering
 * included as in our timed loop, each ending when its parameters are ready.
 *
 * Under Node jax-js runs on one thread: its Wasm worker pool needs the Web Worker global,
 * which Node does not have (recorded as `workers` in the result).
 *
 *   node dist/bench/jaxjs_peer.js [--steps 468] [--warmup 3] [--json]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { blockUntilReady, defaultDevice, init, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { createModel } from '../core/nn/registry.ts';
import { fashionBatches } from './fashion_batches.ts';
import { benchOptions, isMainModule, usageExit } from './harness.ts';

/** Our model_epoch bench's optimizer (bench/step_time.ts): SGD, lr 0.01, momentum 0.9, no dampening. */
export const MLP2_SGD = { lr: 0.01, momentum: 0.9 };
const BATCH = 128;
const CLASSES = 10;

export interface JaxjsEpoch {
  /** Timed steps and their seconds per step. */
  steps: number;
  warmupSteps: number;
  secondsPerStep: number;
  /** Loss of the first (warm-up) step, and the mean of the last min(20, steps) timed steps. */
  firstLoss: number;
  lastLoss: number;
  /** The loss of the final timed step (compare with ours after the same steps from the same start). */
  finalLoss: number;
  /** lastLoss < 0.9 × firstLoss: the peer trains, on real data. */
  learned: boolean;
  data: string;
  /** Full batches per epoch of the data (468 for Fashion-MNIST at batch 128). */
  stepsPerEpoch: number;
  jaxjs: string;
  device: string;
  /** Wasm worker threads jax-js dispatches to (0: it runs on the calling thread alone). */
  workers: number;
  node: string;
}

type Params = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array };

/** Mean softmax cross-entropy of the mlp-2's logits against integer labels `y`. */
function loss(p: Params, x: np.Array, y: np.Array): np.Array {
  const hidden = nn.relu(np.dot(x, p.w1).add(p.b1));
  const logits = np.dot(hidden, p.w2).add(p.b2);
  return nn.logSoftmax(logits).mul(nn.oneHot(y, CLASSES)).sum().mul(-1 / BATCH);
}

/** The version of the installed @jax-js/jax (its package.json does not export itself). */
function jaxjsVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@jax-js/jax');
  const pkg = entry.replace(/dist[\\/]index\.c?js$/, 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * The worker threads jax-js's Wasm backend starts: one per hardware thread (4 when unknown)
 * where SharedArrayBuffer and the Web Worker global both exist (its parallel.ts), else none.
 */
function jaxjsWorkers(): number {
  const g = globalThis as { Worker?: unknown; navigator?: { hardwareConcurrency?: number } };
  if (typeof SharedArrayBuffer === 'undefined' || typeof g.Worker === 'undefined') return 0;
  return Math.max(1, g.navigator?.hardwareConcurrency || 4);
}

/** Trains `warmup` + `steps` steps and times the last `steps`. Throws when Fashion-MNIST is missing. */
export async function jaxjsMlp2Epoch(steps: number, warmup: number): Promise<JaxjsEpoch> {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js has no wasm device here (got ${devices.join(', ') || 'none'})`);
  defaultDevice('wasm');
  const data = await fashionBatches(BATCH, false);

  // Our initial weights, PyTorch layout [out, in], as jax-js's [in, out].
  const model = createModel('mlp-2', [1, 28, 28], CLASSES, { width: 512 });
  const w = model.init(0);
  const [hidden, inputs] = model.params[0].shape;
  const transpose = (a: Float32Array, rows: number, cols: number): Float32Array => {
    const t = new Float32Array(a.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
    return t;
  };
  let params: Params = {
    w1: np.array(transpose(w[0], hidden, inputs)).reshape([inputs, hidden]),
    b1: np.array(w[1]),
    w2: np.array(transpose(w[2], CLASSES, hidden)).reshape([hidden, CLASSES]),
    b2: np.array(w[3]),
  };
  let momenta: Params = tree.map((p: np.Array) => np.zerosLike(p), tree.ref(params)) as Params;

  const { lr, momentum } = MLP2_SGD;
  // One jitted step: value and gradients, then v ← μv + g, p ← p − lr·v (PyTorch's SGD).
  const step = jit((p: Params, v: Params, x: np.Array, y: np.Array): [Params, Params, np.Array] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), x, y);
    const v2 = tree.map((vi: np.Array, gi: np.Array) => vi.mul(momentum).add(gi), v, grads) as Params;
    const p2 = tree.map((pi: np.Array, vi: np.Array) => pi.sub(vi.mul(lr)), p, tree.ref(v2)) as Params;
    return [p2, v2, value];
  });

  const losses: np.Array[] = [];
  // Each step waits for its parameters, as jax-js asks of iterative code: left unawaited,
  // its Wasm backend queues the steps' work (0.9 GB resident after 100 mlp-2 steps, the
  // steps 4× slower, 15× over a whole epoch; measured 2026-12-04).
  const run = async (s: number): Promise<void> => {
    const b = data.at(s);
    const x = np.array(b.x).reshape([BATCH, inputs]);
    const y = np.array(Int32Array.from(b.y), { dtype: np.int32 });
    let value: np.Array;
    [params, momenta, value] = step(params, momenta, x, y);
    losses.push(value);
    await blockUntilReady(params);
  };
  try {
    for (let s = 0; s < warmup; s++) await run(s);
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) await run(warmup + s);
    const secondsPerStep = (performance.now() - t0) / 1000 / steps;

    const values: number[] = await Promise.all(losses.map(async (l) => Number((await l.data())[0])));
    const tail = values.slice(-Math.min(20, steps));
    const firstLoss = values[0];
    const lastLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    return {
      steps,
      warmupSteps: warmup,
      secondsPerStep,
      firstLoss,
      lastLoss,
      finalLoss: values[values.length - 1],
      learned: Number.isFinite(lastLoss) && lastLoss < 0.9 * firstLoss,
      data: data.source,
      stepsPerEpoch: data.stepsPerEpoch,
      jaxjs: jaxjsVersion(),
      device: defaultDevice(),
      workers: jaxjsWorkers(),
      node: process.versions.node,
    };
  } finally {
    step.dispose();
    tree.map((a: np.Array) => a.dispose(), params);
    tree.map((a: np.Array) => a.dispose(), momenta);
  }
}

const USAGE = `Usage: node dist/bench/jaxjs_peer.js [options]

mlp-2 (784-512-10) trained on Fashion-MNIST in jax-js (npm @jax-js/jax) on its Wasm backend:
one jit-compiled step (loss, gradients, SGD lr ${MLP2_SGD.lr} momentum ${MLP2_SGD.momentum}),
batch ${BATCH}, from ridgeline's mlp-2 initial weights on ridgeline's batches. Prints seconds
per step and per epoch, and the loss before and after (the peer must learn).

Options:
  --steps N     timed steps (default 468, one epoch)
  --warmup N    untimed steps first (default 3)
  --json        print the result as one JSON line
  --help        this text

Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).`;

const CLI_OPTIONS = {
  steps: { type: 'string', default: '468' },
  warmup: { type: 'string', default: '3' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

async function main(): Promise<void> {
  const values = benchOptions('jaxjs peer', USAGE, CLI_OPTIONS);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(steps) || steps < 1) usageExit('jaxjs peer', `--steps: expected a positive integer, got '${values.steps}'`);
  if (!Number.isInteger(warmup) || warmup < 1) usageExit('jaxjs peer', `--warmup: expected a positive integer, got '${values.warmup}'`);
  const r = await jaxjsMlp2Epoch(steps, warmup);
  if (values.json) {
    console.log(JSON.stringify(r));
    return;
  }
  console.log(
    `jax-js ${r.jaxjs} on ${r.device} (${
      r.workers ? `${r.workers} worker threads` : 'one thread: no Web Worker global'
    }), node ${r.node}; ${r.data}`,
  );
  console.log(
    `${(r.secondsPerStep * 1000).toFixed(2)} ms/step over ${r.steps} steps after ${r.warmupSteps} untimed; ` +
      `${(r.secondsPerStep * r.stepsPerEpoch).toFixed(2)} s per ${r.stepsPerEpoch}-step epoch`,
  );
  console.log(
    `loss ${r.firstLoss.toFixed(4)} → ${r.lastLoss.toFixed(4)} (mean of the last steps): ${r.learned ? 'learns' : 'DID NOT LEARN'}`,
  );
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`jaxjs peer failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
