/**
 * The exact posterior with population-level predictors (src/model/posterior_predictors.ts:
 * the normal families, sigma known or unknown, eta_i = theta[g_i] + x_i . beta) against a
 * brute-force reference that shares none of its code (no group means, no within-group cross
 * products, no PredictorStats): the trapezoid rule on a uniform grid in s = log tau (and
 * x = log sigma), where at each node the N observations are one multivariate normal,
 * y ~ N(m0 + l X 1, Cov(y)), built straight from the model's definition
 * (`conditionalByMvn`), which gives p(y | tau[, sigma]) and, by Gaussian conditioning, the
 * mean and variance of every one of (mu, beta, theta).
 *
 * The reference is tied to the per-observation oracle (`logJointPerObservation`, fully
 * normalized, straight from the model's definition): at several (tau, sigma) the joint
 * precision of (mu, beta, theta) is built from the observations (`jointGaussian`), checked to
 * be the oracle's curvature, and
 *
 *   log integral p(mu, beta, theta, tau[, sigma], y) d(mu, beta, theta)
 *     = logJointPerObservation(u*) + D/2 log 2 pi - 1/2 log det H
 *
 * (exact for the oracle's quadratic log density) must equal the reference's log p(y | tau
 * [, sigma]) + log p(tau[, sigma]), with the same conditional means and variances. (The
 * precision form itself is not the reference: as tau -> 0 its 1/tau^2 entries cancel.)
 *
 * Compared: every mean and sd (mu, tau, log tau, beta_p, theta_k, sigma, log sigma), log p(y),
 * and the reference CDF at every reported quantile.
 */
import { describe, expect, it } from 'vitest';
import type { HierData } from '../src/model/data.ts';
import { logJointPerObservation } from '../src/model/model.ts';
import { exactPosterior, normalCdf, type ExactPosterior, type PosteriorSummary } from '../src/model/posterior.ts';
import { DEFAULT_BETA_PRIOR, DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** The tiny data sets: K = 3 groups (3, 2, 3 observations), predictors varying within groups. */
const Y = [1.2, 2.5, 0.3, -0.8, 3.1, 2.2, 4.0, 1.7];
const GROUP = [0, 0, 0, 1, 1, 2, 2, 2];
const SIGMA = [1, 0.8, 1.5, 1.2, 0.9, 1.1, 0.7, 1.3];
const X1 = [0.5, 1.0, -0.3, 2.0, 1.1, -1.0, 0.2, 0.7];
const X2 = [1, 0, 0, 1, 1, 0, 1, 0];

function dataset(likelihood: 'normal' | 'normal_sigma', columns: number[][], names: string[], K = 3, group = GROUP): HierData {
  const P = columns.length;
  const X = new Float64Array(Y.length * P);
  for (let i = 0; i < Y.length; i++) for (let p = 0; p < P; p++) X[i * P + p] = columns[p][i];
  return {
    likelihood,
    y: Float64Array.from(Y),
    group: Int32Array.from(group),
    sigma: likelihood === 'normal' ? Float64Array.from(SIGMA) : new Float64Array(0),
    K,
    labels: Array.from({ length: K }, (_, k) => `g${k}`),
    predictors: { names, X },
  };
}

/** Lower Cholesky factor of the symmetric positive definite n x n matrix A (row-major). */
function cholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] ** 2;
    if (!(d > 0)) throw new Error('not positive definite');
    L[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let v = A[i * n + j];
      for (let k = 0; k < j; k++) v -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = v / L[j * n + j];
    }
  }
  return L;
}

/** A^{-1} b and A^{-1} from A's Cholesky factor. */
function solveAndInvert(L: Float64Array, n: number, b: Float64Array): { x: Float64Array; inv: Float64Array } {
  const solve = (rhs: Float64Array) => {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = rhs[i];
      for (let k = 0; k < i; k++) v -= L[i * n + k] * z[k];
      z[i] = v / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let v = z[i];
      for (let k = i + 1; k < n; k++) v -= L[k * n + i] * z[k];
      z[i] = v / L[i * n + i];
    }
    return z;
  };
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    const col = solve(e);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i];
  }
  return { x: solve(b), inv };
}

