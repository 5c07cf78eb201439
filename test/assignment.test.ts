/**
 * The exact linear assignment solver (core/align/assignment.ts) as properties: the optimum
 * of brute-force enumeration on every small matrix (ties, integers, reals, f32, rectangular
 * both ways, minimise and maximise), a valid injective map whose reported total is its sum,
 * row shifts that move the total by the shift, non-finite entries refused by position, a
 * hidden permutation recovered exactly at n = 512, and SciPy's linear_sum_assignment as an
 * independent oracle on larger matrices.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { linearAssignment } from '../core/align/assignment.ts';
import { RidgelineError } from '../core/errors.ts';
import { peerEnv, runPythonJson, SYSTEM_PYTHON } from '../bench/harness.ts';
import { seeded, skipOutsideCi } from './util.ts';

type Matrix = { cost: Float64Array | Float32Array; rows: number; cols: number };

/** The best total over every injective map of the smaller side into the larger, by enumeration. */
function bruteForce({ cost, rows, cols }: Matrix, maximize: boolean): number {
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const at = (i: number, j: number): number => (transposed ? cost[j * cols + i] : cost[i * cols + j]);
  const used = new Uint8Array(m);
  let best = maximize ? -Infinity : Infinity;
  const walk = (i: number, sum: number): void => {
    if (i === n) {
      if (maximize ? sum > best : sum < best) best = sum;
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = 1;
      walk(i + 1, sum + at(i, j));
      used[j] = 0;
    }
  };
  walk(0, 0);
  return n === 0 ? 0 : best;
}

/** Checks that rowToCol is injective onto min(rows, cols) columns and returns Σ C[i, σ(i)] in row order. */
function checkedSum({ cost, rows, cols }: Matrix, rowToCol: Int32Array): number {
  assert.equal(rowToCol.length, rows);
  const seen = new Uint8Array(cols);
  let assigned = 0;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const j = rowToCol[i];
    if (j === -1) continue;
    assert.ok(Number.isInteger(j) && j >= 0 && j < cols, `row ${i} → column ${j} out of range`);
    assert.equal(seen[j], 0, `column ${j} is used twice`);
    seen[j] = 1;
    assigned++;
    sum += cost[i * cols + j];
  }
  assert.equal(assigned, Math.min(rows, cols), `${assigned} rows assigned, expected min(rows, cols)`);
  if (rows <= cols) assert.ok(rowToCol.every((j) => j >= 0), 'rows ≤ cols: every row must be assigned');
  return sum;
}

/** Tolerance for comparing two sums of real entries: a few ulps of Σ|C| over the optimum. */
function sumTol(m: Matrix): number {
  let s = 0;
  for (const x of m.cost) s += Math.abs(x);
  return 64 * Number.EPSILON * (s + 1);
}

const values = {
  ties: fc.constantFrom(0, 1, 2),
  signedTies: fc.constantFrom(-1, 0, 1),
  ints: fc.integer({ min: -20, max: 20 }),
  reals: fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
  tiny: fc.double({ min: -1e-300, max: 1e-300, noNaN: true, noDefaultInfinity: true }),
  f32: fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }),
};

function matrices(value: fc.Arbitrary<number>, f32: boolean, allowTall: boolean): fc.Arbitrary<Matrix> {
  const side = fc.integer({ min: 0, max: 7 });
  const shape = allowTall
    ? fc.record({ rows: side, cols: side })
    : side.chain((rows) => fc.integer({ min: rows, max: 7 }).map((cols) => ({ rows, cols })));
  return shape.chain(({ rows, cols }) =>
    fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((xs) => ({
      rows,
      cols,
      cost: f32 ? Float32Array.from(xs) : Float64Array.from(xs),
    }))
  );
}

test('equals brute force on every small matrix (n ≤ 7, rows ≤ cols), ties, integers, reals and f32, min and max, with and without row reduction', () => {
  for (const [name, value] of Object.entries(values)) {
    for (const maximize of [false, true]) {
      fc.assert(
        fc.property(matrices(value, name === 'f32', false), fc.boolean(), (m, rowReduction) => {
          const got = linearAssignment(m.cost, m.rows, m.cols, { maximize, rowReduction });
          const sum = checkedSum(m, got.rowToCol);
          assert.equal(got.total, sum, 'total is the sum of the chosen entries, in row order');
          const want = bruteForce(m, maximize);
          const exact = name === 'ties' || name === 'signedTies' || name === 'ints' || name === 'tiny';
          if (exact && name !== 'tiny') assert.equal(got.total, want, `${name}, maximize ${maximize}`);
          else assert.ok(Math.abs(got.total - want) <= sumTol(m), `${name}, maximize ${maximize}: ${got.total} vs brute force ${want}`);
        }),
        { numRuns: 200 },
      );
    }
  }
});

