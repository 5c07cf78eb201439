/**
 * Exact linear assignment (core/align/assignment.ts) against peers in the same run, on the
 * same matrices: SciPy's linear_sum_assignment (Debian python3-scipy, timed inside Python)
 * and the npm package munkres (exact, pure JS, in this process). Square N × N costs:
 *   - uniform: entries uniform in [0, 1);
 *   - rebasin: C = −(W_a · W_bᵀ) for Gaussian W_a, W_b of N × 784 (matching the hidden units
 *     of two MNIST-width first layers by weight correlation, as git re-basin does).
 * Also ours without JV's row reduction (rowReduction: false), to show what that step buys.
 * Prints times and ratios (ours / peer: below 1 is faster); writes bench/results/assignment.json.
 *
 *   node dist/bench/assignment.js [--sizes 512,1024,2048] [--reps 3] [--no-peer]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { munkres } from 'munkres';
import { linearAssignment } from '../core/align/assignment.ts';
import { rngStream } from '../core/rng.ts';
import {
  cpuBusyFraction,
  ensurePythonPeer,
  fmt,
  formatTable,
  machineInfo,
  median,
  peerEnv,
  runPythonJson,
  SYSTEM_PYTHON,
  writeJsonAtomic,
} from './harness.ts';

const USAGE = `Usage: node dist/bench/assignment.js [options]

Seconds per exact linear assignment of an N×N cost matrix: ours (core/align/assignment.ts),
ours without the JV row reduction, SciPy's linear_sum_assignment (in /usr/bin/python3,
timed inside Python; python3-scipy is installed with apt when missing and we are root) and
the npm package munkres, on uniform costs and on re-basin costs −(W_a·W_bᵀ), W of N×784.

Options:
  --sizes LIST   comma-separated N values (default 512,1024,2048)
  --reps R       timed runs per solver and matrix, after one warm-up; the median is shown (default 3)
  --no-peer      skip SciPy
  --out FILE     result file (default bench/results/assignment.json)
  --help         this text`;

const SCIPY_PROBE = `
import json, sys
try:
    import numpy, scipy
    from scipy.optimize import linear_sum_assignment
except Exception as e:
    print(json.dumps({"ok": False, "reason": f"{sys.executable} cannot import scipy.optimize ({e})"})); raise SystemExit
print(json.dumps({"ok": True, "scipy": scipy.__version__, "numpy": numpy.__version__, "python": sys.version.split()[0]}))
`;

/** argv: dir reps name:n ...; times linear_sum_assignment on each raw little-endian f64 file. */
const SCIPY_PEER = `
import json, statistics, sys, time
import numpy as np
from scipy.optimize import linear_sum_assignment
d, reps = sys.argv[1], int(sys.argv[2])
out = {}
for spec in sys.argv[3:]:
    name, n = spec.split(":")
    c = np.fromfile(d + "/" + name, dtype="<f8").reshape(int(n), int(n))
    r, k = linear_sum_assignment(c)  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        r, k = linear_sum_assignment(c)
        times.append(time.perf_counter() - t)
    out[name] = {"medianS": statistics.median(times), "minS": min(times), "total": float(c[r, k].sum())}
print(json.dumps(out))
`;

const CASES = ['uniform', 'rebasin'] as const;
type Case = (typeof CASES)[number];
const WIDTH = 784;

function costMatrix(kind: Case, n: number): Float64Array {
  const rng = rngStream(n, `bench/assignment/${kind}`);
  if (kind === 'uniform') return Float64Array.from(rng.uniforms(n * n));
  const a = Float64Array.from(rng.normals(n * WIDTH));
  const b = Float64Array.from(rng.normals(n * WIDTH));
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ai = i * WIDTH;
    for (let j = 0; j < n; j++) {
      const bj = j * WIDTH;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < WIDTH; k += 4) {
        s0 += a[ai + k] * b[bj + k];
        s1 += a[ai + k + 1] * b[bj + k + 1];
        s2 += a[ai + k + 2] * b[bj + k + 2];
        s3 += a[ai + k + 3] * b[bj + k + 3];
      }
      c[i * n + j] = -(s0 + s1 + s2 + s3);
    }
  }
  return c;
}

/** Median seconds of `reps` runs after one warm-up, and the last run's total. */
function timeRuns(reps: number, run: () => number): { medianS: number; minS: number; total: number } {
  let total = run();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    total = run();
    times.push((performance.now() - t0) / 1000);
  }
  return { medianS: median(times), minS: Math.min(...times), total };
}

