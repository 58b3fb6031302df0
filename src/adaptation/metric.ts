import type { EnsembleStats } from './ensemble_stats.ts';

/**
 * Diagonal inverse mass matrix (metric) from cross-chain variances over a warmup window.
 *
 * Every iteration of the window the backend reports the cross-chain variance of the
 * current positions, s^2_t[d] (`EnsembleStats.positionVar`). The estimate is their
 * average over the window,
 *   s^2[d] = (1/T) sum_t s^2_t[d],
 * i.e. the *within-iteration* ensemble variance: unlike Stan's pooled windowed variance it
 * leaves out the drift of the ensemble mean across the window, which is a warmup
 * transient rather than posterior spread (ensemble adaptation as in Hoffman & Sountsov
 * 2022, MEADS, and Hoffman, Radul & Sountsov 2021).
 *
 * It is then regularized toward 1e-3 as Stan does (Stan `windowed_adaptation` /
 * `diag_e_adaptation::learn_variance`):
 *   M^-1[d] = n/(n + 5) s^2[d] + 1e-3 * 5/(n + 5),
 * where n is the effective number of independent draws behind s^2. We take n = the number
 * of chains: each iteration's variance rests on that many independent chains, and
 * consecutive iterations of a chain are strongly autocorrelated, so pooling the window
 * adds little independent information (a conservative choice; for thousands of chains the
 * shrinkage is negligible, for a handful it is Stan's).
 */

/** Pseudo-count of the shrinkage prior (Stan: `(n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))`). */
export const METRIC_SHRINKAGE_COUNT = 5;
/** Variance the estimate is shrunk toward (Stan's 1e-3). */
export const METRIC_SHRINKAGE_TARGET = 1e-3;

export interface MetricState {
  readonly dim: number;
  /** Effective number of draws n of the shrinkage formula (the number of chains). */
  readonly effectiveCount: number;
  /** Iterations accumulated. */
  readonly count: number;
  /** Sum over accumulated iterations of the cross-chain variances, length D. */
  readonly sumVar: Float64Array;
  /** Iterations skipped because some variance was not finite. */
  readonly numSkipped: number;
}

/** Starts an empty window for dimension `dim` with `chains` chains (n = chains). */
export function init(dim: number, chains: number): MetricState {
  return { dim, effectiveCount: chains, count: 0, sumVar: new Float64Array(dim), numSkipped: 0 };
}

/** Adds one iteration's cross-chain variance; an iteration with a non-finite or negative variance is skipped. */
export function update(state: MetricState, stats: Pick<EnsembleStats, 'positionVar'>): MetricState {
  const v = stats.positionVar;
  for (let d = 0; d < state.dim; d++) {
    if (!(Number.isFinite(v[d]) && v[d] >= 0)) return { ...state, numSkipped: state.numSkipped + 1 };
  }
  const sumVar = new Float64Array(state.dim);
  for (let d = 0; d < state.dim; d++) sumVar[d] = state.sumVar[d] + v[d];
  return { ...state, count: state.count + 1, sumVar };
}

/**
 * The regularized diagonal inverse mass matrix
 *   M^-1[d] = n/(n + 5) s^2[d] + 1e-3 * 5/(n + 5),
 * or the identity if nothing was accumulated.
 */
export function final(state: MetricState): Float64Array {
  const invMass = new Float64Array(state.dim);
  if (state.count === 0) return invMass.fill(1);
  const n = state.effectiveCount;
  const w = n / (n + METRIC_SHRINKAGE_COUNT);
  for (let d = 0; d < state.dim; d++) {
    invMass[d] = w * (state.sumVar[d] / state.count) + METRIC_SHRINKAGE_TARGET * (1 - w);
  }
  return invMass;
}

/**
 * Cross-chain mean and unbiased variance (divisor C - 1; 0 for one chain) of chain-major
 * positions (chain c, coordinate d at c * D + d), written into `mean` and `variance`
 * (two-pass, float64).
 */
export function crossChainMoments(
  positions: ArrayLike<number>,
  chains: number,
  D: number,
  mean: Float64Array,
  variance: Float64Array,
): void {
  mean.fill(0);
  variance.fill(0);
  for (let c = 0; c < chains; c++) for (let d = 0; d < D; d++) mean[d] += positions[c * D + d];
  for (let d = 0; d < D; d++) mean[d] /= chains;
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < D; d++) {
      const x = positions[c * D + d] - mean[d];
      variance[d] += x * x;
    }
  }
  for (let d = 0; d < D; d++) variance[d] = chains > 1 ? variance[d] / (chains - 1) : 0;
}
