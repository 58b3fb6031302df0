/** Autocorrelation of a single chain, for plots. */
import { autocovariance } from './fft.ts';

/**
 * Autocorrelation function of one chain, rho_k = acov_k / acov_0 for lags 0..N-1
 * (biased autocovariance via FFT, as ArviZ's `autocorr`). All NaN for a constant chain.
 */
export function autocorrelation(chainValues: ArrayLike<number>): Float64Array {
  const acov = autocovariance(chainValues);
  const v0 = acov[0];
  for (let k = 0; k < acov.length; k++) acov[k] = v0 > 0 ? acov[k] / v0 : NaN;
  return acov;
}
