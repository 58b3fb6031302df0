import type { HierData } from './data.ts';

/**
 * Per-group sufficient statistics of the normal likelihood with known sds.
 *
 * For group k with observations y_i, sds sigma_i, precision P_k = sum_i 1/sigma_i^2 and
 * precision-weighted mean ybar_k = (sum_i y_i/sigma_i^2) / P_k:
 *
 *   sum_i log N(y_i | theta, sigma_i) = log N(ybar_k | theta, P_k^{-1/2}) + C_k,
 *   C_k = -1/2 sum_i (y_i - ybar_k)^2/sigma_i^2 - 1/2 sum_i log(2 pi sigma_i^2)
 *         + 1/2 log(2 pi / P_k),
 *
 * so a gradient costs O(K), not O(N), and the GPU evaluates -P_k (theta - ybar_k)^2 / 2,
 * which has no S2 - 2 theta S1 + n theta^2 cancellation in float32.
 * Groups with no observations have n_k = 0, P_k = 0 and ybar_k = 0 (prior only).
 */
export interface GroupStats {
  readonly K: number;
  /** Observations per group. */
  readonly n: Int32Array;
  /** Precision P_k = sum 1/sigma_i^2 (0 for empty groups). */
  readonly precision: Float64Array;
  /** Precision-weighted mean (0 for empty groups). */
  readonly ybar: Float64Array;
  /** Standard error P_k^{-1/2} (Infinity for empty groups). */
  readonly se: Float64Array;
  /** Sum over all groups of C_k: log-likelihood = sum_k log N(ybar_k|theta_k,se_k) + logConst. */
  readonly logConst: number;
  readonly labels: readonly string[];
}

/** Reduces data to per-group sufficient statistics in float64 (two passes: mean, then residuals). */
export function groupStats(data: HierData): GroupStats {
  const { K, y, group, sigma } = data;
  const n = new Int32Array(K);
  const precision = new Float64Array(K);
  const wsum = new Float64Array(K);
  let logConst = 0;
  for (let i = 0; i < y.length; i++) {
    const k = group[i];
    const w = 1 / (sigma[i] * sigma[i]);
    n[k]++;
    precision[k] += w;
    wsum[k] += w * y[i];
    logConst -= 0.5 * Math.log(2 * Math.PI * sigma[i] * sigma[i]);
  }
  const ybar = new Float64Array(K);
  const se = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    ybar[k] = n[k] > 0 ? wsum[k] / precision[k] : 0;
    se[k] = n[k] > 0 ? 1 / Math.sqrt(precision[k]) : Infinity;
    if (n[k] > 0) logConst += 0.5 * Math.log((2 * Math.PI) / precision[k]);
  }
  for (let i = 0; i < y.length; i++) {
    const r = (y[i] - ybar[group[i]]) / sigma[i];
    logConst -= 0.5 * r * r;
  }
  return { K, n, precision, ybar, se, logConst, labels: data.labels };
}
