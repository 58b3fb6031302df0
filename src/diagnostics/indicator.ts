/**
 * ESS of a quantile indicator I(x <= q) (`posterior::ess_quantile`, the tail ESS),
 * without a Fourier transform for most chains.
 *
 * The autocovariance of a 0/1 chain J with mean p = m/N has the closed form
 *   N acov(k) = sum_{t<N-k} (J_t - p)(J_{t+k} - p)
 *             = P(k) - p (A(k) + B(k)) + (N - k) p^2,
 * P(k) the number of pairs of ones k apart (P(0) = m), A(k) the ones at t < N-k, B(k) the
 * ones at t >= k. It is unchanged by J -> 1 - J, so each chain uses its rarer value, and
 * summed over chains A and B become prefix and suffix sums of one histogram. For the 5%
 * and 95% indicators a chain typically holds ~0.05 N rare draws, so this costs O(m^2)
 * per chain instead of an FFT. Chains with more than SPARSE_MAX rare draws (a chain
 * stuck near the quantile) go through the FFT path of `chainAutocovarianceMean`; the two
 * parts add up to the same chain-averaged autocovariance, to rounding.
 * The rarer draws are read off the ascending order of the draws: the indicator's ones are
 * its first K entries.
 */
import { essFromAcov } from './ess.ts';
import { chainAutocovarianceMean } from './fft.ts';
import { type Estimate, nan } from './validate.ts';

/** Chains with more rare draws than this use the FFT (pair sums cost m^2/2 vs about 40 N). */
export const SPARSE_MAX = 64;

/**
 * ESS of I(y <= q) for split chains laid out chain-major (`chains` × `n`), given the
 * ascending order `order` of y and the number K of draws with y <= q.
 */
export function indicatorEss(order: Uint32Array, K: number, chains: number, n: number): Estimate {
  const S = chains * n;
  if (K <= 0 || K >= S) return nan('the quantile indicator is constant');
  const rareIsOnes = K <= S - K;
  const start = rareIsOnes ? 0 : K;
  const end = rareIsOnes ? K : S;
  // Counting sort of the rare draws by chain.
  const offsets = new Int32Array(chains + 1);
  for (let i = start; i < end; i++) offsets[((order[i] / n) | 0) + 1]++;
  for (let c = 0; c < chains; c++) offsets[c + 1] += offsets[c];
  const fill = offsets.slice(0, chains);
  const pos = new Int32Array(end - start);
  for (let i = start; i < end; i++) {
    const o = order[i];
    const c = (o / n) | 0;
    pos[fill[c]++] = o - c * n;
  }
  const means = new Float64Array(chains);
  const pairs = new Float64Array(n);
  const hist = new Float64Array(n);
  let sumP2 = 0;
  const mask = new Uint8Array(n);
  const set = new Int32Array(n);
  const dense: number[] = [];
  for (let c = 0; c < chains; c++) {
    const a = offsets[c];
    const r = offsets[c + 1] - a;
    means[c] = rareIsOnes ? r / n : 1 - r / n;
    let m = r;
    if (2 * r > n) {
      // use the chain's other value: positions not among its rare draws
      mask.fill(0);
      for (let i = 0; i < r; i++) mask[pos[a + i]] = 1;
      m = 0;
      for (let t = 0; t < n; t++) if (mask[t] === 0) set[m++] = t;
    } else {
      for (let i = 0; i < r; i++) set[i] = pos[a + i];
    }
    if (m > SPARSE_MAX) {
      dense.push(c);
      continue;
    }
    const p = m / n;
    sumP2 += p * p;
    pairs[0] += m;
    for (let i = 0; i < m; i++) {
      const ti = set[i];
      hist[ti] += p;
      // Math.abs, not a branch on the sign: the positions come in value order, so the sign
      // is a coin flip (3.5x faster for this loop)
      for (let j = i + 1; j < m; j++) pairs[Math.abs(set[j] - ti)]++;
    }
  }
  const sparseChains = chains - dense.length;
  const acov = new Float64Array(n);
  if (sparseChains > 0) {
    // prefix[t] = sum_{s<=t} hist[s], suffix[t] = sum_{s>=t} hist[s]
    const prefix = new Float64Array(n);
    const suffix = new Float64Array(n);
    let acc = 0;
    for (let t = 0; t < n; t++) prefix[t] = acc += hist[t];
    acc = 0;
    for (let t = n - 1; t >= 0; t--) suffix[t] = acc += hist[t];
    for (let k = 0; k < n; k++) acov[k] = pairs[k] - prefix[n - 1 - k] - suffix[k] + (n - k) * sumP2;
  }
  if (dense.length > 0) {
    const D = dense.length;
    const mat = new Float64Array(D * n);
    for (let i = 0; i < D; i++) {
      const c = dense[i];
      const row = mat.subarray(i * n, (i + 1) * n);
      if (!rareIsOnes) row.fill(1);
      const v = rareIsOnes ? 1 : 0;
      for (let j = offsets[c]; j < offsets[c + 1]; j++) row[pos[j]] = v;
    }
    const dAcov = chainAutocovarianceMean(mat, D, n);
    for (let k = 0; k < n; k++) acov[k] += dAcov[k] * D * n;
  }
  const scale = 1 / (n * chains);
  for (let k = 0; k < n; k++) acov[k] *= scale;
  return essFromAcov(acov, means, chains, n);
}
