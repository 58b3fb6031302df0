/**
 * The demo page's pure parts, in Node: the data generator, the eight schools, the URL
 * settings and the reduction of a run's draws to figures (against the run's own draws and
 * the exact posterior). The comparison's ranking is the library's (test/compare.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { exactPosterior } from '../src/model/posterior.ts';
import { InputError } from '../src/errors.ts';
import { groupStats } from '../src/model/suffstats.ts';
import { sample } from '../src/sampler/sample.ts';
import { chooseData, EIGHT_SCHOOLS, eightSchools } from '../demo/data_source.ts';
import { acfData, figureBuffers, funnelData, MAX_FUNNEL_POINTS, ppcData, PPC_LEVELS, tauData } from '../demo/figures.ts';
import { DEFAULT_GENERATOR, generateData, groupSizes } from '../demo/generate.ts';
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
    const g = { K: 1000, nLo: 20, nHi: 20, sigma: 2, mu: 4.5, tau: 3.5, seed: 7 };
    const { data, theta } = generateData(g);
    const mean = theta.reduce((s, v) => s + v, 0) / g.K;
    const sd = Math.sqrt(theta.reduce((s, v) => s + (v - mean) ** 2, 0) / (g.K - 1));
    expect(Math.abs(mean - g.mu)).toBeLessThan((4 * g.tau) / Math.sqrt(g.K));
    expect(Math.abs(sd / g.tau - 1)).toBeLessThan(4 / Math.sqrt(2 * g.K));
    let ss = 0;
    for (let i = 0; i < data.y.length; i++) ss += (data.y[i] - theta[data.group[i]]) ** 2;
    expect(Math.abs(Math.sqrt(ss / data.y.length) / g.sigma - 1)).toBeLessThan(4 / Math.sqrt(2 * data.y.length));
  });

  it('names the field of a bad setting', () => {
    expect(() => generateData({ ...DEFAULT_GENERATOR, K: 0 })).toThrow(InputError);
    expect(() => generateData({ ...DEFAULT_GENERATOR, sigma: -1 })).toThrow(/generator sigma: must be a finite number > 0/);
    expect(() => generateData({ ...DEFAULT_GENERATOR, nLo: 0, nHi: 0 })).toThrow(/every group is empty/);
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
    expect(() => chooseData('custom', { generator: DEFAULT_GENERATOR, text: 'group,y\na,1\nb,x\n', textSource: 'pasted data', sigma: 1 })).toThrow("pasted data row 3, column 'y'");
  });
});

describe('settings in the URL', () => {
  const base: Settings = {
    data: 'generated', genK: '12', genN: '2-50', genSigma: '5', genMu: '1.5', genTau: '2', genSeed: '9', text: 'group,y\na,1\n', sigma: '',
    param: 'mixed', mixed: '3,7', partial: '', compare: 'noncentered,mixed,auto', chains: '64', warmup: '120', draws: '80', seed: '11', backend: 'cpu',
  };

  it('round-trips every setting that matters for the data source', () => {
    const back = decodeSettings('?' + encodeSettings(base));
    const { text: _t, sigma: _s, partial: _p, ...rest } = base;
    expect(back).toEqual(rest);
    const custom = decodeSettings(encodeSettings({ ...base, data: 'custom', partial: '0,1' }));
    expect(custom.text).toBe(base.text);
    expect(custom.partial).toBe('0,1');
    expect(custom.genK).toBeUndefined();
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
