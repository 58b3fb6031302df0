/**
 * Effective sample size from the multi-chain autocovariance with Geyer's initial
 * monotone sequence (Geyer 1992; Stan reference manual "Effective sample size";
 * Vehtari et al. 2021, sec. 3.2), a line-by-line port of `posterior:::.ess`:
 *
 *   W+ = (N-1)/N W + var(chain means),  rho_t = 1 - (W - mean_c acov_c(t)) / W+,
 *   tau = -1 + 2 sum_{t < T} rho_t + rho_T  (pairs summed while positive, made monotone),
 *   ESS = C N / max(tau, 1 / log10(C N)).
 *
 * Bulk ESS applies it to rank-normalized split chains, tail ESS to the indicators
 * I(x <= q_5%) and I(x <= q_95%) (the smaller of the two), the "mean" ESS to the raw
 * split chains.
 */
import { chainAutocovarianceMean } from './fft.ts';
import { chainAutocovarianceLags } from './lags.ts';
import { quantileSorted } from './quantile.ts';
import { argsort, zScaleFromSorted } from './rank.ts';
import { sampleVariance } from './rhat.ts';
import { type ChainMatrix, mapMatrix, splitChains } from './split.ts';
import { type DrawsArray, type Estimate, checkShape, nan, sampleProblem, toFloat64 } from './validate.ts';

/** Minimum draws per split chain for an ESS (`posterior:::.ess`: niterations < 3 gives NA). */
export const MIN_ESS_SPLIT_DRAWS = 3;

/**
 * Geyer's initial monotone sequence on the chain-averaged autocovariance `acov`
 * (length >= n) of `chains` chains of n draws whose chain means have sample variance
 * `varChainMeans`. Returns the ESS and whether it was capped at C N log10(C N).
 */
export function geyerEss(
  acov: Float64Array,
  chains: number,
  n: number,
  varChainMeans: number,
): { ess: number; capped: boolean } {
  return geyerEssUpTo(acov, chains, n, varChainMeans, n)!;
}

/**
 * `geyerEss` reading only lags 0..available-1 of `acov`: null when the initial positive
 * sequence runs past them (more lags are needed), else the same result as with all lags.
 */
