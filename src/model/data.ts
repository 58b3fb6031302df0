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