test('equals brute force on every 0/1 matrix up to 12 entries and every 0/1/2 matrix up to 6, both directions', () => {
  for (let rows = 0; rows <= 7; rows++) {
    for (let cols = rows; cols <= 7; cols++) {
      for (const base of [2, 3]) {
        const size = rows * cols;
        if (size > (base === 2 ? 12 : 6)) continue;
        const cost = new Float64Array(size);
        for (let code = 0; code < base ** size; code++) {
          for (let k = 0, c = code; k < size; k++, c = Math.floor(c / base)) cost[k] = c % base;
          for (const maximize of [false, true]) {
            const m = { cost, rows, cols };
            const want = bruteForce(m, maximize);
            for (const rowReduction of [true, false]) {
              const got = linearAssignment(cost, rows, cols, { maximize, rowReduction });
              assert.equal(got.total, checkedSum(m, got.rowToCol));
              assert.equal(got.total, want, `${rows}×${cols} [${cost.join(', ')}], maximize ${maximize}, row reduction ${rowReduction}`);
              const t = linearAssignment(transpose(m).cost, cols, rows, { maximize, rowReduction });
              assert.equal(t.total, want, `transpose of ${rows}×${cols} [${cost.join(', ')}]`);
            }
          }
        }
      }
    }
  }
});

function transpose({ cost, rows, cols }: Matrix): Matrix {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = cost[i * cols + j];
  return { cost: t, rows: cols, cols: rows };
}

/**
 * The smallest cycle weight of the exchange graph of an assignment (rows ≤ cols), by
 * Floyd–Warshall: node k stands for row k's column σ(k) being given up, edge k → i costs
 * C[i, σ(k)] − C[i, σ(i)] (row i moves into it), and node S stands for the free columns
 * (S → i costs min over free j of C[i, j] − C[i, σ(i)]; k → S costs 0: σ(k) is left free).
 * An assignment is optimal exactly when no cycle is negative (min-cost flow optimality), so
 * this is a certificate independent of any solver.
 */
function minExchangeCycle({ cost, rows, cols }: Matrix, rowToCol: Int32Array): number {
  const n = rows + 1;
  const s = rows;
  const taken = new Uint8Array(cols);
  for (const j of rowToCol) taken[j] = 1;
  const d = new Float64Array(n * n).fill(Infinity);
  for (let k = 0; k < rows; k++) {
    for (let i = 0; i < rows; i++) if (i !== k) d[k * n + i] = cost[i * cols + rowToCol[k]] - cost[i * cols + rowToCol[i]];
    d[k * n + s] = 0;
  }
  for (let i = 0; i < rows; i++) {
    let best = Infinity;
    for (let j = 0; j < cols; j++) if (!taken[j]) best = Math.min(best, cost[i * cols + j]);
    d[s * n + i] = best - cost[i * cols + rowToCol[i]];
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const dik = d[i * n + k];
      if (dik === Infinity) continue;
      for (let j = 0; j < n; j++) {
        const via = dik + d[k * n + j];
        if (via < d[i * n + j]) d[i * n + j] = via;
      }
    }
  }
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, d[i * n + i]);
  return min;
}