/**
 * The Gaussian of v = (mu, beta_0..beta_{P-1}, theta_0..theta_{K-1}) given tau (and sigma) and
 * y, from the model's definition: -2 log p = (mu - m0)^2/s0^2 + sum_p (beta_p - l)^2/S^2 +
 * sum_k (theta_k - mu)^2/tau^2 + sum_i (y_i - theta_{g_i} - x_i . beta)^2/sigma_i^2 + const.
 */
function jointGaussian(data: HierData, priors: Priors, tau: number, sigma?: number) {
  const K = data.K;
  const P = data.predictors!.names.length;
  const X = data.predictors!.X;
  const n = 1 + P + K;
  const H = new Float64Array(n * n);
  const g = new Float64Array(n);
  const bp = priors.beta ?? DEFAULT_BETA_PRIOR;
  H[0] += 1 / priors.mu.scale ** 2;
  g[0] += priors.mu.loc / priors.mu.scale ** 2;
  for (let p = 0; p < P; p++) {
    H[(1 + p) * n + 1 + p] += 1 / bp.scale ** 2;
    g[1 + p] += bp.loc / bp.scale ** 2;
  }
  const t2 = 1 / (tau * tau);
  for (let k = 0; k < K; k++) {
    const j = 1 + P + k;
    H[j * n + j] += t2;
    H[0] += t2;
    H[j * n] -= t2;
    H[j] -= t2;
  }
  const z = new Float64Array(n);
  for (let i = 0; i < data.y.length; i++) {
    const w = 1 / (sigma ?? data.sigma[i]) ** 2;
    z.fill(0);
    z[1 + P + data.group[i]] = 1;
    for (let p = 0; p < P; p++) z[1 + p] = X[i * P + p];
    for (let a = 0; a < n; a++) {
      g[a] += w * z[a] * data.y[i];
      for (let b = 0; b < n; b++) H[a * n + b] += w * z[a] * z[b];
    }
  }
  const L = cholesky(H, n);
  const { x: mode, inv } = solveAndInvert(L, n, g);
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += 2 * Math.log(L[i * n + i]);
  return { n, H, mode, cov: inv, logDet };
}

/** The oracle's log joint at v = (mu, beta, theta). */
function oracle(data: HierData, priors: Priors, tau: number, v: ArrayLike<number>, x?: number): number {
  const P = data.predictors!.names.length;
  const beta = Array.from({ length: P }, (_, p) => v[1 + p]);
  const theta = Array.from({ length: data.K }, (_, k) => v[1 + P + k]);
  return logJointPerObservation(data, priors, v[0], tau, theta, x, beta);
}

const logHalfNormal = (t: number, S: number) => Math.log(2 / (S * Math.sqrt(2 * Math.PI))) - (t * t) / (2 * S * S);
const logHalfCauchy = (t: number, S: number) => Math.log(2 / (Math.PI * S * (1 + (t / S) ** 2)));
function logScaleDensity(p: { kind: string; scale: number }, t: number): number {
  if (p.kind === 'halfnormal') return logHalfNormal(t, p.scale);
  if (p.kind === 'halfcauchy') return logHalfCauchy(t, p.scale);
  return -Math.log(p.scale) - t / p.scale;
}

