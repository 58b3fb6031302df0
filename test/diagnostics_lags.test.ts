/**
 * ESS from the first lags by direct sums (`essOfSeries`, `chainAutocovarianceLags`):
 * - the direct lags equal the FFT autocovariance (`chainAutocovarianceMean`) to rounding,
 *   in any blocks, with the same chain means, for short and long chains;
 * - `essOfSeries` equals `essFromAcov` on the full FFT autocovariance, both where Geyer's
 *   sequence stops within the direct lags (fast mixing) and where it needs the FFT
 *   (slow mixing, or chains that disagree), with a constant chain among them;
 * - `geyerEssUpTo` asks for more lags exactly when the sequence reads past the ones given.
 */
import { describe, expect, it } from 'vitest';
import { chainAutocovarianceMean } from '../src/diagnostics/fft.ts';
import { chainAutocovarianceLags } from '../src/diagnostics/lags.ts';
import { essFromAcov, essOfSeries, geyerEss, geyerEssUpTo, DIRECT_LAG_STEPS } from '../src/diagnostics/ess.ts';
import { sampleVariance } from '../src/diagnostics/rhat.ts';

/** AR(1) chains, chain-major, from a fixed Lehmer generator; chain c shifted by c * shift. */
function ar1(chains: number, n: number, rho: number, seed: number, shift = 0): Float64Array {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const out = new Float64Array(chains * n);
  for (let c = 0; c < chains; c++) {
    let x = 0;
    for (let t = 0; t < n; t++) {
      x = rho * x + Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      out[c * n + t] = x + shift * c;
    }
  }
  return out;
}

describe('direct autocovariance lags', () => {
  it('equal the FFT autocovariance at every lag, in blocks, with the same chain means', () => {
    for (const n of [3, 4, 5, 7, 8, 13, 64, 101]) {
      const chains = 6;
      const x = ar1(chains, n, 0.6, 7 + n, 0.1);
      const meansF = new Float64Array(chains);
      const fft = chainAutocovarianceMean(x, chains, n, new Float64Array(n), meansF);
      const direct = new Float64Array(n);
      const meansD = new Float64Array(chains);
      chainAutocovarianceLags(x, chains, n, 0, 4, direct, meansD);
      chainAutocovarianceLags(x, chains, n, 4, 9, direct);
      chainAutocovarianceLags(x, chains, n, 9, n + 5, direct);
      expect(Array.from(meansD)).toEqual(Array.from(meansF));
      for (let k = 0; k < n; k++) expect(Math.abs(direct[k] - fft[k]), `n ${n}, lag ${k}`).toBeLessThan(1e-13 * fft[0]);
    }
  });
});

describe('essOfSeries', () => {
  // [label, rho, draws per chain, shift between chains, whether the FFT is needed]
  const cases: [string, number, number, number, boolean][] = [
    ['iid (stops within the first direct lags)', 0, 200, 0, false],
    ['rho 0.5 (within the direct lags)', 0.5, 200, 0, false],
    ['rho 0.97 (needs the FFT)', 0.97, 300, 0, true],
    ['chains that disagree: rho_t stays positive (needs the FFT)', 0, 200, 0.1, true],
  ];
  for (const [label, rho, n, shift, needsFft] of cases) {
    it(`equals essFromAcov on the FFT autocovariance: ${label}`, () => {
      const chains = 16;
      const x = ar1(chains, n, rho, 99, shift);
      // a constant chain among them: centred to exact zeros on both paths
      x.fill(0, 3 * n, 4 * n);
      const acovF = new Float64Array(n);
      const meansF = new Float64Array(chains);
      chainAutocovarianceMean(x, chains, n, acovF, meansF);
      const expected = essFromAcov(acovF, meansF, chains, n);
      const acov = new Float64Array(n);
      const means = new Float64Array(chains);
      const got = essOfSeries(x, chains, n, acov, means);
      expect(Math.abs(got.value - expected.value) / expected.value).toBeLessThan(1e-12);
      expect(got.reason).toBe(expected.reason);
      expect(Math.abs(acov[0] - acovF[0]) / acovF[0]).toBeLessThan(1e-13);
      expect(Array.from(means)).toEqual(Array.from(meansF));
      // Which path it took: the direct lags suffice unless the chains mix slowly or disagree.
      const varMeans = sampleVariance(meansF, chains);
      const direct = geyerEssUpTo(acovF, chains, n, varMeans, DIRECT_LAG_STEPS[DIRECT_LAG_STEPS.length - 1]);
      expect(direct === null).toBe(needsFft);
    });
  }

  it('geyerEssUpTo: null exactly when the sequence reads past the given lags, else geyerEss', () => {
    const chains = 8;
    const n = 100;
    const x = ar1(chains, n, 0.7, 5);
    const acov = new Float64Array(n);
    const means = new Float64Array(chains);
    chainAutocovarianceMean(x, chains, n, acov, means);
    const v = sampleVariance(means, chains);
    const full = geyerEss(acov, chains, n, v);
    let first = -1;
    for (let a = 2; a <= n; a++) {
      const r = geyerEssUpTo(acov, chains, n, v, a);
      if (r !== null) {
        if (first < 0) first = a;
        expect(r).toEqual(full);
      } else {
        expect(first, 'once enough, more lags stay enough').toBe(-1);
      }
    }
    expect(first).toBeGreaterThan(2);
    // It reads no lag beyond those it asked for: poisoned later lags change nothing.
    const poisoned = Float64Array.from(acov).fill(NaN, first);
    expect(geyerEssUpTo(poisoned, chains, n, v, first)).toEqual(full);
  });
});
