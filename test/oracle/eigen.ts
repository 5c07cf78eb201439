/**
 * Eigenvalues of a dense symmetric matrix by cyclic Jacobi rotations in f64 (Golub & Van
 * Loan §8.5): slow (O(n³) per sweep) but simple and unconditionally convergent, which is
 * what an oracle should be. Deliberately a different algorithm from the implicit QL used
 * in core/lmc/hessian.ts.
 */
export function symmetricEigenvalues(matrix: readonly ArrayLike<number>[]): Float64Array {
  const n = matrix.length;
  const a = matrix.map((row) => Float64Array.from(row));
  for (let i = 0; i < n; i++) {
    if (a[i].length !== n) throw new Error(`row ${i} has ${a[i].length} entries, expected ${n}`);
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i][j] - a[j][i]) > 1e-12 * (Math.abs(a[i][j]) + Math.abs(a[j][i]) + 1e-300)) {
        throw new Error(`matrix is not symmetric at (${i}, ${j}): ${a[i][j]} vs ${a[j][i]}`);
      }
    }
  }
  const offNorm = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) s += a[i][j] ** 2;
    return Math.sqrt(s);
  };
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) total += a[i][j] ** 2;
  const target = 1e-15 * Math.sqrt(total);
  for (let sweep = 0; sweep < 100 && offNorm() > target; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        // The rotation that zeroes a[p][q] (the smaller angle, for stability).
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const [akp, akq] = [a[k][p], a[k][q]];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const [apk, aqk] = [a[p][k], a[q][k]];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  if (offNorm() > 1e-12 * Math.sqrt(total)) throw new Error('Jacobi did not converge in 100 sweeps');
  return Float64Array.from({ length: n }, (_, i) => a[i][i]).sort();
}
