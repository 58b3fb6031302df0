/**
 * The demo page's pure parts, in Node: the data generator (every likelihood family), the
 * eight schools and the surgical data, the URL settings and the reduction of a run's draws
 * to figures (against the run's own draws and the exact posterior; a binomial run's outcome
 * scale). A family's global parameters on the page (the normal likelihood with unknown
 * sigma) are tested in test/demo_lab_globals.test.ts. The comparison's ranking is the
 * library's (test/compare.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { exactPosterior } from '../src/model/posterior.ts';
import { InputError } from '../src/errors.ts';
import { groupStats } from '../src/model/suffstats.ts';
import { sample } from '../src/sampler/sample.ts';
import { FAMILIES, familyOf } from '../src/model/families/index.ts';
import { familyGlobals, invLogit } from '../src/model/family.ts';
import { chooseData, columnValues, describeData, EIGHT_SCHOOLS, eightSchools, fixedLikelihood, parseDataText, SURGICAL } from '../demo/data_source.ts';
import { acfData, figureBuffers, funnelData, MAX_FUNNEL_POINTS, observationOutcome, ppcData, PPC_LEVELS, tauData } from '../demo/figures.ts';
import { columnStart, DEFAULT_GENERATOR, generateData, generatorFor, globalCoordinate, groupSizes } from '../demo/generate.ts';
import { decodeSettings, encodeSettings, MAX_URL_TEXT, type Settings } from '../demo/settings.ts';

describe('data generator', () => {
  it('gives the same data for the same settings, and other data for another seed', () => {
    const a = generateData(DEFAULT_GENERATOR).data;
    const b = generateData(DEFAULT_GENERATOR).data;
    const c = generateData({ ...DEFAULT_GENERATOR, seed: 2 }).data;
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(Array.from(a.y)).not.toEqual(Array.from(c.y.subarray(0, a.y.length)));
  });

  it('spreads group sizes log-uniformly over the range, and keeps a fixed size fixed', () => {
    const sizes = groupSizes({ ...DEFAULT_GENERATOR, K: 400, nLo: 1, nHi: 1000 });
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    // log-uniform on [log 1, log 1000.5]: a third of the groups below 10, a third above 100 (± 4 binomial sd).
    const below10 = sizes.filter((n) => n < 10).length / 400;
    const above100 = sizes.filter((n) => n > 100).length / 400;
    expect(Math.abs(below10 - 1 / 3)).toBeLessThan(4 * Math.sqrt((1 / 3) * (2 / 3) / 400) + 0.01);
    expect(Math.abs(above100 - 1 / 3)).toBeLessThan(4 * Math.sqrt((1 / 3) * (2 / 3) / 400) + 0.01);
    expect(Array.from(groupSizes({ ...DEFAULT_GENERATOR, nLo: 5, nHi: 5 }))).toEqual(new Array(9).fill(5));
  });

  it('draws theta ~ N(mu, tau) and y ~ N(theta, sigma)', () => {
    const g = { ...DEFAULT_GENERATOR, K: 1000, nLo: 20, nHi: 20, columns: { sigma: 2 }, mu: 4.5, tau: 3.5, seed: 7 };
    const { data, theta } = generateData(g);
    const mean = theta.reduce((s, v) => s + v, 0) / g.K;
    const sd = Math.sqrt(theta.reduce((s, v) => s + (v - mean) ** 2, 0) / (g.K - 1));
    expect(Math.abs(mean - g.mu)).toBeLessThan((4 * g.tau) / Math.sqrt(g.K));
    expect(Math.abs(sd / g.tau - 1)).toBeLessThan(4 / Math.sqrt(2 * g.K));
    let ss = 0;
    for (let i = 0; i < data.y.length; i++) ss += (data.y[i] - theta[data.group[i]]) ** 2;
    expect(Math.abs(Math.sqrt(ss / data.y.length) / g.columns.sigma - 1)).toBeLessThan(4 / Math.sqrt(2 * data.y.length));
  });

  it('keeps the normal data of the generator before likelihood families, bit for bit', () => {
    // Values of the normal-only generator (DEFAULT_GENERATOR, seed 1: 389 observations).
    const { data } = generateData(DEFAULT_GENERATOR);
    expect(data.y.length).toBe(389);
    expect([data.y[0], data.y[1], data.y[2], data.y[388]]).toEqual([8.444141957763343, 0.7366168806507467, -15.759437199028758, 9.746817598546242]);
    expect(data.likelihood).toBeUndefined();
    expect(data.columns).toBeUndefined();
  });

  it('names the field of a bad setting', () => {
    expect(() => generateData({ ...DEFAULT_GENERATOR, K: 0 })).toThrow(InputError);
    expect(() => generateData({ ...DEFAULT_GENERATOR, columns: { sigma: -1 } })).toThrow(/generator sigma: must be > 0/);
    expect(() => generateData({ ...generatorFor(familyOf('binomial')), columns: { trials: 2.5 } })).toThrow(/generator trials: must be a whole number/);
    expect(() => generateData({ ...DEFAULT_GENERATOR, likelihood: 'nope' })).toThrow(/generator likelihood: unknown likelihood 'nope'/);
    expect(() => generateData({ ...DEFAULT_GENERATOR, nLo: 0, nHi: 0 })).toThrow(/every group is empty/);
  });
});

describe('data generator, every likelihood family', () => {
  for (const family of FAMILIES) {
    const g = { ...generatorFor(family), K: 400, nLo: 10, nHi: 10, seed: 11 };

    it(`${family.id}: each column at its input's value, starting from the column's typical value`, () => {
      const { data } = generateData(g);
      expect(familyOf(data.likelihood)).toBe(family);
      for (const c of family.columns) {
        expect(g.columns[c.name]).toBe(columnStart(c));
        const v = columnValues(data, c.name)!;
        expect(v.length).toBe(data.y.length);
        expect(v.every((x) => x === g.columns[c.name])).toBe(true);
      }
      // What the loaders would accept: every column within its bounds, every observation valid.
      for (let i = 0; i < data.y.length; i++) {
        expect(family.checkObservation(data.y[i], (name) => columnValues(data, name)![i])).toBeUndefined();
      }
    });

    it(`${family.id}: y has the right mean given theta (the score at the true theta is 0 within Monte Carlo error)`, () => {
      const { data, theta } = generateData(g);
      // E[d/dtheta log p(y | theta)] = 0 at the true theta, with variance the Fisher information:
      // the family's own mean of y (normal: theta; binomial: trials p), weighted, for any family.
      // A family with a global parameter (unknown sigma): the score at its true value too.
      const global = familyGlobals(family)[0];
      const x = global ? globalCoordinate(global, g.globals[global.constrained.name]) : undefined;
      const f = family.reduce(data);
      const grad = new Float64Array(2);
      let score = 0;
      let info = 0;
      for (let k = 0; k < data.K; k++) {
        family.logLik(f.a[k], f.b[k], theta[k], grad, x);
        score += grad[0];
        info += family.approx(f, k, theta[k], x).se ** -2;
      }
      expect(Math.abs(score / Math.sqrt(info))).toBeLessThan(4);
      // theta ~ Normal(mu, tau).
      const mean = theta.reduce((a, v) => a + v, 0) / g.K;
      expect(Math.abs(mean - g.mu)).toBeLessThan((4 * g.tau) / Math.sqrt(g.K));
    });

    it(`${family.id}: ${family.yInteger ? 'whole counts' : 'real y'}, the same for the same seed, other data for another`, () => {
      const a = generateData(g).data;
      const b = generateData(g).data;
      const c = generateData({ ...g, seed: 12 }).data;
      expect(Array.from(a.y)).toEqual(Array.from(b.y));
      expect(Array.from(a.y)).not.toEqual(Array.from(c.y));
      if (family.yInteger) expect(a.y.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
      else expect(a.y.some((v) => !Number.isInteger(v))).toBe(true);
    });
  }

  it('binomial: the share of successes matches inv_logit(theta) group by group', () => {
    const g = { ...generatorFor(familyOf('binomial')), K: 50, nLo: 40, nHi: 40, columns: { trials: 25 }, mu: -1, tau: 1.5, seed: 3 };
    const { data, theta } = generateData(g);
    const y = new Float64Array(g.K);
    for (let i = 0; i < data.y.length; i++) y[data.group[i]] += data.y[i];
    let worst = 0;
    for (let k = 0; k < g.K; k++) {
      const p = invLogit(theta[k]);
      const n = 40 * 25;
      worst = Math.max(worst, Math.abs(y[k] - n * p) / Math.sqrt(n * p * (1 - p) + 1e-12));
    }
    // 50 groups: the largest |z| of 50 standard normals stays below 4.5.
    expect(worst).toBeLessThan(4.5);
  });
});

describe('data sources', () => {
  it('has the eight schools of BDA table 5.2', () => {
    const d = eightSchools();
    expect(Array.from(d.y)).toEqual([28, 8, -3, 7, -1, 1, 18, 12]);
    expect(Array.from(d.sigma)).toEqual([15, 10, 16, 11, 9, 11, 10, 18]);
    expect(d.labels).toEqual(EIGHT_SCHOOLS.labels);
    expect(chooseData('eight', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).truth).toBeUndefined();
  });

  it('knows the truth behind the seed sets and generated data, and reports bad text with the CLI’s message', () => {
    expect(chooseData('weak', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).truth).toEqual({ mu: 4.5, tau: 3.5 });
    expect(chooseData('generated', { generator: { ...DEFAULT_GENERATOR, tau: 2 }, text: '', textSource: '' }).truth?.tau).toBe(2);
    expect(() => chooseData('custom', { generator: DEFAULT_GENERATOR, text: 'group,y\na,1\nb,x\n', textSource: 'pasted data', fallback: { sigma: 1 } })).toThrow("pasted data row 3, column 'y'");
  });

  it('has the surgical data (12 hospitals, binomial) and reads pasted binomial data with their trials', () => {
    const { data, truth } = chooseData('surgical', { generator: DEFAULT_GENERATOR, text: '', textSource: '' });
    expect(truth).toBeUndefined();
    expect(data.likelihood).toBe('binomial');
    expect(data.labels).toEqual('ABCDEFGHIJKL'.split(''));
    expect(Array.from(data.y)).toEqual([0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24]);
    expect(Array.from(data.columns!.trials)).toEqual([47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360]);
    expect(fixedLikelihood('surgical')).toBe('binomial');
    expect(fixedLikelihood('weak')).toBe('normal');
    expect(fixedLikelihood('generated')).toBeUndefined();
    expect(describeData(data)).toBe('binomial likelihood, K = 12 groups, N = 12 observations, trials in [47, 810]');
    const pasted = parseDataText(SURGICAL.text, 'pasted data', 'binomial');
    expect(pasted.likelihood).toBe('binomial');
    expect(Array.from(pasted.columns!.trials)).toEqual(Array.from(data.columns!.trials));
    expect(Array.from(pasted.y)).toEqual(Array.from(data.y));
    expect(() => parseDataText('group,y,trials\na,5,3\n', 'pasted data', 'binomial')).toThrow(/pasted data row 2/);
    // The normal family's fallback sigma is its CLI option's value.
    expect(Array.from(parseDataText('group,y\na,1\n', 'pasted data', undefined, { sigma: 2 }).sigma)).toEqual([2]);
  });

  it('puts each observation on the outcome scale by its own estimate: binomial (y + 1/2) / (trials + 1), normal y', () => {
    const bin = observationOutcome(familyOf('binomial'));
    expect(bin(0, () => 47)).toBeCloseTo(0.5 / 48, 14);
    expect(bin(18, () => 148)).toBeCloseTo(18.5 / 149, 14);
    expect(observationOutcome(familyOf(undefined))(3.25, () => 10)).toBe(3.25);
  });
});

describe('settings in the URL', () => {
  const base: Settings = {
    data: 'generated', likelihood: 'binomial', genK: '12', genN: '2-50', genMu: '1.5', genTau: '2', genSeed: '9', genColumns: { trials: '30' }, text: 'group,y\na,1\n', fallback: { sigma: '' },
    param: 'mixed', mixed: '3,7', partial: '', compare: 'noncentered,mixed,auto', chains: '64', warmup: '120', draws: '80', seed: '11', backend: 'cpu',
  };

  it('round-trips every setting that matters for the data source, the family’s columns included', () => {
    const back = decodeSettings('?' + encodeSettings(base));
    const { text: _t, fallback: _f, partial: _p, ...rest } = base;
    expect(back).toEqual(rest);
    expect(encodeSettings(base)).toContain('gtrials=30');
    const custom = decodeSettings(encodeSettings({ ...base, data: 'custom', likelihood: 'normal', genColumns: {}, fallback: { sigma: '4' }, partial: '0,1' }));
    expect(custom.text).toBe(base.text);
    expect(custom.partial).toBe('0,1');
    expect(custom.fallback).toEqual({ sigma: '4' });
    expect(custom.likelihood).toBe('normal');
    expect(custom.genK).toBeUndefined();
    // A bundled set fixes its likelihood: none in its link.
    expect(decodeSettings(encodeSettings({ ...base, data: 'surgical' })).likelihood).toBeUndefined();
  });

  it('reads the links made before likelihood families: gsigma is the generator’s sigma, sigma the pasted data’s', () => {
    expect(decodeSettings('?data=generated&K=9&gsigma=5&gmu=1').genColumns).toEqual({ sigma: '5' });
    expect(decodeSettings('?data=custom&sigma=3').fallback).toEqual({ sigma: '3' });
  });

  it('leaves long pasted data out of the URL', () => {
    expect(decodeSettings(encodeSettings({ ...base, data: 'custom', text: 'x'.repeat(MAX_URL_TEXT + 1) })).text).toBeUndefined();
  });
});

describe('figures of a run', async () => {
  const data = chooseData('weak', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).data;
  const result = await sample({ data, parameterization: 'noncentered', chains: 32, warmup: 150, draws: 200, seed: 5, backend: 'cpu' });
  const exact = exactPosterior(data);

  it('takes the same strided draws in every funnel panel, theta_k from the positions', () => {
    const f = funnelData(result);
    expect(f.total).toBe(32 * 200);
    expect(f.stride).toBe(Math.ceil(f.total / MAX_FUNNEL_POINTS));
    expect(f.logTau.length).toBe(Math.ceil(f.total / f.stride));
    for (const j of [0, 1, f.logTau.length - 1]) {
      const i = j * f.stride;
      expect(f.logTau[j]).toBeCloseTo(result.params.log_tau[i], 5);
      for (const k of [0, 4, 8]) expect(f.theta[k][j]).toBeCloseTo(result.params[`theta[${k}]`][i], 4);
    }
    expect(f.divTotal).toBe(result.records.divergentChain.length);
  });

  it('draws tau as a density histogram against the exact and prior densities', () => {
    const t = tauData(result, exact, 3.5);
    const w = t.edges[1] - t.edges[0];
    const mass = t.density.subarray(0, -1).reduce((s, v) => s + v * w, 0);
    const inside = result.params.tau.filter((v) => v < t.edges[t.edges.length - 1]).length / result.params.tau.length;
    expect(mass).toBeCloseTo(inside, 6);
    // HalfNormal(5) at tau -> 0: 2 / (5 sqrt(2 pi)).
    expect(t.prior[0]).toBeCloseTo(2 / (5 * Math.sqrt(2 * Math.PI)), 2);
    // The exact density integrates to about 0.995 up to the plotted end.
    let integral = 0;
    for (let i = 1; i < t.grid.length; i++) integral += 0.5 * (t.exact[i] + t.exact[i - 1]) * (t.grid[i] - t.grid[i - 1]);
    expect(integral).toBeGreaterThan(0.98);
    expect(integral).toBeLessThan(1.0);
  });

  it('gives predictive intervals of the width the exact posterior implies', () => {
    const p = ppcData(result, data, 5);
    const stats = groupStats(data);
    const L = PPC_LEVELS.length;
    for (let k = 0; k < data.K; k++) {
      const q = Array.from(p.q.subarray(k * L, (k + 1) * L));
      expect(q).toEqual([...q].sort((a, b) => a - b));
      // y_rep ~ theta_k + sigma e: sd sqrt(sd_theta^2 + sigma^2); the 90% interval is about 3.29 sd wide
      // (theta_k is not normal, so within 15%).
      const sd = Math.sqrt(exact.theta[k].sd ** 2 + 10 ** 2);
      expect((q[4] - q[0]) / (2 * 1.6449 * sd)).toBeGreaterThan(0.85);
      expect((q[4] - q[0]) / (2 * 1.6449 * sd)).toBeLessThan(1.15);
    }
    expect(Array.from(p.n)).toEqual(Array.from(stats.n));
    expect(p.obsY.length).toBe(data.y.length);
  });

  it('averages the autocorrelation over chains, 1 at lag 0', () => {
    const a = acfData(result);
    expect(a.mu[0]).toBeCloseTo(1, 12);
    expect(a.tau[0]).toBeCloseTo(1, 12);
    expect(Math.abs(a.mu[a.mu.length - 1])).toBeLessThan(0.3);
  });

});

describe('figures of a binomial run (surgical data)', async () => {
  const data = chooseData('surgical', { generator: DEFAULT_GENERATOR, text: '', textSource: '' }).data;
  const result = await sample({ data, parameterization: 'noncentered', chains: 32, warmup: 150, draws: 200, seed: 5, backend: 'cpu' });

  it('has no exact posterior: tau against its prior only, up to the draws’ 99.5% point', () => {
    expect(() => exactPosterior(data)).toThrow(RangeError);
    const t = tauData(result, null);
    expect(t.exact.length).toBe(0);
    expect(t.prior.length).toBe(t.grid.length);
    const inside = result.params.tau.filter((v) => v < t.edges[t.edges.length - 1]).length / result.params.tau.length;
    expect(inside).toBeGreaterThan(0.99);
  });

  it('draws new observations by the likelihood on the p scale, beside p[k] = inv_logit(theta_k)', () => {
    const p = ppcData(result, data, 5);
    const L = PPC_LEVELS.length;
    expect(p.scale).toBe('p');
    expect(p.columns).toBe('trials');
    expect(p.outcome?.name).toBe('p');
    for (let k = 0; k < data.K; k++) {
      const rep = Array.from(p.q.subarray(k * L, (k + 1) * L));
      const out = Array.from(p.outcome!.q.subarray(k * L, (k + 1) * L));
      expect(rep).toEqual([...rep].sort((a, b) => a - b));
      expect(out).toEqual([...out].sort((a, b) => a - b));
      for (const v of [...rep, ...out]) expect(v > 0 && v < 1).toBe(true);
      // p[k]'s median is inv_logit of theta_k's (the link is monotone).
      const th = Float64Array.from(result.params[`theta[${data.labels[k]}]`]).sort();
      const med = (th[(th.length - 1) >> 1] + th[th.length >> 1]) / 2;
      expect(out[2]).toBeCloseTo(invLogit(med), 2);
      // A new observation at the hospital's own trials scatters around p[k]: its 90% interval holds p[k]'s median.
      expect(rep[0]).toBeLessThanOrEqual(out[2]);
      expect(rep[4]).toBeGreaterThanOrEqual(out[2]);
    }
    // Observed: each hospital's (deaths + 1/2) / (operations + 1).
    data.y.forEach((d, k) => expect(p.obsY[k]).toBeCloseTo((d + 0.5) / (data.columns!.trials[k] + 1), 12));
    // The same run draws the same check.
    expect(Array.from(ppcData(result, data, 5).q)).toEqual(Array.from(p.q));
  });
});

describe('figure transfer list', () => {
  it('lists each ArrayBuffer once and leaves SharedArrayBuffers out (they cannot be transferred)', () => {
    const own = new Float64Array(4);
    const shared = new Float32Array(new SharedArrayBuffer(16));
    const figures = { a: own, b: [own.subarray(1), shared], c: { d: new Uint8Array(2) } } as unknown as Parameters<typeof figureBuffers>[0];
    const buffers = figureBuffers(figures);
    expect(buffers.length).toBe(2);
    expect(buffers).toContain(own.buffer);
    expect(buffers.every((b) => b instanceof ArrayBuffer)).toBe(true);
    // what the worker does with them: a transfer list with a SharedArrayBuffer would throw
    expect(() => structuredClone(figures, { transfer: buffers })).not.toThrow();
  });
});
