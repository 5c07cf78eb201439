/**
 * Matmul benchmark: our CPU backend (WASM SIMD, one thread) against PyTorch's CPU matmul
 * (Debian's python3-torch on OpenBLAS) on float32 N×N, with our fraction of the one-core
 * WASM SIMD peak. Prints a table and writes bench/results/matmul.json.
 *
 *   node dist/bench/matmul.js [--sizes 256,512,1024] [--threads-peer 1|2] [--rounds 3] [--no-peer]
 */
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import {
  benchOptions,
  cpuBusyFraction,
  describeBlas,
  estimateClockGHz,
  fmt,
  formatTable,
  isMainModule,
  median,
  OPENBLAS_OPENMP_DIR,
  PEER_UNSET_ENV,
  peerEnv,
  PY_BLAS_INFO,
  PY_TIME_IT,
  runPythonJson,
  simdFlopsPerCycle,
  spread,
  startTorchBench,
  SYSTEM_PYTHON,
  timeIt,
  type Timing,
  usageExit,
  writeJsonAtomic,
} from './harness.ts';

const USAGE = `Usage: node dist/bench/matmul.js [options]

Float32 N×N matmul GFLOP/s (2·N³ / median time): our CPU backend (WebAssembly SIMD, one
thread) against PyTorch (Debian python3-torch, OpenBLAS) with 1 and 2 threads.

Options:
  --sizes LIST         comma-separated N values (default 256,512,1024)
  --threads-peer T     run the PyTorch peer with T threads only (1 or 2; default both)
  --rounds R           repeat everything R times, interleaved, and report medians (default 3)
  --no-peer            measure ours only
  --out FILE           result file (default bench/results/matmul.json)
  --help               this text

The peer runs under /usr/bin/python3; when torch is missing and we are root with apt, the
bench installs python3-torch and libopenblas0-openmp. ${PEER_UNSET_ENV.slice(0, 2).join(' and ')}
are removed from the peer's environment, and ${OPENBLAS_OPENMP_DIR} goes first on its
LD_LIBRARY_PATH (OpenMP torch on the pthreads OpenBLAS is oversubscribed). Run it on an otherwise idle machine.`;

const PEER_SCRIPT = PY_TIME_IT + PY_BLAS_INFO + `
import json, sys, torch
threads, sizes = int(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")]
torch.set_num_threads(threads)
out = {"threads": torch.get_num_threads(), "blas": blas_info(), "results": []}
g = torch.Generator().manual_seed(0)
for n in sizes:
    a, b = torch.rand(n, n, generator=g) - 0.5, torch.rand(n, n, generator=g) - 0.5
    c = torch.empty(n, n)
    out["results"].append({"n": n, **time_it(lambda: torch.mm(a, b, out=c))})
print(json.dumps(out))
`;

/** One PyTorch process's matmul timings at each size, with the BLAS it really ran. */
export interface PeerRun {
  threads: number;
  blas: Record<string, unknown>;
  results: ({ n: number } & Timing)[];
}

/** GFLOP/s of an n×n product that took `seconds`. */
export const gflops = (n: number, seconds: number): number => (2 * n ** 3) / seconds / 1e9;

const CLI_OPTIONS = {
  sizes: { type: 'string', default: '256,512,1024' },
  'threads-peer': { type: 'string' },
  rounds: { type: 'string', default: '3' },
  'no-peer': { type: 'boolean', default: false },
  out: { type: 'string', default: 'bench/results/matmul.json' },
  help: { type: 'boolean', default: false },
} as const;

function parseCli(): { sizes: number[]; peerThreads: number[]; rounds: number; peer: boolean; out: string } {
  const values = benchOptions('matmul bench', USAGE, CLI_OPTIONS);
  const sizes = values.sizes.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 8192)) {
    usageError(`--sizes: expected integers in 1..8192, got '${values.sizes}'`);
  }
  const t = values['threads-peer'];
  if (t !== undefined && t !== '1' && t !== '2') usageError(`--threads-peer: expected 1 or 2, got '${t}'`);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) usageError(`--rounds: expected a positive integer, got '${values.rounds}'`);
  return { sizes, peerThreads: t ? [Number(t)] : [1, 2], rounds, peer: !values['no-peer'], out: values.out };
}

function usageError(message: string): never {
  usageExit('matmul bench', message);
}

export type Backend = Awaited<ReturnType<typeof createCpuBackend>>;