test('mid-size matrices (up to 90 × 120) carry an optimality certificate: no negative exchange cycle', () => {
  const gens: [string, (r: () => number) => number][] = [
    ['uniform', (r) => r()],
    ['ties 0..2', (r) => Math.floor(r() * 3)],
    ['ints ±50', (r) => Math.floor(r() * 101) - 50],
    ['f32 gaussian', (r) => Math.fround(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))],
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer(),
      fc.constantFrom(...gens),
      fc.boolean(),
      fc.boolean(),
      (rows, extra, seed, [name, gen], maximize, rowReduction) => {
        const cols = rows + extra;
        const r = seeded(seed);
        const m = { cost: Float64Array.from({ length: rows * cols }, () => gen(r)), rows, cols };
        const got = linearAssignment(m.cost, rows, cols, { maximize, rowReduction });
        assert.equal(got.total, checkedSum(m, got.rowToCol));
        // Maximising C is minimising −C: certify on the sign that is minimised.
        const signed = maximize ? { ...m, cost: m.cost.map((x) => -x) } : m;
        const cycle = minExchangeCycle(signed, got.rowToCol);
        assert.ok(cycle >= -sumTol(m), `${name} ${rows}×${cols}, maximize ${maximize}: an exchange cycle gains ${-cycle}`);
        if (name === 'uniform' && rows >= 2) {
          // The certificate has teeth: the optimum is unique here, and swapping two rows'
          // columns leaves a negative cycle.
          const worse = Int32Array.from(got.rowToCol);
          [worse[0], worse[rows - 1]] = [worse[rows - 1], worse[0]];
          assert.ok(minExchangeCycle(signed, worse) < 0);
        }
      },
    ),
    {
      numRuns: 60,
      examples: [[90, 30, 1, gens[0], false, true], [90, 0, 2, gens[1], true, false], [80, 10, 3, gens[3], false, false], [
        90,
        0,
        4,
        gens[0],
        true,
        false,
      ]],
    },
  );
});

test('rows > cols is solved on the transpose: every column gets one row, the other rows −1, optimal', () => {
  for (const value of [values.ties, values.ints, values.reals]) {
    for (const maximize of [false, true]) {
      fc.assert(
        fc.property(matrices(value, false, true), fc.boolean(), (m, rowReduction) => {
          const got = linearAssignment(m.cost, m.rows, m.cols, { maximize, rowReduction });
          assert.equal(got.total, checkedSum(m, got.rowToCol));
          assert.ok(Math.abs(got.total - bruteForce(m, maximize)) <= sumTol(m));
          if (m.rows > m.cols) assert.equal(got.rowToCol.filter((j) => j === -1).length, m.rows - m.cols);
        }),
        { numRuns: 100 },
      );
    }
  }
});

test('adding a constant to one row moves the optimal total by that constant (rows ≤ cols)', () => {
  const shift = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }));
  fc.assert(
    fc.property(matrices(values.reals, false, false).filter((m) => m.rows > 0), fc.nat(), shift, fc.boolean(), (m, r, c, maximize) => {
      const row = r % m.rows;
      const shifted = Float64Array.from(m.cost);
      for (let j = 0; j < m.cols; j++) shifted[row * m.cols + j] += c;
      const a = linearAssignment(m.cost, m.rows, m.cols, { maximize });
      const b = linearAssignment(shifted, m.rows, m.cols, { maximize });
      const tol = sumTol({ ...m, cost: shifted }) + 64 * Number.EPSILON * Math.abs(c);
      assert.ok(Math.abs(b.total - (a.total + c)) <= tol, `${b.total} vs ${a.total} + ${c}`);
      // The first assignment stays optimal for the shifted matrix (its total there is b's).
      assert.ok(Math.abs(checkedSum({ ...m, cost: shifted }, a.rowToCol) - b.total) <= tol);
    }),
    { numRuns: 300 },
  );
  // On integers the shift is exact.
  fc.assert(
    fc.property(matrices(values.ints, false, false).filter((m) => m.rows > 0), fc.nat(), fc.integer({ min: -50, max: 50 }), (m, r, c) => {
      const shifted = Float64Array.from(m.cost);
      for (let j = 0; j < m.cols; j++) shifted[(r % m.rows) * m.cols + j] += c;
      assert.equal(linearAssignment(shifted, m.rows, m.cols).total, linearAssignment(m.cost, m.rows, m.cols).total + c);
    }),
    { numRuns: 300 },
  );
});

test('maximising C is minimising −C; the result is a pure function of the input; all-equal gives the identity', () => {
  fc.assert(
    fc.property(matrices(values.ints, false, true), (m) => {
      const neg = m.cost.map((x) => -x);
      const max = linearAssignment(m.cost, m.rows, m.cols, { maximize: true });
      const min = linearAssignment(neg, m.rows, m.cols);
      assert.ok(max.total === -min.total, `${max.total} vs −(${min.total})`);
      assert.deepEqual(linearAssignment(m.cost, m.rows, m.cols, { maximize: true }), max);
    }),
    { numRuns: 300 },
  );
  for (const [rows, cols] of [[4, 4], [3, 6], [6, 3], [300, 300]]) {
    for (const rowReduction of [true, false]) {
      const got = linearAssignment(new Float64Array(rows * cols).fill(2.5), rows, cols, { rowReduction });
      assert.deepEqual([...got.rowToCol], Array.from({ length: rows }, (_, i) => (i < cols ? i : -1)));
      assert.equal(got.total, 2.5 * Math.min(rows, cols));
    }
  }
});

