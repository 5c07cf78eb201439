/**
 * Seconds per training epoch of the papers' architectures: our CPU backend (WASM SIMD, one
 * thread, and with its helper thread) against PyTorch's CPU (Debian python3-torch on
 * OpenBLAS, 1 and 2 threads) on the same model definition (bench/torch_models.py, whose
 * state_dict the test models_torch checks against ours). Both train with SGD (lr 0.01,
 * momentum 0.9) and the task's loss (cross-entropy; MSE for SIREN) on seeded random data of the dataset's shape (the data
 * pipeline is not what is measured): `steps` steps are timed after a warm-up and scaled to
 * an epoch of (training examples / batch) steps. Prints a table and writes
 * bench/results/model_epoch.json.
 *
 *   node dist/bench/model_epoch.js [--models lenet5,vgg-reduced] [--rounds 2] [--no-peer]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import {
  benchOptions,
  cpuBusyFraction,
  describeBlas,
  fmt,
  formatTable,
  isMainModule,
  median,
  PEER_UNSET_ENV,
  peerEnv,
  spread,
  startTorchBench,
  SYSTEM_PYTHON,
  usageExit,
  writeJsonAtomic,
} from './harness.ts';
import { ourSecondsPerStep, type Workload } from './step_time.ts';

/** The presets' architectures at the presets' batch sizes (`ridgeline presets`), plus the k1/k2 paper's VGG. */
const FASHION = { dataset: 'Fashion-MNIST', input: [1, 28, 28], classes: 10, trainExamples: 60_000, batch: 128 };
export const WORKLOADS: Record<string, Workload> = {
  // The fashion-mlp2 preset's network (784-512-10): issue 14's headline workload.
  'mlp-2': { model: 'mlp-2', ...FASHION, steps: 60 },
  lenet5: { model: 'lenet5', dataset: 'MNIST', input: [1, 28, 28], classes: 10, trainExamples: 60_000, batch: 64, steps: 50 },
  cnn: { model: 'cnn', ...FASHION, steps: 50 },
  'lc-cnn': { model: 'lc-cnn', ...FASHION, steps: 30 },
  'mlp-toeplitz': { model: 'mlp-toeplitz', ...FASHION, steps: 10 },
  'vit-lite': { model: 'vit-lite', ...FASHION, steps: 10 },
  // SIREN regresses the generated waveform (4096 samples of one timestep each), MSE loss.
  siren: { model: 'siren', dataset: 'waveform', input: [1], classes: 0, trainExamples: 4096, batch: 256, steps: 30 },
  'vgg-reduced': {
    model: 'vgg-reduced',
    dataset: 'CIFAR-10',
    input: [3, 32, 32],
    classes: 10,
    trainExamples: 50_000,
    batch: 128,
    steps: 10,
  },
};

const USAGE = `Usage: node dist/bench/model_epoch.js [options]

Seconds per training epoch (SGD lr 0.01 momentum 0.9, cross-entropy or MSE, random data of the
dataset's shape): our CPU backend with 1 thread and with its helper thread (2), against
PyTorch (Debian python3-torch, OpenBLAS) with 1 and 2 threads, on the same architecture.

Workloads: ${
  Object.values(WORKLOADS).map((w) => `${w.model} (${w.dataset} ${w.input.join('×')}, batch ${w.batch}, ${w.trainExamples} examples)`).join(
    '; ',
  )
}.

Options:
  --models LIST    comma-separated workloads (default ${Object.keys(WORKLOADS).join(',')})
  --steps N        timed steps per measurement (default: per workload, ${
  Object.values(WORKLOADS).map((w) => `${w.model} ${w.steps}`).join(', ')
})
  --rounds R       repeat everything R times, interleaved, and report medians (default 2)
  --no-peer        measure ours only
  --out FILE       result file (default bench/results/model_epoch.json)
  --help           this text

The peer runs bench/torch_models.py under ${SYSTEM_PYTHON}; when torch is missing and we are
root with apt, the bench installs python3-torch and libopenblas0-openmp. Run it on an
otherwise idle machine.`;

const TORCH_MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'torch_models.py');

