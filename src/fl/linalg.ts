// Dense float64 linear algebra for the closed-form strategies: the augmented Gram statistics of ridge regression
// (upper triangle only, since X^T X is symmetric) and a Cholesky solve. Kept in plain TS, not tfjs: the solve must be
// float64 so that the federated and the pooled ridge heads agree to 1e-4 rather than to float32's 1e-7 * condition.
import type { TokenSet } from './dataset.ts';

/** Entries of the upper triangle (diagonal included) of an n x n symmetric matrix. */
export function upperTriangleLength(n: number): number {
  return (n * (n + 1)) / 2;
}

/** Offset of (i, j), i <= j, in the packed upper triangle (row-major). */
export function upperIndex(n: number, i: number, j: number): number {
  return i * n - (i * (i - 1)) / 2 + (j - i);
}

/**
 * Ridge sufficient statistics of `set` with x~ = [x, 1] (the bias as a last feature, m = dim + 1):
 * [upper triangle of X~^T X~ (m(m+1)/2 values), X~^T Y (m x classes, row-major, Y one-hot)].
 * The token count is the (m-1, m-1) entry of X~^T X~, so it travels inside the statistics.
 */
export function ridgeStatistics(set: TokenSet): Float64Array {
  const m = set.dim + 1;
  const tri = upperTriangleLength(m);
  const out = new Float64Array(tri + m * set.classes);
  const x = new Float64Array(m);
  for (let t = 0; t < set.count; t++) {
    for (let j = 0; j < set.dim; j++) x[j] = set.tokens[t * set.dim + j] as number;
    x[set.dim] = 1;
    let at = 0;
    for (let i = 0; i < m; i++) {
      const xi = x[i] as number;
      for (let j = i; j < m; j++, at++) out[at] = (out[at] as number) + xi * (x[j] as number);
    }
    const label = set.labels[t] as number;
    for (let i = 0; i < m; i++) out[tri + i * set.classes + label] = (out[tri + i * set.classes + label] as number) + (x[i] as number);
  }
  return out;
}

/** In-place Cholesky factor (lower, row-major n x n) of a symmetric positive definite matrix. */
function cholesky(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] as number;
    for (let k = 0; k < j; k++) d -= (a[j * n + k] as number) ** 2;
    if (!(d > 0)) throw new Error(`ridge: the regularised Gram matrix is not positive definite (pivot ${j} is ${d})`);
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (a[i * n + k] as number) * (a[j * n + k] as number);
      a[i * n + j] = s / l;
    }
  }
}

/**
 * Solves (X~^T X~ + lambda * count * I') W~ = X~^T Y from packed statistics, where I' leaves the bias unpenalised.
 * Returns W~ (m x classes, row-major): row j < dim holds feature j's weights, row dim the biases.
 */
export function solveRidge(stats: Float64Array, dim: number, classes: number, lambda: number): Float64Array {
  const m = dim + 1;
  const tri = upperTriangleLength(m);
  if (stats.length !== tri + m * classes) {
    throw new Error(`ridge: statistics for dim ${dim} and ${classes} classes have ${tri + m * classes} values, got ${stats.length}`);
  }
  if (!(lambda > 0)) throw new Error(`ridge: lambda ${lambda} must be > 0`);
  // The count is an integer; rounding removes the CKKS noise on it.
  const count = Math.round(stats[upperIndex(m, dim, dim)] as number);
  const a = new Float64Array(m * m);
  for (let i = 0, at = 0; i < m; i++) {
    for (let j = i; j < m; j++, at++) {
      a[i * m + j] = stats[at] as number;
      a[j * m + i] = stats[at] as number;
    }
  }
  for (let j = 0; j < dim; j++) a[j * m + j] = (a[j * m + j] as number) + lambda * count;
  cholesky(a, m);
  const w = stats.slice(tri);
  // Forward (L z = b) then backward (L^T w = z) substitution, all classes at once.
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < classes; c++) {
      let s = w[i * classes + c] as number;
      for (let k = 0; k < i; k++) s -= (a[i * m + k] as number) * (w[k * classes + c] as number);
      w[i * classes + c] = s / (a[i * m + i] as number);
    }
  }
  for (let i = m - 1; i >= 0; i--) {
    for (let c = 0; c < classes; c++) {
      let s = w[i * classes + c] as number;
      for (let k = i + 1; k < m; k++) s -= (a[k * m + i] as number) * (w[k * classes + c] as number);
      w[i * classes + c] = s / (a[i * m + i] as number);
    }
  }
  return w;
}