/** Times our matmul at size n, after checking a few entries against an f64 dot product. */
export function measureOurs(backend: Backend, n: number): Timing {
  let seed = 12345 + n;
  const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const a = Float32Array.from({ length: n * n }, rand);
  const b = Float32Array.from({ length: n * n }, rand);
  const [ba, bb, bc] = [backend.alloc(n * n), backend.alloc(n * n), backend.alloc(n * n)];
  try {
    backend.upload(ba, a);
    backend.upload(bb, b);
    const params = { batch: 1, m: n, n, k: n, transA: false, transB: false };
    backend.matmul(ba, bb, bc, params);
    const c = backend.read(bc);
    for (const [i, j] of [[0, 0], [n - 1, n - 1], [n >> 1, (n * 3) >> 2]]) {
      let dot = 0;
      for (let p = 0; p < n; p++) dot += a[i * n + p] * b[p * n + j];
      if (Math.abs(c[i * n + j] - dot) > 1e-4 * n) throw new Error(`our matmul is wrong at n=${n} (${i},${j}): ${c[i * n + j]} vs ${dot}`);
    }
    return timeIt(() => backend.matmul(ba, bb, bc, params));
  } finally {
    for (const buf of [ba, bb, bc]) backend.free(buf);
  }
}

/** Times torch.mm at each size in a fresh PyTorch process with `threads` threads. */
export function runPeer(python: string, threads: number, sizes: number[]): PeerRun {
  // OMP_NUM_THREADS as well as set_num_threads: OpenBLAS's OpenMP build sizes its pool from it.
  const env = peerEnv({ OMP_NUM_THREADS: String(threads) });
  return runPythonJson(python, PEER_SCRIPT, [String(threads), sizes.join(',')], env) as PeerRun;
}