test('empty, degenerate and extreme shapes and magnitudes', () => {
  assert.deepEqual(linearAssignment(new Float64Array(0), 0, 0), { rowToCol: new Int32Array(0), total: 0 });
  assert.deepEqual(linearAssignment(new Float64Array(0), 0, 5), { rowToCol: new Int32Array(0), total: 0 });
  assert.deepEqual(linearAssignment(new Float32Array(0), 3, 0), { rowToCol: Int32Array.of(-1, -1, -1), total: 0 });
  assert.deepEqual(linearAssignment(Float64Array.of(7), 1, 1), { rowToCol: Int32Array.of(0), total: 7 });
  assert.deepEqual(linearAssignment(Float64Array.of(3, 1, 2), 1, 3), { rowToCol: Int32Array.of(1), total: 1 });
  assert.deepEqual(linearAssignment(Float64Array.of(3, 1, 2), 3, 1), { rowToCol: Int32Array.of(-1, 0, -1), total: 1 });
  assert.deepEqual(linearAssignment(Float64Array.of(3, 1, 2), 1, 3, { maximize: true }), { rowToCol: Int32Array.of(0), total: 3 });
  // Entries near the top of f64's range (a row's spread overflows f64 unless scaled first).
  assert.deepEqual(linearAssignment(Float64Array.of(1e308, -1e308, 0, 0), 2, 2), { rowToCol: Int32Array.of(1, 0), total: -1e308 });
  assert.deepEqual(linearAssignment(Float64Array.of(1e308, -1e308, 0, 0), 2, 2, { maximize: true }), {
    rowToCol: Int32Array.of(0, 1),
    total: 1e308,
  });
  fc.assert(
    fc.property(matrices(fc.double({ min: -1e300, max: 1e300, noNaN: true }), false, true), fc.boolean(), (m, maximize) => {
      const got = linearAssignment(m.cost, m.rows, m.cols, { maximize });
      assert.ok(Math.abs(checkedSum(m, got.rowToCol) - bruteForce(m, maximize)) <= sumTol(m));
    }),
    { numRuns: 100 },
  );
  const sub = Float64Array.of(5e-324, 0, 0, 5e-324);
  assert.deepEqual([...linearAssignment(sub, 2, 2).rowToCol], [1, 0]);
  assert.deepEqual([...linearAssignment(sub, 2, 2, { maximize: true }).rowToCol], [0, 1]);
  // Wrong arguments.
  const code = (f: () => unknown, want: string): void => {
    assert.throws(f, (e: unknown) => e instanceof RidgelineError && e.code === want, want);
  };
  code(() => linearAssignment(new Float64Array(5), 2, 3), 'E_SHAPE');
  code(() => linearAssignment(new Float64Array(6), 2.5, 3), 'E_ARG');
  code(() => linearAssignment(new Float64Array(6), -2, -3), 'E_ARG');
  code(() => linearAssignment([1, 2] as unknown as Float64Array, 1, 2), 'E_ARG');
});

test('non-finite entries are refused with E_ARG naming the first one in row order', () => {
  const bad = fc.constantFrom(NaN, Infinity, -Infinity);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.nat(),
      fc.nat(),
      bad,
      bad,
      fc.boolean(),
      fc.boolean(),
      (rows, cols, p, q, x, y, f32, maximize) => {
        const cost = f32 ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
        for (let k = 0; k < cost.length; k++) cost[k] = (k * 7) % 5;
        const first = p % cost.length;
        const second = first + (q % (cost.length - first));
        cost[first] = x;
        cost[second] = y;
        const where = `cost[${Math.floor(first / cols)}, ${first % cols}]`;
        assert.throws(() => linearAssignment(cost, rows, cols, { maximize }), (e: unknown) => {
          assert.ok(e instanceof RidgelineError && e.code === 'E_ARG', String(e));
          assert.ok(e.message.includes(`${where} is ${cost[first]}`), `${e.message} should name ${where}`);
          return true;
        });
      },
    ),
    { numRuns: 200 },
  );
});