/**
 * log p(y | tau[, sigma]) with (mu, beta, theta) integrated out, and the mean and variance of
 * each of v = (mu, beta, theta) given (y, tau[, sigma]), by the multivariate normal of all N
 * observations (well conditioned as tau -> 0, where the joint precision of v is not):
 * y_i = theta_{g_i} + x_i . beta + e_i with theta_k = mu + tau eta_k, so
 *   E[y_i] = m0 + l sum_p x_ip,   Cov(y_i, y_j) = s0^2 + tau^2 [g_i = g_j] + S^2 x_i . x_j + sigma_i^2 [i = j],
 *   Cov(y_i, mu) = s0^2,   Cov(y_i, beta_p) = S^2 x_ip,   Cov(y_i, theta_k) = s0^2 + tau^2 [g_i = k];
 * with Cov(y) = L L', z = L^{-1}(y - E y), a = L^{-1} Cov(y, v_a): E[v_a | y] = E[v_a] + a . z,
 * Var(v_a | y) = Var(v_a) - a . a.
 */
function conditionalByMvn(data: HierData, priors: Priors, tau: number, sigma?: number) {
  const N = data.y.length;
  const K = data.K;
  const P = data.predictors!.names.length;
  const X = data.predictors!.X;
  const bp = priors.beta ?? DEFAULT_BETA_PRIOR;
  const s02 = priors.mu.scale ** 2;
  const S2 = bp.scale ** 2;
  const C = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let xx = 0;
      for (let p = 0; p < P; p++) xx += X[i * P + p] * X[j * P + p];
      C[i * N + j] = s02 + (data.group[i] === data.group[j] ? tau * tau : 0) + S2 * xx + (i === j ? (sigma ?? data.sigma[i]) ** 2 : 0);
    }
  }
  const L = cholesky(C, N);
  const forward = (b: ArrayLike<number>) => {
    const z = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let v = b[i];
      for (let k = 0; k < i; k++) v -= L[i * N + k] * z[k];
      z[i] = v / L[i * N + i];
    }
    return z;
  };
  const z = forward(Array.from(data.y, (y, i) => {
    let m = priors.mu.loc;
    for (let p = 0; p < P; p++) m += bp.loc * X[i * P + p];
    return y - m;
  }));
  let logDet = 0;
  let q = 0;
  for (let i = 0; i < N; i++) {
    logDet += Math.log(L[i * N + i]);
    q += z[i] * z[i];
  }
  const n = 1 + P + K;
  const mean = new Float64Array(n);
  const vari = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    const isBeta = a >= 1 && a <= P;
    const k = a - 1 - P;
    const cov = Array.from({ length: N }, (_, i) => (isBeta ? S2 * X[i * P + a - 1] : s02 + (k >= 0 && data.group[i] === k ? tau * tau : 0)));
    const av = forward(cov);
    let m = 0;
    let v = 0;
    for (let i = 0; i < N; i++) {
      m += av[i] * z[i];
      v += av[i] * av[i];
    }
    mean[a] = (isBeta ? bp.loc : priors.mu.loc) + m;
    vari[a] = (isBeta ? S2 : s02 + (k >= 0 ? tau * tau : 0)) - v;
  }
  return { logLik: -0.5 * q - logDet - 0.5 * N * LOG_2PI, mean, vari };
}

interface RefNode {
  readonly s: number;
  readonly x: number;
  readonly lf: number;
  readonly mean: Float64Array;
  readonly vari: Float64Array;
}

/**
 * The reference: the trapezoid rule on a uniform grid in s (and x = log sigma) over ranges
 * where the log density falls by more than 40 at the edges (checked), of the node densities
 * above; each quantity's mean and variance a mixture of the nodes' Gaussian conditionals.
 */
