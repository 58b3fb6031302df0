/**
 * Observed data of a hierarchical model: observations `y[i]` in group `group[i]` (0-based),
 * with the per-observation columns of the likelihood family (normal: the known sd `sigma[i]`).
 *
 * Loaders (seed JSON, CSV) and validation live in `src/io/`; every array here is
 * already validated: finite y, 0 <= group < K, and each family's columns
 * within their bounds (sigma > 0, whole counts, y <= trials, ...).
 */
export interface HierData {
  /**
   * The likelihood family's id (`src/model/families`: normal, binomial, poisson); absent
   * means normal.
   */
  readonly likelihood?: string;
  /** Observations, length N. */
  readonly y: Float64Array;
  /** 0-based group of each observation, length N. */
  readonly group: Int32Array;
  /** The normal family's known measurement sd of each observation (> 0), length N; empty for other families. */
  readonly sigma: Float64Array;
  /** The family's other per-observation columns by name (binomial: trials; Poisson: exposure), length N each. */
  readonly columns?: Readonly<Record<string, Float64Array>>;
  /** Number of groups (groups with no observation are allowed: prior only). */
  readonly K: number;
  /** Display label per group: CSV labels, or "0".."K-1" for index data. */
  readonly labels: readonly string[];
  /**
   * Population-level predictors (`--predictors`): the linear predictor of observation i is
   * eta_i = theta[g_i] + x_i . beta. Absent: none (eta_i = theta[g_i]).
   */
  readonly predictors?: Predictors;
}

/**
 * Population-level predictors of a data set, as given (no centring or rescaling: the prior on
 * beta is on these units): names and the N x P design matrix, row-major (observation i's row
 * at X[i * P .. i * P + P - 1]); every value finite.
 */
export interface Predictors {
  /** Output names: `beta[<name>]`; a product of columns is named `a:b`. */
  readonly names: readonly string[];
  /** N x P, row-major. */
  readonly X: Float64Array;
}

/** Most predictors a model may have: each is a coordinate of every chain's state (4 blocks of 4 on the device). */
export const MAX_PREDICTORS = 16;

/**
 * Most groups a model may have: 2^20. Each group is a coordinate of every chain's state and
 * of every recorded draw (the draw budget of 2^26 floats holds one chain of 64 draws at this
 * K), and a label in every output; a data file that names 10^9 groups is refused (exit 2)
 * rather than exhausting memory while its labels are made.
 */
export const MAX_GROUPS = 2 ** 20;
