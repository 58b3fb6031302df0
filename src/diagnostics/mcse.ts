/**
 * Monte Carlo standard errors (Vehtari et al. 2021, sec. 4.4; `posterior` 1.4 formulas).
 *
 *   MCSE(mean) = sd(x) / sqrt(ESS_mean(x))
 *   MCSE(sd)   = sqrt(varvar / E / 4),  varvar = (mean(d^4) - E^2) / ESS_mean(d^2),
 *                E = mean(d^2),  d = x - mean(x)           (delta method on sd = sqrt(var))
 *   MCSE(q_p)  = (x_(u2) - x_(u1)) / 2, u_k = Beta(ESS_p p + 1, ESS_p (1 - p) + 1) quantiles
 *                at Phi(-1), Phi(1), mapped to order statistics (Vehtari et al. 2021, eq. 19).
 */
import { essKernel, essQuantileFromSorted } from './ess.ts';
import { chainMean } from './fft.ts';
import { argsort } from './rank.ts';
import { sampleVariance } from './rhat.ts';
import { qbeta } from './special.ts';
import { type ChainMatrix, mapMatrix, splitChains } from './split.ts';
import { type DrawsArray, type Estimate, checkShape, sampleProblem, toFloat64 } from './validate.ts';

/** pnorm(-1), pnorm(1) to the 7 digits `posterior:::.mcse_quantile` uses. */
export const MCSE_QUANTILE_PROBS = [0.1586553, 0.8413447] as const;

/** MCSE of the mean from the split chains and the pooled sd. */
export function mcseMeanFrom(split: ChainMatrix, sd: number): Estimate {
  const e = essKernel(split);
  return Number.isNaN(e.value) ? e : { value: sd / Math.sqrt(e.value) };
}

/** MCSE of the sd; `x` pooled draws, `mean` their mean, `split` the split chains of x. */
export function mcseSdFrom(x: Float64Array, mean: number, split: ChainMatrix): Estimate {
  const S = x.length;
  const d2 = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const d = x[i] - mean;
    d2[i] = d * d;
  }
  const evar = chainMean(d2, 0, S);
  let m4 = 0;
  for (let i = 0; i < S; i++) m4 += d2[i] * d2[i];
  m4 /= S;
  const e = essKernel(mapMatrix(split, (v) => (v - mean) * (v - mean)));
  if (Number.isNaN(e.value)) return e;
  const varvar = (m4 - evar * evar) / e.value;
  return { value: Math.sqrt(varvar / evar / 4) };
}

/** MCSE of the quantile at `prob` given its quantile ESS and the pooled sorted draws. */
export function mcseQuantileFrom(sortedAll: Float64Array, prob: number, ess: number): number {
  if (Number.isNaN(ess)) return NaN;
  const a1 = qbeta(MCSE_QUANTILE_PROBS[0], ess * prob + 1, ess * (1 - prob) + 1);
  const a2 = qbeta(MCSE_QUANTILE_PROBS[1], ess * prob + 1, ess * (1 - prob) + 1);
  const S = sortedAll.length;
  const th1 = sortedAll[Math.max(Math.floor(a1 * S), 1) - 1];
  const th2 = sortedAll[Math.min(Math.ceil(a2 * S), S) - 1];
  return (th2 - th1) / 2;
}

function prepare(values: DrawsArray, chains: number, draws: number): Float64Array {
  checkShape(values, chains, draws);
  return toFloat64(values);
}

/** Monte Carlo standard error of the posterior mean (`posterior::mcse_mean`). */
export function mcseMean(values: DrawsArray, chains: number, draws: number): number {
  const x = prepare(values, chains, draws);
  return mcseMeanFrom(splitChains(x, chains, draws), Math.sqrt(sampleVariance(x))).value;
}

/** Monte Carlo standard error of the posterior sd (`posterior::mcse_sd`, version 1.4). */
export function mcseSd(values: DrawsArray, chains: number, draws: number): number {
  const x = prepare(values, chains, draws);
  if (sampleProblem(x)) return NaN;
  return mcseSdFrom(x, chainMean(x, 0, x.length), splitChains(x, chains, draws)).value;
}

/** Monte Carlo standard error of the `prob` quantile (`posterior::mcse_quantile`). */
export function mcseQuantile(values: DrawsArray, chains: number, draws: number, prob: number): number {
  const x = prepare(values, chains, draws);
  if (!(prob >= 0 && prob <= 1)) return NaN;
  if (sampleProblem(x)) return NaN;
  const sorted = argsort(x).sorted;
  const ess = essQuantileFromSorted(splitChains(x, chains, draws), sorted, prob).value;
  return mcseQuantileFrom(sorted, prob, ess);
}