function reference(data: HierData, priors: Priors, sRange: [number, number], hs: number, xGrid?: { range: [number, number]; h: number }) {
  const sigmaPrior = priors.family?.log_sigma ?? { kind: 'halfnormal', scale: 5 };
  const nodeAt = (s: number, x?: number) => {
    const tau = Math.exp(s);
    const c = conditionalByMvn(data, priors, tau, x === undefined ? undefined : Math.exp(x));
    const lf = c.logLik + logScaleDensity(priors.tau, tau) + s + (x === undefined ? 0 : logScaleDensity(sigmaPrior, Math.exp(x)) + x);
    return { lf, c };
  };
  const ns = Math.round((sRange[1] - sRange[0]) / hs) + 1;
  const xs = xGrid ? Array.from({ length: Math.round((xGrid.range[1] - xGrid.range[0]) / xGrid.h) + 1 }, (_, j) => xGrid.range[0] + j * xGrid.h) : [undefined];
  const nodes: RefNode[] = [];
  for (let i = 0; i < ns; i++) {
    const s = sRange[0] + i * hs;
    for (const x of xs) {
      const { lf, c } = nodeAt(s, x);
      nodes.push({ s, x: x ?? 0, lf, mean: c.mean, vari: c.vari });
    }
  }
  const top = nodes.reduce((m, r) => Math.max(m, r.lf), -Infinity);
  // The edges are negligible.
  const edge = nodes.filter((r) => r.s === sRange[0] || r.s === sRange[1] || (xGrid && (r.x === xs[0] || r.x === xs[xs.length - 1])));
  const edgeMax = edge.reduce((m, r) => Math.max(m, r.lf), -Infinity);
  const hx = xGrid?.h ?? 1;
  const w = nodes.map((r) => Math.exp(r.lf - top));
  const Z = w.reduce((a, b) => a + b, 0);
  const logZ = top + Math.log(Z * hs * hx);
  const moments = (f: (r: RefNode) => number, condVar: (r: RefNode) => number = () => 0) => {
    let m = 0;
    nodes.forEach((r, i) => (m += w[i] * f(r)));
    m /= Z;
    let v = 0;
    nodes.forEach((r, i) => (v += w[i] * ((f(r) - m) ** 2 + condVar(r))));
    return { mean: m, sd: Math.sqrt(v / Z) };
  };
  const of = (a: number) => moments((r) => r.mean[a], (r) => r.vari[a]);
  const P = data.predictors!.names.length;
  /** P(v_a <= q): the mixture of the nodes' normal conditionals. */
  const cdfOf = (a: number, q: number) => {
    let F = 0;
    nodes.forEach((r, i) => {
      if (w[i] > 1e-300) F += w[i] * normalCdf((q - r.mean[a]) / Math.sqrt(r.vari[a]));
    });
    return F / Z;
  };
  /**
   * P(t <= q), t = s or x: 5-point Gauss-Legendre panels of width <= PANEL in t from where the
   * density is negligible to q, the other coordinate (if any) by the trapezoid rule on its grid.
   */
  const PANEL = 0.1;
  const GX = [0, -0.5384693101056831, 0.5384693101056831, -0.906179845938664, 0.906179845938664];
  const GW = [0.5688888888888889, 0.47862867049936647, 0.47862867049936647, 0.23692688505618908, 0.23692688505618908];
  // Grid lines carrying any weight (a node within NEGLIGIBLE of the top): the others add ~e^-32 to a marginal.
  const NEGLIGIBLE = 32;
  const live = (f: (r: RefNode) => number) => [...new Set(nodes.filter((r) => r.lf > top - NEGLIGIBLE).map(f))];
  const liveS = live((r) => r.s);
  const liveX = live((r) => r.x);
  const marginalCdf = (which: 's' | 'x', q: number, from: number) => {
    const density = (t: number) => {
      if (!xGrid) return Math.exp(nodeAt(t).lf - logZ);
      let sum = 0;
      if (which === 's') for (const x of liveX) sum += Math.exp(nodeAt(t, x).lf - logZ);
      else for (const s of liveS) sum += Math.exp(nodeAt(s, t).lf - logZ);
      return sum * (which === 's' ? hx : hs);
    };
    const panels = Math.max(1, Math.ceil((q - from) / PANEL));
    const width = (q - from) / panels;
    let F = 0;
    for (let j = 0; j < panels; j++) {
      const c = from + (j + 0.5) * width;
      for (let g = 0; g < 5; g++) F += 0.5 * width * GW[g] * density(c + 0.5 * width * GX[g]);
    }
    return F;
  };
  /**
   * Lowest s (x) of a node within NEGLIGIBLE of the top: the mass below is ~e^-32 (f ~ e^s as
   * s -> -infinity, so the mass below a point is about the density there; in x faster).
   */
  const lowest = (f: (r: RefNode) => number) => nodes.reduce((m, r) => (r.lf > top - NEGLIGIBLE ? Math.min(m, f(r)) : m), Infinity);
  return {
    logZ,
    edgeDrop: top - edgeMax,
    mu: of(0),
    beta: Array.from({ length: P }, (_, p) => of(1 + p)),
    theta: Array.from({ length: data.K }, (_, k) => of(1 + P + k)),
    tau: moments((r) => Math.exp(r.s)),
    logTau: moments((r) => r.s),
    sigma: moments((r) => Math.exp(r.x)),
    logSigma: moments((r) => r.x),
    cdfOf,
    marginalCdf,
    sFrom: lowest((r) => r.s) - 1,
    xFrom: lowest((r) => r.x) - 0.5,
    P,
  };
}

