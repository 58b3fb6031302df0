/**
 * Dense symmetric positive definite systems in float64, for the small (P + 1)-sized ones of
 * predictors: the exact posterior's Gaussian in (mu, beta) (`posterior_predictors.ts`) and the
 * meta-regression that starts a run (`predictors.ts`).
 */

/**
 * Cholesky factorisation in place, A = L L' (Golub & Van Loan, alg. 4.2.1), reading only the
 * lower triangle of the row-major n x n `a` and writing L there. Returns log det L, or
 * -Infinity where A is not positive definite (then `a` is partly overwritten).
 */
export function choleskyInPlace(a: Float64Array, n: number): number {
  let logDetL = 0;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return -Infinity;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    logDetL += Math.log(l);
    for (let i = j + 1; i < n; i++) {
      let v = a[i * n + j];
      for (let k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = v / l;
    }
  }
  return logDetL;
}

/** Solves L L' x = b for the factor L of `choleskyInPlace` (forward, then back substitution) into `x`. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, x: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let v = b[i];
    for (let k = 0; k < i; k++) v -= l[i * n + k] * x[k];
    x[i] = v / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = x[i];
    for (let k = i + 1; k < n; k++) v -= l[k * n + i] * x[k];
    x[i] = v / l[i * n + i];
  }
  return x;
}
