/**
 * Issue 14's goals measured in one run, as ratios side by side with the machine facts:
 * the mlp-2 Fashion-MNIST epoch against PyTorch (2 threads), jax-js (Wasm) and its own
 * roofline; the 1024² product on two threads against one; the skinny and long-k products
 * of mlp-2 and LeNet-5 against the 1024² rate; the lenet5, mlp-toeplitz, vit-lite, cnn and
 * lc-cnn epochs against PyTorch (2 threads). Every figure comes from the existing benches'
 * measuring functions (matmul.ts, profile.ts, step_time.ts, model_epoch.ts, jaxjs_peer.ts):
 * this file only runs them, in interleaved rounds, and compares medians.
 * Prints one table and writes bench/results/throughput.json (with provenance) and a CSV.
 *
 *   node dist/bench/throughput.js [--quick] [--rounds 3] [--no-peer] [--no-jaxjs] [--math strict|relaxed]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { MATH_CHOICES, type MathMode } from '../core/math_mode.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { fashionBatches } from './fashion_batches.ts';
import {
  benchOptions,
  cpuBusyFraction,
  describeBlas,
  estimateClockGHz,
  isMainModule,
  median,
  PEER_UNSET_ENV,
  simdFlopsPerCycle,
  startTorchBench,
  SYSTEM_PYTHON,
  usageExit,
  writeJsonAtomic,
} from './harness.ts';
import type { JaxjsEpoch } from './jaxjs_peer.ts';
import { type Backend, gflops, measureOurs, type PeerRun, runPeer } from './matmul.ts';
import { matmulPairRate } from './matmul_pair.ts';
import { torchSecondsPerStep, WORKLOADS } from './model_epoch.ts';
import { type ModelProfile, profileModel } from './profile.ts';
import { ProfilingBackend } from './profile_backend.ts';
import { ourSecondsPerStep } from './step_time.ts';
import { goalCsv, type GoalRow, goalRow, goalTable, skinnyLongKRate, type Target } from './throughput_goals.ts';

const USAGE = `Usage: node dist/bench/throughput.js [options]

Issue 14's goals in one run, each as a ratio (ours / reference) against its target:
  mlp-2 Fashion-MNIST epoch (784-512-10, batch 128, SGD lr 0.01 momentum 0.9) on 2 threads
    vs PyTorch 2 threads (≤ 2.0), vs jax-js Wasm (≤ 0.4), vs its roofline (≤ 1.15: its
    product FLOPs at our own 2-thread 1024² rate);
  matmul 1024²: 2 threads vs 1 thread (≥ 1.8);
  the skinny and long-k products of mlp-2 and lenet5 vs the 1024² rate (≥ 0.60), timed in
    training steps replayed from their kernel calls, as the trainer runs them (bench/profile.ts);
  lenet5, mlp-toeplitz, vit-lite epochs vs PyTorch 2 threads (≤ 2.0); cnn, lc-cnn (≤ 1.1).
Context rows (no target): those products in steps run through autograd, ours 1 thread vs
jax-js, the 1024² product vs PyTorch, and the machine's two-core ceiling: two independent
1-thread 1024² products at once vs one alone (bench/matmul_pair.ts), our 2 threads against
that pair, PyTorch's 2 threads vs its 1.

Options:
  --quick        one round of a few steps, mlp-2 and lenet5 only: a check that everything runs
                 (its figures are not the goals' measurement)
  --rounds R     interleaved rounds; figures are medians (default 3; 1 with --quick)
  --no-peer      without PyTorch
  --no-jaxjs     without jax-js
  --math MODE    strict (default) or relaxed: our kernels with fused multiply-add (under Node 20
                 start node with --experimental-wasm-relaxed-simd); recorded in the results
  --out FILE     result file (default bench/results/throughput.json; the CSV beside it)
  --help         this text

Peers: PyTorch from Debian (python3-torch + libopenblas0-openmp, installed when missing and
we are root) under ${SYSTEM_PYTHON}; jax-js from npm (@jax-js/jax, a dev dependency) in a
child node process (bench/jaxjs_peer.ts). The mlp-2 epochs train on Debian's
dataset-fashion-mnist (installed when missing and we are root; else uniform noise, and no
jax-js). Run it on an otherwise idle machine: the full run takes a
few minutes on 2 cores.`;

const CLI_OPTIONS = {
  quick: { type: 'boolean', default: false },
  rounds: { type: 'string' },
  'no-peer': { type: 'boolean', default: false },
  'no-jaxjs': { type: 'boolean', default: false },
  math: { type: 'string', default: 'strict' },
  out: { type: 'string', default: 'bench/results/throughput.json' },
  help: { type: 'boolean', default: false },
} as const;

interface Options {
  quick: boolean;
  rounds: number;
  torch: boolean;
  jaxjs: boolean;
  math: MathMode;
  out: string;
  /** Timed steps of the mlp-2 epoch (ours, PyTorch, jax-js): the whole epoch unless --quick. */
  mlp2Steps: number | 'epoch';
  /** Models whose epochs are compared with PyTorch, and their timed steps. */
  epochModels: { model: string; target: number; steps: number }[];
  /** Models whose products are profiled, with the timed steps. */
  profiles: { model: string; steps: number }[];
}

