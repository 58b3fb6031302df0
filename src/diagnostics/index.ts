/**
 * FunnelWeb diagnostics: convergence and efficiency diagnostics for chain-major draws
 * (element (c, d) at c * draws + d), equal to R's `posterior` package (version 1.4).
 */
export { fft, nextPow2, autocovariance, chainAutocovarianceMean } from './fft.ts';
export { qnorm, qbeta, pbeta, lbeta, lgamma } from './special.ts';
export { argsort, zScale, BLOM_OFFSET } from './rank.ts';
export { splitChains, type ChainMatrix } from './split.ts';
export { rhat, rhatBasic, rhatParts, rhatKernel, type RhatParts } from './rhat.ts';
export {
  essBulk,
  essBulkEstimate,
  essTail,
  essQuantile,
  essQuantileEstimate,
  essMean,
  essBasic,
  essKernel,
  geyerEss,
} from './ess.ts';
export { mcseMean, mcseSd, mcseQuantile, MCSE_QUANTILE_PROBS } from './mcse.ts';
export { quantile, quantileSorted, medianSorted, minFinite, medianFinite } from './quantile.ts';
export { nestedRhat, nestedRhatEstimate, superchainIds, type Superchains } from './nested_rhat.ts';
export { ebfmi, divergences, acceptanceRate, EBFMI_THRESHOLD } from './energy.ts';
export { autocorrelation } from './acf.ts';
export {
  summarize,
  summarizeParam,
  assembleSummary,
  RHAT_THRESHOLD,
  MIN_ESS_PER_CHAIN,
  type Summary,
  type ParamSummary,
  type SummarizeOptions,
} from './summary.ts';
export { type DrawsArray, type Estimate, sampleProblem, CONSTANT_TOLERANCE } from './validate.ts';
