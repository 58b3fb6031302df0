import { describe, expect, it } from 'vitest';
import { coverage, ecdfBand, ecdfCounts, inBand, rankOf, thinIndices } from '../src/sbc/ranks.ts';
import { drawTruth, simulateData, simulation } from '../src/sbc/simulate.ts';
import { samplerSeed, shardsOf, assemble, rankedNames, type FitResult, type SbcConfig } from '../src/sbc/sbc.ts';
import { canonicalJson, parseJob, specKey, type SbcSpec } from '../src/queue/jobs.ts';
import { xorshift32Uniforms } from '../src/sampler/rng.ts';
import { rhatEssBulk, summarizeParam } from '../src/diagnostics/summary.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import { PredictiveVariates } from '../src/io/inference_data.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import { familyData } from './family_data.ts';
import { seedData } from './gpu_helpers.ts';
import { readFileSync } from 'node:fs';

describe('ECDF band of uniform ranks (Säilynoja, Bürkner & Vehtari 2022)', () => {
  const L = 99;
  const uniformRanks = (u: () => number, N: number) => Int32Array.from({ length: N }, () => Math.min(L, Math.floor(u() * (L + 1))));

  it('holds uniform ranks about 95% of the time, simultaneously over all 99 points (a seed other than the band\'s own)', () => {
    const N = 200;
    const band = ecdfBand(N, L, 0.05);
    const u = xorshift32Uniforms(987654321);
    let inside = 0;
    const M = 600;
    for (let m = 0; m < M; m++) if (inBand(uniformRanks(u, N), band).inBand) inside++;
    // Binomial(600, 0.95): sd 0.9%; 4 sd either side.
    expect(inside / M).toBeGreaterThan(0.914);
    expect(inside / M).toBeLessThan(0.986);
    // The pointwise level is well below 5%: the band is simultaneous.
    expect(band.gamma).toBeLessThan(0.01);
    expect(band.gamma).toBeGreaterThan(1e-4);
  });

  it('a stricter alpha widens the band and holds more often', () => {
    const N = 200;
    const a = ecdfBand(N, L, 0.05);
    const b = ecdfBand(N, L, 0.05 / 12);
    for (let i = 0; i < L; i++) {
      expect(b.lower[i]).toBeLessThanOrEqual(a.lower[i]);
      expect(b.upper[i]).toBeGreaterThanOrEqual(a.upper[i]);
    }
    const u = xorshift32Uniforms(42);
    let inside = 0;
    for (let m = 0; m < 300; m++) if (inBand(uniformRanks(u, N), b).inBand) inside++;
    expect(inside / 300).toBeGreaterThan(0.98);
  });

  it('flags ranks that are not uniform: a posterior too wide (ranks piled in the middle) and one shifted', () => {
    const N = 500;
    const band = ecdfBand(N, L);
    const u = xorshift32Uniforms(7);
    const middle = Int32Array.from({ length: N }, () => Math.min(L, Math.floor(((u() + u()) / 2) * (L + 1))));
    const shifted = Int32Array.from({ length: N }, () => Math.min(L, Math.floor(Math.pow(u(), 1.4) * (L + 1))));
    expect(inBand(middle, band).inBand).toBe(false);
    expect(inBand(shifted, band).inBand).toBe(false);
    expect(inBand(shifted, band).maxDeviation).toBeGreaterThan(0.05);
  });

  it('counts below each point, and central-interval coverage', () => {
    expect(Array.from(ecdfCounts([0, 0, 3, 99], L).slice(0, 5))).toEqual([2, 2, 2, 3, 3]);
    expect(ecdfCounts([0, 0, 3, 99], L)[L - 1]).toBe(3);
    const all = Int32Array.from({ length: L + 1 }, (_, i) => i);
    const c = coverage(all, L);
    expect(c['0.5']).toBeCloseTo(0.5, 1);
    expect(c['0.9']).toBeCloseTo(0.9, 1);
  });
});

describe("SBC's per-fit diagnostics", () => {
  it('rhatEssBulk equals the summary\'s R-hat and bulk ESS to the bit (and NaN where the summary has none)', () => {
    const u = xorshift32Uniforms(5);
    for (const [C, N, ar] of [[64, 200, 0.9], [16, 100, 0.3], [4, 9, 0.5]] as const) {
      const v = new Float64Array(C * N);
      for (let c = 0; c < C; c++) for (let d = 0, x = 0; d < N; d++) v[c * N + d] = x = ar * x + (u() - 0.5) + 0.01 * c;
      const s = summarizeParam(v, C, N);
      const r = rhatEssBulk(v, C, N);
      expect(r.rhat).toBe(s.rhat);
      expect(r.ess_bulk).toBe(s.ess_bulk);
    }
    expect(rhatEssBulk(new Float64Array(40).fill(2), 4, 10).rhat).toBeNaN();
    expect(rhatEssBulk(Float64Array.of(1, NaN, 3, 4, 5, 6, 7, 8), 2, 4).ess_bulk).toBeNaN();
  });
});