const CLI_OPTIONS = {
  models: { type: 'string', default: Object.keys(WORKLOADS).join(',') },
  steps: { type: 'string' },
  rounds: { type: 'string', default: '2' },
  'no-peer': { type: 'boolean', default: false },
  out: { type: 'string', default: 'bench/results/model_epoch.json' },
  help: { type: 'boolean', default: false },
} as const;

function usageError(message: string): never {
  usageExit('model_epoch bench', message);
}

function parseCli(): { workloads: Workload[]; rounds: number; peer: boolean; out: string } {
  const values = benchOptions('model_epoch bench', USAGE, CLI_OPTIONS);
  const steps = values.steps === undefined ? null : Number(values.steps);
  if (steps !== null && (!Number.isInteger(steps) || steps < 1)) usageError(`--steps: expected a positive integer, got '${values.steps}'`);
  const workloads = values.models.split(',').map((name) => {
    const w = WORKLOADS[name];
    if (!w) usageError(`--models: unknown workload '${name}'; valid: ${Object.keys(WORKLOADS).join(', ')}`);
    return steps === null ? w : { ...w, steps };
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) usageError(`--rounds: expected a positive integer, got '${values.rounds}'`);
  return { workloads, rounds, peer: !values['no-peer'], out: values.out };
}

/** What bench/torch_models.py epoch prints. */
export interface PeerStep {
  seconds_per_step: number;
  threads: number;
  first_loss: number;
  final_loss: number;
  /** 'fashion-mnist' when the peer trained on the real data set, 'random' on its fixed batches. */
  data: string;
}

/**
 * Seconds per step of the same workload in PyTorch with `threads` threads (a fresh process):
 * on eight fixed random batches, or with `fashionMnistDir` on Fashion-MNIST's training split,
 * each batch gathered from a shuffled order inside the timed loop, as ours gathers its own.
 */
export function torchSecondsPerStep(python: string, w: Workload, threads: number, fashionMnistDir?: string): PeerStep {
  // OMP_NUM_THREADS as well as --threads (set_num_threads): OpenBLAS's OpenMP build sizes its pool from it.
  const args = [
    TORCH_MODELS,
    'epoch',
    '--model',
    w.model,
    '--input',
    w.input.join(','),
    '--classes',
    String(w.classes || 1), // siren: one output
    '--batch',
    String(w.batch),
    '--steps',
    String(w.steps),
    '--threads',
    String(threads),
    ...(fashionMnistDir ? ['--data', fashionMnistDir] : []),
  ];
  const r = spawnSync(python, args, { env: peerEnv({ OMP_NUM_THREADS: String(threads) }), encoding: 'utf8', timeout: 1_800_000 });
  if (r.error) throw new Error(`${python}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`torch_models.py epoch exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as PeerStep;
}

const OURS = ['ours 1T', 'ours 2T'] as const;
const PEER_THREADS = [1, 2] as const;

async function main(): Promise<void> {
  const opts = parseCli();
  const log = (s: string): void => void console.error(s);
  const { machine, busy, peer } = await startTorchBench(opts.peer, log);

  const backends: Record<(typeof OURS)[number], Awaited<ReturnType<typeof createCpuBackend>>> = {
    'ours 1T': await createCpuBackend(),
    // The same kernels with the backend's helper thread: both cores on large products.
    'ours 2T': await createCpuBackend({ spawnWorker: spawnKernelWorker }),
  };
  // seconds per step: [workload][config] → one figure per round
  const samples = opts.workloads.map(() => new Map<string, number[]>());
  let peerFailure: string | null = null;
  const busyPerRound: number[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    busyPerRound.push(await cpuBusyFraction(500));
    for (const [i, w] of opts.workloads.entries()) {
      const add = (k: string, s: number) => samples[i].set(k, [...(samples[i].get(k) ?? []), s]);
      for (const name of OURS) {
        log(`round ${round}/${opts.rounds}: ${w.model}, ${name}…`);
        add(name, (await ourSecondsPerStep(backends[name], w)).secondsPerStep);
      }
      const peerThreads: readonly number[] = peer.ok && peerFailure === null ? PEER_THREADS : [];
      for (const t of peerThreads) {
        log(`round ${round}/${opts.rounds}: ${w.model}, torch ${t}T…`);
        try {
          add(`torch ${t}T`, torchSecondsPerStep(peer.ok ? peer.python : SYSTEM_PYTHON, w, t).seconds_per_step);
        } catch (e) {
          peerFailure = `round ${round}, ${w.model}, ${t} thread(s): ${(e as Error).message}`;
          log(`torch peer failed (${peerFailure}); continuing with our figures`);
        }
      }
    }
  }

  const rows = opts.workloads.map((w, i) => {
    const stepsPerEpoch = w.trainExamples / w.batch;
    const fig = (k: string) => {
      const xs = samples[i].get(k) ?? [];
      return xs.length ? { secondsPerEpoch: median(xs) * stepsPerEpoch, secondsPerStep: median(xs), spread: spread(xs), rounds: xs } : null;
    };
    const f = Object.fromEntries([...OURS, ...PEER_THREADS.map((t) => `torch ${t}T`)].map((k) => [k, fig(k)]));
    const ratio = (a: string, b: string) => (f[a] && f[b] ? f[a]!.secondsPerEpoch / f[b]!.secondsPerEpoch : null);
    return {
      ...w,
      stepsPerEpoch,
      figures: f,
      // > 1: we are that many times slower than torch at the same thread count.
      ratios: { '1T': ratio('ours 1T', 'torch 1T'), '2T': ratio('ours 2T', 'torch 2T') },
    };
  });

  console.log(`seconds per training epoch — ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}`);
  console.log(`ours: ${backends['ours 1T'].description} / ${backends['ours 2T'].description}`);
  console.log(
    peer.ok
      ? `peer: PyTorch ${String(peer.probe.torch)} (python ${String(peer.probe.python)}), ${describeBlas(peer.probe)}${
        peerFailure ? `; FAILED in ${peerFailure}` : ''
      }`
      : `peer: MISSING — ${peer.reason}; our figures alone`,
  );
  console.log(
    `medians of ${opts.rounds} round(s); an epoch is (training examples / batch) steps, timed over --steps steps after 3 untimed ones\n`,
  );
  console.log(formatTable(
    ['model', 'data', 'batch', 'steps/epoch', 'ours 1T s', 'ours 2T s', 'torch 1T s', 'torch 2T s', 'ours/torch 1T', 'ours/torch 2T'],
    rows.map((
      r,
    ) => [
      r.model,
      `${r.dataset} ${r.input.join('×')}`,
      r.batch,
      fmt(r.stepsPerEpoch, 1),
      fmt(r.figures['ours 1T']?.secondsPerEpoch),
      fmt(r.figures['ours 2T']?.secondsPerEpoch),
      fmt(r.figures['torch 1T']?.secondsPerEpoch),
      fmt(r.figures['torch 2T']?.secondsPerEpoch),
      fmt(r.ratios['1T'], 2),
      fmt(r.ratios['2T'], 2),
    ]),
  ));
  console.log('ratios are time ratios: above 1 we are slower than torch at the same number of threads');
  const busiest = Math.max(busy, ...busyPerRound);
  if (busiest > 0.1) {
    console.log(
      `WARNING: other processes kept up to ${(100 * busiest).toFixed(0)}% of the CPUs busy between rounds: figures are low and noisy`,
    );
  }

  writeJsonAtomic(opts.out, {
    schema: 'ridgeline.bench.model_epoch/1',
    machine: { ...machine, busyFractionBeforeRun: busy, busyFractionBeforeEachRound: busyPerRound },
    ours: { oneThread: backends['ours 1T'].description, twoThreads: backends['ours 2T'].description },
    peer: peer.ok
      ? { ok: true, torch: peer.probe.torch, blas: peer.probe, failure: peerFailure, unsetEnv: PEER_UNSET_ENV }
      : { ok: false, reason: peer.reason },
    training: {
      optimizer: 'SGD',
      lr: 0.01,
      momentum: 0.9,
      loss: 'cross-entropy (MSE for siren)',
      data: 'uniform random inputs, random labels (8 fixed batches)',
    },
    options: opts,
    results: rows,
  });
  console.log(`\nwrote ${opts.out}`);
  for (const b of Object.values(backends)) b.close();
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`model_epoch bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