/** A random permutation of 0 … n−1 (Fisher–Yates on a seeded stream). */
function randomPermutation(n: number, seed: number): Int32Array {
  const r = seeded(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(r() * (i + 1));
    [p[i], p[k]] = [p[k], p[i]];
  }
  return p;
}

test('a hidden permutation is recovered exactly at n = 512: −P, P maximised, and permuted weights (re-basin)', () => {
  const n = 512;
  for (const seed of [1, 2]) {
    const p = randomPermutation(n, seed);
    const neg = new Float64Array(n * n);
    for (let i = 0; i < n; i++) neg[i * n + p[i]] = -1;
    const got = linearAssignment(neg, n, n);
    assert.deepEqual(got.rowToCol, p);
    assert.equal(got.total, -n);
    const pos = Float32Array.from(neg, (x) => -x);
    assert.deepEqual(linearAssignment(pos, n, n, { maximize: true }).rowToCol, p);
  }
  // Unit i of B is unit p[i] of A, plus a little noise: matching B's rows to A's by the
  // correlation Σ_k B[i, k]·A[j, k] (maximised) finds p.
  const d = 64;
  const r = seeded(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const a = Float64Array.from({ length: n * d }, gauss);
  const p = randomPermutation(n, 3);
  const b = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) b[i * d + k] = a[p[i] * d + k] + 0.05 * gauss();
  const corr = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += b[i * d + k] * a[j * d + k];
      corr[i * n + j] = s;
    }
  }
  assert.deepEqual(linearAssignment(corr, n, n, { maximize: true }).rowToCol, p);
});

/** The Python with SciPy, or why there is none. */
function scipyPython(): { ok: true } | { ok: false; reason: string } {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import scipy.optimize'], { encoding: 'utf8', timeout: 120_000, env: peerEnv() });
  if (r.status === 0) return { ok: true };
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return { ok: false, reason: `needs ${SYSTEM_PYTHON} with SciPy (Debian package python3-scipy): ${why}` };
}

const SCIPY_TOTALS = `
import json, sys
import numpy as np
from scipy.optimize import linear_sum_assignment
out = []
for spec in sys.argv[2:]:
    name, rows, cols, maximize = spec.split(":")
    c = np.fromfile(sys.argv[1] + "/" + name, dtype="<f8").reshape(int(rows), int(cols))
    r, k = linear_sum_assignment(c, maximize=maximize == "1")
    out.append(float(c[r, k].sum()))
print(json.dumps(out))
`;

test('totals agree with SciPy linear_sum_assignment (50×50, 200×300, 300×200, ties; 1e-9 relative)', (t) => {
  const py = scipyPython();
  if (!py.ok) {
    skipOutsideCi(t, py.reason);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-lsap-'));
  try {
    const cases: { name: string; m: Matrix; maximize: boolean }[] = [];
    const add = (rows: number, cols: number, seed: number, maximize: boolean, gen: (r: () => number) => number): void => {
      const r = seeded(seed);
      const cost = Float64Array.from({ length: rows * cols }, () => gen(r));
      const name = `m${cases.length}.f64`;
      writeFileSync(join(dir, name), new Uint8Array(cost.buffer));
      cases.push({ name, m: { cost, rows, cols }, maximize });
    };
    for (const seed of [1, 2, 3]) {
      add(50, 50, seed, seed === 2, (r) => r());
      add(200, 300, 10 + seed, seed === 3, (r) => 100 * (r() - 0.5));
    }
    add(300, 200, 20, false, (r) => r());
    add(120, 120, 21, false, (r) => Math.floor(r() * 3));
    add(120, 160, 22, true, (r) => Math.floor(r() * 4) - 2);
    const want = runPythonJson(SYSTEM_PYTHON, SCIPY_TOTALS, [
      dir,
      ...cases.map((c) => `${c.name}:${c.m.rows}:${c.m.cols}:${c.maximize ? 1 : 0}`),
    ], peerEnv()) as number[];
    cases.forEach((c, k) => {
      const got = linearAssignment(c.m.cost, c.m.rows, c.m.cols, { maximize: c.maximize });
      assert.equal(got.total, checkedSum(c.m, got.rowToCol));
      const rel = Math.abs(got.total - want[k]) / Math.max(1, Math.abs(want[k]));
      assert.ok(rel <= 1e-9, `${c.m.rows}×${c.m.cols} (maximize ${c.maximize}): ours ${got.total}, SciPy ${want[k]} (relative ${rel})`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
