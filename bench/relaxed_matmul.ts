/**
 * What `--math relaxed` buys: the CPU backend's N×N f32 product with the strict kernels and
 * with the relaxed ones (fused multiply-add), one thread each, rounds interleaved so both
 * see the same machine state. Prints GFLOP/s and the relaxed/strict speed ratio; asserts nothing.
 * Needs a runtime with relaxed SIMD:
 *
 *   deno run -A bench/relaxed_matmul.ts [--sizes 1024] [--rounds 5]
 *   node --experimental-wasm-relaxed-simd dist/bench/relaxed_matmul.js [--sizes 1024] [--rounds 5]
 */
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { MATH_CHOICES, type MathMode } from '../core/math_mode.ts';
import { benchOptions, fmt, formatTable, median, timeIt, usageExit } from './harness.ts';

const USAGE = `Usage: node --experimental-wasm-relaxed-simd dist/bench/relaxed_matmul.js [options]
       deno run -A bench/relaxed_matmul.ts [options]

The CPU backend's N×N f32 product, strict kernels against relaxed ones (fused multiply-add),
one thread each, rounds interleaved; prints GFLOP/s and the relaxed/strict ratio.

Options:
  --sizes LIST   comma-separated N values in 1..4096 (default 1024)
  --rounds R     interleaved rounds; the ratio is the median of per-round ratios (default 5)
  --help         this text`;

const values = benchOptions('relaxed_matmul bench', USAGE, {
  sizes: { type: 'string', default: '1024' },
  rounds: { type: 'string', default: '5' },
  help: { type: 'boolean', default: false },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 4096) || !Number.isInteger(rounds) || rounds < 1) {
  usageExit(
    'relaxed_matmul bench',
    `--sizes takes integers in 1..4096, --rounds a positive integer (got '${values.sizes}', '${values.rounds}')`,
  );
}

const backends = Object.fromEntries(await Promise.all(MATH_CHOICES.map(async (m) => [m, await createCpuBackend({ math: m })] as const)));
const relaxed = backends.relaxed;
if (!relaxed.fusesMultiplyAdd) console.warn('this engine does not fuse relaxed multiply-adds: expect a ratio near 1');

/** Median seconds of one n×n product on `math`'s backend, operands from a fixed LCG. */
function timeProduct(math: MathMode, n: number): number {
  const be = backends[math];
  let seed = 12345 + n;
  const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const bufs = [be.alloc(n * n), be.alloc(n * n), be.alloc(n * n)];
  try {
    be.upload(bufs[0], Float32Array.from({ length: n * n }, rand));
    be.upload(bufs[1], Float32Array.from({ length: n * n }, rand));
    const p = { batch: 1, m: n, n, k: n, transA: false, transB: false };
    return timeIt(() => be.matmul(bufs[0], bufs[1], bufs[2], p)).medianS;
  } finally {
    for (const b of bufs) be.free(b);
  }
}

// The ratio is taken within each round (strict and relaxed back to back, their order
// alternating), then its median: a machine whose load changes between rounds moves both.
const rows: string[][] = [];
for (const n of sizes) {
  const s: Record<MathMode, number[]> = { strict: [], relaxed: [] };
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const m of r % 2 ? [...MATH_CHOICES].reverse() : MATH_CHOICES) s[m].push(timeProduct(m, n));
    ratios.push(s.strict[r] / s.relaxed[r]);
  }
  const gf = (m: MathMode) => (2 * n ** 3) / median(s[m]) / 1e9;
  rows.push([
    String(n),
    fmt(gf('strict')),
    fmt(gf('relaxed')),
    `${fmt(median(ratios), 2)}×`,
    `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`,
  ]);
}
const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined'
  ? 'deno'
  : typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
  ? 'bun'
  : `node ${process.version}`;
console.log(`${runtime}, ${relaxed.description}, median of ${rounds} interleaved rounds`);
console.log(formatTable(['N', 'strict GFLOP/s', 'relaxed GFLOP/s', 'speed-up (median of rounds)', 'range'], rows));
