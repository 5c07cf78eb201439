/**
 * Shared pieces of the benchmarks (Node only; nothing in core/ imports this): timing by
 * median, machine description, the Python peer (Debian's PyTorch, installed on demand),
 * table printing and atomic result files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Whether the module at `metaUrl` (its import.meta.url) is the script node was started
 * with: a bench's CLI runs only then, so that another bench (bench/throughput.ts) can
 * import its measuring functions without running it.
 */
export function isMainModule(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(fileURLToPath(metaUrl)) === realpathSync(entry);
  } catch {
    return false;
  }
}

/** A bench's refusal of its command line: one line on stderr (no stack trace), exit code 2. */
export function usageExit(bench: string, message: string): never {
  console.error(`${bench}: ${message} (--help for usage)`);
  process.exit(2);
}

/**
 * A bench's options parsed from process.argv: with --help, `usage` on stdout and exit 0;
 * an unknown or malformed option ends the process through {@link usageExit}.
 */
export function benchOptions<O extends NonNullable<ParseArgsConfig['options']>>(
  bench: string,
  usage: string,
  options: O,
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  let values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    values = parseArgs({ options }).values;
  } catch (e) {
    usageExit(bench, (e as Error).message);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** Per-call time of a benchmarked function, in seconds. */
export interface Timing {
  medianS: number;
  minS: number;
  maxS: number;
  /** Number of timed samples (each averages `callsPerSample` calls). */
  samples: number;
  callsPerSample: number;
}

export interface TimingOptions {
  /** Untimed run-in, so the engine has tiered up and caches are warm. */
  warmupMs?: number;
  /** Each sample times enough back-to-back calls to last at least this long. */
  sampleMs?: number;
  minSamples?: number;
  /** Keep sampling until this much time has been spent (or maxSamples reached). */
  budgetMs?: number;
  maxSamples?: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Relative spread (max − min) / median, a plain noise figure. */
export function spread(xs: readonly number[]): number {
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

const nowS = (): number => Number(process.hrtime.bigint()) / 1e9;

/** Times `fn` after a warm-up: the median per-call time over many samples. */
export function timeIt(fn: () => void, opts: TimingOptions = {}): Timing {
  const { warmupMs = 200, sampleMs = 25, minSamples = 11, budgetMs = 1500, maxSamples = 200 } = opts;
  let calls = 0;
  const warmStart = nowS();
  while (calls < 3 || nowS() - warmStart < warmupMs / 1000) {
    fn();
    calls++;
  }
  const perCall = (nowS() - warmStart) / calls;
  const callsPerSample = Math.max(1, Math.ceil(sampleMs / 1000 / perCall));
  const times: number[] = [];
  const start = nowS();
  while (times.length < minSamples || (nowS() - start < budgetMs / 1000 && times.length < maxSamples)) {
    const t0 = nowS();
    for (let i = 0; i < callsPerSample; i++) fn();
    times.push((nowS() - t0) / callsPerSample);
  }
  return { medianS: median(times), minS: Math.min(...times), maxS: Math.max(...times), samples: times.length, callsPerSample };
}

/**
 * The same timing loop in Python, for peers: `time_it(fn)` returns a dict shaped like
 * {@link Timing}. Prepend it to a peer script.
 */
export const PY_TIME_IT = `
import math, time, statistics
def time_it(fn, warmup_ms=200, sample_ms=25, min_samples=11, budget_ms=1500, max_samples=200):
    calls, t = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - t < warmup_ms / 1000:
        fn(); calls += 1
    per_call = (time.perf_counter() - t) / calls
    k = max(1, math.ceil(sample_ms / 1000 / per_call)) if per_call > 0 else 1
    times, start = [], time.perf_counter()
    while len(times) < min_samples or (time.perf_counter() - start < budget_ms / 1000 and len(times) < max_samples):
        t0 = time.perf_counter()
        for _ in range(k): fn()
        times.append((time.perf_counter() - t0) / k)
    return {"medianS": statistics.median(times), "minS": min(times), "maxS": max(times),
            "samples": len(times), "callsPerSample": k}
`;

/**
 * Which BLAS a PyTorch process really runs: torch's build info, the BLAS libraries mapped
 * into the process after a matmul, OpenBLAS's own core name and config, and threadpoolctl's
 * view when it is installed. Prepend to a peer script; call `blas_info()` after importing torch.
 */
export const PY_BLAS_INFO = `
import ctypes, re
def blas_info():
    import torch
    a = torch.ones(64, 64); a @ a  # make sure the BLAS is loaded
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\\s]+)", cfg)
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if re.search(r"blas|lapack|mkl", l.split()[-1] if l.split() else "")})
    info = {"torchBlasInfo": m.group(1) if m else None, "libraries": libs,
            "cpuCapability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None}
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            core, conf = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        core.restype = conf.restype = ctypes.c_char_p
        info["openblasCore"], info["openblasConfig"] = core().decode(), conf().decode()
        info["openblasThreads"] = lib.openblas_get_num_threads()
        info["openblasParallel"] = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(lib.openblas_get_parallel(), "unknown")
        break
    m = re.search(r"ATen parallel backend: (\\S+)", torch.__config__.parallel_info())
    info["torchParallel"] = m.group(1) if m else None
    try:
        import threadpoolctl
        info["threadpoolctl"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture", "threading_layer")}
                                 for p in threadpoolctl.threadpool_info()]
    except ImportError:
        pass
    return info
`;

/** Debian packages of the PyTorch peer: torch, and an optimised BLAS (reference BLAS is ~60× slower). */
export const TORCH_PEER_PACKAGES = ['python3-torch', 'libopenblas0-openmp'];

/**
 * The peer probe: prints one JSON line, ok with torch's version and BLAS facts when torch
 * imports and runs OpenBLAS, else the reason (a peer on reference BLAS is no fair peer, nor
 * is OpenMP torch on the pthreads build: then libopenblas0-openmp is missing, and
 * ensurePythonPeer installs it).
 */
export const TORCH_OPENBLAS_PROBE = PY_BLAS_INFO + `
import json, sys
try:
    import torch
except Exception as e:
    print(json.dumps({"ok": False, "reason": f"{sys.executable} cannot import torch ({e})"})); raise SystemExit
info = blas_info()
if "openblasCore" not in info:
    print(json.dumps({"ok": False, "reason": "torch does not run OpenBLAS (" + (", ".join(info["libraries"]) or "no BLAS library mapped") + ")"}))
elif info.get("torchParallel") == "OpenMP" and info.get("openblasParallel") == "pthreads":
    print(json.dumps({"ok": False, "reason": "OpenMP torch runs the pthreads OpenBLAS (" + ", ".join(info["libraries"]) + ")"}))
else:
    print(json.dumps({"ok": True, "torch": torch.__version__, "python": sys.version.split()[0], **info}))
`;

/**
 * The BLAS facts of a {@link PY_BLAS_INFO} probe on one line: which OpenBLAS, its threading,
 * the libraries really mapped, and a warning when OpenMP-built torch runs the pthreads
 * build (the two thread pools then fight over the cores: see {@link OPENBLAS_OPENMP_DIR}).
 */
export function describeBlas(info: Record<string, unknown>): string {
  const libs = (info.libraries as string[] | undefined)?.join(', ') || 'none';
  const what = info.openblasConfig
    ? `${String(info.openblasConfig)} (${String(info.openblasParallel)} threading, core ${String(info.openblasCore)})`
    : String(info.torchBlasInfo);
  const mismatch = info.torchParallel === 'OpenMP' && info.openblasParallel === 'pthreads'
    ? ` — WARNING: OpenMP torch on pthreads OpenBLAS (${OPENBLAS_OPENMP_DIR} missing?): oversubscribed, figures low`
    : '';
  return `BLAS ${what}; mapped: ${libs}${mismatch}`;
}

/** The Python that sees Debian's packages (a pyenv `python3` on PATH does not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Variables that must not leak from our shell into a peer (they slow or misdirect it). */
export const PEER_UNSET_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'PYTHONPATH', 'PYTHONHOME'];

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/**
 * Debian's OpenMP build of OpenBLAS (libopenblas0-openmp). Debian's torch is built with
 * OpenMP; when the libblas.so.3 alternative points at the pthreads build instead
 * (libopenblas0-pthread outranks it once installed, e.g. through torch's own Recommends),
 * torch's OpenMP pool and OpenBLAS's pthreads pool spin on the same cores: LeNet-5 training
 * with 2 threads ran 4.5× slower (28 vs 6.3 ms a step). Put first on LD_LIBRARY_PATH, this
 * directory's libblas.so.3 wins whatever the alternative says.
 */
export const OPENBLAS_OPENMP_DIR = `/usr/lib/${MULTIARCH[process.arch] ?? `${process.arch}-linux-gnu`}/openblas-openmp`;

/**
 * The environment of every process that runs PyTorch (bench peers, interop tests): ours,
 * minus {@link PEER_UNSET_ENV}, with {@link OPENBLAS_OPENMP_DIR} (when installed) prepended
 * to LD_LIBRARY_PATH, plus `set`.
 */
export function peerEnv(set: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of PEER_UNSET_ENV) delete env[name];
  if (existsSync(OPENBLAS_OPENMP_DIR)) env.LD_LIBRARY_PATH = [OPENBLAS_OPENMP_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { ...env, ...set };
}

/** Runs a Python script whose last stdout line is JSON, and returns that value. */
export function runPythonJson(python: string, script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): unknown {
  const r = spawnSync(python, ['-c', script, ...args], { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${python}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${python} exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${python}: expected a JSON line, got '${last.slice(0, 200)}'`);
  }
}

export type PeerStatus =
  | { ok: true; python: string; installedNow: boolean; probe: Record<string, unknown> }
  | { ok: false; reason: string };

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether we may install Debian packages here (root with apt-get). */
export function canAptInstall(): boolean {
  return process.getuid?.() === 0 && hasCommand('apt-get');
}

/**
 * `apt-get install` of `packages` without their recommends (torch's would pull in
 * libopenblas0 and with it the pthreads OpenBLAS), running `apt-get update` and trying again
 * when a plain install fails (e.g. for lack of lists). apt's output goes to stderr so stdout
 * stays the benchmark's. True when the install succeeded.
 */
export function aptInstall(packages: string[], log: (s: string) => void): boolean {
  const apt = (args: string[]): boolean =>
    spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  const install = ['install', '-y', '--no-install-recommends', ...packages];
  if (apt(install)) return true;
  log('apt-get install failed; running apt-get update and trying again…');
  return apt(['update']) && apt(install);
}

/**
 * Makes sure `SYSTEM_PYTHON` can run `probeScript` (which prints one JSON line, or fails when
 * the peer is unusable). When it cannot and we are root with apt, installs `aptPackages`
 * (running `apt-get update` first if a plain install fails, e.g. for lack of lists); apt's
 * output goes to stderr so stdout stays the benchmark's. Never throws.
 */
export function ensurePythonPeer(probeScript: string, aptPackages: string[], log: (s: string) => void): PeerStatus {
  const probe = (): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } => {
    if (!existsSync(SYSTEM_PYTHON)) return { ok: false, reason: `${SYSTEM_PYTHON} not found` };
    try {
      const value = runPythonJson(SYSTEM_PYTHON, probeScript, [], peerEnv(), 120_000) as Record<string, unknown>;
      if (value && value.ok === false) return { ok: false, reason: String(value.reason) };
      return { ok: true, value };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  };
  const first = probe();
  if (first.ok) return { ok: true, python: SYSTEM_PYTHON, installedNow: false, probe: first.value };
  if (!canAptInstall()) {
    return {
      ok: false,
      reason: `${first.reason}; cannot install (not root with apt-get): run apt-get install -y ${aptPackages.join(' ')}`,
    };
  }
  log(`peer unusable (${first.reason}); installing ${aptPackages.join(' ')} with apt-get…`);
  if (!aptInstall(aptPackages, log)) return { ok: false, reason: `${first.reason}; apt-get install ${aptPackages.join(' ')} failed` };
  const second = probe();
  if (second.ok) return { ok: true, python: SYSTEM_PYTHON, installedNow: true, probe: second.value };
  return { ok: false, reason: `${second.reason} (even after installing ${aptPackages.join(' ')})` };
}

export interface MachineInfo {
  cpuModel: string;
  /** "cpu MHz" of /proc/cpuinfo (often the nominal clock, not the turbo clock), or null. */
  cpuMHz: number | null;
  cores: number;
  loadAverage1m: number;
  platform: string;
  arch: string;
  node: string;
  v8: string;
  date: string;
}

/**
 * Fraction of all CPUs' time spent busy by anyone over the next `ms` milliseconds (from
 * os.cpus() tick counters): a direct check that nothing else is running before we measure.
 */
export async function cpuBusyFraction(ms = 1000): Promise<number> {
  const ticks = (): { idle: number; total: number } =>
    cpus().reduce((acc, c) => {
      const t = c.times;
      return { idle: acc.idle + t.idle, total: acc.total + t.user + t.nice + t.sys + t.idle + t.irq };
    }, { idle: 0, total: 0 });
  const a = ticks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = ticks();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

export function cpuInfoMHz(): number | null {
  try {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuMHz: cpuInfoMHz(),
    cores: list.length,
    loadAverage1m: loadavg()[0],
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
    v8: process.versions.v8,
    date: new Date().toISOString(),
  };
}

/**
 * The core clock actually running, estimated from a chain of dependent 32-bit multiplies
 * (3 cycles each on every current x86 core); /proc/cpuinfo's "cpu MHz" is often the nominal
 * clock of a VM, below the turbo clock the benchmark really sees. x64 only, else null.
 */
export function estimateClockGHz(): number | null {
  if (process.arch !== 'x64') return null;
  const chain = (n: number, y: number): number => {
    let x = n | 1;
    for (let i = 0; i < n; i++) {
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
      x = Math.imul(x, y);
    }
    return x;
  };
  chain(100_000, 3);
  const n = 5_000_000;
  const ghz: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = nowS();
    if (chain(n, 3 + 2 * r) === 0.5) ghz.push(NaN); // keeps the result alive
    ghz.push((n * 8 * 3) / (nowS() - t0) / 1e9);
  }
  return median(ghz);
}

/**
 * Single-precision flops per cycle and core of 128-bit WebAssembly SIMD without FMA (each
 * multiply-add is an f32x4.mul and an f32x4.add): AMD Zen issues two FP multiplies and two
 * FP adds per cycle on separate pipes (16 flops), Intel cores run both on the same two
 * FMA ports (8 flops).
 */
export function simdFlopsPerCycle(cpuModel: string): { flops: number; why: string } {
  return /intel/i.test(cpuModel)
    ? { flops: 8, why: '4 lanes × 2 ports shared by f32x4.mul and f32x4.add' }
    : { flops: 16, why: '4 lanes × (2 f32x4.mul + 2 f32x4.add pipes), AMD Zen' };
}

/** A plain text table: first column left-aligned, the others right-aligned. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Formats a number with `digits` decimals, or '—' for a missing figure. */
export function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/**
 * The start of a bench against PyTorch: machine facts, how busy the CPUs are (with a
 * warning when they are), and the OpenBLAS peer (`wanted` false: disabled, our figures alone).
 */
export async function startTorchBench(
  wanted: boolean,
  log: (s: string) => void,
): Promise<{ machine: MachineInfo; busy: number; peer: PeerStatus }> {
  const machine = machineInfo();
  const busy = await cpuBusyFraction();
  if (busy > 0.1) log(`warning: other processes keep ${(100 * busy).toFixed(0)}% of the CPUs busy: figures will be low and noisy`);
  const peer: PeerStatus = wanted
    ? ensurePythonPeer(TORCH_OPENBLAS_PROBE, TORCH_PEER_PACKAGES, log)
    : { ok: false, reason: 'disabled by --no-peer' };
  if (!peer.ok) log(`PyTorch peer missing: ${peer.reason}. Printing our figures alone.`);
  return { machine, busy, peer };
}
