/**
 * Finite differences of f64 functions: the oracle for gradients and Hessian-vector
 * products. Central differences have O(h²) truncation error; in f64 with the step sizes
 * below, truncation and cancellation stay near 1e-8 relative, far under the f32 tolerances
 * they are compared with.
 */
export type F64Fn = (x: Float64Array) => number;

const axpy = (x: Float64Array, a: number, d: ArrayLike<number>): Float64Array => x.map((v, i) => v + a * d[i]);

/** ∇f(x) by central differences, one coordinate at a time. */
export function gradientFd(f: F64Fn, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const e = new Float64Array(x.length);
    e[i] = 1;
    g[i] = (f(axpy(x, h, e)) - f(axpy(x, -h, e))) / (2 * h);
  }
  return g;
}

/** H·v by central differences of the (finite-difference) gradient along v. */
export function hvpFd(f: F64Fn, x: Float64Array, v: ArrayLike<number>, h = 1e-4): Float64Array {
  const gp = gradientFd(f, axpy(x, h, v), h);
  const gm = gradientFd(f, axpy(x, -h, v), h);
  return gp.map((g, i) => (g - gm[i]) / (2 * h));
}

/** The explicit Hessian, entry by entry from four-point second differences (symmetric by construction). */
export function hessianFd(f: F64Fn, x: Float64Array, h = 1e-4): Float64Array[] {
  const n = x.length;
  const H = Array.from({ length: n }, () => new Float64Array(n));
  const shifted = (i: number, si: number, j: number, sj: number) => {
    const y = Float64Array.from(x);
    y[i] += si * h;
    y[j] += sj * h;
    return f(y);
  };
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (shifted(i, 1, j, 1) - shifted(i, 1, j, -1) - shifted(i, -1, j, 1) + shifted(i, -1, j, -1)) / (4 * h * h);
      H[i][j] = v;
      H[j][i] = v;
    }
  }
  return H;
}