type Reference = ReturnType<typeof reference>;

/** |exact - reference| within `tol` posterior sds for the mean and for the sd; returns the largest. */
function expectClose(name: string, e: PosteriorSummary, r: { mean: number; sd: number }, tol: number): number {
  const dm = Math.abs(e.mean - r.mean) / r.sd;
  const ds = Math.abs(e.sd - r.sd) / r.sd;
  expect(dm, `${name} mean ${e.mean} vs ${r.mean}`).toBeLessThan(tol);
  expect(ds, `${name} sd ${e.sd} vs ${r.sd}`).toBeLessThan(tol);
  return Math.max(dm, ds);
}

const levels = (s: PosteriorSummary): [number, number][] => [
  [0.05, s.q05],
  [0.5, s.q50],
  [0.95, s.q95],
];

/** Compares every moment, log p(y) and the CDF at every quantile; returns the largest differences. */
function compare(e: ExactPosterior, r: Reference, opts: { tol: number; cdfTol: number; marginalQuantiles: boolean; names: string[] }) {
  expect(r.edgeDrop, 'reference grid edges negligible').toBeGreaterThan(30);
  let worst = Math.abs(e.logMarginalLikelihood - r.logZ);
  expect(worst, `log p(y) ${e.logMarginalLikelihood} vs ${r.logZ}`).toBeLessThan(opts.tol);
  worst = Math.max(worst, expectClose('mu', e.mu, r.mu, opts.tol));
  worst = Math.max(worst, expectClose('tau', e.tau, r.tau, opts.tol));
  worst = Math.max(worst, expectClose('log_tau', e.logTau, r.logTau, opts.tol));
  expect(e.beta?.map((b) => b.name)).toEqual(opts.names);
  e.beta!.forEach((b, p) => (worst = Math.max(worst, expectClose(`beta[${b.name}]`, b, r.beta[p], opts.tol))));
  expect(e.theta.length).toBe(r.theta.length);
  e.theta.forEach((t, k) => (worst = Math.max(worst, expectClose(`theta[${k}]`, t, r.theta[k], opts.tol))));
  if (e.globals) {
    worst = Math.max(worst, expectClose('sigma', e.globals.sigma, r.sigma, opts.tol));
    worst = Math.max(worst, expectClose('log_sigma', e.globals.log_sigma, r.logSigma, opts.tol));
  }
  let worstCdf = 0;
  const checkCdf = (name: string, F: (q: number) => number, s: PosteriorSummary) => {
    for (const [p, q] of levels(s)) {
      const d = Math.abs(F(q) - p);
      worstCdf = Math.max(worstCdf, d);
      expect(d, `${name} CDF at q${p} = ${q}`).toBeLessThan(opts.cdfTol);
    }
  };
  checkCdf('mu', (q) => r.cdfOf(0, q), e.mu);
  e.beta!.forEach((b, p) => checkCdf(`beta[${b.name}]`, (q) => r.cdfOf(1 + p, q), b));
  e.theta.forEach((t, k) => checkCdf(`theta[${k}]`, (q) => r.cdfOf(1 + r.P + k, q), t));
  if (opts.marginalQuantiles) {
    checkCdf('log_tau', (q) => r.marginalCdf('s', q, r.sFrom), e.logTau);
    if (e.globals) checkCdf('log_sigma', (q) => r.marginalCdf('x', q, r.xFrom), e.globals.log_sigma);
  }
  for (const [nat, log] of [[e.tau, e.logTau], ...(e.globals ? [[e.globals.sigma, e.globals.log_sigma]] : [])]) {
    expect(nat.q05).toBeCloseTo(Math.exp(log.q05), 12);
    expect(nat.q50).toBeCloseTo(Math.exp(log.q50), 12);
    expect(nat.q95).toBeCloseTo(Math.exp(log.q95), 12);
  }
  return { worst, worstCdf };
}