export function geyerEssUpTo(
  acov: Float64Array,
  chains: number,
  n: number,
  varChainMeans: number,
  available: number,
): { ess: number; capped: boolean } | null {
  if (available < Math.min(2, n)) return null;
  const meanVar = (acov[0] * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (chains > 1) varPlus += varChainMeans;
  const rho = new Float64Array(n);
  let t = 0;
  let even = 1;
  rho[0] = even;
  let odd = 1 - (meanVar - acov[1]) / varPlus;
  rho[1] = odd;
  while (t < n - 5 && !Number.isNaN(even + odd) && even + odd > 0) {
    t += 2;
    if (t + 1 >= available) return null;
    even = 1 - (meanVar - acov[t]) / varPlus;
    odd = 1 - (meanVar - acov[t + 1]) / varPlus;
    if (even + odd >= 0) {
      rho[t] = even;
      rho[t + 1] = odd;
    }
  }
  const maxT = t;
  // improve estimation
  if (even > 0) rho[maxT] = even;
  // Geyer's initial monotone sequence
  t = 0;
  while (t <= maxT - 4) {
    t += 2;
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  const size = chains * n;
  // R: sum(rho_hat_t[1:max_t]); for max_t = 0, 1:0 selects element 1 alone.
  let sum = 0;
  if (maxT === 0) sum = rho[0];
  else for (let i = 0; i < maxT; i++) sum += rho[i];
  let tau = -1 + 2 * sum + rho[maxT];
  const bound = 1 / Math.log10(size);
  let capped = false;
  if (tau < bound) {
    tau = bound;
    capped = true;
  }
  return { ess: size / tau, capped };
}

/**
 * ESS from the chain-averaged autocovariance and the chain means: the sample variance of
 * the means enters W+ (`posterior:::.ess`).
 */
export function essFromAcov(acov: Float64Array, means: Float64Array, chains: number, n: number): Estimate {
  return essFromLags(acov, means, chains, n, n)!;
}

/** `essFromAcov` from the first `available` lags of `acov`; null when it needs more. */
export function essFromLags(acov: Float64Array, means: Float64Array, chains: number, n: number, available: number): Estimate | null {
  const varMeans = chains > 1 ? sampleVariance(means, chains) : 0;
  const r = geyerEssUpTo(acov, chains, n, varMeans, available);
  if (r === null) return null;
  return r.capped ? { value: r.ess, reason: 'ESS capped at S * log10(S) to avoid unstable estimates' } : { value: r.ess };
}

/**
 * Lags computed by direct sums before falling back to the FFT, in steps: most series
 * need lags 0..3, slower ones up to 0..11; a series that needs more has spent about 12
 * multiply-adds per draw (under half a transform) before its FFT.
 */
export const DIRECT_LAG_STEPS = [4, 12] as const;

/**
 * ESS of chain-major series x (`chains` × n): the chain-averaged autocovariance (into
 * `acov`, at least lags 0..3 and every lag Geyer's sequence reads) and the chain means
 * (into `means`), by direct sums over the first lags when Geyer's initial positive
 * sequence stops there, else by FFT. Equal to `essFromAcov` after
 * `chainAutocovarianceMean`, to rounding.
 */
export function essOfSeries(x: Float64Array, chains: number, n: number, acov: Float64Array, means: Float64Array): Estimate {
  let have = 0;
  for (const upTo of DIRECT_LAG_STEPS) {
    const to = Math.min(upTo, n);
    // the first step finds the chain means, later ones reuse them
    if (have === 0) chainAutocovarianceLags(x, chains, n, 0, to, acov, means);
    else chainAutocovarianceLags(x, chains, n, have, to, acov, undefined, means);
    have = to;
    const e = essFromLags(acov, means, chains, n, have);
    if (e !== null) return e;
  }
  chainAutocovarianceMean(x, chains, n, acov, means);
  return essFromAcov(acov, means, chains, n);
}

/**
 * ESS of a chain matrix (`posterior:::.ess`), NaN with a reason for N < 3 or a
 * constant/non-finite sample. `checked` skips the constant/non-finite scan when the
 * caller already knows the sample is fine.
 */
export function essKernel(m: ChainMatrix, checked = false): Estimate {
  const { data, chains, n } = m;
  if (n < MIN_ESS_SPLIT_DRAWS) {
    return nan(`ESS needs at least ${MIN_ESS_SPLIT_DRAWS} draws per split chain (6 per chain), got ${n}`);
  }
  if (!checked) {
    const problem = sampleProblem(data);
    if (problem) return nan(problem);
  }
  const acov = new Float64Array(n);
  const means = new Float64Array(chains);
  chainAutocovarianceMean(data, chains, n, acov, means);
  return essFromAcov(acov, means, chains, n);
}

function prepare(values: DrawsArray, chains: number, draws: number): Float64Array {
  checkShape(values, chains, draws);
  return toFloat64(values);
}

/** Bulk ESS of rank-normalized split chains, with its reason when NaN (Vehtari et al. 2021). */
export function essBulkEstimate(values: DrawsArray, chains: number, draws: number): Estimate {
  const x = prepare(values, chains, draws);
  const split = splitChains(x, chains, draws);
  const problem = sampleProblem(split.data);
  if (problem) return nan(problem);
  if (split.n < MIN_ESS_SPLIT_DRAWS) return essKernel(split);
  const { sorted, order } = argsort(split.data);
  const z = new Float64Array(split.data.length);
  zScaleFromSorted(sorted, order, z);
  return essKernel({ data: z, chains: split.chains, n: split.n });
}

/**
 * Bulk effective sample size: ESS of the rank-normalized split chains
 * (`posterior::ess_bulk`). NaN for fewer than 6 draws per chain or a constant sample.
 */
export function essBulk(values: DrawsArray, chains: number, draws: number): number {
  return essBulkEstimate(values, chains, draws).value;
}

/** ESS of I(x <= q_p) on split chains (`posterior::ess_quantile`), given the pooled sorted draws. */
export function essQuantileFromSorted(split: ChainMatrix, sortedAll: Float64Array, prob: number): Estimate {
  let p = prob;
  if (p === 1) p = (sortedAll.length - 0.5) / sortedAll.length;
  const q = quantileSorted(sortedAll, p);
  return essKernel(mapMatrix(split, (v) => (v <= q ? 1 : 0)));
}

/** ESS of the quantile indicator I(x <= q_prob) (`posterior::ess_quantile`). */
export function essQuantileEstimate(values: DrawsArray, chains: number, draws: number, prob: number): Estimate {
  const x = prepare(values, chains, draws);
  if (!(prob >= 0 && prob <= 1)) return nan(`probability must be in [0, 1], got ${prob}`);
  const problem = sampleProblem(x);
  if (problem) return nan(problem);
  return essQuantileFromSorted(splitChains(x, chains, draws), argsort(x).sorted, prob);
}

export function essQuantile(values: DrawsArray, chains: number, draws: number, prob: number): number {
  return essQuantileEstimate(values, chains, draws, prob).value;
}

/**
 * Tail effective sample size: the smaller ESS of the 5% and 95% quantile indicators
 * (`posterior::ess_tail`).
 */
export function essTail(values: DrawsArray, chains: number, draws: number): number {
  const a = essQuantileEstimate(values, chains, draws, 0.05).value;
  const b = essQuantileEstimate(values, chains, draws, 0.95).value;
  return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
}

/** ESS of the raw split chains, for the MCSE of the mean (`posterior::ess_mean`). */
export function essMean(values: DrawsArray, chains: number, draws: number): number {
  const x = prepare(values, chains, draws);
  return essKernel(splitChains(x, chains, draws)).value;
}

/** ESS without rank normalization (`posterior::ess_basic`), split by default. */
export function essBasic(values: DrawsArray, chains: number, draws: number, split = true): number {
  const x = prepare(values, chains, draws);
  return essKernel(split ? splitChains(x, chains, draws) : { data: x, chains, n: draws }).value;
}
