/**
 * Unit tests of the diagnostics kernels: FFT and autocovariance against direct sums,
 * the radix argsort and rank normalization, nested R-hat and E-BFMI worked by hand,
 * and NaN-with-a-reason for invalid input. (R goldens: diagnostics_golden.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import {
  acceptanceRate,
  argsort,
  autocorrelation,
  autocovariance,
  chainAutocovarianceMean,
  divergences,
  ebfmi,
  essBulk,
  essBulkEstimate,
  essTail,
  fft,
  mcseMean,
  nestedRhat,
  nestedRhatEstimate,
  quantile,
  rhat,
  rhatParts,
  summarize,
  superchainIds,
  zScale,
} from '../src/diagnostics/index.ts';
import { foldedZChainSums } from '../src/diagnostics/rank.ts';

/** Deterministic uniform(0,1) stream (Park–Miller minimal standard). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}
function normals(n: number, seed: number): Float64Array {
  const u = lcg(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

describe('fft', () => {
  it('matches a direct DFT for every power-of-two size up to 2048 and inverts', () => {
    const u = lcg(7);
    for (let M = 1; M <= 2048; M *= 2) {
      const re = Float64Array.from({ length: M }, u);
      const im = Float64Array.from({ length: M }, u);
      const r0 = re.slice();
      const i0 = im.slice();
      fft(re, im);
      let err = 0;
      for (const f of [0, 1, M >> 1, M - 1, (M * 3) >> 2]) {
        if (f >= M) continue;
        let sr = 0;
        let si = 0;
        for (let t = 0; t < M; t++) {
          const a = (-2 * Math.PI * ((f * t) % M)) / M;
          sr += r0[t] * Math.cos(a) - i0[t] * Math.sin(a);
          si += r0[t] * Math.sin(a) + i0[t] * Math.cos(a);
        }
        err = Math.max(err, Math.abs(sr - re[f]), Math.abs(si - im[f]));
      }
      expect(err, `size ${M}`).toBeLessThan(1e-10 * Math.max(1, M));
      fft(re, im, true);
      for (let t = 0; t < M; t++) {
        expect(re[t]).toBeCloseTo(r0[t], 12);
        expect(im[t]).toBeCloseTo(i0[t], 12);
      }
    }
  });

  it('rejects sizes that are not powers of two', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(RangeError);
  });

  it('a unit impulse has a flat spectrum; a cosine has two spikes', () => {
    const re = new Float64Array(16);
    const im = new Float64Array(16);
    re[0] = 1;
    fft(re, im);
    for (let f = 0; f < 16; f++) expect(re[f]).toBeCloseTo(1, 14);
    const c = Float64Array.from({ length: 16 }, (_, t) => Math.cos((2 * Math.PI * 3 * t) / 16));
    const z = new Float64Array(16);
    fft(c, z);
    expect(c[3]).toBeCloseTo(8, 12);
    expect(c[13]).toBeCloseTo(8, 12);
    expect(Math.abs(c[4])).toBeLessThan(1e-12);
  });
});

describe('autocovariance', () => {
  function direct(x: Float64Array, chains: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let c = 0; c < chains; c++) {
      let m = 0;
      for (let t = 0; t < n; t++) m += x[c * n + t];
      m /= n;
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let t = 0; t + k < n; t++) s += (x[c * n + t] - m) * (x[c * n + t + k] - m);
        out[k] += s / n / chains;
      }
    }
    return out;
  }

  it('chain-averaged FFT autocovariance equals the direct sum (odd and even chain counts, many lengths)', () => {
    for (const [chains, n] of [
      [1, 1],
      [1, 2],
      [3, 3],
      [5, 7],
      [2, 100],
      [7, 33],
      [4, 64],
      [3, 129],
    ]) {
      const x = normals(chains * n, chains * 1000 + n);
      const a = chainAutocovarianceMean(x, chains, n);
      const b = direct(x, chains, n);
      for (let k = 0; k < n; k++) expect(Math.abs(a[k] - b[k]), `C=${chains} N=${n} lag ${k}`).toBeLessThan(1e-13);
    }
  });

  it('is exactly zero for a constant chain and returns chain means', () => {
    const x = new Float64Array([2, 2, 2, 2, 1, 2, 3, 4]);
    const means = new Float64Array(2);
    const a = chainAutocovarianceMean(x, 2, 4, undefined, means);
    expect(Array.from(means)).toEqual([2, 2.5]);
    // only chain 2 contributes: acov0 = (2.25 + .25 + .25 + 2.25)/4 = 1.25, averaged over 2 chains
    expect(a[0]).toBeCloseTo(0.625, 14);
    expect(Array.from(autocovariance([3, 3, 3]))).toEqual([0, 0, 0]);
  });

  it('autocorrelation of an AR(1) chain decays like rho^k', () => {
    const e = normals(20000, 3);
    const x = new Float64Array(e.length);
    for (let t = 1; t < x.length; t++) x[t] = 0.5 * x[t - 1] + e[t];
    const r = autocorrelation(x);
    expect(r[0]).toBe(1);
    expect(r[1]).toBeCloseTo(0.5, 1);
    expect(r[2]).toBeCloseTo(0.25, 1);
    expect(autocorrelation([1, 1, 1]).every(Number.isNaN)).toBe(true);
  });
});

describe('argsort and rank normalization', () => {
  it('sorts float32-exact and float64 values, negatives, zeros and infinities', () => {
    const u = lcg(11);
    for (const make of [
      () => Math.fround(u() * 10 - 5),
      () => u() * 10 - 5,
      () => (u() < 0.5 ? -1 : 1) * Math.exp(40 * (u() - 0.5)),
      () => [0, -0, 1, -1, Infinity, -Infinity, 1e300, -1e-300][Math.floor(u() * 8)],
      () => 1e39 * (1 + u() * 1e-10), // beyond float32 range: every key ties, sorted on float64
    ]) {
      const x = Float64Array.from({ length: 3001 }, make);
      const { sorted, order } = argsort(x);
      const ref = Array.from(x).sort((a, b) => a - b);
      for (let i = 0; i < x.length; i++) expect(sorted[i] === ref[i], `position ${i}`).toBe(true);
      for (let i = 0; i < x.length; i++) expect(x[order[i]]).toBe(sorted[i]);
      for (let i = 1; i < x.length; i++) expect(sorted[i - 1] <= sorted[i]).toBe(true);
    }
  });

  it('is stable and exact on large samples: many ties, narrow and wide ranges, float32 and float64', () => {
    const u = lcg(5);
    for (const [make, n] of [
      [() => Math.fround(7 + 3 * (u() + u() + u() - 1.5)), 200_003], // float32 draws: many ties, few top buckets
      [() => Math.fround(11.4 + 1e-3 * u()), 200_003], // one top bucket, both low digits vary
      [() => Math.fround(1 + 2 ** -20 * Math.floor(u() * 8)), 200_003], // one top bucket, low digit constant
      [() => Math.fround(u() < 0.5 ? -u() : u() * 1e6), 200_003], // both signs, wide exponents
      [() => Math.fround(2 ** (Math.floor(u() * 2000) * 0.1 - 100)), 20_000], // small buckets (insertion sort) full of ties
      [() => 7 + 3 * (u() - 0.5) + 1e-12 * u(), 200_003], // float64: float32 images tie in runs
    ] as const) {
      const x = Float64Array.from({ length: n }, make);
      const { sorted, order } = argsort(x);
      const ref = Array.from(x.keys()).sort((a, b) => x[a] - x[b] || a - b);
      let same = true;
      for (let i = 0; i < x.length && same; i++) same = order[i] === ref[i] && sorted[i] === x[ref[i]];
      expect(same).toBe(true);
    }
  });

  it('z-scale uses average ranks for ties and Blom offset 3/8', () => {
    // ranks of [3, 1, 3, 2] are [3.5, 1, 3.5, 2]; S = 4, denominator S - 3/4 + 1 = 4.25
    const z = zScale([3, 1, 3, 2]);
    const expected = [3.5, 1, 3.5, 2].map((r) => (r - 0.375) / 4.25);
    // z = qnorm(expected): check monotone map and symmetry of ties
    expect(z[0]).toBe(z[2]);
    expect(z[1]).toBeLessThan(z[3]);
    expect(z[3]).toBeLessThan(z[0]);
    expect(expected[1]).toBeCloseTo(0.625 / 4.25, 15);
    // R: qnorm((c(3.5, 1, 2) - 0.375) / 4.25) = 0.6289042 -1.0491314 -0.2993069
    expect(z[0]).toBeCloseTo(0.6289042, 6);
    expect(z[1]).toBeCloseTo(-1.0491314, 6);
    expect(z[3]).toBeCloseTo(-0.2993069, 6);
  });

  it('folds sorted draws around the median without a second sort: per-chain sums of z(|x - m|)', () => {
    // 3 chains x 4 draws; 0.15 -/+ 0.5 and 0.15 -/+ 1 fold to ties across the median
    const x = new Float64Array([-3, -1, 0.5, 2, 4, -0.2, -0.35, 0.65, 1.15, -0.85, 0.15, 7]);
    const m = 0.15;
    const { sorted, order } = argsort(x);
    const { sums, squares } = foldedZChainSums(sorted, order, m, 3, 4);
    const z = zScale(Array.from(x, (v) => Math.abs(v - m))); // average ranks of the folded values
    for (let c = 0; c < 3; c++) {
      const zc = Array.from(z.subarray(4 * c, 4 * c + 4));
      expect(sums[c]).toBeCloseTo(zc.reduce((a, b) => a + b, 0), 12);
      expect(squares[c]).toBeCloseTo(zc.reduce((a, b) => a + b * b, 0), 12);
    }
  });

  it('ranks long runs of ties on one side and across the median as the folded draws sorted afresh', () => {
    // 40 chains x 50 draws on a grid of halves: runs of hundreds of equal draws on each side,
    // and m - a === b - m across the median for every pair of grid points
    const chains = 40;
    const n = 50;
    let s = 12345;
    const x = Float64Array.from({ length: chains * n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return Math.round(((s / 2 ** 32) * 2 - 1) * 6) / 2;
    });
    for (const m of [0, 0.25, 0.5, -1.5]) {
      const { sorted, order } = argsort(x);
      const { sums, squares } = foldedZChainSums(sorted, order, m, chains, n);
      const z = zScale(Array.from(x, (v) => Math.abs(v - m)));
      for (let c = 0; c < chains; c++) {
        const zc = Array.from(z.subarray(n * c, n * c + n));
        expect(sums[c]).toBeCloseTo(zc.reduce((a, b) => a + b, 0), 10);
        expect(squares[c]).toBeCloseTo(zc.reduce((a, b) => a + b * b, 0), 10);
      }
    }
  });
});

describe('nested R-hat (Margossian et al. 2024)', () => {
  // 4 chains × 2 draws, superchains {0,1} and {2,3}:
  //   chain means 2, 3, 6, 8; chain variances 2, 2, 2, 8; superchain means 2.5, 7
  //   B_nu = var(2.5, 7) = 10.125;  B_k = var(2,3) = 0.5, var(6,8) = 2;  W_k = 2, 5
  //   W_nu = ((0.5 + 2) + (2 + 5)) / 2 = 4.75;  nR-hat = sqrt(1 + 10.125 / 4.75)
  const x = new Float64Array([1, 3, 2, 4, 5, 7, 6, 10]);
  const handWorked = Math.sqrt(1 + 10.125 / 4.75);

  it('equals the formula worked by hand', () => {
    expect(handWorked).toBeCloseTo(1.7696267, 6);
    expect(nestedRhat(x, 4, 2, 2)).toBeCloseTo(handWorked, 14);
    expect(nestedRhat(x, 4, 2, [7, 7, 9, 9])).toBeCloseTo(handWorked, 14);
  });

  it('groups by explicit ids (posterior::rhat_nested superchain_ids)', () => {
    // superchains {0,2} and {1,3}: means (2+6)/2 = 4, (3+8)/2 = 5.5 → B_nu = 1.125
    // B_k = var(2,6) = 8, var(3,8) = 12.5; W_k = 2, 5 → W_nu = (10 + 17.5)/2 = 13.75
    expect(nestedRhat(x, 4, 2, [0, 1, 0, 1])).toBeCloseTo(Math.sqrt(1 + 1.125 / 13.75), 14);
  });

  it('one chain per superchain drops the between-chain term; one draw drops the within term', () => {
    // 2 superchains of 1 chain: B_nu = var(means), W_nu = mean(chain variances)
    const y = new Float64Array([1, 3, 2, 6]);
    expect(nestedRhat(y, 2, 2, 2)).toBeCloseTo(Math.sqrt(1 + 2 / ((2 + 8) / 2)), 14);
    // 4 chains × 1 draw in 2 superchains: W_k = 0, B_k = var(0, 2) = 2, var(5, 9) = 8;
    // superchain means 1, 7 → B_nu = 18, W_nu = 5
    const z = new Float64Array([0, 2, 5, 9]);
    expect(nestedRhat(z, 4, 1, 2)).toBeCloseTo(Math.sqrt(1 + 18 / 5), 14);
  });

  it('gives NaN with a reason for invalid groupings and constant draws', () => {
    expect(nestedRhatEstimate(x, 4, 2, 3).reason).toMatch(/cannot be split/);
    expect(nestedRhatEstimate(x, 4, 2, 1).reason).toMatch(/at least 2 superchains/);
    expect(nestedRhatEstimate(x, 4, 2, [0, 0, 0, 1]).reason).toMatch(/same number/);
    expect(nestedRhatEstimate(x, 4, 2, [0, 1]).reason).toMatch(/one per chain/);
    expect(Number.isNaN(nestedRhat(new Float64Array(8).fill(1), 4, 2, 2))).toBe(true);
    expect(superchainIds(6, 3)).toEqual(Int32Array.from([0, 0, 1, 1, 2, 2]));
  });

  it('flags superchains that never mixed in a summary', () => {
    const chains = 64;
    const draws = 50;
    const v = normals(chains * draws, 5);
    for (let c = 0; c < chains; c++) for (let d = 0; d < draws; d++) v[c * draws + d] += c < 32 ? 0 : 3;
    const s = summarize({ theta: v }, chains, draws, { superchains: 8 });
    expect(s.params.theta.rhat_nested).toBeGreaterThan(1.5);
    expect(s.warnings.join()).toMatch(/nested R-hat/);
  });
});

describe('sampler diagnostics', () => {
  it('E-BFMI is sum(dE^2) / sum((E - mean E)^2) per chain', () => {
    // chain 0: E = 1,3,2,6: dE = 2,-1,4 → 21; mean 3 → 4+0+1+9 = 14 → 1.5
    // chain 1: E = 0,1,0,1: dE^2 sum 3; deviations 0.25 × 4 = 1 → 3
    const e = ebfmi(new Float64Array([1, 3, 2, 6, 0, 1, 0, 1, 5, 5, 5, 5]), 3, 4);
    expect(e[0]).toBeCloseTo(1.5, 15);
    expect(e[1]).toBeCloseTo(3, 15);
    expect(e[2]).toBeNaN();
    expect(Number.isNaN(ebfmi(new Float32Array([1, 2]), 2, 1)[0])).toBe(true);
  });

  it('counts divergences per chain and in total; averages acceptance', () => {
    const d = divergences(new Uint8Array([0, 1, 1, 0, 0, 0, 1, 0, 0]), 3, 3);
    expect(d.total).toBe(3);
    expect(Array.from(d.perChain)).toEqual([2, 0, 1]);
    expect(acceptanceRate(new Float64Array([0.5, 1, 0.75, 0.75]))).toBe(0.75);
    const s = summarize({ a: normals(40, 1) }, 2, 20, {
      energy: normals(40, 2),
      divergent: new Uint8Array(40).fill(1, 0, 3),
      acceptProb: new Float64Array(40).fill(0.8),
    });
    expect(s.divergences).toBe(3);
    expect(s.divergencesPerChain).toEqual([3, 0]);
    expect(s.acceptRate).toBeCloseTo(0.8, 15);
    expect(s.ebfmi).toHaveLength(2);
  });
});

describe('invalid input: NaN with a reason, never a throw deep inside', () => {
  it('too few draws', () => {
    const x = normals(4 * 5, 1);
    expect(essBulk(x, 4, 5)).toBeNaN();
    expect(essBulkEstimate(x, 4, 5).reason).toMatch(/at least 3 draws per split chain/);
    expect(rhat(normals(4 * 3, 1), 4, 3)).toBeNaN();
    expect(rhatParts(normals(4 * 3, 1), 4, 3).rhat.reason).toMatch(/at least 4 draws/);
    const s = summarize({ a: x }, 4, 5).params.a;
    expect(s.ess_bulk).toBeNaN();
    expect(s.mcse_mean).toBeNaN();
    expect(Number.isFinite(s.rhat)).toBe(true); // 4 chains × 5 draws still has split R-hat
    expect(s.reasons.join()).toMatch(/ESS and MCSE need at least 6 draws/);
    const one = summarize({ a: new Float64Array([1]) }, 1, 1).params.a;
    expect(one.sd).toBeNaN();
    expect(one.reasons.length).toBeGreaterThan(0);
  });

  it('a single chain still gives split R-hat and ESS (two halves)', () => {
    const x = normals(100, 4);
    expect(Number.isFinite(rhat(x, 1, 100))).toBe(true);
    expect(Number.isFinite(essBulk(x, 1, 100))).toBe(true);
    const s = summarize({ a: new Float64Array([1, 2, 3]) }, 1, 3).params.a;
    expect(s.rhat).toBeNaN();
    expect(s.reasons.join()).toMatch(/R-hat|ESS/);
  });

  it('constant parameters and non-finite draws', () => {
    const c = new Float32Array(400).fill(0.25);
    const s = summarize({ c }, 4, 100).params.c;
    expect(s.mean).toBe(0.25);
    expect(s.sd).toBe(0);
    expect(s.q5).toBe(0.25);
    expect(s.rhat).toBeNaN();
    expect(s.ess_bulk).toBeNaN();
    expect(s.reasons.join()).toMatch(/constant/);
    const y = normals(400, 9);
    y[17] = NaN;
    const t = summarize({ y }, 4, 100).params.y;
    expect(t.rhat).toBeNaN();
    expect(t.q50).toBeNaN();
    expect(t.reasons.join()).toMatch(/non-finite/);
    expect(essTail(y, 4, 100)).toBeNaN();
    expect(mcseMean(y, 4, 100)).toBeNaN();
    expect(quantile(y, 4, 100, 0.5)).toBeNaN();
  });

  it('shape mismatches throw a RangeError at the door', () => {
    expect(() => rhat(new Float64Array(10), 3, 3)).toThrow(RangeError);
    expect(() => summarize({ a: new Float64Array(10) }, 2, 4)).toThrow(RangeError);
    expect(() => essBulk(new Float64Array(0), 0, 0)).toThrow(RangeError);
  });
});

describe('many chains', () => {
  it('R-hat near 1 and ESS near S for iid draws over 512 chains; detects a shifted block', () => {
    const chains = 512;
    const draws = 100;
    const x = normals(chains * draws, 21);
    expect(rhat(x, chains, draws)).toBeLessThan(1.01);
    const ess = essBulk(x, chains, draws);
    expect(ess / (chains * draws)).toBeGreaterThan(0.9);
    expect(ess / (chains * draws)).toBeLessThan(1.1);
    for (let i = 0; i < 64 * draws; i++) x[i] += 1;
    expect(rhat(x, chains, draws)).toBeGreaterThan(1.05);
  });
});

describe('tail ESS from the sort (sparse pair sums + FFT for dense chains)', () => {
  it('equals the FFT ESS of the indicator chains, with chains stuck near the quantile', async () => {
    const { indicatorEss } = await import('../src/diagnostics/indicator.ts');
    const { essKernel } = await import('../src/diagnostics/ess.ts');
    const chains = 24;
    const n = 500;
    const y = normals(chains * n, 77);
    // chains 0-3 sit low (many draws under the 5% quantile: the FFT path),
    // chain 5 sits high (all above: the complement path), chain 6 is AR(1).
    for (let c = 0; c < 4; c++) for (let t = 0; t < n; t++) y[c * n + t] -= 1.2 + 0.2 * c;
    for (let t = 0; t < n; t++) y[5 * n + t] += 6;
    for (let t = 1; t < n; t++) y[6 * n + t] = 0.9 * y[6 * n + t - 1] + 0.3 * y[6 * n + t];
    const { sorted, order } = argsort(y);
    for (const p of [0.05, 0.3, 0.5, 0.95]) {
      const q = sorted[Math.floor(p * sorted.length)];
      let K = 0;
      while (K < sorted.length && sorted[K] <= q) K++;
      const ind = Float64Array.from(y, (v) => (v <= q ? 1 : 0));
      const ref = essKernel({ data: ind, chains, n }).value;
      const got = indicatorEss(order, K, chains, n).value;
      expect(Math.abs(got - ref) / ref, `p = ${p}: ${got} vs ${ref}`).toBeLessThan(1e-9);
    }
    expect(indicatorEss(order, 0, chains, n).reason).toMatch(/constant/);
  });
});