describe('ranks and thinning', () => {
  it('thinned draws spread over every chain and far apart within one', () => {
    const idx = thinIndices(64, 200, 99);
    expect(new Set(idx).size).toBe(99);
    const chains = new Set(Array.from(idx, (i) => Math.floor(i / 200)));
    expect(chains.size).toBe(64);
    for (const i of idx) expect(i % 200).toBeGreaterThanOrEqual(99);
    const one = thinIndices(1, 1000, 99);
    expect(one[0] - one[1]).toBe(10);
    expect(() => thinIndices(4, 20, 99)).toThrow(RangeError);
  });

  it('rank = number of thinned draws below the truth', () => {
    const v = Float64Array.of(5, 1, 9, 3, NaN, 7);
    expect(rankOf(v, [0, 1, 2, 3, 4, 5], 6)).toBe(3);
    expect(rankOf(v, [1, 3], 0)).toBe(0);
    expect(rankOf(v, [1, 3], 100)).toBe(2);
  });
});

describe('simulations', () => {
  it('draws mu, tau and theta from the priors (moments over 20,000 draws)', () => {
    const rng = new PredictiveVariates(keyFromSeed(3));
    rng.start(0, 0);
    const n = 20000;
    let mu = 0;
    let mu2 = 0;
    let tau = 0;
    let tau2 = 0;
    let dev2 = 0;
    for (let i = 0; i < n; i++) {
      const t = drawTruth({ mu: { kind: 'normal', loc: 1, scale: 2 }, tau: { kind: 'halfnormal', scale: 3 } }, 2, rng);
      mu += t.mu / n;
      mu2 += (t.mu * t.mu) / n;
      tau += t.tau / n;
      tau2 += (t.tau * t.tau) / n;
      dev2 += ((t.theta[0] - t.mu) ** 2 / (t.tau * t.tau)) / n;
    }
    expect(mu).toBeCloseTo(1, 1);
    expect(Math.sqrt(mu2 - mu * mu)).toBeCloseTo(2, 1);
    // HalfNormal(3): mean 3 sqrt(2/pi), second moment 9.
    expect(tau).toBeCloseTo(3 * Math.sqrt(2 / Math.PI), 1);
    expect(tau2 / 9).toBeCloseTo(1, 1);
    expect(dev2).toBeCloseTo(1, 1);
    // HalfCauchy(1): median 1.
    const hc = Array.from({ length: 4001 }, () => drawTruth({ mu: DEFAULT_PRIORS.mu, tau: { kind: 'halfcauchy', scale: 1 } }, 0, rng).tau).sort((a, b) => a - b);
    expect(hc[2000]).toBeGreaterThan(0.9);
    expect(hc[2000]).toBeLessThan(1.1);
  });

  it("keeps the design's structure and replaces y from the family (binomial: counts within trials)", () => {
    const { data } = familyData('binomial', 6, { seed: 2 });
    const rng = new PredictiveVariates(keyFromSeed(1));
    rng.start(0, 0);
    const sim = simulateData(data, { mu: 0, tau: 1, theta: Float64Array.of(-3, -1, 0, 1, 3, 0) }, rng);
    expect(sim.group).toBe(data.group);
    expect(sim.columns).toBe(data.columns);
    const trials = data.columns!.trials;
    for (let i = 0; i < sim.y.length; i++) {
      expect(Number.isInteger(sim.y[i])).toBe(true);
      expect(sim.y[i]).toBeGreaterThanOrEqual(0);
      expect(sim.y[i]).toBeLessThanOrEqual(trials[i]);
    }
  });

  it('simulation i is the same whatever else runs; other i or seeds differ', () => {
    const d = seedData('weak');
    const a = simulation(d, DEFAULT_PRIORS, 5, 17);
    const b = simulation(d, DEFAULT_PRIORS, 5, 17);
    expect(Array.from(a.data.y)).toEqual(Array.from(b.data.y));
    expect(a.truth.mu).toBe(b.truth.mu);
    expect(simulation(d, DEFAULT_PRIORS, 5, 18).truth.mu).not.toBe(a.truth.mu);
    expect(simulation(d, DEFAULT_PRIORS, 6, 17).truth.mu).not.toBe(a.truth.mu);
    expect(samplerSeed(5, 17)).not.toBe(samplerSeed(5, 18));
    expect(samplerSeed(2 ** 53 - 1, 1e9)).toBeLessThan(2 ** 53);
  });
});

