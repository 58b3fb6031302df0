/**
 * The chain-averaged autocovariance at its first lags, by direct sums:
 *   out[k] = (1/C) sum_c (1/N) sum_{t < N-k} (x_{c,t} - xbar_c)(x_{c,t+k} - xbar_c),
 * the same quantity (and the same chain centring) as `chainAutocovarianceMean`, which
 * computes every lag at once by FFT. Geyer's initial positive sequence usually stops
 * after a few lags (ESS near the number of draws: lags 0..3 here, 0..11 for a slower
 * parameter of the main job), and a few direct lags cost less than the transforms
 * (about 4 multiply-adds per draw against about 30).
 */
import { centre } from './fft.ts';

/** Reusable centred-chain buffer (one chain of n draws). */
let chainScratch = new Float64Array(0);

/**
 * Writes the chain-averaged autocovariance at lags from..to-1 of the chain-major
 * (chains × n) series x into out[from..to-1]; when `means` is given, the chain means too
 * (as `chainAutocovarianceMean` returns them). `knownMeans`, the chain means a previous
 * call wrote for the same x, saves the pass that finds them (the centred chain is the
 * same, a constant chain included: x0 - x0 = 0).
 */
export function chainAutocovarianceLags(
  x: Float64Array,
  chains: number,
  n: number,
  from: number,
  to: number,
  out: Float64Array,
  means?: Float64Array,
  knownMeans?: Float64Array,
): void {
  to = Math.min(to, n);
  if (to <= from) return;
  if (chainScratch.length < n) chainScratch = new Float64Array(n);
  const y = chainScratch;
  const L = to - from;
  const acc = new Float64Array(L);
  for (let c = 0; c < chains; c++) {
    if (knownMeans) {
      const m = knownMeans[c];
      const off = c * n;
      for (let i = 0; i < n; i++) y[i] = x[off + i] - m;
    } else {
      const m = centre(x, c * n, n, y);
      if (means) means[c] = m;
    }
    // Four lags per pass over the chain: four independent sums (not one chain of
    // dependent additions), each y[t] loaded once, and the four lagged values carried in a
    // sliding window (one new load per step, not four: 25% faster per series, the same
    // sums in the same order, so the same bits). Eight lags per pass were slower.
    let j = 0;
    for (; j + 4 <= L; j += 4) {
      const k = from + j;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const end = n - k - 3; // t + k + 3 < n: all four lags in range
      // (read only when the loop below runs, i.e. when k + 3 < n)
      let w0 = end > 0 ? y[k] : 0;
      let w1 = end > 0 ? y[k + 1] : 0;
      let w2 = end > 0 ? y[k + 2] : 0;
      let t = 0;
      for (; t < end; t++) {
        const a = y[t];
        const w3 = y[t + k + 3];
        s0 += a * w0;
        s1 += a * w1;
        s2 += a * w2;
        s3 += a * w3;
        w0 = w1;
        w1 = w2;
        w2 = w3;
      }
      for (; t + k < n; t++) {
        const a = y[t];
        s0 += a * y[t + k];
        if (t + k + 1 < n) s1 += a * y[t + k + 1];
        if (t + k + 2 < n) s2 += a * y[t + k + 2];
      }
      acc[j] += s0;
      acc[j + 1] += s1;
      acc[j + 2] += s2;
      acc[j + 3] += s3;
    }
    for (; j < L; j++) {
      const k = from + j;
      let s = 0;
      for (let t = 0; t + k < n; t++) s += y[t] * y[t + k];
      acc[j] += s;
    }
  }
  const scale = 1 / (n * chains);
  for (let j = 0; j < L; j++) out[from + j] = acc[j] * scale;
}
