/**
 * The demo page's pure parts for a likelihood family with a global parameter of its own (the
 * normal likelihood with unknown sigma, `normal_sigma`), in Node: the generator's true sigma
 * field, pasted data without sigma read as sigma unknown, the likelihood choice's labels, the
 * URL keys, the layout of live snapshots, and the reduction of the draws to figures — log
 * sigma read where the layout puts it, sigma against its prior, exact quantiles and truth,
 * and the predictive check drawn at each draw's sigma (by hand-placed draws, and a cpu run
 * against the exact posterior).
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import type { HierData } from '../src/model/data.ts';
import { familyGlobals } from '../src/model/family.ts';
import { FAMILIES, familyOf } from '../src/model/families/index.ts';
import { makeModel, unconstrain } from '../src/model/model.ts';
import { exactPosterior, normalCdf, type ExactPosterior, type PosteriorSummary } from '../src/model/posterior.ts';
import { summarize } from '../src/diagnostics/index.ts';
import { constrainDraws } from '../src/sampler/constrain.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import { sample, type SampleResult } from '../src/sampler/sample.ts';
import { chooseData, describeData, likelihoodLabel, loaderFamily, parseDataText } from '../demo/data_source.ts';
import { dataLayout, exactGlobal, globalData, globalDraws, isPerGroup, ppcData, PPC_LEVELS, runFigures, TRACE_CHAINS } from '../demo/figures.ts';
import { counterVariates, DEFAULT_GENERATOR, generateData, generatorFor, globalCoordinate, SCALE_GLOBAL_TRUTH } from '../demo/generate.ts';
import { decodeSettings, encodeSettings, type Settings } from '../demo/settings.ts';
import { exactOfParam } from '../demo/summary_table.ts';

describe('the normal likelihood with unknown sigma on the page: generator, data, choice', () => {
  const normalSigma = familyOf('normal_sigma');
  const normal = familyOf('normal');

  it('generates sigma-unknown data from a true sigma field (the study’s 10), with the study’s mu and tau', () => {
    const g = generatorFor(normalSigma);
    expect(g.globals).toEqual({ sigma: SCALE_GLOBAL_TRUTH });
    expect(SCALE_GLOBAL_TRUTH).toBe(10);
    expect(g.columns).toEqual({});
    expect([g.mu, g.tau, g.K, g.nLo, g.nHi]).toEqual([4.5, 3.5, 9, 1, 1000]);
    // The other families' generators have no global.
    for (const f of FAMILIES.filter((f) => familyGlobals(f).length === 0)) expect(generatorFor(f).globals).toEqual({});
    const { data } = generateData(g);
    expect(data.likelihood).toBe('normal_sigma');
    expect(data.sigma.length).toBe(0);
    expect(data.columns).toBeUndefined();
    // y = theta + sigma e with the variates the known-sigma generator draws: the study's design
    // at sigma = 10 gives the same observations whether sigma is a column or a parameter.
    const known = generateData(DEFAULT_GENERATOR).data;
    expect(data.y.length).toBe(known.y.length);
    expect(Array.from(data.group)).toEqual(Array.from(known.group));
    for (let i = 0; i < data.y.length; i++) expect(data.y[i]).toBeCloseTo(known.y[i], 10);
  });

  it('draws y ~ N(theta, sigma) at the sigma field’s value', () => {
    const g = { ...generatorFor(normalSigma), K: 1000, nLo: 20, nHi: 20, globals: { sigma: 2 }, seed: 7 };
    const { data, theta } = generateData(g);
    let ss = 0;
    for (let i = 0; i < data.y.length; i++) ss += (data.y[i] - theta[data.group[i]]) ** 2;
    expect(Math.abs(Math.sqrt(ss / data.y.length) / 2 - 1)).toBeLessThan(4 / Math.sqrt(2 * data.y.length));
    expect(globalCoordinate(familyGlobals(normalSigma)[0], 2)).toBe(Math.log(2));
  });

  it('names the sigma field when it is bad, missing, or given to a family without it', () => {
    const g = generatorFor(normalSigma);
    expect(() => generateData({ ...g, globals: { sigma: -1 } })).toThrow(/generator sigma: must be a finite number > 0, got -1/);
    expect(() => generateData({ ...g, globals: { sigma: 0 } })).toThrow(/generator sigma: must be a finite number > 0/);
    expect(() => generateData({ ...g, globals: {} })).toThrow(/generator sigma: must be a finite number > 0, got undefined/);
    expect(() => generateData({ ...g, globals: { sigma: NaN } })).toThrow(InputError);
    expect(() => generateData({ ...DEFAULT_GENERATOR, globals: { sigma: 3 } })).toThrow(/generator sigma: is not a parameter of the normal likelihood/);
  });

  it('knows the true sigma behind generated data, and says sigma is unknown', () => {
    const choice = chooseData('generated', { generator: generatorFor(normalSigma), text: '', textSource: '' });
    expect(choice.truth).toEqual({ mu: 4.5, tau: 3.5, globals: { sigma: 10 } });
    expect(choice.note).toContain('tau = 3.5, sigma = 10');
    expect(describeData(choice.data)).toBe('normal_sigma likelihood, K = 9 groups, N = 389 observations, sigma unknown');
    // Known sigma: no globals in the truth.
    expect(chooseData('generated', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).truth).toEqual({ mu: 4.5, tau: 3.5 });
  });

  it('labels the choice sigma known / sigma unknown, and reads both with the normal likelihood’s columns', () => {
    expect(FAMILIES.map(likelihoodLabel)).toEqual(
      FAMILIES.map((f) =>
        ({ normal: 'normal, sigma known (identity link)', normal_sigma: 'normal, sigma unknown (identity link)', binomial: 'binomial (logit link)', poisson: 'poisson (log link)' })[f.id],
      ),
    );
    expect(loaderFamily(normalSigma)).toBe(normal);
    expect(loaderFamily(normal)).toBe(normal);
    expect(loaderFamily(familyOf('binomial'))).toBe(familyOf('binomial'));
  });

  it('reads pasted data without sigma as sigma unknown, whichever normal likelihood is chosen (the loader decides)', () => {
    const csv = 'group,y\na,1\na,2.5\nb,3\n';
    for (const chosen of ['normal', 'normal_sigma']) {
      const d = parseDataText(csv, 'pasted data', chosen);
      expect(d.likelihood, chosen).toBe('normal_sigma');
      expect(d.sigma.length).toBe(0);
      expect(Array.from(d.y)).toEqual([1, 2.5, 3]);
      // A sigma for every observation (the form's fallback) makes it sigma known.
      const known = parseDataText(csv, 'pasted data', chosen, { sigma: 2 });
      expect(known.likelihood ?? 'normal').toBe('normal');
      expect(Array.from(known.sigma)).toEqual([2, 2, 2]);
      // So does a sigma column.
      expect(parseDataText('group,y,sigma\na,1,3\n', 'pasted data', chosen).likelihood ?? 'normal').toBe('normal');
    }
    const json = parseDataText('{"y": [1, 2, 4], "idx": [0, 0, 1]}', 'data.json', 'normal');
    expect(json.likelihood).toBe('normal_sigma');
    expect(json.K).toBe(2);
    expect(describeData(json)).toBe('normal_sigma likelihood, K = 2 groups, N = 3 observations, sigma unknown');
  });

  it('keeps the likelihood and the true sigma in the URL under the keys the known sigma has', () => {
    const s: Settings = {
      data: 'generated', likelihood: 'normal_sigma', genK: '9', genN: '1-1000', genMu: '4.5', genTau: '3.5', genSeed: '1', genColumns: { sigma: '7' }, text: '', fallback: {},
      param: 'noncentered', mixed: '', partial: '', compare: 'centered,noncentered', chains: '64', warmup: '100', draws: '100', seed: '1', backend: 'cpu',
    };
    const q = encodeSettings(s);
    expect(q).toContain('lik=normal_sigma');
    expect(q).toContain('gsigma=7');
    expect(decodeSettings(q)).toMatchObject({ likelihood: 'normal_sigma', genColumns: { sigma: '7' } });
  });

  it('finds every coordinate of a snapshot by name in the data’s layout: log sigma after log tau', () => {
    const data = generateData(generatorFor(normalSigma)).data;
    const layout = dataLayout(data);
    expect(layout.globals).toEqual(['mu', 'log_tau', 'log_sigma']);
    expect(layout.group(0)).toBe(3);
    expect(layout.dim).toBe(3 + data.K);
    const model = makeModel(data, new Float64Array(data.K));
    expect(layout.globals).toEqual(model.layout.globals);
    expect(dataLayout(generateData(DEFAULT_GENERATOR).data).group(0)).toBe(2);
  });

  it('tells per-group parameters from global ones by name', () => {
    for (const n of ['theta[0]', 'theta[a b]', 'p[A]', 'rate[x[1]]']) expect(isPerGroup(n), n).toBe(true);
    for (const n of ['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', 'theta[0]x']) expect(isPerGroup(n), n).toBe(false);
  });
});

/**
 * A run's result made by hand for the figures' reductions: the model of `data` (centered, so
 * z_k = theta_k), each draw's position from `at(chain, draw)` = (mu, tau, theta, x), mapped
 * to the unconstrained coordinates by the model (`unconstrain`), and the constrained draws as
 * the sampler makes them (`constrainDraws`).
 */
