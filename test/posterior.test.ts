import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSeedJson } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { exactPosterior, normalCdf, type ExactPosterior, type PosteriorSummary } from '../src/model/posterior.ts';
import { DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';

const load = (n: string): HierData => parseSeedJson(readFileSync(new URL(`../demo/data/${n}.json`, import.meta.url), 'utf8'), { source: `${n}.json` });
const WEAK = load('weak');
const STRONG = load('strong');
const UNBALANCED = load('unbalanced');
const HALF_CAUCHY: Priors = { mu: { kind: 'normal', loc: 0, scale: 5 }, tau: { kind: 'halfcauchy', scale: 5 } };

/**
 * An independent reference: a dense 2-D trapezoid grid over (mu, s = log tau), with theta
 * integrated out analytically, written straight from the model (no shared code with
 * posterior.ts except the data):
 *
 *   p(mu, s, y) = N(mu | m0, s0) p_tau(e^s) e^s prod_i ... = N(mu | m0, s0) p_tau(e^s) e^s
 *                 prod_k N(ybar_k | mu, sqrt(e^{2s} + se_k^2)) * exp(logConst),
 *
 * with ybar_k, se_k and logConst recomputed here from the observations.
 */
interface Grid2D {
  readonly mu: Float64Array;
  readonly s: Float64Array;
  /** Normalized trapezoid weights, s-major: (j, i) at j * nMu + i. */
  readonly w: Float64Array;
  readonly logZ: number;
  readonly ybar: Float64Array;
  readonly P: Float64Array;
}

function linspace(a: number, b: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

function logPriorTau(priors: Priors, tau: number): number {
  const S = priors.tau.scale;
  return priors.tau.kind === 'halfnormal'
    ? Math.log(2) - 0.5 * Math.log(2 * Math.PI * S * S) - (0.5 * tau * tau) / (S * S)
    : Math.log(2 / (Math.PI * S * (1 + (tau / S) ** 2)));
}

/** log p(mu, s, y) as a function of mu at fixed s (the s-only terms computed once). */
function logJointAtS(g: { ybar: Float64Array; P: Float64Array; logConst: number }, priors: Priors, s: number): (mu: number) => number {
  const { loc, scale } = priors.mu;
  const tau = Math.exp(s);
  let c = -0.5 * Math.log(2 * Math.PI * scale * scale) + logPriorTau(priors, tau) + s + g.logConst;
  const ks: number[] = [];
  const inv: number[] = [];
  for (let k = 0; k < g.P.length; k++) {
    if (g.P[k] === 0) continue;
    const v = tau * tau + 1 / g.P[k];
    c -= 0.5 * Math.log(2 * Math.PI * v);
    ks.push(k);
    inv.push(1 / v);
  }
  return (mu) => {
    let lp = c - 0.5 * ((mu - loc) / scale) ** 2;
    for (let i = 0; i < ks.length; i++) lp -= 0.5 * (g.ybar[ks[i]] - mu) ** 2 * inv[i];
    return lp;
  };
}

/** Group statistics, recomputed naively (sum of per-observation log N at theta = ybar). */
function naiveStats(data: HierData) {
  const K = data.K;
  const P = new Float64Array(K);
  const sy = new Float64Array(K);
  for (let i = 0; i < data.y.length; i++) {
    P[data.group[i]] += 1 / data.sigma[i] ** 2;
    sy[data.group[i]] += data.y[i] / data.sigma[i] ** 2;
  }
  const ybar = P.map((p, k) => (p > 0 ? sy[k] / p : 0));
  // log prod_i N(y_i | theta_k, sigma_i) = log N(ybar_k | theta_k, P_k^{-1/2}) + logConst_k.
  let logConst = 0;
  for (let i = 0; i < data.y.length; i++) {
    const k = data.group[i];
    logConst += -0.5 * ((data.y[i] - ybar[k]) / data.sigma[i]) ** 2 - 0.5 * Math.log(2 * Math.PI * data.sigma[i] ** 2);
  }
  for (let k = 0; k < K; k++) if (P[k] > 0) logConst += 0.5 * Math.log((2 * Math.PI) / P[k]);
  return { P, ybar, logConst };
}

function grid2D(data: HierData, priors: Priors, sRange: [number, number], nS: number, nMu: number): Grid2D {
  const st = naiveStats(data);
  const { loc, scale } = priors.mu;
  const mu = linspace(loc - 12 * scale, loc + 12 * scale, nMu); // N(m0, s0) prior: e^-72 at the ends
  const s = linspace(sRange[0], sRange[1], nS);
  const lw = new Float64Array(nS * nMu);
  let mx = -Infinity;
  for (let j = 0; j < nS; j++) {
    const at = logJointAtS(st, priors, s[j]);
    for (let i = 0; i < nMu; i++) {
      const v = at(mu[i]);
      lw[j * nMu + i] = v;
      mx = Math.max(mx, v);
    }
  }
  const w = new Float64Array(nS * nMu);
  let total = 0;
  for (let j = 0; j < nS; j++) {
    for (let i = 0; i < nMu; i++) {
      const t = (j === 0 || j === nS - 1 ? 0.5 : 1) * (i === 0 || i === nMu - 1 ? 0.5 : 1);
      const v = t * Math.exp(lw[j * nMu + i] - mx);
      w[j * nMu + i] = v;
      total += v;
    }
  }
  for (let m = 0; m < w.length; m++) w[m] /= total;
  const logZ = mx + Math.log(total * (mu[1] - mu[0]) * (s[1] - s[0]));
  return { mu, s, w, logZ, ybar: st.ybar, P: st.P };
}

/** Mean and sd of f(mu, s) (plus a conditional variance, if given) under the grid. */
function gridMoments(g: Grid2D, f: (mu: number, s: number) => number, condVar: (mu: number, s: number) => number = () => 0) {
  const nMu = g.mu.length;
  let m = 0;
  for (let j = 0; j < g.s.length; j++) for (let i = 0; i < nMu; i++) m += g.w[j * nMu + i] * f(g.mu[i], g.s[j]);
  let v = 0;
  for (let j = 0; j < g.s.length; j++) {
    for (let i = 0; i < nMu; i++) {
      const d = f(g.mu[i], g.s[j]) - m;
      v += g.w[j * nMu + i] * (d * d + condVar(g.mu[i], g.s[j]));
    }
  }
  return { mean: m, sd: Math.sqrt(v) };
}

/** Posterior mean and sd of theta_k: theta_k | mu, tau, y ~ N(w mu + (1 - w) ybar_k, w tau^2), w = 1/(1 + tau^2 P_k). */
function thetaMoments(g: Grid2D, k: number) {
  const P = g.P[k];
  const wk = (s: number) => 1 / (1 + Math.exp(2 * s) * P);
  return gridMoments(
    g,
    (mu, s) => wk(s) * mu + (1 - wk(s)) * g.ybar[k],
    (_mu, s) => wk(s) * Math.exp(2 * s),
  );
}

/**
 * Compares against the 2-D grid: |exact - grid| <= TOL * sd for every mean and sd (an
 * absolute tolerance in units of the posterior sd), and the log marginal likelihood to
 * TOL absolutely. Both quadratures are exponentially convergent; the largest observed
 * difference is 7e-11 (unbalanced data, where log p(y) ~ -4296), most are below 1e-11.
 */
const TOL = 1e-8;
function compare(exact: ExactPosterior, g: Grid2D, checkTheta = true): void {
  const pairs: [string, PosteriorSummary, { mean: number; sd: number }][] = [
    ['mu', exact.mu, gridMoments(g, (mu) => mu)],
    ['tau', exact.tau, gridMoments(g, (_mu, s) => Math.exp(s))],
    ['log_tau', exact.logTau, gridMoments(g, (_mu, s) => s)],
  ];
  if (checkTheta) for (let k = 0; k < exact.theta.length; k++) pairs.push([`theta[${k}]`, exact.theta[k], thetaMoments(g, k)]);
  for (const [name, e, r] of pairs) {
    expect(Math.abs(e.mean - r.mean), `${name} mean ${e.mean} vs ${r.mean}`).toBeLessThan(TOL * r.sd);
    expect(Math.abs(e.sd - r.sd), `${name} sd ${e.sd} vs ${r.sd}`).toBeLessThan(TOL * r.sd);
  }
  expect(Math.abs(exact.logMarginalLikelihood - g.logZ)).toBeLessThan(TOL);
}

describe('normalCdf', () => {
  it('matches mpmath (40 digits) to 2e-14 relative, tails included', () => {
    // mpmath 1.3: mpmath.mp.dps = 40; mpmath.ncdf(x)
    const ref: [number, number][] = [
      [-12, 1.776482112077679e-33],
      [-8, 6.2209605742717841e-16],
      [-5, 2.8665157187919391e-7],
      [-3, 0.0013498980316300945],
      [-2.1, 0.017864420562816553],
      [-1.5, 0.066807201268858066],
      [-1, 0.15865525393145705],
      [0, 0.5],
      [0.5, 0.6914624612740131],
      [1.7, 0.95543453724145696],
      [2.13, 0.98341419331639498],
      [3, 0.99865010196836991],
      [6, 0.99999999901341235],
    ];
    for (const [x, p] of ref) expect(Math.abs(normalCdf(x) - p) / p, `x = ${x}`).toBeLessThan(2e-14);
  });
});

describe('exactPosterior vs an independent 2-D grid over (mu, log tau)', () => {
  // 2-D grid: mu in m0 +- 12 s0 (481 points, spacing 0.25), s in [-45, 8] (1061 points,
  // spacing 0.05); log f drops by > 40 at both ends of s. Where the posterior has mass,
  // sd(mu | s) >= 1 and sd(s) >= 0.25, so the trapezoid error, ~exp(-2 pi^2 sd^2 / h^2),
  // is far below float64 rounding.
  const S_RANGE: [number, number] = [-45, 8];
  const cases: [string, HierData, Priors][] = [
    ['weak, HalfNormal(5)', WEAK, DEFAULT_PRIORS],
    ['weak, HalfCauchy(5)', WEAK, HALF_CAUCHY],
    ['strong, HalfNormal(5)', STRONG, DEFAULT_PRIORS],
    ['unbalanced, HalfNormal(5)', UNBALANCED, DEFAULT_PRIORS],
    ['unbalanced, HalfCauchy(5)', UNBALANCED, HALF_CAUCHY],
  ];
  for (const [name, data, priors] of cases) {
    it(name, () => {
      const exact = exactPosterior(data, priors);
      expect(exact.quadratureError).toBeLessThan(1e-10);
      compare(exact, grid2D(data, priors, S_RANGE, 1061, 481));
    });
  }

  it('weak: known posterior values (regression; mu 2.516, tau 4.400)', () => {
    const e = exactPosterior(WEAK);
    expect(e.mu.mean).toBeCloseTo(2.5162298557684557, 10);
    expect(e.tau.mean).toBeCloseTo(4.400489923985543, 10);
    expect(e.logMarginalLikelihood).toBeCloseTo(-36.113092032847, 9);
    // The grid for plotting: normalized weights, density integrating to 1.
    const { s, weight, density, h } = e.grid;
    expect(s.length).toBe(weight.length);
    expect(weight.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(density.reduce((a, b) => a + b, 0) * h).toBeCloseTo(1, 12);
    for (let j = 1; j < s.length; j++) expect(s[j] - s[j - 1]).toBeCloseTo(h, 12);
  });
});

/** Composite Simpson's rule of f on [a, b] with n (even) intervals. */
function simpson(f: (x: number) => number, a: number, b: number, n: number): number {
  const h = (b - a) / n;
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (sum * h) / 3;
}

describe('quantiles', () => {
  for (const [name, priors] of [
    ['HalfNormal', DEFAULT_PRIORS],
    ['HalfCauchy', HALF_CAUCHY],
  ] as const) {
    it(`weak, ${name}: the posterior CDF at q05, q50, q95 is 0.05, 0.5, 0.95`, () => {
      const e = exactPosterior(WEAK, priors);
      const st = naiveStats(WEAK);
      const { loc, scale } = priors.mu;
      const muLo = loc - 12 * scale;
      const muHi = loc + 12 * scale;
      const sLo = -45;
      const sHi = 8;
      const Z = Math.exp(e.logMarginalLikelihood);
      // p(s | y): mu integrated by the trapezoid rule (exponentially accurate, full range).
      const muGrid = linspace(muLo, muHi, 481);
      const hMu = muGrid[1] - muGrid[0];
      const ps = (s: number) => {
        const at = logJointAtS(st, priors, s);
        let sum = 0;
        for (let i = 0; i < muGrid.length; i++) sum += (i === 0 || i === muGrid.length - 1 ? 0.5 : 1) * Math.exp(at(muGrid[i]));
        return (sum * hMu) / Z;
      };
      // tau and log tau: P(s <= log q) by Simpson in s on [sLo, log q] (h ~ 0.005).
      for (const [p, q] of [
        [0.05, e.tau.q05],
        [0.5, e.tau.q50],
        [0.95, e.tau.q95],
      ]) {
        expect(Math.log(q)).toBeCloseTo(p === 0.05 ? e.logTau.q05 : p === 0.5 ? e.logTau.q50 : e.logTau.q95, 13);
        const F = simpson(ps, sLo, Math.log(q), 10000);
        expect(Math.abs(F - p), `tau CDF at q${p}`).toBeLessThan(1e-9);
      }
      // mu: P(mu <= q) = integral over s of the Simpson integral over mu in [muLo, q].
      const sGrid = linspace(sLo, sHi, 1061); // spacing 0.05
      const hS = sGrid[1] - sGrid[0];
      for (const [p, q] of [
        [0.05, e.mu.q05],
        [0.5, e.mu.q50],
        [0.95, e.mu.q95],
      ]) {
        let F = 0;
        for (let j = 0; j < sGrid.length; j++) {
          const at = logJointAtS(st, priors, sGrid[j]);
          const inner = simpson((mu) => Math.exp(at(mu)), muLo, q, 2000);
          F += (j === 0 || j === sGrid.length - 1 ? 0.5 : 1) * inner;
        }
        F *= hS / Z;
        expect(Math.abs(F - p), `mu CDF at q${p}`).toBeLessThan(1e-9);
      }
      // theta_0: given s, mu | s, y is Gaussian (a product of Gaussians in mu), and so is
      // theta_0 | mu, s, y ~ N(w mu + (1 - w) ybar_0, w tau^2), w = 1/(1 + tau^2 P_0); so
      // theta_0 | s, y ~ N(w M_s + (1 - w) ybar_0, w tau^2 + w^2 V_s), with M_s and V_s the
      // moments of mu | s taken from the 1-D mu grid (not from posterior.ts). Then
      // P(theta_0 <= q) = integral over s of p(s | y) Phi((q - mean_s) / sd_s), by trapezoid.
      const sFine = linspace(sLo, sHi, 2121); // spacing 0.025
      const hSF = sFine[1] - sFine[0];
      const mom = Array.from(sFine, (s) => {
        const at = logJointAtS(st, priors, s);
        let z = 0;
        let m1 = 0;
        for (let i = 0; i < muGrid.length; i++) {
          const wt = (i === 0 || i === muGrid.length - 1 ? 0.5 : 1) * Math.exp(at(muGrid[i]));
          z += wt;
          m1 += wt * muGrid[i];
        }
        if (z === 0) return { ps: 0, M: 0, V: 1 }; // far tail: p(s | y) underflows
        const M = m1 / z;
        let m2 = 0;
        for (let i = 0; i < muGrid.length; i++) {
          const wt = (i === 0 || i === muGrid.length - 1 ? 0.5 : 1) * Math.exp(at(muGrid[i]));
          m2 += wt * (muGrid[i] - M) ** 2;
        }
        return { ps: (z * hMu) / Z, M, V: m2 / z };
      });
      const P0 = st.P[0];
      for (const [p, q] of [
        [0.05, e.theta[0].q05],
        [0.5, e.theta[0].q50],
        [0.95, e.theta[0].q95],
      ]) {
        let F = 0;
        for (let j = 0; j < sFine.length; j++) {
          const tau2 = Math.exp(2 * sFine[j]);
          const w = 1 / (1 + tau2 * P0);
          const { ps: pj, M, V } = mom[j];
          const sd = Math.sqrt(w * tau2 + w * w * V);
          F += (j === 0 || j === sFine.length - 1 ? 0.5 : 1) * pj * normalCdf((q - (w * M + (1 - w) * st.ybar[0])) / sd);
        }
        F *= hSF;
        expect(Math.abs(F - p), `theta[0] CDF at q${p}`).toBeLessThan(1e-9);
      }
      expect(e.mu.q05).toBeLessThan(e.mu.q50);
      expect(e.mu.q50).toBeLessThan(e.mu.q95);
    });
  }
});

describe('edge cases', () => {
  it('an empty group: theta = mu + tau eta, so mean E[mu] and variance Var(mu) + E[tau^2]', () => {
    const data: HierData = { ...WEAK, K: 10, labels: [...WEAK.labels, 'empty'] };
    const e = exactPosterior(data);
    const without = exactPosterior(WEAK);
    // An empty group changes nothing else.
    expect(e.mu.mean).toBeCloseTo(without.mu.mean, 12);
    expect(e.tau.sd).toBeCloseTo(without.tau.sd, 12);
    expect(e.logMarginalLikelihood).toBeCloseTo(without.logMarginalLikelihood, 12);
    const t = e.theta[9];
    expect(t.mean).toBeCloseTo(e.mu.mean, 12);
    expect(t.sd ** 2).toBeCloseTo(e.mu.sd ** 2 + e.tau.sd ** 2 + e.tau.mean ** 2, 10);
    expect(t.q05).toBeLessThan(e.mu.q05);
    expect(t.q95).toBeGreaterThan(e.mu.q95);
  });

  it('HalfCauchy with one group: E[tau] finite, sd(tau) infinite; mean still matches a 2-D grid', () => {
    // f(s) ~ e^{-2 s} as s -> infinity, so tau f ~ e^{-s}: the 2-D grid must reach far right.
    const data: HierData = { y: new Float64Array([3]), group: new Int32Array([0]), sigma: new Float64Array([2]), K: 1, labels: ['a'] };
    const e = exactPosterior(data, HALF_CAUCHY);
    expect(e.tau.sd).toBe(Infinity);
    expect(Number.isFinite(e.tau.mean)).toBe(true);
    const g = grid2D(data, HALF_CAUCHY, [-45, 48], 1861, 481);
    const r = gridMoments(g, (_mu, s) => Math.exp(s));
    expect(Math.abs(e.tau.mean - r.mean) / r.mean).toBeLessThan(1e-8);
    expect(Math.abs(e.mu.mean - gridMoments(g, (mu) => mu).mean)).toBeLessThan(1e-8);
  });

  it('per-observation sigmas and unbalanced groups: matches the 2-D grid', () => {
    let a = 7;
    const uni = () => ((a = (a * 16807) % 2147483647) / 2147483647);
    const data: HierData = { ...UNBALANCED, sigma: Float64Array.from(UNBALANCED.sigma, () => 0.5 + 19.5 * uni()) };
    compare(exactPosterior(data), grid2D(data, DEFAULT_PRIORS, [-45, 8], 1061, 481));
  });
});

describe('families', () => {
  it('the normal family has no global; a family not normal in theta (binomial) has no exact posterior', () => {
    expect(exactPosterior(WEAK).globals).toBeUndefined();
    const binomial: HierData = { likelihood: 'binomial', y: Float64Array.of(3, 5), group: Int32Array.of(0, 1), sigma: new Float64Array(0), columns: { trials: Float64Array.of(10, 10) }, K: 2, labels: ['a', 'b'] };
    expect(() => exactPosterior(binomial)).toThrow(RangeError);
  });

  it('a family with a global normal in theta given it (normal_sigma) has one: its summaries under both names', () => {
    const data: HierData = { likelihood: 'normal_sigma', y: WEAK.y.map((v, i) => v + (i % 2 ? 3 : -3)), group: WEAK.group.map((g) => g % 3), sigma: new Float64Array(0), K: 3, labels: ['a', 'b', 'c'] };
    const e = exactPosterior(data);
    const { log_sigma: x, sigma } = e.globals!;
    expect(e.quadratureError).toBeLessThan(1e-8);
    for (const q of ['q05', 'q50', 'q95'] as const) expect(sigma[q]).toBeCloseTo(Math.exp(x[q]), 12);
    // Jensen: E[e^x] > e^{E[x]}.
    expect(sigma.mean).toBeGreaterThan(Math.exp(x.mean));
    expect(e.theta.length).toBe(3);
  });
});