const HALF_CAUCHY_BETA: Priors = { mu: { kind: 'normal', loc: 1, scale: 3 }, tau: { kind: 'halfcauchy', scale: 2 }, beta: { kind: 'normal', loc: 0.5, scale: 2 } };

describe('the reference itself', () => {
  it("its Gaussian is the oracle's: log p at mode + d equals log p at the mode - d' H d / 2", () => {
    const data = dataset('normal', [X1, X2], ['x1', 'x2']);
    for (const priors of [DEFAULT_PRIORS, HALF_CAUCHY_BETA]) {
      for (const tau of [0.3, 2]) {
        const G = jointGaussian(data, priors, tau);
        const at = oracle(data, priors, tau, G.mode);
        for (let t = 0; t < 5; t++) {
          const d = Float64Array.from({ length: G.n }, (_, a) => Math.sin(3 * a + 7 * t + 1));
          const v = G.mode.map((m, a) => m + d[a]);
          let q = 0;
          for (let a = 0; a < G.n; a++) for (let b = 0; b < G.n; b++) q += d[a] * G.H[a * G.n + b] * d[b];
          expect(oracle(data, priors, tau, v) - at).toBeCloseTo(-0.5 * q, 10);
        }
      }
    }
    const ds = dataset('normal_sigma', [X1], ['x1']);
    const G = jointGaussian(ds, DEFAULT_PRIORS, 1.5, Math.exp(0.2));
    const at = oracle(ds, DEFAULT_PRIORS, 1.5, G.mode, 0.2);
    const d = Float64Array.from({ length: G.n }, (_, a) => Math.cos(2 * a + 1));
    let q = 0;
    for (let a = 0; a < G.n; a++) for (let b = 0; b < G.n; b++) q += d[a] * G.H[a * G.n + b] * d[b];
    expect(oracle(ds, DEFAULT_PRIORS, 1.5, G.mode.map((m, a) => m + d[a]), 0.2) - at).toBeCloseTo(-0.5 * q, 10);
  });
});

describe('the reference agrees with the per-observation oracle', () => {
  it('log p(y | tau, sigma) + log p(tau, sigma) and the conditional moments by the MVN equal those of the oracle\'s Gaussian', () => {
    const cases: [HierData, Priors, number, number | undefined][] = [
      [dataset('normal', [X1, X2], ['x1', 'x2']), DEFAULT_PRIORS, 0.4, undefined],
      [dataset('normal', [X1, X2], ['x1', 'x2'], 4), HALF_CAUCHY_BETA, 2.5, undefined],
      [dataset('normal_sigma', [X1], ['x1']), DEFAULT_PRIORS, 1.5, 0.2],
      [dataset('normal_sigma', [X1, X2], ['x1', 'x2']), { ...HALF_CAUCHY_BETA, family: { log_sigma: { kind: 'halfcauchy', scale: 2 } } }, 0.7, -0.3],
    ];
    for (const [data, priors, tau, x] of cases) {
      const sigma = x === undefined ? undefined : Math.exp(x);
      const G = jointGaussian(data, priors, tau, sigma);
      // log of the integral of the oracle's (exactly quadratic) log density over v.
      const viaOracle = oracle(data, priors, tau, G.mode, x) + 0.5 * G.n * LOG_2PI - 0.5 * G.logDet;
      const m = conditionalByMvn(data, priors, tau, sigma);
      const sigmaPrior = priors.family?.log_sigma ?? { kind: 'halfnormal', scale: 5 };
      const viaMvn = m.logLik + logScaleDensity(priors.tau, tau) + (sigma === undefined ? 0 : logScaleDensity(sigmaPrior, sigma));
      expect(Math.abs(viaMvn - viaOracle)).toBeLessThan(1e-11);
      for (let a = 0; a < G.n; a++) {
        expect(Math.abs(m.mean[a] - G.mode[a])).toBeLessThan(1e-11);
        expect(Math.abs(m.vari[a] - G.cov[a * G.n + a])).toBeLessThan(1e-11);
      }
    }
  });
});

