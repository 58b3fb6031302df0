/**
 * What every backend reduces over its chains after a transition, and what the adaptations
 * (ChEES, dual averaging, the metric) read: here, in adaptation/, so that neither side
 * imports the other (backends implement it; `sampler/backend.ts` re-exports it).
 */
/** Reductions over chains of the last transition, for adaptation (see `adaptation/chees.ts`). */
export interface EnsembleStats {
  /** Chains whose transition was finite and not divergent. */
  readonly numValid: number;
  /** Divergent (or non-finite) transitions in this iteration. */
  readonly numDivergent: number;
  /** Mean acceptance probability over all chains (divergent count as 0). */
  readonly meanAccept: number;
  /** Harmonic mean of acceptance probabilities over valid chains (0 if any is 0; NaN if none valid). */
  readonly harmonicMeanAccept: number;
  /**
   * ChEES trajectory-length gradient (Hoffman, Radul & Sountsov 2021, eq. 6, with the
   * jittered length t_n = u·T factored out, i.e. divided by t_n):
   *   sum_i a_i g_i / sum_i a_i over valid chains, where
   *   g_i = (||q'_i - mq'||^2 - ||q0_i - mq0||^2) * ((q'_i - mq') . p'_i),
   *   mq' = sum a_i q'_i / sum a_i (acceptance-weighted mean of proposals),
   *   mq0 = mean of initial positions (valid chains), p' = momentum at the trajectory end.
   */
  readonly cheesGradient: number;
  /** Cross-chain mean and variance of the current (post-accept) positions, length D each. */
  readonly positionMean: Float64Array;
  readonly positionVar: Float64Array;
}