function handmadeResult(data: HierData, chains: number, draws: number, at: (chain: number, draw: number) => { mu: number; tau: number; theta: ArrayLike<number>; x?: number }): SampleResult {
  const model = makeModel(data, new Float64Array(data.K).fill(1));
  const D = model.dim;
  const n = chains * draws;
  const positions = new Float64Array(n * D);
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < draws; d++) {
      const p = at(c, d);
      positions.set(unconstrain(model, p.mu, p.tau, p.theta, p.x), (c * draws + d) * D);
    }
  }
  const records = {
    retainedChains: chains,
    draws,
    positions,
    logDensity: new Float64Array(n),
    energy: new Float64Array(n),
    acceptProb: new Float64Array(n).fill(1),
    divergent: new Uint8Array(n),
    divergentPositions: new Float64Array(0),
    divergentChain: new Int32Array(0),
    divergentDraw: new Int32Array(0),
  };
  const { params, paramNames } = constrainDraws(model, records);
  return { model, records, params, paramNames, draws, chains, retainedChains: chains, requestedDraws: draws, partial: false } as unknown as SampleResult;
}

/** The p-quantile of the mixture sum_j w_j Normal(m, s_j) by bisection of its CDF. */
function mixtureQuantile(p: number, m: number, sds: readonly number[], weights: readonly number[]): number {
  let lo = m - 50 * Math.max(...sds);
  let hi = m + 50 * Math.max(...sds);
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    const cdf = sds.reduce((a, s, j) => a + weights[j] * normalCdf((mid - m) / s), 0);
    if (cdf < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

describe('figures of the normal likelihood with unknown sigma (draws placed by hand)', () => {
  const data = generateData({ ...generatorFor(familyOf('normal_sigma')), K: 4, nLo: 5, nHi: 5 }).data;
  const theta = [1, -2, 3.5, 8];
  const chains = 4;
  const draws = 500;
  const L = PPC_LEVELS.length;
  const sigmaOf = (chain: number) => (chain < 2 ? 2 : 20);

  it('reads log sigma where the layout puts it, for every draw', () => {
    const r = handmadeResult(data, chains, draws, (c, d) => ({ mu: 0, tau: 1, theta, x: Math.log(sigmaOf(c)) + d * 1e-4 }));
    const g = familyGlobals(r.model.stats.family)[0];
    const x = globalDraws(r, g);
    expect(x.length).toBe(chains * draws);
    for (const i of [0, 1, draws, 3 * draws + 499]) expect(x[i]).toBeCloseTo(Math.log(sigmaOf(Math.floor(i / draws))) + (i % draws) * 1e-4, 12);
  });

  it('draws each new observation at its draw’s sigma: N(theta_k, sigma) quantiles, and the mixture where sigma varies', () => {
    for (const s of [2, 20]) {
      const r = handmadeResult(data, chains, draws, () => ({ mu: 0, tau: 1, theta, x: Math.log(s) }));
      const p = ppcData(r, data, 5);
      expect(p.scale).toBe('y');
      for (let k = 0; k < data.K; k++) {
        const q = p.q.subarray(k * L, (k + 1) * L);
        // 2000 draws: a 5% point's Monte Carlo sd is about 0.05 sigma.
        expect(Math.abs(q[0] - (theta[k] - 1.6449 * s)), `sigma ${s}, group ${k}`).toBeLessThan(0.2 * s);
        expect(Math.abs(q[2] - theta[k]), `sigma ${s}, group ${k}`).toBeLessThan(0.15 * s);
        expect(Math.abs(q[4] - (theta[k] + 1.6449 * s)), `sigma ${s}, group ${k}`).toBeLessThan(0.2 * s);
      }
    }
    // Half the draws at sigma = 2, half at 20: the mixture's 5% and 95% points (about theta -+ 25.6),
    // not either sigma's (-+ 3.3, -+ 32.9). Their Monte Carlo sd with 2000 draws is about 1.1.
    const r = handmadeResult(data, chains, draws, (c) => ({ mu: 0, tau: 1, theta, x: Math.log(sigmaOf(c)) }));
    const p = ppcData(r, data, 5);
    for (let k = 0; k < data.K; k++) {
      const q = p.q.subarray(k * L, (k + 1) * L);
      for (const [l, level] of [[0, 0.05], [4, 0.95]] as const) {
        const want = mixtureQuantile(level, theta[k], [2, 20], [0.5, 0.5]);
        expect(Math.abs(q[l] - want), `group ${k}, ${level}`).toBeLessThan(5);
      }
    }
  });

  it('draws sigma against its HalfNormal(5) prior, the exact quantiles and the truth, and traces log sigma', () => {
    const rng = counterVariates(keyFromSeed(3), 0, 77, 2);
    const xs = Float64Array.from({ length: chains * draws }, (_, i) => Math.log(10) + 0.05 * rng.start(i, 0).normal());
    const r = handmadeResult(data, chains, draws, (c, d) => ({ mu: 0, tau: 1, theta, x: xs[c * draws + d] }));
    const g = familyGlobals(r.model.stats.family)[0];
    const exactSigma: PosteriorSummary = { mean: 10, sd: 0.5, q05: 8.5, q50: 10, q95: 13.5 };
    const exact = { globals: { sigma: exactSigma, log_sigma: { mean: Math.log(10), sd: 0.05, q05: 2.2, q50: 2.3, q95: 2.4 } } } as unknown as ExactPosterior;
    const gd = globalData(r, g, exact, 15);
    expect([gd.name, gd.constrained]).toEqual(['log_sigma', 'sigma']);
    expect(gd.exact).toEqual(exactSigma);
    expect(gd.truth).toBe(15);
    // The range takes in the draws, the exact 90% interval and the truth.
    const lo = gd.edges[0];
    const hi = gd.edges[gd.edges.length - 1];
    expect(lo).toBeLessThan(8.5);
    expect(hi).toBeGreaterThan(15);
    expect(lo).toBeGreaterThan(0);
    // A density histogram: its mass is the share of draws inside the range (all of them here).
    const w = gd.edges[1] - gd.edges[0];
    const mass = gd.density.subarray(0, -1).reduce((a, v) => a + v * w, 0);
    expect(mass).toBeCloseTo(1, 9);
    // HalfNormal(5) on sigma: 2 / (5 sqrt(2 pi)) e^{-sigma^2 / 50}.
    for (let i = 0; i < gd.grid.length; i += 37) {
      const v = gd.grid[i];
      expect(gd.prior[i]).toBeCloseTo((2 / (5 * Math.sqrt(2 * Math.PI))) * Math.exp(-(v * v) / 50), 12);
      expect(v >= lo && v <= hi).toBe(true);
    }
    // The trace: log sigma of the first chains, at every draw (500 < MAX_TRACE_POINTS).
    expect(gd.trace.length).toBe(Math.min(TRACE_CHAINS, chains));
    for (const [c, d] of [[0, 0], [1, 17], [3, 499]]) expect(gd.trace[c][d]).toBe(Math.fround(xs[c * draws + d]));
    // No exact posterior and no truth: the range is the draws' alone.
    const bare = globalData(r, g, null);
    expect(bare.exact).toBeUndefined();
    expect(bare.truth).toBeUndefined();
    expect(bare.edges[bare.edges.length - 1]).toBeLessThan(12);
  });

  it('finds a global’s exact summary by either name, beside the hierarchy’s', () => {
    const weak = exactPosterior(chooseData('weak', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).data);
    const sigma: PosteriorSummary = { mean: 1, sd: 2, q05: 3, q50: 4, q95: 5 };
    const withSigma = { ...weak, globals: { sigma } } as ExactPosterior;
    expect(exactOfParam('sigma', withSigma)).toBe(sigma);
    expect(exactGlobal(withSigma, 'sigma')).toBe(sigma);
    expect(exactOfParam('log_sigma', withSigma)).toBeUndefined();
    expect(exactOfParam('mu', withSigma)).toBe(weak.mu);
    expect(exactOfParam('theta[3]', withSigma)).toBe(weak.theta[3]);
    expect(exactOfParam('sigma', weak)).toBeUndefined();
    expect(exactGlobal(null, 'sigma')).toBeUndefined();
    expect(exactGlobal(withSigma, 'toString')).toBeUndefined();
  });
});

describe('figures of a normal run with unknown sigma (cpu sampler)', async () => {
  const g = { ...generatorFor(familyOf('normal_sigma')), nLo: 2, nHi: 50, seed: 3 };
  const { data } = generateData(g);
  const result = await sample({ data, parameterization: 'noncentered', chains: 32, warmup: 150, draws: 200, seed: 5, backend: 'cpu' });
  const exact = exactPosterior(data);
  const summary = summarize(result.params, result.retainedChains, result.draws, { energy: result.records.energy, divergent: result.records.divergent, acceptProb: result.records.acceptProb });
  const figures = runFigures(result, summary, exact, data, 5, { mu: g.mu, tau: g.tau, globals: g.globals });

  it('reports sigma and log sigma, and the figures read the same draws', () => {
    expect(result.paramNames).toEqual(expect.arrayContaining(['sigma', 'log_sigma']));
    expect(summary.params.sigma).toBeDefined();
    expect(figures.globals.length).toBe(1);
    const gd = figures.globals[0];
    expect(gd.truth).toBe(10);
    const x = globalDraws(result, familyGlobals(result.model.stats.family)[0]);
    for (const i of [0, 1, 999, x.length - 1]) {
      expect(x[i]).toBeCloseTo(result.params.log_sigma[i], 5);
      expect(Math.exp(x[i])).toBeCloseTo(result.params.sigma[i], 4);
    }
  });

  it('agrees with the exact posterior of sigma, which the summary table shows in the sigma and log_sigma rows', () => {
    for (const name of ['sigma', 'log_sigma']) {
      const ex = exactOfParam(name, exact)!;
      expect(ex, name).toBeDefined();
      const p = summary.params[name];
      expect(Math.abs(p.mean - ex.mean) / p.mcse_mean, name).toBeLessThan(5);
    }
    expect(figures.globals[0].exact).toEqual(exact.globals!.sigma);
    // The study's sigma = 10 lies in the exact 90% interval's neighbourhood (the data were drawn with it).
    expect(Math.abs(exact.globals!.sigma.mean - 10)).toBeLessThan(4 * exact.globals!.sigma.sd);
  });

  it('gives predictive intervals as wide as theta_k and sigma together imply', () => {
    const p = figures.ppc;
    const L = PPC_LEVELS.length;
    const s2 = exact.globals!.sigma.mean ** 2 + exact.globals!.sigma.sd ** 2;
    for (let k = 0; k < data.K; k++) {
      const q = p.q.subarray(k * L, (k + 1) * L);
      const sd = Math.sqrt(exact.theta[k].sd ** 2 + s2);
      expect((q[4] - q[0]) / (2 * 1.6449 * sd), `group ${k}`).toBeGreaterThan(0.85);
      expect((q[4] - q[0]) / (2 * 1.6449 * sd), `group ${k}`).toBeLessThan(1.15);
    }
  });
});
