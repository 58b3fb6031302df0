import type { HierData } from './data.ts';
import type { Family, GroupFields } from './family.ts';
import { familyOf } from './families/index.ts';

/**
 * Per-group sufficient statistics of a model's data under its likelihood family
 * (`family.ts`): the family's fields (a_k, b_k), with which a gradient costs O(K), not O(N),
 * and the normal approximation of each group's likelihood in theta_k (exact for the normal
 * family: ybar_k, P_k), which `auto`, the exact posterior and the figures read.
 *
 * For the normal family, with precision P_k = sum_i 1/sigma_i^2 and precision-weighted mean
 * ybar_k = (sum_i y_i/sigma_i^2) / P_k,
 *
 *   sum_i log N(y_i | theta, sigma_i) = log N(ybar_k | theta, P_k^{-1/2}) + C_k,
 *
 * so `logConst` + sum_k log N(ybar_k | theta_k, se_k) is the log-likelihood there.
 * Groups with no observations have n_k = 0, a = b = P = ybar = 0 and se = Infinity.
 */
export interface GroupStats {
  readonly K: number;
  readonly family: Family;
  /** Observations per group. */
  readonly n: Int32Array;
  /** The family's per-group fields (normal: ybar, P; binomial: successes, trials; Poisson: events, exposure). */
  readonly a: Float64Array;
  readonly b: Float64Array;
  /** Precision of the normal approximation, 1/se^2 (0 for empty groups). */
  readonly precision: Float64Array;
  /** Estimate of theta_k from group k alone: the normal approximation's mean (0 for empty groups). */
  readonly ybar: Float64Array;
  /** Standard error of that estimate (Infinity for empty groups). */
  readonly se: Float64Array;
  /**
   * Terms of the log-likelihood free of theta: log-likelihood = sum_k family.logLik(a_k, b_k,
   * theta_k) + logConst. For the normal family also sum_k log N(ybar_k|theta_k,se_k) + logConst
   * + sum_k log(2 pi / P_k)/2 (the form `posterior.ts` uses): see `normalLogConst`.
   */
  readonly logConst: number;
  readonly labels: readonly string[];
  /** The family's global statistics (`GroupFields.stats`; families with a global parameter, e.g. N and the within-group sum of squares). */
  readonly familyStats?: Float64Array;
}

/** Reduces data to per-group sufficient statistics in float64. */
export function groupStats(data: HierData): GroupStats {
  const family = familyOf(data.likelihood);
  const f = family.reduce(data);
  const { K } = f;
  const ybar = new Float64Array(K);
  const se = new Float64Array(K);
  const precision = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const a = family.approx(f, k);
    ybar[k] = f.n[k] > 0 ? a.estimate : 0;
    se[k] = f.n[k] > 0 ? a.se : Infinity;
    precision[k] = f.n[k] > 0 ? (a.precision ?? 1 / (a.se * a.se)) : 0;
  }
  return { K, family, n: f.n, a: f.a, b: f.b, precision, ybar, se, logConst: f.logConst, labels: data.labels, ...(f.stats ? { familyStats: f.stats } : {}) };
}

/** The family's fields of the statistics (`family.approx`, a family global's start). */
export function fieldsOf(stats: GroupStats): GroupFields {
  return { K: stats.K, n: stats.n, a: stats.a, b: stats.b, logConst: stats.logConst, ...(stats.familyStats ? { stats: stats.familyStats } : {}) };
}