describe('jobs and their assembly', () => {
  const text = readFileSync(new URL('../demo/data/weak.json', import.meta.url), 'utf8');
  const spec: SbcSpec = { design: { name: 'weak.json', format: 'json', text }, params: ['centered', 'auto'], sims: 10, chains: 16, warmup: 10, draws: 20, seed: 3, muPrior: 'normal:0,5', tauPrior: 'halfnormal:5', simMuPrior: 'normal:0,5', simTauPrior: 'halfnormal:5' };

  it('a job is data, checked like CLI input, naming the field', () => {
    const job = { kind: 'sbc-shard', spec, shard: { param: 'auto', first: 4, count: 6 } };
    expect(parseJob(JSON.parse(JSON.stringify(job)))).toEqual(job);
    expect(() => parseJob({ ...job, kind: 'shell' })).toThrow(/job.kind/);
    expect(() => parseJob({ ...job, shard: { param: 'auto', first: 5, count: 6 } })).toThrow(/beyond/);
    expect(() => parseJob({ ...job, shard: { param: 'partial:1', first: 0, count: 1 } })).toThrow(/job.shard.param/);
    expect(() => parseJob({ ...job, spec: { ...spec, sims: -1 } })).toThrow(/job.spec.sims/);
    expect(() => parseJob({ ...job, spec: { ...spec, tauPrior: 'uniform:0,1' } })).toThrow(/--tau-prior/);
    expect(() => parseJob({ ...job, spec: { ...spec, design: { ...spec.design, text: '{"y": [1, "x"], "idx": [0, 0], "sigma": 1}' } } })).toThrow(/y\[1\]/);
    expect(() => parseJob({ ...job, spec: { ...spec, draws: 4 } })).toThrow(/fewer than the 99/);
  });

  it('the spec key is canonical: key order does not change it, any value does', () => {
    const shuffled = JSON.parse(canonicalJson(spec)) as SbcSpec;
    expect(specKey({ ...shuffled })).toBe(specKey(spec));
    expect(specKey({ ...spec, seed: 4 })).not.toBe(specKey(spec));
  });

  it('shards cover every simulation of every parameterization once; assembly needs them all', () => {
    const d = seedData('weak');
    const cfg: SbcConfig = { design: d, params: ['centered', 'noncentered'], sims: 10, chains: 16, warmup: 1, draws: 100, seed: 1, priors: DEFAULT_PRIORS, simPriors: DEFAULT_PRIORS };
    const shards = shardsOf(cfg, 4);
    expect(shards.map((s) => `${s.param}:${s.first}+${s.count}`)).toEqual(['centered:0+4', 'centered:4+4', 'centered:8+2', 'noncentered:0+4', 'noncentered:4+4', 'noncentered:8+2']);
    const names = rankedNames(d);
    const u = xorshift32Uniforms(1);
    const fit = (sim: number): FitResult => ({ sim, truth: { mu: 0, tau: 1 }, ranks: Object.fromEntries(names.map((n) => [n, Math.floor(u() * 100)])), divergences: sim === 3 ? 2 : 0, rhat_max: 1.001, ess_bulk_min: 900 + sim, step_size: 0.3, leapfrog_steps: 5, high_rhat: false, low_ess: false, failed: sim === 3 });
    const all = new Map([
      ['centered', Array.from({ length: 10 }, (_, i) => fit(9 - i))],
      ['noncentered', Array.from({ length: 10 }, (_, i) => fit(i))],
    ]);
    const a = assemble(cfg, all);
    expect(a.results.length).toBe(2 * names.length);
    expect(a.summary[0]).toMatchObject({ param: 'centered', fits: 10, failed_fits: 1, divergent_fits: 1, divergences: 2, parameters: names.length });
    // Ranks come out ordered by simulation.
    const c0 = a.results.find((r) => r.param === 'centered' && r.parameter === 'mu')!;
    expect(c0.ranks).toEqual(all.get('centered')!.slice().reverse().map((f) => f.ranks.mu));
    expect(() => assemble(cfg, new Map([['centered', all.get('centered')!.slice(1)], ['noncentered', all.get('noncentered')!]]))).toThrow(/9 of 10/);
  });
});
