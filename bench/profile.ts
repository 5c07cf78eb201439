/**
 * Where a training step's time goes on the CPU backend, per op family: an mlp-2
 * (784-512-10, batch 128, SGD momentum 0.9, lr 0.05: the fashion-mlp2 preset) and a LeNet-5
 * step (batch 128, Fashion-MNIST shapes), timed through a wrapping backend
 * (bench/profile_backend.ts) that attributes every kernel call to its family and to the
 * step's phase (forward, backward, optimizer). Steady-state steps are replayed from their
 * kernel calls, as the trainer replays them (core/train/step_replay.ts), and the wrapper
 * attributes each replayed call by the family it had when recorded; `--no-replay` times
 * every step through autograd instead. "JS outside kernels" is the step's wall time not
 * spent inside any backend call: the batch gather, and through autograd its graph
 * recording, tidy scopes and argument checks.
 * The products are listed by shape with their GFLOP/s next to the square 1024² rate of the
 * same backend, measured in the same run: the gap is packing, edges and skinny shapes.
 * Prints tables and writes bench/results/profile.json.
 *
 *   node dist/bench/profile.js [--models mlp-2,lenet5] [--steps 40] [--threads 1|2]
 */
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { taskLoss } from '../core/nn/loss.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, keep, tidy } from '../core/tensor.ts';
import { Sgd } from '../core/train/optimizers.ts';
import { StepReplay } from '../core/train/step_replay.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { type BatchSource, fashionBatches, noiseBatches } from './fashion_batches.ts';
import { benchOptions, fmt, formatTable, isMainModule, machineInfo, usageExit, writeJsonAtomic } from './harness.ts';
import { gflops, measureOurs } from './matmul.ts';
import { type ProductStat, ProfilingBackend } from './profile_backend.ts';

/** The models of bench/model_epoch.ts, at Fashion-MNIST's shapes ... */
const FASHION_MODELS = ['mlp-2', 'lenet5', 'mlp-toeplitz', 'vit-lite', 'cnn', 'lc-cnn'];
/** ... and the convolutional networks of the k1/k2 and Singh papers, at CIFAR-10's (on noise). */
const CIFAR_MODELS = ['vgg-reduced', 'resnet20'];
const PROFILED_MODELS = [...FASHION_MODELS, ...CIFAR_MODELS];

const USAGE = `Usage: node dist/bench/profile.js [options]

Milliseconds per training step and share per op family (matmul forward/backward, elementwise,
loss, optimizer, permutes, allocation, JS/autograd) of mlp-2 (784-512-10) and LeNet-5 (or the
other models of bench/model_epoch.ts) at batch 128 on the CPU backend, and every product shape's GFLOP/s against the 1024² rate.

Steady-state steps are replayed from their recorded kernel calls, as the trainer replays
them (each replayed call is attributed to the family it had when recorded).

Options:
  --models LIST   from mlp-2, lenet5, mlp-toeplitz, vit-lite, cnn, lc-cnn (on Fashion-MNIST), vgg-reduced,
                  resnet20 (on noise of CIFAR-10's shape) (default mlp-2,lenet5)
  --steps N       timed steps per model (default 40, after 5 untimed)
  --threads T     1 or 2 (default 2: the helper thread on large products)
  --no-replay     every step through autograd (the JavaScript a replayed step skips)
  --out FILE      result file (default bench/results/profile.json)
  --help          this text`;

const BATCH = 128;
const FASHION_SHAPE = [1, 28, 28];
const CIFAR_SHAPE = [3, 32, 32];
const CLASSES = 10;

/** Input shape [c, h, w] a profiled model is built for. */
export const profiledShape = (name: string): number[] => (CIFAR_MODELS.includes(name) ? CIFAR_SHAPE : FASHION_SHAPE);

/** One model's step, split by op family, and its products by shape. */
export interface ModelProfile {
  model: string;
  stepMs: number;
  families: { family: string; msPerStep: number; callsPerStep: number; share: number }[];
  products: { phase: string; shape: string; dims: ProductStat['dims']; callsPerStep: number; msPerStep: number; gflops: number }[];
  gflopPerStep: number;
  /** Timed steps that were replayed from their kernel calls. */
  replayed: number;
}

/**
 * Times `steps` training steps of `name` (after 5 untimed) through `pb`, attributing every
 * kernel call; steady-state steps are replayed as the trainer replays them unless `replay` is false.
 */