async function main(): Promise<void> {
  const opts = parseCli();
  const log = (s: string): void => void console.error(s);
  const { machine, busy, peer } = await startTorchBench(opts.peer, log);

  const backend = await createCpuBackend();
  // The same kernels with the backend's helper thread: both cores on large products.
  const threaded = await createCpuBackend({ spawnWorker: spawnKernelWorker });
  const ours: Timing[][] = opts.sizes.map(() => []);
  const ours2: Timing[][] = opts.sizes.map(() => []);
  const peers = new Map<number, PeerRun[]>(opts.peerThreads.map((t) => [t, []]));
  let peerFailure: string | null = null;
  const python = peer.ok ? peer.python : SYSTEM_PYTHON;
  const busyPerRound: number[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    busyPerRound.push(await cpuBusyFraction(500));
    log(`round ${round}/${opts.rounds} (CPUs ${(100 * busyPerRound[round - 1]).toFixed(0)}% busy before it): ours…`);
    opts.sizes.forEach((n, i) => ours[i].push(measureOurs(backend, n)));
    opts.sizes.forEach((n, i) => ours2[i].push(measureOurs(threaded, n)));
    const peerThreads: number[] = peer.ok && peerFailure === null ? opts.peerThreads : [];
    for (const t of peerThreads) {
      log(`round ${round}/${opts.rounds}: torch, ${t} thread${t > 1 ? 's' : ''}…`);
      try {
        peers.get(t)!.push(runPeer(python, t, opts.sizes));
      } catch (e) {
        peerFailure = `round ${round}, ${t} thread(s): ${(e as Error).message}`;
        log(`torch peer failed (${peerFailure}); continuing with our figures`);
      }
    }
  }

  // The peak uses the clock the kernels really run at: /proc/cpuinfo's "cpu MHz" is the
  // nominal clock of this VM (2.60 GHz) while the cores turbo to ~3.6 GHz, so the old
  // formula printed 119 % of "peak" (measured 2026-12-04).
  const mhz = machine.cpuMHz;
  const measuredClockGHz = estimateClockGHz();
  const clockGHz = measuredClockGHz ?? (mhz ? mhz / 1000 : 2.8);
  const clockSource = measuredClockGHz
    ? 'measured: dependent imul chain'
    : mhz
    ? '/proc/cpuinfo cpu MHz (not measurable here)'
    : 'ASSUMED 2.8 GHz';
  const perCycle = simdFlopsPerCycle(machine.cpuModel);
  const peak = perCycle.flops * clockGHz;
  const peerRuns = (t: number): PeerRun[] => peers.get(t) ?? [];
  const shownThreads = opts.peerThreads.filter((t) => peerRuns(t).length > 0);

  const rows = opts.sizes.map((n, i) => {
    const oursG = ours[i].map((t) => gflops(n, t.medianS));
    const torchG = Object.fromEntries(opts.peerThreads.map((t) => {
      const runs = peerRuns(t).map((r) => gflops(n, r.results[i].medianS));
      return [t, runs.length ? { gflops: median(runs), best: Math.max(...runs), spread: spread(runs), rounds: runs } : null];
    }));
    const g = median(oursG);
    const g2 = median(ours2[i].map((t) => gflops(n, t.medianS)));
    return {
      n,
      ours2Threads: { gflops: g2, ratio: Object.fromEntries(opts.peerThreads.map((t) => [t, torchG[t] ? g2 / torchG[t]!.gflops : null])) },
      ours: { gflops: g, best: Math.max(...oursG), spread: spread(oursG), rounds: oursG, samplesPerRound: ours[i].map((t) => t.samples) },
      torch: torchG,
      ratio: Object.fromEntries(opts.peerThreads.map((t) => [t, torchG[t] ? g / torchG[t]!.gflops : null])),
      fractionOfPeak: g / peak,
    };
  });

  const headers = [
    'N',
    'ours GF/s',
    'ours 2 thr GF/s',
    ...shownThreads.map((t) => `torch ${t}T GF/s`),
    ...shownThreads.map((t) => `ours/${t}T`),
    'ours 2 thr/2T',
    '% of peak',
    `spread ${['ours', ...shownThreads.map((t) => `${t}T`)].join('/')}`,
  ];
  const table = formatTable(
    headers,
    rows.map((r) => [
      String(r.n),
      fmt(r.ours.gflops),
      fmt(r.ours2Threads.gflops),
      ...shownThreads.map((t) => fmt(r.torch[t]?.gflops)),
      ...shownThreads.map((t) => fmt(r.ratio[t], 2)),
      fmt(r.ours2Threads.ratio[2] ?? NaN, 2),
      `${fmt(100 * r.fractionOfPeak)}%`,
      [r.ours.spread, ...shownThreads.map((t) => r.torch[t]?.spread)].map((x) => fmt(x === undefined ? NaN : 100 * x, 0)).join('/') + '%',
    ]),
  );

  const blas = peer.ok ? (peerRuns(shownThreads[0] ?? 1)[0]?.blas ?? peer.probe) : null;
  const unsetNow = PEER_UNSET_ENV.slice(0, 2).filter((v) => process.env[v] !== undefined).map((v) => `${v}=${process.env[v]}`);
  console.log(`matmul float32 N×N — ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}`);
  console.log(`ours: ${backend.description}; medians of ${opts.rounds} round(s), each the median of ≥11 timed samples after warm-up`);
  if (peer.ok) {
    console.log(`peer: PyTorch ${String(peer.probe.torch)} (python ${String(peer.probe.python)})`);
    console.log(`      ${describeBlas(blas ?? {})}`);
    console.log(
      `      unset in the peer's environment: ${
        unsetNow.length ? unsetNow.join(', ') : `${PEER_UNSET_ENV.slice(0, 2).join(', ')} (were not set)`
      }${peer.installedNow ? '; installed by this run' : ''}`,
    );
    if (peerFailure) console.log(`      FAILED in ${peerFailure}; rounds before it are shown`);
  } else {
    console.log(`peer: MISSING — ${peer.reason}; our figures alone`);
  }
  console.log(
    `peak (WASM SIMD, one core): ${perCycle.flops} flops/cycle (${perCycle.why}) × ${clockGHz.toFixed(2)} GHz ` +
      `(${clockSource}; /proc/cpuinfo says ${mhz ? (mhz / 1000).toFixed(2) : '—'}) = ${peak.toFixed(1)} GFLOP/s`,
  );
  console.log('');
  console.log(table);
  console.log('spread: (max − min) / median of the GFLOP/s across rounds; other load on the machine shows up here');
  const busiest = Math.max(busy, ...busyPerRound);
  if (busiest > 0.1) {
    console.log(
      `WARNING: other processes kept up to ${(100 * busiest).toFixed(0)}% of the CPUs busy between rounds: figures are low and noisy`,
    );
  }
  const starved = rows.filter((r) => r.torch[1] && r.torch[2] && r.torch[2].gflops < r.torch[1].gflops).map((r) => r.n);
  if (starved.length) {
    console.log(
      `WARNING: torch with 2 threads was slower than with 1 at N = ${starved.join(', ')}: the second core was busy ` +
        '(OpenMP threads wait for a descheduled peer); rerun on an idle machine',
    );
  }

  writeJsonAtomic(opts.out, {
    schema: 'ridgeline.bench.matmul/1',
    machine: { ...machine, busyFractionBeforeRun: busy, busyFractionBeforeEachRound: busyPerRound },
    runtimes: {
      node: process.versions.node,
      v8: process.versions.v8,
      torch: peer.ok ? peer.probe.torch : null,
      python: peer.ok ? peer.probe.python : null,
    },
    ours: { backend: backend.description, kernel: 'core/cpu/assembly/matmul.ts, 4×8 tile, mul+add (no FMA)' },
    peer: peer.ok
      ? {
        ok: true,
        failure: peerFailure,
        blas,
        unsetEnv: PEER_UNSET_ENV.slice(0, 2),
        unsetValues: unsetNow,
        installedNow: peer.installedNow,
      }
      : { ok: false, reason: peer.reason },
    peak: { gflops: peak, clockGHz, clockSource, cpuInfoMHz: mhz, flopsPerCycle: perCycle.flops, formula: perCycle.why },
    options: opts,
    results: rows,
  });
  console.log(`\nwrote ${opts.out}`);
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`matmul bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
