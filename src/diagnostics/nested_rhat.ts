/**
 * Nested R-hat for many short chains grouped into superchains that share an initial
 * point (Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari & Gelman 2024, "Nested
 * R-hat: assessing the convergence of Markov chain Monte Carlo when running many short
 * chains", Bayesian Analysis, eqs. 4–8). For K superchains of M chains of N draws:
 *
 *   B_nu = var_k(mean of superchain k)                     (K - 1 denominator)
 *   B_k  = var_m(chain means in k)   (0 when M = 1),   W_k = mean_m(chain variances in k) (0 when N = 1)
 *   W_nu = mean_k(B_k + W_k),        nR-hat = sqrt(1 + B_nu / W_nu).
 *
 * This is the formula of `posterior::rhat_nested` (posterior >= 1.5; raw draws, no split,
 * no rank normalization). posterior 1.4, installed here, lacks it; the golden script keeps
 * a verbatim copy and the tests also check a case worked by hand.
 */
import { chainMean } from './fft.ts';
import { sampleVariance } from './rhat.ts';
import { type DrawsArray, type Estimate, checkShape, nan, sampleProblem, toFloat64 } from './validate.ts';

/**
 * Superchain id of every chain. A number K means K superchains of consecutive chains:
 * chain c belongs to superchain floor(c / (chains / K)) (the sampler starts chains
 * c*M .. c*M + M - 1 from the same point). An array gives the ids explicitly.
 */
export type Superchains = number | ArrayLike<number>;

export function superchainIds(chains: number, superchains: Superchains): Int32Array | string {
  if (typeof superchains === 'number') {
    const K = superchains;
    if (!Number.isInteger(K) || K < 1) return `superchains must be a positive integer, got ${K}`;
    if (chains % K !== 0) return `${chains} chains cannot be split into ${K} equal superchains`;
    const per = chains / K;
    return Int32Array.from({ length: chains }, (_, c) => Math.floor(c / per));
  }
  if (superchains.length !== chains) {
    return `superchain ids: expected ${chains} (one per chain), got ${superchains.length}`;
  }
  return Int32Array.from(superchains);
}

/** Nested R-hat with the reason when it is NaN. */
export function nestedRhatEstimate(
  values: DrawsArray,
  chains: number,
  draws: number,
  superchains: Superchains,
): Estimate {
  checkShape(values, chains, draws);
  const x = toFloat64(values);
  const ids = superchainIds(chains, superchains);
  if (typeof ids === 'string') return nan(ids);
  const problem = sampleProblem(x);
  if (problem) return nan(problem);
  // group chains by id (in order of first appearance, like R's unique())
  const groups = new Map<number, number[]>();
  for (let c = 0; c < chains; c++) {
    const g = groups.get(ids[c]);
    if (g) g.push(c);
    else groups.set(ids[c], [c]);
  }
  const K = groups.size;
  if (K < 2) return nan('nested R-hat needs at least 2 superchains');
  let M = -1;
  for (const g of groups.values()) {
    if (M === -1) M = g.length;
    else if (g.length !== M) return nan('superchains must all hold the same number of chains');
  }
  const chainMeans = new Float64Array(chains);
  const chainVars = new Float64Array(chains);
  for (let c = 0; c < chains; c++) {
    const off = c * draws;
    const m = chainMean(x, off, draws);
    chainMeans[c] = m;
    if (draws > 1) {
      let s = 0;
      for (let i = 0; i < draws; i++) {
        const d = x[off + i] - m;
        s += d * d;
      }
      chainVars[c] = s / (draws - 1);
    }
  }
  const superMeans = new Float64Array(K);
  let withinSum = 0;
  let k = 0;
  const buf = new Float64Array(M);
  for (const g of groups.values()) {
    for (let i = 0; i < M; i++) buf[i] = chainMeans[g[i]];
    superMeans[k] = chainMean(buf, 0, M);
    const varBetweenChain = M === 1 ? 0 : sampleVariance(buf, M);
    let w = 0;
    for (let i = 0; i < M; i++) w += chainVars[g[i]];
    const varWithinChain = draws === 1 ? 0 : w / M;
    withinSum += varWithinChain + varBetweenChain;
    k++;
  }
  const varBetweenSuper = sampleVariance(superMeans, K);
  const varWithinSuper = withinSum / K;
  return { value: Math.sqrt(1 + varBetweenSuper / varWithinSuper) };
}

/**
 * Nested R-hat (Margossian et al. 2024) of chain-major draws whose chains are grouped
 * into `superchains` (a count of equal consecutive groups, or one id per chain).
 * NaN with fewer than 2 superchains, unequal superchains, or a constant sample.
 */
export function nestedRhat(values: DrawsArray, chains: number, draws: number, superchains: Superchains): number {
  return nestedRhatEstimate(values, chains, draws, superchains).value;
}