export async function profileModel(
  pb: ProfilingBackend,
  name: string,
  steps: number,
  data: BatchSource,
  replay = true,
): Promise<ModelProfile> {
  const model = createModel(name, profiledShape(name), CLASSES, name === 'mlp-2' ? { width: 512 } : {});
  const init = model.init(0);
  const state = model.params.map((p, i) => keep(fromArray(pb, init[i], p.shape)));
  const trainable = state.map((t) => ag.param(t));
  const opt = new Sgd({ lr: 0.05, momentum: 0.9 });
  const replays = replay ? StepReplay.for(pb) : StepReplay.off();
  // The trainer's step (core/train/trainer.ts) with the phase marked between its parts.
  const step = (s: number): void => {
    const b = data.at(s);
    const replayed = replays.run('profile', [b.x, b.y], () =>
      tidy(() => {
        const x = fromArray(pb, b.x, [BATCH, model.inputSize]);
        const y = fromArray(pb, b.y, [BATCH]);
        pb.phase = 'forward';
        const loss = taskLoss(model, model.forward(trainable, x, { train: true, noiseSeed: 0, step: s }), y);
        pb.phase = 'backward';
        const grads = ag.grad(loss, trainable);
        pb.phase = 'optimizer';
        opt.step(trainable, grads);
        pb.phase = 'other';
      }), opt.kernelStep());
    if (replayed) opt.advance();
  };
  try {
    for (let s = 0; s < 5; s++) step(s);
    pb.reset();
    const replayedBefore = replays.counts.replayed;
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) step(5 + s);
    const stepMs = (performance.now() - t0) / steps;
    const inCalls = [...pb.ms.values()].reduce((a, b) => a + b, 0) / steps;
    const families = [...pb.ms.entries()].map(([family, ms]) => ({
      family,
      msPerStep: ms / steps,
      callsPerStep: pb.calls.get(family)! / steps,
      share: ms / steps / stepMs,
    }));
    families.push({
      family: replay ? 'JS outside kernels (batch gather; autograd in steps not replayed)' : 'JS outside kernels (autograd, batch gather)',
      msPerStep: stepMs - inCalls,
      callsPerStep: 0,
      share: (stepMs - inCalls) / stepMs,
    });
    families.sort((a, b) => b.msPerStep - a.msPerStep);
    const products = [...pb.products.values()].map((p) => ({
      phase: p.phase,
      shape: p.shape,
      dims: p.dims,
      callsPerStep: p.calls / steps,
      msPerStep: p.ms / steps,
      gflops: p.flops / p.ms / 1e6,
    })).sort((a, b) => b.msPerStep - a.msPerStep);
    const gflopPerStep = [...pb.products.values()].reduce((a, p) => a + p.flops, 0) / steps / 1e9;
    return { model: name, stepMs, families, products, gflopPerStep, replayed: replays.counts.replayed - replayedBefore };
  } finally {
    state.forEach((t) => t.dispose());
    opt.dispose();
  }
}

const CLI_OPTIONS = {
  models: { type: 'string', default: 'mlp-2,lenet5' },
  steps: { type: 'string', default: '40' },
  threads: { type: 'string', default: '2' },
  'no-replay': { type: 'boolean', default: false },
  out: { type: 'string', default: 'bench/results/profile.json' },
  help: { type: 'boolean', default: false },
} as const;

async function main(): Promise<void> {
  const values = benchOptions('profile bench', USAGE, CLI_OPTIONS);
  const steps = Number(values.steps);
  const models = values.models.split(',');
  if (!Number.isInteger(steps) || steps < 1 || !['1', '2'].includes(values.threads) || models.some((m) => !PROFILED_MODELS.includes(m))) {
    usageExit(
      'profile bench',
      `expected --steps a positive integer, --threads 1 or 2, --models from ${PROFILED_MODELS.join(',')}; got ` +
        `--steps ${values.steps} --threads ${values.threads} --models ${values.models}`,
    );
  }
  const backend = await createCpuBackend(values.threads === '2' ? { spawnWorker: spawnKernelWorker } : {});
  const pb = new ProfilingBackend(backend);
  const fashion = models.some((m) => FASHION_MODELS.includes(m)) ? await fashionBatches(BATCH) : null;
  const cifarNoise = noiseBatches(BATCH, CIFAR_SHAPE.reduce((a, b) => a * b), CLASSES, 50_000);
  const dataFor = (name: string): BatchSource => (CIFAR_MODELS.includes(name) ? cifarNoise : fashion!);
  const machine = machineInfo();
  // The rate of the 1024² product on this backend: the rate the roofline of a step uses.
  const rate = gflops(1024, measureOurs(backend, 1024).medianS);
  console.log(`training-step profile — ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}; ${backend.description}`);
  const replay = !values['no-replay'];
  console.log(
    `data: ${
      [...new Set(models.map((m) => dataFor(m).source))].join('; ')
    }; batch ${BATCH}; SGD lr 0.05 momentum 0.9; ${steps} timed steps after 5 untimed, ` +
      (replay ? 'steady-state steps replayed from their kernel calls (as the trainer runs them)' : 'every step through autograd'),
  );
  console.log(`1024² product on this backend: ${fmt(rate)} GFLOP/s (the roofline rate below)\n`);
  const results: ModelProfile[] = [];
  for (const name of models) {
    const r = await profileModel(pb, name, steps, dataFor(name), replay);
    results.push(r);
    const rooflineMs = (r.gflopPerStep / rate) * 1000;
    console.log(
      `${name}: ${fmt(r.stepMs, 2)} ms/step (${r.replayed} of ${steps} steps replayed); products ${fmt(r.gflopPerStep * 1000, 0)} ` +
        `MFLOP/step, ${fmt(rooflineMs, 2)} ms at the 1024² rate (step = ${fmt(r.stepMs / rooflineMs, 2)}× its roofline)`,
    );
    console.log(
      formatTable(
        ['family', 'ms/step', 'share', 'calls/step'],
        r.families.map((f) => [f.family, fmt(f.msPerStep, 3), `${fmt(100 * f.share)}%`, f.callsPerStep ? fmt(f.callsPerStep, 0) : '']),
      ),
    );
    console.log('');
    console.log(
      formatTable(
        ['product (m×k·k×n, stored transposed)', 'phase', 'calls/step', 'ms/step', 'GFLOP/s', 'of 1024² rate'],
        r.products.map((
          p,
        ) => [p.shape, p.phase, fmt(p.callsPerStep, 0), fmt(p.msPerStep, 3), fmt(p.gflops), `${fmt((100 * p.gflops) / rate, 0)}%`]),
      ),
    );
    console.log('');
  }
  writeJsonAtomic(values.out, {
    schema: 'ridgeline.bench.profile/1',
    machine,
    backend: backend.description,
    data: Object.fromEntries(models.map((m) => [m, dataFor(m).source])),
    batch: BATCH,
    replay,
    squareGflops: rate,
    results,
  });
  console.log(`wrote ${values.out}`);
  backend.close();
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`profile bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
