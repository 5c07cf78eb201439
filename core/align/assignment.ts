/**
 * The exact linear assignment problem (LSAP) for weight/activation matching ("git re-basin"):
 * given a rows × cols cost matrix C (row-major), find an injective map σ from rows to columns
 * minimising (or maximising) Σᵢ C[i, σ(i)].
 *
 * Method: shortest augmenting paths with dual potentials (Jonker–Volgenant, in the
 * rectangular form in which free columns keep potential 0), O(rows² · cols) worst case:
 *   1. the working matrix is W = C − rowmin (or rowmax − C to maximise), in f64, so W ≥ 0
 *      with a zero in every row, and u = v = 0 is dual feasible; each row whose first zero
 *      is in a still free column takes it;
 *   2. augmenting row reduction (JV's auction-like head start), capped at 8 · rows steps of
 *      O(cols) each so that it never changes the order of the worst case;
 *   3. each row still free, in index order, is matched by one Dijkstra search over the
 *      reduced costs W[i, j] − u[i] − v[j] ≥ 0 to the nearest free column, then the dual
 *      update that keeps every reduced cost ≥ 0 and every matched edge's at 0.
 * Ties are broken the same way everywhere: among equal candidates a free column first, then
 * the lowest index; the result is a pure function of the input (no randomness or timing).
 * An all-equal matrix gives the identity (row i → column i).
 *
 * Numerics: everything runs in f64 (f32 input is widened exactly). Integer costs of moderate
 * size (|C| ≤ 2³⁰, say) are solved exactly: every intermediate value is then an integer well
 * inside f64's exact range. For real costs the result is optimal up to the rounding of the
 * f64 sums (a few ulps of rows · max |C|). Matrices whose entries exceed 2⁹⁰⁰ in magnitude
 * are scaled by a power of two first (exact, bar entries that then underflow), so that no
 * intermediate sum overflows. The reported total is recomputed from the caller's entries,
 * summed in row order (it can overflow to ±∞ only when the true sum is beyond f64's range).
 *
 * Memory: one f64 working copy of the matrix (8 · rows · cols bytes) and O(rows + cols) more;
 * nothing is allocated inside the loops.
 */
import { argError, RidgelineError, shapeError } from '../errors.ts';

export interface AssignmentOptions {
  /** Maximise Σ C[i, σ(i)] instead of minimising it. */
  maximize?: boolean;
  /**
   * Run step 2, JV's augmenting row reduction (default true). Off, every row the greedy start
   * leaves free goes through a full shortest-path search: the same optimum, usually slower.
   * For tests (each step on its own) and benchmarks.
   */
  rowReduction?: boolean;
}

export interface Assignment {
  /**
   * rowToCol[i] is the column of row i. When rows ≤ cols every row has a distinct column;
   * when rows > cols the problem is solved on the transpose: exactly `cols` rows get a
   * distinct column each and the others hold −1.
   */
  rowToCol: Int32Array;
  /** Σ C[i, rowToCol[i]] over the assigned rows, in f64, in row order. */
  total: number;
}

/** Entries beyond this magnitude are scaled down by a power of two before solving. */
const SCALE_LIMIT = 2 ** 900;

/**
 * Solves the linear assignment problem exactly for the row-major `rows × cols` matrix
 * `cost`. Any shape is accepted: rows ≤ cols assigns every row; rows > cols is solved on the
 * transpose (every column gets a row, the other rows get −1). 0 × n and n × 0 give an empty
 * matching (total 0). Non-finite entries are refused with E_ARG naming the first one in row
 * order; a length that is not rows · cols with E_SHAPE.
 */