describe('exact posterior with predictors, sigma known (normal), vs brute force', () => {
  // s = log tau in [-45, 8] (HalfNormal) or [-45, 14] (HalfCauchy: f ~ tau^-4, E[tau^2] then
  // truncated by ~e^-28; higher, tau^2 swamps Cov(y) in float64), spacing 0.05: the
  // trapezoid error is far below rounding. The edges are checked to be > 30 below the top.
  const cases: [string, HierData, Priors, number, string[]][] = [
    ['P = 1, default priors', dataset('normal', [X1], ['x1']), DEFAULT_PRIORS, 8, ['x1']],
    ['P = 2, default priors', dataset('normal', [X1, X2], ['x1', 'x2']), DEFAULT_PRIORS, 8, ['x1', 'x2']],
    ['P = 2, mu ~ N(1, 3), tau ~ HalfCauchy(2), beta ~ N(0.5, 2)', dataset('normal', [X1, X2], ['x1', 'x2']), HALF_CAUCHY_BETA, 14, ['x1', 'x2']],
    ['P = 2, a fourth group without data', dataset('normal', [X1, X2], ['x1', 'x2'], 4), DEFAULT_PRIORS, 8, ['x1', 'x2']],
    // Constant within groups: no within-group term (PredictorStats.within absent).
    ['P = 1, a group-level predictor', dataset('normal', [GROUP.map((g) => [0.4, -1.2, 2.1][g])], ['z']), DEFAULT_PRIORS, 8, ['z']],
  ];
  for (const [name, data, priors, sHi, names] of cases) {
    it(name, () => {
      const e = exactPosterior(data, priors);
      expect(e.quadratureError).toBeLessThan(1e-8);
      expect(e.globals).toBeUndefined();
      const r = reference(data, priors, [-45, sHi], 0.05);
      const { worst, worstCdf } = compare(e, r, { tol: 1e-9, cdfTol: 1e-9, marginalQuantiles: true, names });
      console.log(`${name}: worst moment ${worst.toExponential(2)} sd, worst CDF ${worstCdf.toExponential(2)}`);
      // The TauGrid: a normalized density of s on a uniform grid.
      const { s, weight, density, h } = e.grid;
      expect(weight.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(density.reduce((a, b) => a + b, 0) * h).toBeCloseTo(1, 6);
      for (let j = 1; j < s.length; j++) expect(s[j] - s[j - 1]).toBeCloseTo(h, 10);
    });
  }
});

describe('exact posterior with predictors, sigma unknown (normal_sigma), vs brute force', () => {
  // s in [-34, 8] or [-34, 12] (f ~ tau as tau -> 0; HalfCauchy: E[tau^2] truncated by ~e^-24;
  // higher, tau^2 swamps sigma^2 in Cov(y)), spacing 0.1; x = log sigma in [-3, 6] (HalfCauchy:
  // f ~ sigma^-9), spacing 0.05 (posterior sd of x ~ 0.3).
  const cases: [string, HierData, Priors, number, string[], boolean][] = [
    ['P = 1, default priors', dataset('normal_sigma', [X1], ['x1']), DEFAULT_PRIORS, 8, ['x1'], true],
    ['P = 2, default priors', dataset('normal_sigma', [X1, X2], ['x1', 'x2']), DEFAULT_PRIORS, 8, ['x1', 'x2'], false],
    [
      'P = 2, tau ~ HalfCauchy(2), beta ~ N(0.5, 2), sigma ~ HalfCauchy(2)',
      dataset('normal_sigma', [X1, X2], ['x1', 'x2']),
      { ...HALF_CAUCHY_BETA, family: { log_sigma: { kind: 'halfcauchy', scale: 2 } } },
      12,
      ['x1', 'x2'],
      false,
    ],
  ];
  for (const [name, data, priors, sHi, names, marginalQuantiles] of cases) {
    it(name, () => {
      const e = exactPosterior(data, priors);
      expect(e.quadratureError).toBeLessThan(1e-8);
      expect(Object.keys(e.globals!)).toEqual(['log_sigma', 'sigma']);
      const r = reference(data, priors, [-34, sHi], 0.1, { range: [-3, 6], h: 0.05 });
      const { worst, worstCdf } = compare(e, r, { tol: 1e-8, cdfTol: 1e-8, marginalQuantiles, names });
      console.log(`${name}: worst moment ${worst.toExponential(2)} sd, worst CDF ${worstCdf.toExponential(2)}`);
    });
  }
});

describe('exact posterior with predictors: limits', () => {
  it('a coefficient pinned by its prior (beta ~ N(0, 1e-9)) gives the posterior without predictors', () => {
    const pinned: Priors = { ...DEFAULT_PRIORS, beta: { kind: 'normal', loc: 0, scale: 1e-9 } };
    for (const likelihood of ['normal', 'normal_sigma'] as const) {
      const data = dataset(likelihood, [X1, X2], ['x1', 'x2']);
      const e = exactPosterior(data, pinned);
      const plain = exactPosterior({ ...data, predictors: undefined }, pinned);
      // beta integrates out against a prior of width 1e-9: p(y) is p(y | beta = 0) to ~1e-9.
      expect(e.logMarginalLikelihood).toBeCloseTo(plain.logMarginalLikelihood, 6);
      for (const [a, b] of [
        [e.mu, plain.mu],
        [e.tau, plain.tau],
        [e.logTau, plain.logTau],
        ...e.theta.map((t, k) => [t, plain.theta[k]]),
      ]) {
        expect(Math.abs(a.mean - b.mean) / b.sd).toBeLessThan(1e-6);
        expect(Math.abs(a.sd - b.sd) / b.sd).toBeLessThan(1e-6);
        expect(Math.abs(a.q50 - b.q50) / b.sd).toBeLessThan(1e-6);
      }
      for (const b of e.beta!) expect(b.sd).toBeLessThan(1e-8);
    }
  });

  it('HalfCauchy with one group with data: the infinite moments are Infinity, the others finite', () => {
    const data = dataset('normal', [X1, X2], ['x1', 'x2'], 2, GROUP.map(() => 0));
    const e = exactPosterior(data, HALF_CAUCHY_BETA);
    expect(e.tau.sd).toBe(Infinity);
    expect(e.theta[1].sd).toBe(Infinity);
    for (const v of [e.tau.mean, e.mu.mean, e.mu.sd, e.logTau.sd, e.theta[0].sd, ...e.beta!.flatMap((b) => [b.mean, b.sd, b.q05, b.q95])]) expect(Number.isFinite(v)).toBe(true);
  });

  it('data without predictors give the same object as before (no beta)', () => {
    const data = dataset('normal', [X1], ['x1']);
    const plain = exactPosterior({ ...data, predictors: undefined });
    expect(plain.beta).toBeUndefined();
    const empty = exactPosterior({ ...data, predictors: { names: [], X: new Float64Array(0) } });
    expect(empty).toEqual(plain);
  });
});