interface Row {
  n: number;
  kind: Case;
  ours: { medianS: number; minS: number; total: number };
  oursNoRowReduction: { medianS: number; minS: number; total: number };
  munkres: { medianS: number; minS: number; total: number };
  scipy?: { medianS: number; minS: number; total: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '512,1024,2048' },
      reps: { type: 'string', default: '3' },
      'no-peer': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/assignment.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const reps = Number(values.reps);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(reps) || reps < 1) {
    console.error(USAGE);
    process.exit(2);
  }
  const log = (s: string): void => console.error(s);
  const machine = machineInfo();
  const busy = await cpuBusyFraction();
  if (busy > 0.1) log(`warning: other processes keep ${(100 * busy).toFixed(0)}% of the CPUs busy: figures will be noisy`);
  const peer = values['no-peer']
    ? { ok: false as const, reason: 'disabled by --no-peer' }
    : ensurePythonPeer(SCIPY_PROBE, ['python3-scipy'], log);
  if (!peer.ok) log(`SciPy peer missing: ${peer.reason}. Printing the others alone.`);

  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-bench-lsap-'));
  const rows: Row[] = [];
  try {
    for (const n of sizes) {
      for (const kind of CASES) {
        log(`n = ${n}, ${kind}…`);
        const cost = costMatrix(kind, n);
        writeFileSync(join(dir, `${kind}-${n}.f64`), new Uint8Array(cost.buffer));
        const rowViews = Array.from({ length: n }, (_, i) => cost.subarray(i * n, (i + 1) * n));
        rows.push({
          n,
          kind,
          ours: timeRuns(reps, () => linearAssignment(cost, n, n).total),
          oursNoRowReduction: timeRuns(reps, () => linearAssignment(cost, n, n, { rowReduction: false }).total),
          munkres: timeRuns(reps, () => munkres(rowViews).reduce((s, [y, x]) => s + cost[y * n + x], 0)),
        });
      }
    }
    if (peer.ok) {
      const specs = rows.map((r) => `${r.kind}-${r.n}.f64:${r.n}`);
      const got = runPythonJson(SYSTEM_PYTHON, SCIPY_PEER, [dir, String(reps), ...specs], peerEnv()) as Record<string, Row['scipy']>;
      for (const r of rows) r.scipy = got[`${r.kind}-${r.n}.f64`];
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const ms = (s: number | undefined): string => fmt(s === undefined ? undefined : 1000 * s, 1);
  const ratio = (a: number, b: number | undefined): string => fmt(b === undefined ? undefined : a / b, 2);
  console.log(`exact linear assignment, N×N, median of ${reps} runs (ms); ratios are ours / peer (< 1: ours faster)`);
  console.log(formatTable(
    ['N, costs', 'ours', 'ours w/o RR', 'SciPy', 'munkres', 'ours/SciPy', 'ours/munkres', 'max rel. total diff'],
    rows.map((r) => {
      const totals = [r.ours.total, r.oursNoRowReduction.total, r.munkres.total, ...(r.scipy ? [r.scipy.total] : [])];
      const diff = (Math.max(...totals) - Math.min(...totals)) / Math.max(1e-300, Math.abs(r.ours.total));
      return [
        `${r.n}, ${r.kind}`,
        ms(r.ours.medianS),
        ms(r.oursNoRowReduction.medianS),
        ms(r.scipy?.medianS),
        ms(r.munkres.medianS),
        ratio(r.ours.medianS, r.scipy?.medianS),
        ratio(r.ours.medianS, r.munkres.medianS),
        diff.toExponential(1),
      ];
    }),
  ));
  console.log(
    peer.ok
      ? `SciPy ${String(peer.probe.scipy)} (NumPy ${String(peer.probe.numpy)}, Python ${
        String(peer.probe.python)
      }); munkres (npm); Node ${machine.node}; CPUs ${(100 * busy).toFixed(0)}% busy before the run`
      : `SciPy: not run (${peer.reason})`,
  );
  writeJsonAtomic(values.out, {
    schema: 'ridgeline.bench.assignment/1',
    machine,
    busyBefore: busy,
    reps,
    scipy: peer.ok ? peer.probe : { skipped: peer.reason },
    rows,
  });
}

await main();
