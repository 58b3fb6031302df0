/**
 * Observed data of the hierarchical normal model: observations `y[i]` in group
 * `group[i]` (0-based) with known measurement sd `sigma[i]`.
 *
 * Loaders (seed JSON, CSV) and validation live in `src/io/`; every array here is
 * already validated: finite y, sigma > 0, 0 <= group < K.
 */
export interface HierData {
  /** Observations, length N. */
  readonly y: Float64Array;
  /** 0-based group of each observation, length N. */
  readonly group: Int32Array;
  /** Known measurement sd of each observation (> 0), length N. */
  readonly sigma: Float64Array;
  /** Number of groups (groups with no observation are allowed: prior only). */
  readonly K: number;
  /** Display label per group: CSV labels, or "0".."K-1" for index data. */
  readonly labels: readonly string[];
}

/**
 * Most groups a model may have: 2^20. Each group is a coordinate of every chain's state and
 * of every recorded draw (the draw budget of 2^26 floats holds one chain of 64 draws at this
 * K), and a label in every output; a data file that names 10^9 groups is refused (exit 2)
 * rather than exhausting memory while its labels are made.
 */
export const MAX_GROUPS = 2 ** 20;