export function linearAssignment(
  cost: Float64Array | Float32Array,
  rows: number,
  cols: number,
  o: AssignmentOptions = {},
): Assignment {
  const op = 'linearAssignment';
  if (!Number.isInteger(rows) || rows < 0) argError(op, `rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) argError(op, `cols must be a non-negative integer, got ${cols}`);
  if (!(cost instanceof Float64Array || cost instanceof Float32Array)) argError(op, 'cost must be a Float64Array or Float32Array');
  if (cost.length !== rows * cols) {
    shapeError(op, `cost has ${cost.length} entries, expected rows · cols = ${rows * cols}`, [cost.length], [rows, cols]);
  }
  const maximize = o.maximize === true;
  const rowToCol = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return { rowToCol, total: 0 };

  // The working problem has n ≤ m: the caller's rows, or its columns when transposed.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const w = new Float64Array(n * m);
  let finite = true;
  let maxAbs = 0;
  if (!transposed) {
    for (let k = 0; k < w.length; k++) {
      const x = cost[k];
      if (x - x !== 0) finite = false; // NaN and ±Inf
      const a = x < 0 ? -x : x;
      if (a > maxAbs) maxAbs = a;
      w[k] = x;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) {
        const x = cost[base + j];
        if (x - x !== 0) finite = false;
        const a = x < 0 ? -x : x;
        if (a > maxAbs) maxAbs = a;
        w[j * m + i] = x;
      }
    }
  }
  if (!finite) {
    for (let k = 0; k < cost.length; k++) {
      if (!Number.isFinite(cost[k])) {
        argError(op, `cost[${Math.floor(k / cols)}, ${k % cols}] is ${cost[k]}: every entry must be finite`);
      }
    }
  }
  if (maxAbs > SCALE_LIMIT) {
    const scale = 2 ** (Math.floor(Math.log2(SCALE_LIMIT)) - Math.ceil(Math.log2(maxAbs)));
    for (let k = 0; k < w.length; k++) w[k] *= scale;
  }
  // Row reduction: W ≥ 0 with a zero in every row (minimise W either way).
  for (let i = 0; i < n; i++) {
    const base = i * m;
    let ref = w[base];
    if (maximize) {
      for (let j = 1; j < m; j++) if (w[base + j] > ref) ref = w[base + j];
      for (let j = 0; j < m; j++) w[base + j] = ref - w[base + j];
    } else {
      for (let j = 1; j < m; j++) if (w[base + j] < ref) ref = w[base + j];
      for (let j = 0; j < m; j++) w[base + j] -= ref;
    }
  }

  const col4row = solveReduced(w, n, m, o.rowReduction !== false);

  let total = 0;
  if (!transposed) {
    for (let i = 0; i < rows; i++) {
      rowToCol[i] = col4row[i];
      total += cost[i * cols + col4row[i]];
    }
  } else {
    // Working row j is the caller's column j, matched to the caller's row col4row[j].
    for (let j = 0; j < cols; j++) rowToCol[col4row[j]] = j;
    for (let i = 0; i < rows; i++) if (rowToCol[i] >= 0) total += cost[i * cols + rowToCol[i]];
  }
  return { rowToCol, total };
}

/** Augmenting row reduction stops after this many row steps per row (keeps O(n²·m)). */
const ARR_STEPS_PER_ROW = 8;

/**
 * Minimum-cost matching of every row of the n × m matrix w (n ≤ m, w ≥ 0, every row has a
 * zero) to distinct columns. Returns col4row.
 *
 * Dual feasibility throughout: w[i, j] − u[i] − v[j] ≥ 0 for every matched or processed row,
 * = 0 on matched edges, and v[j] ≤ 0 with v[j] < 0 only on matched columns (a column once
 * matched stays matched), which is what makes the rectangular optimum optimal (free columns
 * at potential 0).
 */
function solveReduced(w: Float64Array, n: number, m: number, rowReduction: boolean): Int32Array {
  const col4row = new Int32Array(n).fill(-1);
  const row4col = new Int32Array(m).fill(-1);
  const u = new Float64Array(n); // row potentials
  const v = new Float64Array(m); // column potentials
  const free = new Int32Array(n); // rows still unmatched

  // 1. Greedy start on the zero of each row: the lowest-index minimum, taken when free.
  let nFree = 0;
  for (let i = 0; i < n; i++) {
    const base = i * m;
    let j = 0;
    while (w[base + j] !== 0) j++;
    if (row4col[j] < 0) {
      row4col[j] = i;
      col4row[i] = j;
    } else {
      free[nFree++] = i;
    }
  }

  // 2. Augmenting row reduction (Jonker–Volgenant): a free row takes its cheapest column
  //    j1 under the prices −v, whose price rises to the second cheapest so that the row
  //    stays at its minimum; j1's former row becomes free (and, when the price rose,
  //    bids again at once). Every matched row sits at a minimum of w[i, ·] − v, so
  //    u[i] = w[i, col] − v[col] is dual feasible. Two passes, at most 8 steps per row
  //    in all: it is only a head start for step 3.
  const stepCap = rowReduction ? ARR_STEPS_PER_ROW * n : 0;
  let steps = 0;
  for (let pass = 0; pass < 2 && nFree > 0; pass++) {
    const pending = nFree;
    let k = 0;
    nFree = 0;
    while (k < pending) {
      if (steps >= stepCap) {
        while (k < pending) free[nFree++] = free[k++];
        break;
      }
      steps++;
      const i = free[k++];
      const base = i * m;
      let u1 = Infinity;
      let u2 = Infinity;
      let j1 = -1;
      let j2 = -1;
      for (let j = 0; j < m; j++) {
        const h = w[base + j] - v[j];
        if (h < u2) {
          if (h < u1) {
            u2 = u1;
            j2 = j1;
            u1 = h;
            j1 = j;
          } else {
            u2 = h;
            j2 = j;
          }
        }
      }
      let i0 = row4col[j1];
      const rises = u1 < u2 && u2 !== Infinity; // (u2 = ∞ only when m = 1)
      if (rises) {
        v[j1] -= u2 - u1;
      } else if (i0 >= 0) {
        // A tie at the minimum: take the second column when it is free; when both are
        // taken, displacing a row would gain nothing (rows could trade places forever), so
        // the row waits for the next pass or step 3.
        if (j2 < 0 || row4col[j2] >= 0) {
          free[nFree++] = i;
          continue;
        }
        j1 = j2;
        i0 = -1;
      }
      row4col[j1] = i;
      col4row[i] = j1;
      if (i0 >= 0) {
        col4row[i0] = -1;
        if (rises) free[--k] = i0;
        else free[nFree++] = i0;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const j = col4row[i];
    if (j >= 0) u[i] = w[i * m + j] - v[j];
  }

  // 3. Shortest augmenting paths: each free row, in index order, is matched by a Dijkstra
  //    search over reduced costs to the nearest free column. Scanned columns are masked
  //    with a potential of −∞ (their reduced costs become +∞) so that the scan runs over
  //    all columns in order, without an index list.
  const dist = new Float64Array(m); // tentative shortest-path lengths to columns
  const pred = new Int32Array(m); // the row before each column on its shortest path
  const vMasked = new Float64Array(m); // v, with −∞ on the columns scanned in this search
  const scanned = new Int32Array(m);
  const scannedDist = new Float64Array(m);
  free.subarray(0, nFree).sort();
  for (let f = 0; f < nFree; f++) {
    const cur = free[f];
    dist.fill(Infinity);
    vMasked.set(v);
    let nScanned = 0;
    let reach = 0; // length of the shortest path to the last scanned column
    let i = cur;
    let sink = -1;
    while (sink < 0) {
      // Scan row i: relax every unscanned column through it and pick the nearest one
      // (free before matched, then the lowest index, among equals).
      const base = i * m;
      const h = reach - u[i];
      let lowest = Infinity;
      let best = -1;
      let bestFree = false;
      for (let j = 0; j < m; j++) {
        let d = dist[j];
        const r = h + w[base + j] - vMasked[j];
        if (r < d) {
          d = r;
          dist[j] = r;
          pred[j] = i;
        }
        if (d < lowest) {
          lowest = d;
          best = j;
          bestFree = row4col[j] < 0;
        } else if (d === lowest && !bestFree && row4col[j] < 0) {
          best = j;
          bestFree = true;
        }
      }
      if (best < 0 || lowest === Infinity) {
        throw new RidgelineError('E_STATE', 'linearAssignment: no augmenting path (internal error: costs are finite and rows ≤ cols)');
      }
      reach = lowest;
      if (bestFree) {
        sink = best;
      } else {
        scanned[nScanned] = best;
        scannedDist[nScanned++] = lowest;
        vMasked[best] = -Infinity;
        dist[best] = Infinity;
        i = row4col[best];
      }
    }

    // Dual update: rows and columns on the search tree move by how much nearer than the
    // sink they are, which keeps every reduced cost ≥ 0 and every matched edge's at 0.
    u[cur] += reach;
    for (let t = 0; t < nScanned; t++) {
      const j = scanned[t];
      const delta = reach - scannedDist[t];
      u[row4col[j]] += delta;
      v[j] -= delta;
    }
    // Augment along the predecessor chain from the sink back to row `cur`.
    let j = sink;
    for (;;) {
      const r = pred[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      if (r === cur) break;
      j = prev;
    }
  }
  return col4row;
}