/** The epoch goals: ≤ 2.0× PyTorch for the three the issue wants faster, ≤ 1.1× for the two that must stay. */
const EPOCH_GOALS = [
  { model: 'lenet5', target: 2.0 },
  { model: 'mlp-toeplitz', target: 2.0 },
  { model: 'vit-lite', target: 2.0 },
  { model: 'cnn', target: 1.1 },
  { model: 'lc-cnn', target: 1.1 },
];

function parseCli(): Options {
  const values = benchOptions('throughput bench', USAGE, CLI_OPTIONS);
  const quick = values.quick;
  const rounds = values.rounds === undefined ? (quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    usageExit('throughput bench', `--rounds: expected a positive integer, got '${values.rounds}'`);
  }
  if (!(MATH_CHOICES as readonly string[]).includes(values.math)) {
    usageExit('throughput bench', `--math: expected ${MATH_CHOICES.join(' or ')}, got '${values.math}'`);
  }
  return {
    quick,
    rounds,
    torch: !values['no-peer'],
    jaxjs: !values['no-jaxjs'],
    math: values.math as MathMode,
    out: values.out,
    mlp2Steps: quick ? 20 : 'epoch',
    epochModels: (quick ? EPOCH_GOALS.slice(0, 1) : EPOCH_GOALS).map((g) => ({ ...g, steps: quick ? 3 : WORKLOADS[g.model].steps })),
    profiles: quick ? [{ model: 'mlp-2', steps: 3 }] : [{ model: 'mlp-2', steps: 40 }, { model: 'lenet5', steps: 20 }],
  };
}

/** One round's figures: seconds per step, GFLOP/s, or null where a peer is missing or failed. */
interface Round {
  busyBefore: number;
  matmul: {
    ours1T: number;
    ours2T: number;
    torch1T: number | null;
    torch2T: number | null;
    pair: { soloGflops: number; pairGflops: number };
  };
  mlp2: {
    ours2T: number;
    ours1T: number;
    torch2T: number | null;
    /** What the PyTorch epoch trained on ('fashion-mnist' or 'random') and its loss before and after. */
    torch2TRun: { data: string; firstLoss: number; finalLoss: number } | null;
    jaxjs: JaxjsEpoch | null;
    ours2TFinalLoss: number;
    /** Timed steps of ours (2 threads) replayed from their kernel calls (core/train/step_replay.ts). */
    ours2TReplayed: number;
  };
  epochs: Record<string, { ours2T: number; torch2T: number | null }>;
  products: Record<
    string,
    {
      gflopPerStep: number;
      /** In replayed steps, as the trainer runs them. */
      skinnyLongK: ReturnType<typeof skinnyLongKRate>;
      /** The same products in steps run through autograd (its JavaScript between the kernels). */
      skinnyLongKAutograd: ReturnType<typeof skinnyLongKRate>;
      profile: ModelProfile;
    }
  >;
}

/** What the PyTorch mlp-2 epoch trained on, and its loss over the epoch. */
function describeTorchRun(run: { data: string; firstLoss: number; finalLoss: number }): string {
  const on = run.data === 'fashion-mnist' ? 'on Fashion-MNIST, each batch gathered in the timed loop as ours' : 'on 8 fixed random batches';
  return `${on}; loss ${run.firstLoss.toFixed(3)} → ${run.finalLoss.toFixed(3)}`;
}

const JAXJS_PEER = join(dirname(fileURLToPath(import.meta.url)), 'jaxjs_peer.js');
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The jax-js epoch in a child node process: its Wasm memory and JIT stay out of ours. */
function runJaxjs(steps: number): JaxjsEpoch {
  const r = spawnSync(process.execPath, [JAXJS_PEER, '--json', '--steps', String(steps), '--warmup', '3'], {
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 16 << 20,
  });
  if (r.error) throw new Error(`jax-js peer: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`jax-js peer exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as JaxjsEpoch;
}

/** Where this result came from: the commit (and whether the tree had changes), the command, when. */
function provenance(): Record<string, unknown> {
  const git = (args: string[]): string | null => {
    const r = spawnSync('git', args, { cwd: REPO, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const status = git(['status', '--porcelain']);
  return {
    commit: git(['rev-parse', 'HEAD']),
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD']),
    uncommittedChanges: status === null ? null : status.length > 0,
    command: ['node', ...process.argv.slice(1)].join(' '),
    date: new Date().toISOString(),
  };
}

const medianOf = (xs: (number | null)[]): number | null => {
  const ok = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return ok.length ? median(ok) : null;
};

async function main(): Promise<void> {
  const opts = parseCli();
  const started = performance.now();
  // Progress on stderr, each line with the seconds since the start: where a slow run spends its time.
  const log = (s: string): void => void console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);
  const { machine, busy, peer } = await startTorchBench(opts.torch, log);
  const python = peer.ok ? peer.python : SYSTEM_PYTHON;
  const failures: string[] = [];
  // A failing peer is reported once and not run again: the rest of the run goes on without it.
  let torchOk = peer.ok;
  let jaxjsOk = opts.jaxjs;
  const torch = <T>(what: string, fn: () => T): T | null => {
    if (!torchOk) return null;
    try {
      return fn();
    } catch (e) {
      failures.push(`PyTorch, ${what}: ${(e as Error).message}`);
      log(`PyTorch failed (${what}); going on without it`);
      torchOk = false;
      return null;
    }
  };

  const data = await fashionBatches(128);
  if (!data.real) log(`warning: ${data.source}; the jax-js peer needs the real data and is skipped`);
  if (!data.real) jaxjsOk = false;
  const ours1T: Backend = await createCpuBackend({ math: opts.math });
  // The same kernels with the backend's helper thread: both cores on large products.
  const ours2T: Backend = await createCpuBackend({ spawnWorker: spawnKernelWorker, math: opts.math });
  const profiler = new ProfilingBackend(ours2T);
  const mlp2 = { ...WORKLOADS['mlp-2'], steps: opts.mlp2Steps === 'epoch' ? data.stepsPerEpoch : opts.mlp2Steps };
  let torchBlas: Record<string, unknown> | null = null;

  const rounds: Round[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const busyBefore = await cpuBusyFraction(500);
    const tag = `round ${round}/${opts.rounds}`;
    log(`${tag} (CPUs ${(100 * busyBefore).toFixed(0)}% busy before it): matmul 1024²…`);
    const torchMm = (t: number): number | null => {
      const run: PeerRun | null = torch(`matmul, ${t} thread(s)`, () => runPeer(python, t, [1024]));
      if (run) torchBlas ??= run.blas;
      return run ? gflops(1024, run.results[0].medianS) : null;
    };
    const matmul = {
      ours1T: gflops(1024, measureOurs(ours1T, 1024).medianS),
      ours2T: gflops(1024, measureOurs(ours2T, 1024).medianS),
      torch1T: torchMm(1),
      torch2T: torchMm(2),
      // What two cores give with nothing shared: the ceiling for 2 threads over 1.
      pair: await matmulPairRate(1024, opts.quick ? 0.2 : 1, opts.quick ? 1 : 5, opts.math),
    };

    const products: Round['products'] = {};
    for (const p of opts.profiles) {
      log(`${tag}: products of ${p.model}…`);
      const prof = await profileModel(profiler, p.model, p.steps, data);
      const autograd = await profileModel(profiler, p.model, p.steps, data, false);
      products[p.model] = {
        gflopPerStep: prof.gflopPerStep,
        skinnyLongK: skinnyLongKRate(prof.products),
        skinnyLongKAutograd: skinnyLongKRate(autograd.products),
        profile: prof,
      };
    }

    log(`${tag}: mlp-2 epoch (${mlp2.steps} steps), ours 2T, ours 1T, PyTorch 2T${jaxjsOk ? ', jax-js' : ''}…`);
    const o2 = await ourSecondsPerStep(ours2T, mlp2, data.at);
    const o1 = await ourSecondsPerStep(ours1T, mlp2, data.at);
    const t2 = torch('mlp-2 epoch', () => torchSecondsPerStep(python, mlp2, 2, data.dir));
    let jaxjs: JaxjsEpoch | null = null;
    if (jaxjsOk) {
      try {
        jaxjs = runJaxjs(mlp2.steps);
        // A peer that does not train is not timing training: its figure is left out.
        if (!jaxjs.learned) {
          failures.push(`jax-js did not learn in round ${round} (loss ${jaxjs.firstLoss} → ${jaxjs.lastLoss}): its time is left out`);
        }
      } catch (e) {
        failures.push((e as Error).message);
        log('jax-js failed; going on without it');
        jaxjsOk = false;
      }
    }

    const epochs: Round['epochs'] = {};
    for (const g of opts.epochModels) {
      const w = { ...WORKLOADS[g.model], steps: g.steps };
      log(`${tag}: ${g.model} epoch, ours 2T and PyTorch 2T…`);
      const ours = await ourSecondsPerStep(ours2T, w);
      const peerStep = torch(`${g.model} epoch`, () => torchSecondsPerStep(python, w, 2));
      epochs[g.model] = { ours2T: ours.secondsPerStep, torch2T: peerStep?.seconds_per_step ?? null };
    }
    rounds.push({
      busyBefore,
      matmul,
      products,
      epochs,
      mlp2: {
        ours2T: o2.secondsPerStep,
        ours1T: o1.secondsPerStep,
        torch2T: t2?.seconds_per_step ?? null,
        torch2TRun: t2 ? { data: t2.data, firstLoss: t2.first_loss, finalLoss: t2.final_loss } : null,
        jaxjs,
        ours2TFinalLoss: o2.finalLoss,
        ours2TReplayed: o2.replayed,
      },
    });
  }

  // Medians over rounds; epochs in seconds (steps per epoch: the loader's full batches).
  const m = (f: (r: Round) => number | null): number | null => medianOf(rounds.map(f));
  const epochOf =
    (w: { trainExamples: number; batch: number }) => (s: number | null) => (s === null ? null : s * Math.floor(w.trainExamples / w.batch));
  const mlp2Epoch = epochOf(mlp2);
  const mm1 = m((r) => r.matmul.ours1T);
  const mm2 = m((r) => r.matmul.ours2T);
  const gflopPerStep = m((r) => r.products['mlp-2']?.gflopPerStep ?? null);
  const roofline = gflopPerStep !== null && mm2 !== null ? (gflopPerStep * data.stepsPerEpoch) / mm2 : null;
  const ours2TEpoch = mlp2Epoch(m((r) => r.mlp2.ours2T));
  const jaxjsEpoch = mlp2Epoch(m((r) => (r.mlp2.jaxjs?.learned ? r.mlp2.jaxjs.secondsPerStep : null)));
  const le = (value: number): Target => ({ op: '≤', value });
  const ge = (value: number): Target => ({ op: '≥', value });

  const rows: GoalRow[] = [
    goalRow('mlp-2 epoch vs PyTorch', 's', ours2TEpoch, 'PyTorch 2T', mlp2Epoch(m((r) => r.mlp2.torch2T)), le(2.0)),
    goalRow('mlp-2 epoch vs jax-js', 's', ours2TEpoch, 'jax-js Wasm', jaxjsEpoch, le(0.4)),
    goalRow('mlp-2 epoch vs its roofline', 's', ours2TEpoch, 'roofline 2T', roofline, le(1.15)),
    goalRow('matmul 1024², 2 threads vs 1', 'GFLOP/s', mm2, 'ours 1T', mm1, ge(1.8)),
    ...opts.profiles.map((p) =>
      goalRow(
        `${p.model} skinny/long-k products vs 1024²`,
        'GFLOP/s',
        m((r) => r.products[p.model].skinnyLongK?.gflops ?? null),
        'ours 1024² 2T',
        mm2,
        ge(0.6),
      )
    ),
    ...opts.epochModels.map((g) =>
      goalRow(
        `${g.model} epoch vs PyTorch`,
        's',
        epochOf(WORKLOADS[g.model])(m((r) => r.epochs[g.model].ours2T)),
        'PyTorch 2T',
        epochOf(WORKLOADS[g.model])(m((r) => r.epochs[g.model].torch2T)),
        le(g.target),
      )
    ),
    ...opts.profiles.map((p) =>
      goalRow(
        `${p.model} skinny/long-k, steps through autograd`,
        'GFLOP/s',
        m((r) => r.products[p.model].skinnyLongKAutograd?.gflops ?? null),
        'ours 1024² 2T',
        mm2,
        null,
      )
    ),
    goalRow('mlp-2 epoch, ours 1 thread vs jax-js', 's', mlp2Epoch(m((r) => r.mlp2.ours1T)), 'jax-js Wasm', jaxjsEpoch, null),
    goalRow('matmul 1024², 1 thread vs PyTorch', 'GFLOP/s', mm1, 'PyTorch 1T', m((r) => r.matmul.torch1T), null),
    goalRow('matmul 1024², 2 threads vs PyTorch', 'GFLOP/s', mm2, 'PyTorch 2T', m((r) => r.matmul.torch2T), null),
    // The machine's side of the 2-thread goal: two independent products at once over one
    // alone (bench/matmul_pair.ts), and PyTorch's own 2-thread gain.
    goalRow(
      'matmul 1024², two independent 1T products vs one',
      'GFLOP/s',
      m((r) => r.matmul.pair.pairGflops),
      'ours 1T alone',
      m((r) => r.matmul.pair.soloGflops),
      null,
    ),
    goalRow('matmul 1024², 2 threads vs that pair', 'GFLOP/s', mm2, 'two 1T at once', m((r) => r.matmul.pair.pairGflops), null),
    goalRow('PyTorch 1024², 2 threads vs 1', 'GFLOP/s', m((r) => r.matmul.torch2T), 'PyTorch 1T', m((r) => r.matmul.torch1T), null),
  ];

  const measuredClock = estimateClockGHz();
  const clockGHz = measuredClock ?? (machine.cpuMHz ? machine.cpuMHz / 1000 : null);
  const perCycle = simdFlopsPerCycle(machine.cpuModel);
  const peak = clockGHz === null ? null : perCycle.flops * clockGHz;
  const lastJaxjs = [...rounds].reverse().find((r) => r.mlp2.jaxjs)?.mlp2.jaxjs ?? null;
  const lastTorch = [...rounds].reverse().find((r) => r.mlp2.torch2TRun)?.mlp2.torch2TRun ?? null;
  const blas = torchBlas ?? (peer.ok ? peer.probe : null);
  const busiest = Math.max(busy, ...rounds.map((r) => r.busyBefore));
  const minutes = (performance.now() - started) / 60_000;

  console.log(
    `throughput (issue 14) — ${machine.cpuModel}, ${machine.cores} cores; clock ${clockGHz?.toFixed(2) ?? '—'} GHz ` +
      `(${measuredClock ? 'measured' : '/proc/cpuinfo'}; /proc/cpuinfo says ${
        machine.cpuMHz ? (machine.cpuMHz / 1000).toFixed(2) : '—'
      }); ` +
      `WASM SIMD peak ${peak?.toFixed(1) ?? '—'} GFLOP/s a core (${perCycle.flops} flops/cycle)`,
  );
  const lastRound = rounds[rounds.length - 1].mlp2;
  console.log(
    `ours: ${ours2T.description} (and 1 thread); node ${machine.node}, V8 ${machine.v8}; the trainer's loop, ` +
      `${lastRound.ours2TReplayed} of ${mlp2.steps} timed mlp-2 steps replayed from their kernel calls`,
  );
  console.log(
    peer.ok
      ? `PyTorch ${String(peer.probe.torch)} (Debian, python ${String(peer.probe.python)}), ${describeBlas(blas ?? {})}${
        lastTorch ? `; its mlp-2 epoch ${describeTorchRun(lastTorch)}` : ''
      }`
      : `PyTorch: MISSING — ${peer.reason}`,
  );
  console.log(
    lastJaxjs
      ? `jax-js ${lastJaxjs.jaxjs} (npm) on ${lastJaxjs.device}, ${
        lastJaxjs.workers ? `${lastJaxjs.workers} worker threads` : 'one thread (Node has no Web Worker global for its pool)'
      }; ` +
        `one jitted step; loss ${lastJaxjs.firstLoss.toFixed(3)} → ${lastJaxjs.lastLoss.toFixed(3)} ` +
        `(${lastJaxjs.learned ? 'learns' : 'DID NOT LEARN'}); final loss ${lastJaxjs.finalLoss.toFixed(4)}, ours ${
          rounds[rounds.length - 1].mlp2.ours2TFinalLoss.toFixed(4)
        } (same init, same batches)`
      : `jax-js: MISSING — ${opts.jaxjs ? failures.find((f) => f.startsWith('jax-js')) ?? data.source : 'disabled by --no-jaxjs'}`,
  );
  console.log(
    `data: ${data.source}; mlp-2 epoch = ${data.stepsPerEpoch} steps, ${mlp2.steps} timed after 3 untimed; ` +
      `${gflopPerStep !== null ? `${(gflopPerStep * 1000).toFixed(1)} MFLOP of products a step` : ''}; ` +
      `medians of ${opts.rounds} round(s)${opts.quick ? " (--quick: a smoke run, not the goals' measurement)" : ''}`,
  );
  console.log('');
  console.log(goalTable(rows));
  console.log('ratio = ours / reference: times must stay at or under the target, rates reach it');
  for (const p of opts.profiles) {
    const slk = rounds[rounds.length - 1].products[p.model].skinnyLongK;
    if (slk && mm2) {
      console.log(
        `${p.model} skinny/long-k products (last round): ` +
          slk.members.map((q) => `${q.shape} ${q.class} ${(100 * q.gflops / mm2).toFixed(0)}%`).join(', '),
      );
    }
  }
  if (failures.length) console.log(`FAILED: ${failures.join('; ')}`);
  if (busiest > 0.1) {
    console.log(`WARNING: other processes kept up to ${(100 * busiest).toFixed(0)}% of the CPUs busy: figures are low and noisy`);
  }

  const csvPath = opts.out.replace(/\.json$/, '') + '.csv';
  writeJsonAtomic(opts.out, {
    schema: 'ridgeline.bench.throughput/1',
    provenance: provenance(),
    machine: {
      ...machine,
      busyFractionBeforeRun: busy,
      busyFractionBeforeEachRound: rounds.map((r) => r.busyBefore),
      clockGHz,
      clockSource: measuredClock ? 'measured: dependent imul chain' : '/proc/cpuinfo cpu MHz',
      wasmSimdPeakGflopsPerCore: peak,
      flopsPerCycle: perCycle.flops,
      runMinutes: minutes,
    },
    ours: { oneThread: ours1T.description, twoThreads: ours2T.description, math: ours2T.math },
    peers: {
      torch: peer.ok ? { torch: peer.probe.torch, python: peer.probe.python, blas, unsetEnv: PEER_UNSET_ENV } : { missing: peer.reason },
      jaxjs: lastJaxjs
        ? { version: lastJaxjs.jaxjs, device: lastJaxjs.device, workers: lastJaxjs.workers, node: lastJaxjs.node }
        : { missing: opts.jaxjs ? 'failed or no data' : 'disabled by --no-jaxjs' },
    },
    training: {
      optimizer: 'SGD',
      lr: 0.01,
      momentum: 0.9,
      loss: 'softmax cross-entropy',
      mlp2Data: data.source,
      otherModelsData: 'uniform random inputs, random labels',
    },
    options: opts,
    goals: rows,
    rounds: rounds.map((r) => ({
      ...r,
      products: Object.fromEntries(
        Object.entries(r.products).map((
          [k, v],
        ) => [k, {
          gflopPerStep: v.gflopPerStep,
          skinnyLongK: v.skinnyLongK,
          skinnyLongKAutograd: v.skinnyLongKAutograd,
          products: v.profile.products,
        }]),
      ),
    })),
    failures,
  });
  writeFileSync(csvPath, goalCsv(rows));
  console.log(`\nwrote ${opts.out} and ${csvPath} (${minutes.toFixed(1)} min)`);
  ours1T.close();
  ours2T.close();
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`throughput bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
